// The contract between an analysis and everything that reads its stored results: per kind, the
// parts it stores, each with its key (segments: fixed words and named fields) and a zod schema of
// its data. The engine emits through the schemas (`checkResult`), readers match keys with
// `parseResultKey` and read data with `readResult`, so keys are built and parsed in one place.
// Schemas name the fields readers use; a run may store more (they pass through as stored).
import { z } from 'zod';

export interface IntField<N extends string> {
  readonly name: N;
  readonly type: 'int';
}
export interface TextField<N extends string> {
  readonly name: N;
  readonly type: 'text';
}
export interface OneOfField<N extends string, V extends string> {
  readonly name: N;
  readonly type: 'oneOf';
  readonly values: readonly V[];
}
type Field = IntField<string> | TextField<string> | OneOfField<string, string>;
export type Segment = string | Field;

/** A key field holding a non-negative integer (a channel, a step). */
export const int = <const N extends string>(name: N): IntField<N> => ({ name, type: 'int' });
/** A key field holding a name; it may contain '/' (layer names do), so it matches greedily. */
export const text = <const N extends string>(name: N): TextField<N> => ({ name, type: 'text' });
/** A key field holding one of a few words. */
export const oneOf = <const N extends string, const V extends string>(name: N, values: readonly V[]): OneOfField<N, V> => ({ name, type: 'oneOf', values });

type FieldValue<F> = F extends IntField<string> ? number : F extends OneOfField<string, infer V> ? V : string;
export type KeyParams<S extends readonly Segment[]> = { [F in Extract<S[number], Field> as F['name']]: FieldValue<F> };

export interface ResultPart<S extends readonly Segment[] = readonly Segment[], D extends z.ZodObject = z.ZodObject> {
  readonly key: S;
  readonly data: D;
}
export type ResultContract = Readonly<Record<string, ResultPart>>;

export function part<const S extends readonly Segment[], D extends z.ZodObject>(key: S, data: D): ResultPart<S, D> {
  return { key, data };
}

type PartName<C extends ResultContract> = keyof C & string;
type ParamsArgs<S extends readonly Segment[]> = [keyof KeyParams<S>] extends [never] ? [] : [params: KeyParams<S>];

/** The stored key of one part, e.g. `unit/conv1/3`. */
export function resultKey<C extends ResultContract, P extends PartName<C>>(contract: C, name: P, ...args: ParamsArgs<C[P]['key']>): string {
  const params = (args[0] ?? {}) as Record<string, unknown>;
  return contract[name].key
    .map((s) => {
      if (typeof s === 'string') return s;
      const v = params[s.name];
      const ok = s.type === 'int' ? Number.isInteger(v) && (v as number) >= 0 : s.type === 'oneOf' ? s.values.includes(v as string) : typeof v === 'string' && v !== '';
      if (!ok) throw new Error(`result key ${name}: bad ${s.name} ${JSON.stringify(v)}`);
      return String(v);
    })
    .join('/');
}

/** The key function of one kind: `key('unit', { layer, channel })`. */
export function keyFunction<C extends ResultContract>(contract: C) {
  return <P extends PartName<C>>(name: P, ...args: ParamsArgs<C[P]['key']>): string => resultKey(contract, name, ...args);
}

export type ParsedKey<C extends ResultContract> = { [P in PartName<C>]: { part: P; params: KeyParams<C[P]['key']> } }[PartName<C>];

const patterns = new WeakMap<ResultPart, RegExp>();
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function patternOf(p: ResultPart): RegExp {
  let re = patterns.get(p);
  if (!re) {
    const body = p.key.map((s) => (typeof s === 'string' ? escape(s) : s.type === 'int' ? '(\\d+)' : s.type === 'oneOf' ? `(${s.values.map(escape).join('|')})` : '(.+)'));
    re = new RegExp(`^${body.join('\\/')}$`);
    patterns.set(p, re);
  }
  return re;
}

