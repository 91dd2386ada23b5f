// ONNX external data: tensors whose bytes live in files beside the .onnx file (PyTorch writes
// them for models over 2 GB, or when asked to), each named by `location` (a path relative to the
// model's folder), `offset` and `length` entries. A location that leaves the model's folder (an
// absolute path, "..", a symbolic link pointing out) is refused, as onnxruntime refuses it; so is a
// missing or short file. The bytes read are bounded by the size of the files on disk, so tensors
// that all point at the same stretch cannot multiply it in memory.
import fs from 'node:fs';
import path from 'node:path';

export interface ExternalDataEntry {
  key?: string | null;
  value?: string | null;
}

interface OpenFile {
  fd: number;
  size: number;
}

export class ExternalDataReader {
  private readonly files = new Map<string, OpenFile>();
  private bytesRead = 0;

  /**
   * `dir`: the model's folder, or undefined when the model did not come from a file. `fail`
   * throws a message naming the model file.
   */
  constructor(
    private readonly dir: string | undefined,
    private readonly fail: (msg: string) => never,
  ) {}

  /** The bytes a tensor's entries point at; `expected` is what its shape and type need. */
  read(entries: readonly ExternalDataEntry[], what: string, expected: number): Uint8Array {
    const fields = new Map(entries.map((e) => [e.key ?? '', e.value ?? '']));
    const location = fields.get('location');
    if (!location) return this.fail(`${what} keeps its data in an external file but does not say which (no "location" entry)`);
    const where = `external data file "${location}" of ${what}`;
    if (this.dir === undefined) return this.fail(`${what} keeps its data in external file "${location}", which can only be read when the model is loaded from its folder`);
    const count = (key: string, fallback: number): number => {
      const text = fields.get(key);
      if (text === undefined) return fallback;
      const n = Number(text);
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) return this.fail(`${where}: "${key}" is not a byte count (${JSON.stringify(text)})`);
      return n;
    };
    const offset = count('offset', 0);
    const length = count('length', expected);
    if (length !== expected) this.fail(`${where}: "length" is ${length} bytes, but the tensor's shape and type take ${expected}`);
    const file = this.open(location, where);
    if (offset + length > file.size) {
      this.fail(`${where} is ${file.size} bytes, too short for ${length} bytes at offset ${offset} (the file is truncated or belongs to another export)`);
    }
    this.bytesRead += length;
    if (this.bytesRead > this.totalSize()) this.fail(`${where}: the tensors read more bytes than their external files hold (they overlap); the file is damaged`);
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const n = fs.readSync(file.fd, out, done, length - done, offset + done);
      if (n === 0) this.fail(`${where} ended while it was read`);
      done += n;
    }
    return out;
  }

  /** Closes the files; call once every tensor is read. */
  close(): void {
    for (const { fd } of this.files.values()) fs.closeSync(fd);
    this.files.clear();
  }

  private totalSize(): number {
    let total = 0;
    for (const f of this.files.values()) total += f.size;
    return total;
  }

  private open(location: string, where: string): OpenFile {
    const open = this.files.get(location);
    if (open) return open;
    let file: string;
    try {
      file = externalDataPath(this.dir!, location);
    } catch (err) {
      return this.fail(`${where}: ${(err as Error).message}`);
    }
    const entry = { fd: fs.openSync(file, 'r'), size: fs.statSync(file).size };
    this.files.set(location, entry);
    return entry;
  }
}

/**
 * The file an external data location names in the model's folder `dir` (symbolic links
 * resolved). Throws an Error saying why it cannot be used: it leads outside the folder, it does
 * not exist, it is not a file.
 */
export function externalDataPath(dir: string, location: string): string {
  const leaves = "the location leads outside the model's folder, which is not allowed";
  const relative = locationInside(location);
  if (relative === null) throw new Error(leaves);
  const file = path.join(dir, relative);
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `it does not exist (looked for ${file}); copy it beside the model` : `it cannot be read (${code}): ${file}`, { cause: err });
  }
  if (locationInside(path.relative(fs.realpathSync(dir), real)) === null) throw new Error(leaves);
  if (!fs.statSync(real).isFile()) throw new Error(`it is not a file (${file})`);
  return real;
}

/** A location as a normalized path relative to the model's folder, or null where it leads elsewhere (absolute, "..", the folder itself). */
export function locationInside(location: string): string | null {
  const relative = path.normalize(location.replace(/\\/g, '/'));
  const outside = relative === '.' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative) || /^[A-Za-z]:/.test(relative);
  return outside ? null : relative;
}
