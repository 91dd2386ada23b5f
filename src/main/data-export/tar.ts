// A small ustar (POSIX tar) writer and reader for project archives: regular files only, names up
// to 100 bytes, streamed so model files of hundreds of MB never sit in memory whole.
import { ApiError } from '../../shared/api/contract';

const BLOCK = 512;
const ZERO_BLOCK = new Uint8Array(BLOCK);
/** Octal size field: 11 digits, so up to 8 GiB per entry. */
const MAX_ENTRY_BYTES = 8 ** 11 - 1;

export interface TarEntryHeader {
  name: string;
  size: number;
}

function writeString(block: Buffer, offset: number, length: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new Error(`tar field "${text}" is longer than ${length} bytes`);
  bytes.copy(block, offset);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  writeString(block, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

/** The 512-byte ustar header of a regular file. */
export function tarHeader(entry: TarEntryHeader, mtimeSeconds: number): Buffer {
  if (!entry.name || Buffer.byteLength(entry.name) > 100) throw new Error(`tar entry name "${entry.name}" must be 1 to 100 bytes`);
  if (entry.size > MAX_ENTRY_BYTES) throw new Error(`${entry.name} is larger than a tar entry can hold (8 GiB)`);
  const h = Buffer.alloc(BLOCK);
  writeString(h, 0, 100, entry.name);
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, entry.size);
  writeOctal(h, 136, 12, Math.floor(mtimeSeconds));
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  writeString(h, 156, 1, '0');
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 148, 8, checksum(h).toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum;
}

/** Zero bytes that bring an entry of `size` bytes to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

function readOctal(block: Buffer, offset: number, length: number, what: string): number {
  const text = readString(block, offset, length).trim();
  if (!/^[0-7]+$/.test(text)) throw new ApiError('project_corrupt', `archive entry header has a malformed ${what} field`);
  return parseInt(text, 8);
}

/** Called per entry; returns the sink for its bytes (called in order, then `end`). */
export interface TarEntrySink {
  write(chunk: Buffer): void;
  end(): void;
}

/**
 * Reads a tar stream: every regular file is handed to `onEntry` (which may throw to refuse it);
 * anything else (links, devices, extended headers) is refused, and a stream that ends before the
 * end-of-archive blocks is reported as truncated.
 */
export async function readTar(chunks: AsyncIterable<Buffer>, onEntry: (h: TarEntryHeader) => TarEntrySink): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let entry: { sink: TarEntrySink; left: number; padding: number } | null = null;
  let ended = false;
  for await (const chunk of chunks) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    while (!ended) {
      if (entry) {
        const take = Math.min(entry.left, pending.length - at);
        if (take > 0) entry.sink.write(pending.subarray(at, at + take));
        at += take;
        entry.left -= take;
        if (entry.left > 0) break;
        if (pending.length - at < entry.padding) break;
        at += entry.padding;
        entry.sink.end();
        entry = null;
        continue;
      }
      if (pending.length - at < BLOCK) break;
      const header = pending.subarray(at, at + BLOCK);
      at += BLOCK;
      if (header.equals(ZERO_BLOCK)) {
        ended = true;
        break;
      }
      if (readOctal(header, 148, 8, 'checksum') !== checksum(header)) throw new ApiError('project_corrupt', 'archive entry header fails its checksum');
      // POSIX ustar ("ustar\0") and GNU tar's own format ("ustar  ") share this layout for plain files.
      if (!readString(header, 257, 6).startsWith('ustar')) throw new ApiError('bad_request', 'not a ustar archive entry');
      const prefix = readString(header, 345, 155);
      const name = (prefix ? `${prefix}/` : '') + readString(header, 0, 100);
      const type = String.fromCharCode(header[156] || 0x30);
      if (type !== '0') throw new ApiError('bad_request', `archive entry "${name}" is not a regular file (type ${type}); Artiphys archives hold only files`);
      const size = readOctal(header, 124, 12, 'size');
      const sink = onEntry({ name, size });
      entry = { sink, left: size, padding: (BLOCK - (size % BLOCK)) % BLOCK };
    }
    pending = pending.subarray(at);
  }
  if (!ended) throw new ApiError('project_corrupt', 'the archive is truncated (it ends inside an entry or before its end marker)');
}
