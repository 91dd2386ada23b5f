// Tables for data export: a run's results or the gallery's units as rows, and their CSV and JSON
// text. Pure TypeScript, so the renderer can show the same table the export writes.
import { ablationResults } from './analyses/ablation';
import { diverseResults } from './analyses/diverse';
import { resultsOf } from './analyses/result-contract';
import { scaleInvarianceResults } from './analyses/scale-invariance';
import { shapesResults } from './analyses/shapes';
import type { GalleryPage } from './curation';
import type { ResultRecord } from './domain';
import type { Provenance } from './figures';
import { isSilent, layerResults, maxResponses } from './analyses/shapes-results';
import { isFloatBlob } from './run-arrays';
import { isObject } from './json';

export type Cell = string | number | boolean | null;

export interface Table {
  /** Column keys, in order; every row has a value (maybe null) for each. */
  columns: string[];
  /** Human headers of the columns that have one. */
  labels: Record<string, string>;
  rows: Record<string, Cell>[];
}

type Data = Record<string, unknown>;

/** Rows with columns in order of first appearance, missing cells as null. */
function tableOf(rows: Data[], labels: Record<string, string> = {}, first: string[] = []): Table {
  const columns = [...first];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  return {
    columns,
    labels,
    rows: rows.map((row) => Object.fromEntries(columns.map((c) => [c, toCell(row[c])]))),
  };
}

function toCell(v: unknown): Cell {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return null;
}

/** A value's scalar fields, nested objects flattened to dotted keys; arrays and encoded arrays are left out. */
function scalarFields(data: Data, prefix = ''): Data {
  const out: Data = {};
  for (const [key, v] of Object.entries(data)) {
    const name = prefix + key;
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[name] = v;
    // Encoded float arrays belong to the arrays export, not a table.
    else if (typeof v === 'string' && !isFloatBlob(key, v)) out[name] = v;
    else if (isObject(v)) Object.assign(out, scalarFields(v, `${name}.`));
  }
  return out;
}

/** The summary table a diverse or shapes run stores ({columns, labels, table}): the columns it declares. */
function summaryTable(contract: typeof diverseResults | typeof shapesResults, results: ResultRecord[]): Table | null {
  const d = resultsOf(contract, 'summary', results)[0]?.data;
  if (!d?.columns || !d.table) return null;
  const columns = d.columns;
  const rows = (d.table as Data[]).map((row) => Object.fromEntries(columns.map((c) => [c, toCell(row[c])])));
  return { columns, labels: { ...(d.labels as Record<string, string> | undefined) }, rows };
}

/** Scale invariance: one row per tested channel with both criteria; `scaleInvariant` marks the passing list. */
function scaleInvarianceTable(results: ResultRecord[]): Table {
  // Silent channels (not judged) have null criteria; runs stored before the floor have no `silent`.
  const columns = ['block', 'channel', 'inOfIn', 'preOfPre', 'preOfIn', 'preOfZoomedIn', 'postOfIn', 'postOfPre', 'ratio', 'silent', 'criterion1', 'criterion2', 'scaleInvariant'];
  const rows = resultsOf(scaleInvarianceResults, 'channel', results).map(({ data }) => Object.fromEntries(columns.map((c) => [c, (data as Data)[c]])));
  return tableOf(rows, {
    inOfIn: 'In(X_In)',
    preOfPre: 'Pre(X_Pre)',
    silent: 'silent (not judged)',
    preOfIn: 'Pre(X_In)',
    preOfZoomedIn: 'Pre(S(X_In))',
    postOfIn: 'Post(X_In)',
    postOfPre: 'Post(X_Pre)',
    ratio: 'Post(X_In)/Post(X_Pre)',
    scaleInvariant: 'scale invariant',
  }, columns);
}

/** Ablation: one row per scale, top-1 intact, with the invariant set ablated, and the ratio to the random sets. */
function ablationTable(results: ResultRecord[]): Table | null {
  const d = resultsOf(ablationResults, 'summary', results)[0]?.data;
  if (!d?.scales) return null;
  const at = (name: 'intactTop1' | 'invariantTop1' | 'ratioMean' | 'ratioSe', k: number) => d[name]?.[k] ?? null;
  const random = d.randomTop1 ?? [];
  const rows = d.scales.map((scale, k) => {
    const values = random.map((t) => t[k]).filter((v): v is number => typeof v === 'number');
    return {
      block: d.block,
      layer: d.layer,
      scale,
      intactTop1: at('intactTop1', k),
      invariantTop1: at('invariantTop1', k),
      randomTop1Mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
      ratioMean: at('ratioMean', k),
      ratioSe: at('ratioSe', k),
      invariantChannels: d.invariantChannels?.length ?? null,
      randomSets: random.length,
    };
  });
  return tableOf(rows, {
    scale: 'scale (%)',
    intactTop1: 'top-1 intact (%)',
    invariantTop1: 'top-1, invariant ablated (%)',
    randomTop1Mean: 'top-1, random ablated, mean (%)',
    ratioMean: 'invariant / random',
    ratioSe: 'SE',
  });
}

/** A float32 value as a cell: NaN (not fitted, no ratio) and a missing array as null. */
const valueAt = (a: Float32Array | null, c: number): number | null => (a && c < a.length && Number.isFinite(a[c]) ? a[c] : null);

