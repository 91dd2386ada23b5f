// `--model` given a file path, as the command line types it: the file is imported into the
// project on first use and the same model is reused after; a missing file is an unknown model.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin/artiphys.js');
const VGG = path.resolve(ROOT, '../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-cli-model-file-'));
const project = path.join(home, 'p.artiphys');

function artiphys(args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args, '--project', project], { cwd: ROOT, env: { ...process.env, ARTIPHYS_HOME: home }, encoding: 'utf8', timeout: 180_000 });
}

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe.skipIf(!fs.existsSync(VGG))('run --model FILE', () => {
  it('imports the file on first use, reuses it after, and takes --unit for max-image', () => {
    // A relative path, as typed from the repository root.
    const relative = path.relative(ROOT, VGG);
    const runs = [0, 1].map((unit) => {
      const doc = JSON.parse(artiphys(['run', 'max-image', '--model', relative, '--layer', 'relu3_1', '--unit', String(unit), '--steps', '5', '--json'])) as {
        run: { status: string; settings: { modelId: string; channel: number } };
      };
      expect(doc.run.status).toBe('done');
      expect(doc.run.settings.channel).toBe(unit);
      return doc.run.settings.modelId;
    });
    expect(runs[1]).toBe(runs[0]);
    const models = JSON.parse(artiphys(['models', 'list', '--json'])) as { id: string; source?: string }[];
    const imported = models.filter((m) => m.source !== undefined);
    expect(imported).toEqual([expect.objectContaining({ id: runs[0], source: VGG })]);
  }, 240_000);

  it('refuses a path that is no file, naming it', () => {
    let stderr = '';
    try {
      artiphys(['run', 'max-image', '--model', path.join(home, 'missing.onnx'), '--layer', 'relu3_1', '--unit', '0', '--steps', '5']);
    } catch (err) {
      stderr = String((err as { stderr?: string }).stderr);
    }
    expect(stderr).toContain('missing.onnx');
  }, 60_000);
});
