// Where an export goes: a file at the client's path (written under a temporary name, then
// renamed, so a half-written file never carries the final name), or back to the client in memory.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../shared/api/contract';
import type { ExportedFile } from '../../shared/figures';

/** An export's destination as an absolute path, never the open project's own file or journal. */
export function exportTarget(projectPath: string, target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  const file = path.resolve(target);
  if (file === projectPath || file.startsWith(`${projectPath}-`)) {
    throw new ApiError('bad_request', `${file} is the open project's own file; export to another file`);
  }
  return file;
}

export interface TextSink {
  write(text: string): void;
}

/** Text buffered into writes of about 1 MiB. */
class FileSink implements TextSink {
  private parts: string[] = [];
  private size = 0;
  bytes = 0;

  constructor(private readonly fd: number) {}

  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) this.flush();
  }

  flush(): void {
    if (!this.parts.length) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    fs.writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.parts = [];
    this.size = 0;
  }
}

/**
 * Writes a file under a temporary name, then renames it, so a half-written file never carries
 * the final name. `write` returns the number of bytes it wrote.
 */
function writeAtomically(target: string, write: (fd: number) => number): { file: string; bytes: number } {
  const file = path.resolve(target);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.partial-${randomBytes(4).toString('hex')}`;
  const fd = fs.openSync(partial, 'wx');
  try {
    const bytes = write(fd);
    fs.closeSync(fd);
    fs.renameSync(partial, file);
    return { file, bytes };
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fs.rmSync(partial, { force: true });
    throw err;
  }
}

type ExportMeta = Omit<ExportedFile, 'base64' | 'bytes' | 'path'>;

/**
 * Runs `produce` with a sink, then delivers its text as an ExportedFile: written to `target` when
 * given, else returned as base64.
 */
export function exportText(meta: ExportMeta, target: string | undefined, produce: (sink: TextSink) => void): ExportedFile {
  if (!target) {
    const parts: string[] = [];
    produce({ write: (t) => parts.push(t) });
    return exportBytes(meta, undefined, Buffer.from(parts.join(''), 'utf8'));
  }
  const { file, bytes } = writeAtomically(target, (fd) => {
    const sink = new FileSink(fd);
    produce(sink);
    sink.flush();
    return sink.bytes;
  });
  return { ...meta, fileName: path.basename(file), base64: '', bytes, path: file };
}

/** A file made in memory, delivered like exportText's. */
export function exportBytes(meta: ExportMeta, target: string | undefined, data: Buffer): ExportedFile {
  if (!target) return { ...meta, base64: data.toString('base64'), bytes: data.length, path: null };
  const { file, bytes } = writeAtomically(target, (fd) => fs.writeSync(fd, data));
  return { ...meta, fileName: path.basename(file), base64: '', bytes, path: file };
}