/**
 * Which part a stored key belongs to, with its fields; null for keys of no part. Parts are tried
 * in the order the contract lists them, so a longer key (`unit/<layer>/<c>/lambda/<i>`) is listed
 * before the shorter one it would also match with a greedy name.
 */
export function parseResultKey<C extends ResultContract>(contract: C, key: string): ParsedKey<C> | null {
  for (const [name, p] of Object.entries(contract)) {
    const m = patternOf(p).exec(key);
    if (!m) continue;
    const fields = p.key.filter((s): s is Field => typeof s !== 'string');
    const params = Object.fromEntries(fields.map((f, i) => [f.name, f.type === 'int' ? Number(m[i + 1]) : m[i + 1]]));
    return { part: name, params } as ParsedKey<C>;
  }
  return null;
}

/** Checks what a run is about to store against its part's schema; throws naming the bad fields. */
export function checkResult<C extends ResultContract, P extends PartName<C>>(contract: C, name: P, data: z.input<C[P]['data']>): z.output<C[P]['data']> {
  const r = contract[name].data.safeParse(data);
  if (!r.success) throw new Error(`result ${name} does not match its contract: ${z.prettifyError(r.error)}`);
  return r.data as z.output<C[P]['data']>;
}

/** Stored data as readers see it: any field of an object, at any depth, may be missing (arrays are read whole). */
export type Stored<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: Stored<T[K]> } : T;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A stored part's data as its schema types it, read tolerantly: results written by older versions
 * may lack fields or hold them in another form, so a missing field stays missing and a field that
 * does not match its schema is left out, at every depth of nested objects, instead of failing the
 * whole result. Fields the schema does not name pass through as stored.
 */
export function readResult<D extends z.ZodObject>(schema: D, data: unknown): Stored<z.output<D>> {
  return (tolerant(schema, isRecord(data) ? data : {}) ?? {}) as Stored<z.output<D>>;
}

/** The value as far as it matches the schema; undefined when it does not match at all. */
function tolerant(schema: z.ZodType, value: unknown): unknown {
  const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  if (inner instanceof z.ZodObject && isRecord(value)) {
    const out: Record<string, unknown> = {};
    const shape = inner.shape as Record<string, z.ZodType>;
    for (const [key, v] of Object.entries(value)) {
      if (!(key in shape)) {
        out[key] = v;
        continue;
      }
      const read = v === undefined ? undefined : tolerant(shape[key], v);
      if (read !== undefined) out[key] = read;
    }
    return out;
  }
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

/**
 * A number as results store it: JSON writes NaN and ±Infinity as null, so a stored number may
 * read back as null (the engine emits the number).
 */
export const real = z.custom<number | null>((v) => typeof v === 'number' || v === null, 'a number');
export const reals = z.array(real);

/** A run's summary table (diverse, shapes): the columns it declares, their labels, one row per entry. */
export const summaryTableData = z.looseObject({
  columns: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  /** Rows keyed by column. */
  table: z.array(z.custom<object>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), 'a row object')),
});

export interface PartResult<R, S extends readonly Segment[], D extends z.ZodObject> {
  record: R;
  /** The fields of its key. */
  params: KeyParams<S>;
  data: Stored<z.output<D>>;
}

/** The stored results of one part, in stored order, each with its key's fields and its data read through the part's schema. */
export function resultsOf<R extends { key: string; data: unknown }, C extends ResultContract, P extends PartName<C>>(
  contract: C,
  name: P,
  results: readonly R[],
): PartResult<R, C[P]['key'], C[P]['data']>[] {
  const out: PartResult<R, C[P]['key'], C[P]['data']>[] = [];
  for (const record of results) {
    const parsed = parseResultKey(contract, record.key);
    if (parsed?.part !== name) continue;
    out.push({ record, params: parsed.params as KeyParams<C[P]['key']>, data: readResult(contract[name].data, record.data) as Stored<z.output<C[P]['data']>> });
  }
  return out;
}
