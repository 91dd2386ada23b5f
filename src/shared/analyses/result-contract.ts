// The contract between an analysis and everything that reads its stored results: per kind, the
// parts it stores, each with its key (segments: fixed words and named fields) and a zod schema of
// its data. The engine emits through the schemas (`checkResult`), readers match keys with
// `parseResultKey` and read data with `readResult`, so keys are built and parsed in one place.
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

const lenient = new WeakMap<z.ZodObject, z.ZodObject>();

/**
 * A stored part's data as its schema types it, read tolerantly: results written by older versions
 * may lack fields or hold them in another form, so a missing field is undefined and a field that
 * does not match its schema is dropped (left undefined) instead of failing the whole result.
 */
export function readResult<D extends z.ZodObject>(schema: D, data: unknown): Partial<z.output<D>> {
  let partial = lenient.get(schema);
  if (!partial) lenient.set(schema, (partial = schema.partial()));
  let value: Record<string, unknown> = data !== null && typeof data === 'object' && !Array.isArray(data) ? { ...(data as Record<string, unknown>) } : {};
  for (;;) {
    const r = partial.safeParse(value);
    if (r.success) return r.data as Partial<z.output<D>>;
    const bad = new Set(r.error.issues.map((i) => i.path[0]).filter((k) => k !== undefined));
    if (bad.size === 0) return {};
    value = Object.fromEntries(Object.entries(value).filter(([k]) => !bad.has(k)));
  }
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
