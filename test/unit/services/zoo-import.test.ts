// zoo.download through the workbench, against a local HTTP server: a real ONNX file arrives with
// progress events and is imported with the manifest's convention (not marked guessed), and so is a
// Keras HDF5 file; a damaged HDF5 file, which cannot be imported, is kept and the answer says so.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, MethodResults } from '../../../src/shared/api/contract';
import type { InputConvention } from '../../../src/shared/domain';
import { forkEngine } from '../../../src/main/services/engine-process';
import { Workbench } from '../../../src/main/services/workbench';
import { tempDir } from '../../helpers/temp';

const dir = tempDir();
const VGG = path.resolve(import.meta.dirname, '../../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
const onnx = fs.readFileSync(VGG);
const keras = fs.readFileSync(path.resolve(import.meta.dirname, '../../fixtures/keras/tiny.h5'));
// The 8-byte HDF5 signature followed by filler: enough for the engine to see a (damaged) Keras file.
const h5 = Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(4096, 7)]);
const convention: InputConvention = { channelOrder: 'RGB', scale: 255, mean: [123.68, 116.779, 103.939], std: [1, 1, 1], inputSize: 224 };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let server: http.Server;
let wb: Workbench;
const events: ApiEvent[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const body = req.url === '/vgg.onnx' ? onnx : req.url === '/weights.h5' ? h5 : req.url === '/tiny.h5' ? keras : null;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entry = (name: string, fileName: string, format: string, body: Buffer) => ({
    name,
    title: name,
    format,
    url: `${base}/${fileName.replace(/^local-/, '')}`,
    fileName,
    sizeBytes: body.length,
    approxSizeMB: null,
    checksum: { algorithm: 'md5', value: md5(body) },
    inputConvention: convention,
    provenance: 'test server',
  });
  const manifest = path.join(dir, 'manifest.json');
  fs.writeFileSync(
    manifest,
    JSON.stringify({
      version: 1,
      entries: [entry('local-vgg', 'vgg.onnx', 'onnx', onnx), entry('local-keras', 'tiny.h5', 'keras-h5', keras), entry('local-broken', 'weights.h5', 'keras-h5', h5)],
    }),
  );
  wb = Workbench.open({
    launcher: forkEngine,
    projectPath: path.join(dir, 'zoo.artiphys'),
    create: true,
    backend: 'cpu',
    zoo: { manifest, dir: path.join(dir, 'models') },
  });
  wb.onEvent((e) => events.push(e));
});
afterAll(async () => {
  wb?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const call = <M extends keyof MethodResults>(method: M, params: unknown) => wb.call({ method, params }) as Promise<MethodResults[M]>;

describe('zoo.download', () => {
  it('downloads an ONNX entry with progress events and imports it with the manifest convention', async () => {
    expect((await call('zoo.list', {})).map((z) => [z.name, z.downloaded])).toEqual([
      ['local-vgg', false],
      ['local-keras', false],
      ['local-broken', false],
    ]);
    const r = await call('zoo.download', { name: 'local-vgg' });
    expect(r.importError).toBeNull();
    expect(fs.readFileSync(r.file).equals(onnx)).toBe(true);
    expect(r.model).toMatchObject({ format: 'onnx', inputConvention: convention, source: r.file });
    expect(r.model!.conventionGuessed).toBeUndefined();
    const progress = events.flatMap((e) => (e.type === 'zoo.progress' && e.name === 'local-vgg' ? [e.progress] : []));
    expect(progress.at(-1)).toMatchObject({ bytes: onnx.length, total: onnx.length });
    expect((await call('zoo.list', {})).find((z) => z.name === 'local-vgg')!.downloaded).toBe(true);
  }, 120_000);

  it('imports a Keras HDF5 entry with the manifest convention', async () => {
    const r = await call('zoo.download', { name: 'local-keras' });
    expect(r.importError).toBeNull();
    expect(r.model).toMatchObject({ format: 'keras-h5', inputConvention: convention, source: r.file });
  }, 60_000);

  it('keeps a file it cannot import and says so', async () => {
    const r = await call('zoo.download', { name: 'local-broken' });
    expect(r.model).toBeNull();
    expect(fs.existsSync(r.file)).toBe(true);
    expect(r.importError).toContain(`downloaded to ${r.file}, but it cannot be imported yet`);
    expect(r.importError).toMatch(/not a readable HDF5 file/);
  }, 60_000);

  it('names the entries when the name is unknown', async () => {
    await expect(call('zoo.download', { name: 'nope' })).rejects.toThrow(/no zoo entry "nope".*local-vgg/);
  });
});
