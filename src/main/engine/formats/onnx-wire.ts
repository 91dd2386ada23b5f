// A pass over the protobuf wire format of an ONNX file before it is decoded, to bound what decoding
// will allocate. Protobuf is compact where JavaScript is not: decoding makes one object per
// message, one Long object per int64 value (a packed int64 list spends one byte per value), one
// string per string field. A 32 MB file of packed one-byte int64 dims used to decode into 32
// million Long objects (+2.4 GB, 100 s) before any size check could see it. This pass walks the
// same fields the decoder does (onnx-proto's ONNX schema), counts what each would create, and
// refuses the file when the estimate exceeds a budget proportional to the file, or when messages
// nest deeper than any model needs. It allocates nothing per field and runs in linear time.
import { ModelFormatError } from '../errors';

type Msg =
  | 'Model' | 'OpsetId' | 'Entry' | 'TrainingInfo' | 'Function' | 'Graph' | 'Node' | 'Attribute' | 'ValueInfo'
  | 'Annotation' | 'Tensor' | 'Segment' | 'Sparse' | 'Shape' | 'Dim' | 'Type' | 'TypeTensor' | 'TypeSeq' | 'TypeMap'
  | 'TypeOpt';

/** int64 (decoded to a Long object), int32/enum (a number), float, double, string, bytes, or a message. */
type Field = 'i64' | 'i32' | 'f32' | 'f64' | 'str' | 'bytes' | Msg;

/** Field numbers of every ONNX message as onnx-proto decodes them; `*` marks repeated scalars (packed or not). */
const SCHEMA: Record<Msg, Record<number, Field | `${'i64' | 'i32' | 'f32' | 'f64'}*`>> = {
  Model: { 1: 'i64', 2: 'str', 3: 'str', 4: 'str', 5: 'i64', 6: 'str', 7: 'Graph', 8: 'OpsetId', 14: 'Entry', 20: 'TrainingInfo', 25: 'Function' },
  OpsetId: { 1: 'str', 2: 'i64' },
  Entry: { 1: 'str', 2: 'str' },
  TrainingInfo: { 1: 'Graph', 2: 'Graph', 3: 'Entry', 4: 'Entry' },
  Function: { 1: 'str', 4: 'str', 5: 'str', 6: 'str', 7: 'Node', 8: 'str', 9: 'OpsetId', 10: 'str' },
  Graph: { 1: 'Node', 2: 'str', 5: 'Tensor', 10: 'str', 11: 'ValueInfo', 12: 'ValueInfo', 13: 'ValueInfo', 14: 'Annotation', 15: 'Sparse' },
  Node: { 1: 'str', 2: 'str', 3: 'str', 4: 'str', 5: 'Attribute', 6: 'str', 7: 'str' },
  Attribute: {
    1: 'str', 2: 'f32', 3: 'i64', 4: 'bytes', 5: 'Tensor', 6: 'Graph', 7: 'f32*', 8: 'i64*', 9: 'bytes', 10: 'Tensor',
    11: 'Graph', 13: 'str', 14: 'Type', 15: 'Type', 20: 'i32', 21: 'str', 22: 'Sparse', 23: 'Sparse',
  },
  ValueInfo: { 1: 'str', 2: 'Type', 3: 'str' },
  Annotation: { 1: 'str', 2: 'Entry' },
  Tensor: {
    1: 'i64*', 2: 'i32', 3: 'Segment', 4: 'f32*', 5: 'i32*', 6: 'bytes', 7: 'i64*', 8: 'str', 9: 'bytes', 10: 'f64*',
    11: 'i64*', 12: 'str', 13: 'Entry', 14: 'i32',
  },
  Segment: { 1: 'i64', 2: 'i64' },
  Sparse: { 1: 'Tensor', 2: 'Tensor', 3: 'i64*' },
  Shape: { 1: 'Dim' },
  Dim: { 1: 'i64', 2: 'str', 3: 'str' },
  Type: { 1: 'TypeTensor', 4: 'TypeSeq', 5: 'TypeMap', 6: 'str', 8: 'TypeTensor', 9: 'TypeOpt' },
  TypeTensor: { 1: 'i32', 2: 'Shape' },
  TypeSeq: { 1: 'Type' },
  TypeMap: { 1: 'i32', 2: 'Type' },
  TypeOpt: { 1: 'Type' },
};

/** Rough bytes of JavaScript heap per decoded thing (V8, 64-bit). */
const COST = { message: 96, long: 48, number: 8, string: 32, bytes: 112 };

/** Deeper nesting than this (graphs in attributes in graphs ...) is refused; real models nest a few levels. */
export const MAX_NESTING = 64;

/** What decoding would create, as counted on the wire. */
export interface WireCounts {
  messages: number;
  longs: number;
  numbers: number;
  strings: number;
  stringBytes: number;
  byteFields: number;
  /** Estimated JavaScript heap the decoded object tree takes, in bytes. */
  estimatedBytes: number;
}

/** The decode budget for a file of `size` bytes: a fixed allowance plus a small multiple of the file. */
export function decodeBudget(size: number): number {
  return 64 * 2 ** 20 + 3 * size;
}

