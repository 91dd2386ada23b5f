// The model zoo: well-known public weights listed in resources/zoo/manifest.json, downloaded into
// the user's models folder with progress, verified against the publisher's checksum, and refused
// (deleted) when they do not match. Without a network the answer says so in words.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ApiError, inputConventionSchema } from '../../shared/api/contract';
import type { ZooEntry, ZooProgress } from '../../shared/domain';
import { findResource } from '../resources';

const MANIFEST = 'resources/zoo/manifest.json';
/** A host that has not answered by then is treated as unreachable. */
const CONNECT_TIMEOUT_MS = 15_000;
/** Progress is reported at most this often (and once at the end). */
const PROGRESS_EVERY_MS = 200;

const entrySchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  title: z.string(),
  format: z.enum(['onnx', 'keras-h5', 'tfjs']),
  url: z.url(),
  fileName: z.string().regex(/^[A-Za-z0-9._-]+$/),
  sizeBytes: z.number().int().positive().nullable(),
  approxSizeMB: z.number().positive().nullable(),
  checksum: z.object({
    algorithm: z.enum(['sha256', 'md5']),
    value: z.string().regex(/^[0-9a-f]+$/),
  }),
  inputConvention: inputConventionSchema,
  provenance: z.string(),
});
const manifestSchema = z.object({ version: z.literal(1), entries: z.array(entrySchema) });

function manifestPath(): string {
  const found = findResource(MANIFEST);
  if (!found) throw new ApiError('internal', `the model zoo manifest (${MANIFEST}) is missing from this installation`);
  return found;
}

export function zooEntries(file = manifestPath()): ZooEntry[] {
  const parsed = manifestSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError('internal', `${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data.entries;
}

export function zooEntry(name: string, entries = zooEntries()): ZooEntry {
  const found = entries.find((e) => e.name === name);
  if (!found) throw new ApiError('not_found', `no zoo entry "${name}"; "artiphys models zoo" lists them (${entries.map((e) => e.name).join(', ')})`);
  return found;
}

export interface DownloadOptions {
  /** Folder the file goes to (created when missing). */
  dir: string;
  onProgress?: (p: ZooProgress) => void;
  signal?: AbortSignal;
}

/**
 * Downloads an entry to `dir/fileName` and verifies it. A file already there with the right
 * checksum is kept as is. Returns the file's path.
 */
export async function downloadZooEntry(entry: ZooEntry, opts: DownloadOptions): Promise<string> {
  const target = path.join(opts.dir, entry.fileName);
  if (fs.existsSync(target) && (await fileDigest(target, entry.checksum.algorithm)) === entry.checksum.value) return target;
  fs.mkdirSync(opts.dir, { recursive: true });
  const partial = `${target}.part`;
  try {
    const digest = await fetchTo(entry, partial, opts);
    if (digest !== entry.checksum.value) {
      throw new ApiError(
        'checksum_mismatch',
        `${entry.fileName} from ${entry.url} does not match its published ${entry.checksum.algorithm} (expected ${entry.checksum.value}, got ${digest}); the file was deleted`,
      );
    }
    fs.renameSync(partial, target);
    return target;
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

async function fetchTo(entry: ZooEntry, file: string, opts: DownloadOptions): Promise<string> {
  const host = new URL(entry.url).host;
  const connect = new AbortController();
  const timer = setTimeout(() => connect.abort(), CONNECT_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, connect.signal]) : connect.signal;
  let res: Response;
  try {
    res = await fetch(entry.url, { signal, redirect: 'follow' });
  } catch (err) {
    if (opts.signal?.aborted) throw new ApiError('bad_request', `download of ${entry.name} cancelled`);
    throw unreachable(host, entry, err);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok || !res.body) {
    throw new ApiError('unreachable', `${host} answered HTTP ${res.status} for ${entry.url}; download the file by hand and import it`);
  }
  const header = Number(res.headers.get('content-length'));
  const total = entry.sizeBytes ?? (Number.isFinite(header) && header > 0 ? header : null);
  const hash = createHash(entry.checksum.algorithm);
  const out = fs.createWriteStream(file);
  const started = Date.now();
  let bytes = 0;
  let lastReport = 0;
  const report = () => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? bytes / elapsed : 0;
    const etaSeconds = total !== null && rate > 0 ? Math.max(0, (total - bytes) / rate) : null;
    opts.onProgress?.({ bytes, total, etaSeconds });
  };
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = Date.now();
        report();
      }
    }
  } catch (err) {
    out.destroy();
    if (opts.signal?.aborted) throw new ApiError('bad_request', `download of ${entry.name} cancelled`);
    throw new ApiError('unreachable', `the connection to ${host} broke after ${bytes} bytes (${(err as Error).message}); try again`);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  report();
  if (total !== null && bytes !== total) {
    throw new ApiError('unreachable', `${entry.fileName}: got ${bytes} of ${total} bytes from ${host}; the download was cut short, try again`);
  }
  return hash.digest('hex');
}

function unreachable(host: string, entry: ZooEntry, err: unknown): ApiError {
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
  return new ApiError(
    'unreachable',
    `cannot reach ${host}: you are offline or it is blocked (${cause}); download the file by hand from ${entry.url} and import it`,
  );
}

async function fileDigest(file: string, algorithm: 'sha256' | 'md5'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
