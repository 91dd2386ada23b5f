// Where an export's text goes: a file at the client's path (written under a temporary name, then
// renamed, so a half-written file never carries the final name), or back to the client in memory.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ExportedFile, Provenance } from '../../shared/figures';

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
 * Runs `produce` with a sink, then delivers its text as an ExportedFile: written to `target` when
 * given, else returned as base64.
 */
export function exportText(
  meta: { fileName: string; mime: string; provenance: Provenance },
  target: string | undefined,
  produce: (sink: TextSink) => void,
): ExportedFile {
  if (!target) {
    const parts: string[] = [];
    produce({ write: (t) => parts.push(t) });
    const bytes = Buffer.from(parts.join(''), 'utf8');
    return { ...meta, base64: bytes.toString('base64'), bytes: bytes.length, path: null };
  }
  const file = path.resolve(target);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.partial-${randomBytes(4).toString('hex')}`;
  const fd = fs.openSync(partial, 'wx');
  try {
    const sink = new FileSink(fd);
    produce(sink);
    sink.flush();
    fs.closeSync(fd);
    fs.renameSync(partial, file);
    return { ...meta, fileName: path.basename(file), base64: '', bytes: sink.bytes, path: file };
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
