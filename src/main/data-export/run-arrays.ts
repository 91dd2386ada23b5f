// A run's results with every encoded float array written out as JSON numbers, streamed into a
// sink so a large run (a shapes run over thousands of channels) is never held decoded in memory.
import { decodeFloat32 } from '../../shared/float-codec';
import type { Provenance } from '../../shared/figures';
import type { ResultRecord, RunSummary } from '../../shared/domain';
import { isFloatBlob } from '../../shared/run-arrays';
import type { TextSink } from './output';

/** Values per write while an array is written out. */
const CHUNK = 16_384;

/**
 * The shortest decimal that reads back as the same float32 (7 to 9 significant digits), so the
 * file is exact yet about half the size of the float64 expansion. NaN and ±Inf become null.
 */
export function float32Text(v: number): string {
  if (!Number.isFinite(v)) return 'null';
  for (let digits = 7; digits < 9; digits++) {
    const n = Number(v.toPrecision(digits));
    if (Math.fround(n) === v) return String(n);
  }
  return String(Number(v.toPrecision(9)));
}

function writeFloats(sink: TextSink, values: Float32Array): void {
  sink.write('[');
  for (let i = 0; i < values.length; i += CHUNK) {
    const end = Math.min(values.length, i + CHUNK);
    const parts: string[] = [];
    for (let k = i; k < end; k++) parts.push(float32Text(values[k]));
    sink.write((i ? ',' : '') + parts.join(','));
  }
  sink.write(']');
}

/** JSON of a value, with encoded float arrays (by field name) decoded into number arrays. */
function writeValue(sink: TextSink, value: unknown, key: string | null): void {
  if (key !== null && isFloatBlob(key, value)) {
    writeFloats(sink, decodeFloat32(value));
  } else if (Array.isArray(value)) {
    sink.write('[');
    value.forEach((v, i) => {
      if (i) sink.write(',');
      writeValue(sink, v, null);
    });
    sink.write(']');
  } else if (value !== null && typeof value === 'object') {
    sink.write('{');
    Object.entries(value).forEach(([k, v], i) => {
      sink.write(`${i ? ',' : ''}${JSON.stringify(k)}:`);
      writeValue(sink, v, k);
    });
    sink.write('}');
  } else {
    sink.write(JSON.stringify(value) ?? 'null');
  }
}

/** {provenance, run, results: [{id, key, data, imageIds}]}, one result per line. */
export function writeRunArrays(sink: TextSink, provenance: Provenance, run: RunSummary, results: ResultRecord[]): void {
  const { progress: _progress, ...runFields } = run;
  sink.write(`{"provenance":${JSON.stringify(provenance)},\n"run":${JSON.stringify(runFields)},\n"results":[`);
  results.forEach((r, i) => {
    sink.write(`${i ? ',' : ''}\n{"id":${r.id},"key":${JSON.stringify(r.key)},"imageIds":${JSON.stringify(r.imageIds)},"data":`);
    writeValue(sink, r.data, null);
    sink.write('}');
  });
  sink.write('\n]}\n');
}