/**
 * Shapes: one row per unit (the central unit of every channel of every layer), with its APC fit,
 * the controls, TI and the natural/shape ratio. A unit that responds to no shape is `silent`.
 */
function shapesTable(results: ResultRecord[]): Table | null {
  const layers = layerResults(results);
  if (!layers.length) return null;
  const rows: Data[] = [];
  for (const l of layers) {
    const max = maxResponses(l);
    for (let c = 0; c < l.channels; c++) {
      const measured = Number.isFinite(max[c]);
      rows.push({
        layer: l.layer,
        channel: c,
        maxResponse: measured ? max[c] : null,
        silent: measured ? isSilent(max, c) : null,
        apcR: valueAt(l.apc.r, c),
        muA: valueAt(l.apc.muA, c),
        sigmaA: valueAt(l.apc.sigmaA, c),
        muC: valueAt(l.apc.muC, c),
        sigmaC: valueAt(l.apc.sigmaC, c),
        shuffledR: valueAt(l.shuffledR, c),
        randomWeightsR: valueAt(l.randomWeightsR, c),
        ti: valueAt(l.translation?.ti ?? null, c),
        randomWeightsTi: valueAt(l.randomWeightsTi, c),
        naturalToShapeRatio: valueAt(l.natural?.ratio ?? null, c),
      });
    }
  }
  const columns = ['layer', 'channel', 'maxResponse', 'silent', 'apcR', 'muA', 'sigmaA', 'muC', 'sigmaC', 'shuffledR', 'randomWeightsR', 'ti', 'randomWeightsTi', 'naturalToShapeRatio'];
  return tableOf(rows, {
    maxResponse: 'largest response to a shape',
    silent: 'silent (no response to any shape)',
    apcR: 'APC r',
    muA: 'APC preferred angular position (rad)',
    sigmaA: 'APC angular position spread (rad)',
    muC: 'APC preferred curvature',
    sigmaC: 'APC curvature spread',
    shuffledR: 'APC r, shuffled control',
    randomWeightsR: 'APC r, random weights',
    ti: 'TI',
    randomWeightsTi: 'TI, random weights',
    naturalToShapeRatio: 'natural/shape',
  }, columns);
}

/** Any run: one row per result with its key and scalar fields. */
function genericTable(results: ResultRecord[]): Table {
  return tableOf(results.map((r) => ({ key: r.key, ...scalarFields(r.data) })), {}, ['key']);
}

/** The table a run's export gives: one row per unit where the analysis measures units, its own summary, else a row per result. */
export function runTable(kind: string, results: ResultRecord[]): Table {
  if (kind === 'scale-invariance') return scaleInvarianceTable(results);
  if (kind === 'ablation') return ablationTable(results) ?? genericTable(results);
  if (kind === 'diverse') return summaryTable(diverseResults, results) ?? genericTable(results);
  if (kind === 'shapes') return shapesTable(results) ?? summaryTable(shapesResults, results) ?? genericTable(results);
  return genericTable(results);
}

/** The gallery's units × metrics: identity and curation columns, then one column per metric. */
export function galleryTable(page: GalleryPage): Table {
  const metricKeys = page.metrics.map((m) => m.key);
  const rows = page.cards.map((c) => ({
    unitId: c.unitId,
    modelId: c.modelId,
    layer: c.layer,
    channel: c.channel,
    starred: c.starred,
    tags: c.tags.join(';'),
    note: c.note,
    ...Object.fromEntries(metricKeys.map((k) => [k, c.metrics[k] ?? null])),
  }));
  const first = ['unitId', 'modelId', 'layer', 'channel', 'starred', 'tags', 'note', ...metricKeys];
  return tableOf(rows, Object.fromEntries(page.metrics.map((m) => [m.key, m.label])), first);
}

// ---- CSV (RFC 4180) ----

const CRLF = '\r\n';

/** One CSV field: quoted when it holds a comma, quote, line break or '#', or starts or ends with a space. */
export function csvField(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
    return String(v);
  }
  const s = String(v);
  return /[",\r\n#]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Provenance as `# key: value` lines, the comment form pandas (comment='#') and R (comment.char) skip. */
export function provenanceLines(p: Provenance): string[] {
  const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
  return [
    `# ${p.app} ${p.appVersion} export`,
    `# project: ${oneLine(p.project)}`,
    `# runs: ${p.runIds.join(' ') || '-'}`,
    `# config-hash: ${p.configHash}`,
    `# created: ${p.createdAt}`,
  ];
}

/** The table as CSV: provenance comment lines, a header row of column keys, CRLF line ends. */
export function tableCsv(table: Table, provenance: Provenance): string {
  const lines = [...provenanceLines(provenance), table.columns.map(csvField).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvField(row[c])).join(','));
  return lines.join(CRLF) + CRLF;
}

/** The table as JSON: {provenance, columns: [{key, label}], rows}; numbers JSON cannot hold (NaN, ±Inf) become null. */
export function tableJson(table: Table, provenance: Provenance): string {
  const columns = table.columns.map((key) => ({ key, label: table.labels[key] ?? key }));
  return JSON.stringify({ provenance, columns, rows: table.rows }, null, 1) + '\n';
}
