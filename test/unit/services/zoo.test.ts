// The zoo downloader against real sockets: a local HTTP server started here serves a small file
// (progress, checksum, mismatch), and a loopback port nobody listens on stands for no network.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/shared/api/contract';
import type { ZooEntry, ZooProgress } from '../../../src/shared/domain';
import { downloadZooEntry, zooEntries, zooEntry } from '../../../src/main/services/zoo';
import { tempDir } from '../../helpers/temp';

const dir = tempDir();
const body = randomBytes(3 * 1024 * 1024 + 17);
let server: http.Server;
let base = '';

beforeAll(async () => {
  // Sends the file in slices with short pauses so that progress is observable as it happens.
  server = http.createServer((req, res) => {
    if (req.url !== '/weights.h5') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
    let at = 0;
    const slice = 256 * 1024;
    const next = () => {
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + slice));
      at += slice;
      setTimeout(next, 40);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function entry(over: Partial<ZooEntry>): ZooEntry {
  return {
    ...zooEntry('keras-vgg19'),
    url: `${base}/weights.h5`,
    fileName: 'weights.h5',
    checksum: { algorithm: 'md5', value: createHash('md5').update(body).digest('hex') },
    ...over,
  };
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('model zoo manifest', () => {
  it('lists the official Keras VGG19 and ResNet50 weights with URL, checksum algorithm and convention', () => {
    const entries = zooEntries();
    const names = entries.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['keras-vgg19', 'keras-resnet50']));
    for (const e of entries) {
      expect(new URL(e.url).protocol).toBe('https:');
      expect(e.url.endsWith(e.fileName)).toBe(true);
      // MD5 is 32 hex digits, SHA-256 64: the algorithm stored must fit the value.
      expect(e.checksum.value).toHaveLength(e.checksum.algorithm === 'md5' ? 32 : 64);
      expect(e.inputConvention.channelOrder).toBe('BGR');
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('names the known entries when asked for an unknown one', () => {
    expect(() => zooEntry('alexnet')).toThrow(/no zoo entry "alexnet".*keras-vgg19/);
  });
});

describe('zoo download', () => {
  it('downloads with progress (bytes, total, ETA) and verifies the MD5', async () => {
    const seen: ZooProgress[] = [];
    const target = path.join(dir, 'ok');
    const file = await downloadZooEntry(entry({}), { dir: target, onProgress: (p) => seen.push(p) });
    expect(file).toBe(path.join(target, 'weights.h5'));
    expect(fs.readFileSync(file).equals(body)).toBe(true);
    expect(fs.readdirSync(target)).toEqual(['weights.h5']); // no partial file left behind
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((p) => p.total === body.length)).toBe(true);
    const bytes = seen.map((p) => p.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(bytes.at(-1)).toBe(body.length);
    expect(bytes.some((b) => b > 0 && b < body.length)).toBe(true);
    expect(seen.some((p) => p.etaSeconds !== null && p.etaSeconds > 0)).toBe(true);
    expect(seen.at(-1)!.etaSeconds).toBe(0);
  });

  it('verifies a SHA-256 too, and keeps a verified file without downloading it again', async () => {
    const target = path.join(dir, 'sha');
    const e = entry({ checksum: { algorithm: 'sha256', value: createHash('sha256').update(body).digest('hex') } });
    await downloadZooEntry(e, { dir: target });
    const seen: ZooProgress[] = [];
    await downloadZooEntry(e, { dir: target, onProgress: (p) => seen.push(p) });
    expect(seen).toEqual([]);
  });

  it('refuses a file whose checksum does not match and deletes it', async () => {
    const target = path.join(dir, 'bad');
    const wrong = createHash('md5').update('something else').digest('hex');
    const err = await apiError(downloadZooEntry(entry({ checksum: { algorithm: 'md5', value: wrong } }), { dir: target }));
    expect(err.code).toBe('checksum_mismatch');
    expect(err.message).toContain(`expected ${wrong}`);
    expect(err.message).toContain('deleted');
    expect(fs.readdirSync(target)).toEqual([]);
  });

  it('says "cannot reach <host>" when nothing answers, and leaves no file', async () => {
    // A port that was just free: connecting to it is refused, as with no network or a firewall.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const target = path.join(dir, 'offline');
    const err = await apiError(downloadZooEntry(entry({ url: `http://127.0.0.1:${port}/weights.h5` }), { dir: target }));
    expect(err.code).toBe('unreachable');
    expect(err.message).toMatch(new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port}: you are offline or it is blocked`));
    expect(err.message).toContain('download the file by hand');
    expect(fs.readdirSync(target)).toEqual([]);
  });

  it('reports an HTTP error from the host in words', async () => {
    const err = await apiError(downloadZooEntry(entry({ url: `${base}/missing.h5` }), { dir: path.join(dir, 'http') }));
    expect(err.code).toBe('unreachable');
    expect(err.message).toContain('HTTP 404');
  });
});