/**
 * Counts what `onnx.ModelProto.decode(bytes)` would allocate; throws ModelFormatError when the
 * file is malformed in a way that matters here, nests too deeply, or would decode into more than
 * `budget` bytes of objects.
 */
export function scanOnnxWire(bytes: Uint8Array, source: string, budget = decodeBudget(bytes.length)): WireCounts {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${source}: ${msg}`);
  };
  const c = { messages: 1, longs: 0, numbers: 0, strings: 0, stringBytes: 0, byteFields: 0 };
  const estimate = () => COST.message * c.messages + COST.long * c.longs + COST.number * c.numbers + COST.string * c.strings + 2 * c.stringBytes + COST.bytes * c.byteFields;
  let pos = 0;
  let fieldsSeen = 0;
  /** Stops as soon as the estimate is over the budget, however far the pass has come. */
  const checkBudget = (): void => {
    const estimatedBytes = estimate();
    if (estimatedBytes <= budget) return;
    const what =
      c.longs * COST.long >= estimatedBytes / 2
        ? ` (${c.longs} int64 values so far, e.g. tensor dims or int64 data)`
        : c.messages * COST.message >= estimatedBytes / 2
          ? ` (${c.messages} protobuf messages so far)`
          : '';
    fail(
      `decoding it would take more than ${Math.round(budget / 2 ** 20)} MB of memory for a ${Math.round(bytes.length / 2 ** 10)} KB file${what}: ` +
        'the file is damaged or built to exhaust memory',
    );
  };

  const varint = (end: number): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) fail('not a valid ONNX file (a number runs past the end of its field)');
      const b = bytes[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    return fail('not a valid ONNX file (a number longer than 10 bytes)');
  };
  const length = (end: number): number => {
    const n = varint(end);
    if (n > end - pos) fail('not a valid ONNX file (a field is longer than what holds it; the file is truncated or damaged)');
    return n;
  };
  /** Skips a field this schema does not name, as the decoder does (groups included). */
  const skip = (wire: number, end: number, depth: number): void => {
    if (wire === 0) varint(end);
    else if (wire === 1) pos += 8;
    else if (wire === 2) {
      const n = length(end); // read first: `pos += length(end)` would add to the position before the length
      pos += n;
    }
    else if (wire === 5) pos += 4;
    else if (wire === 3) {
      if (depth >= MAX_NESTING) fail(`messages nest more than ${MAX_NESTING} levels deep`);
      for (;;) {
        const tag = varint(end);
        if ((tag & 7) === 4) break;
        skip(tag & 7, end, depth + 1);
      }
    } else fail(`not a valid ONNX file (wire type ${wire})`);
    if (pos > end) fail('not a valid ONNX file (a field runs past the end of what holds it)');
  };

  const scan = (msg: Msg, end: number, depth: number): void => {
    const fields = SCHEMA[msg];
    while (pos < end) {
      const tag = varint(end);
      const wire = tag & 7;
      const number = Math.floor(tag / 8);
      const field = fields[number];
      if (field === undefined) {
        skip(wire, end, depth);
        continue;
      }
      const repeated = field.endsWith('*');
      const kind = (repeated ? field.slice(0, -1) : field) as Field;
      if (repeated && wire === 2) {
        // A packed list: count its values without decoding them.
        const n = length(end);
        const stop = pos + n;
        if (kind === 'f32' || kind === 'f64') {
          c.numbers += Math.ceil(n / (kind === 'f32' ? 4 : 8));
        } else {
          let values = 0;
          for (let i = pos; i < stop; i++) if (bytes[i] < 0x80) values++;
          if (kind === 'i64') c.longs += values;
          else c.numbers += values;
        }
        pos = stop;
      } else if (kind === 'i64' || kind === 'i32') {
        if (wire !== 0) fail(`not a valid ONNX file (field ${number} of ${msg} has wire type ${wire})`);
        varint(end);
        if (kind === 'i64') c.longs++;
        else c.numbers++;
      } else if (kind === 'f32' || kind === 'f64') {
        if (wire !== (kind === 'f32' ? 5 : 1)) fail(`not a valid ONNX file (field ${number} of ${msg} has wire type ${wire})`);
        pos += kind === 'f32' ? 4 : 8;
        if (pos > end) fail('not a valid ONNX file (a number runs past the end of its field)');
        c.numbers++;
      } else {
        if (wire !== 2) fail(`not a valid ONNX file (field ${number} of ${msg} has wire type ${wire})`);
        const n = length(end);
        if (kind === 'str') {
          c.strings++;
          c.stringBytes += n;
          pos += n;
        } else if (kind === 'bytes') {
          c.byteFields++;
          pos += n;
        } else {
          if (depth + 1 > MAX_NESTING) fail(`messages nest more than ${MAX_NESTING} levels deep (graphs inside attributes inside graphs ...)`);
          c.messages++;
          scan(kind, pos + n, depth + 1);
        }
      }
      if (++fieldsSeen % 4096 === 0 || repeated) checkBudget();
    }
    if (pos !== end) fail('not a valid ONNX file (a message does not end where its length says)');
  };

  scan('Model', bytes.length, 0);
  checkBudget();
  return { ...c, estimatedBytes: estimate() };
}
