// The service fills in an ablation's channels from the latest finished scale-invariance run of
// the same model (a real project database in a temporary folder).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { latestScaleInvariantChannels } from '../../../src/main/services/ablation-defaults';
import { ProjectDb } from '../../../src/main/services/project-db';

describe('ablation default channels', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'abl-defaults-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the passing list of the latest done run that covers the block', () => {
    const db = ProjectDb.open(path.join(dir, 'p.artiphys'), { create: true });
    const run = (status: 'done' | 'failed', modelId: string, block: string, passing: number[]) => {
      const r = db.createRun({ kind: 'scale-invariance', title: 't', modelId, settings: {}, seed: 1, appVersion: 'test' });
      db.addResult(r.id, `block/${block}`, { passing }, []);
      db.setRunStatus(r.id, status);
    };
    expect(latestScaleInvariantChannels(db, 'm', 'layer4.2')).toBeNull();
    run('done', 'm', 'layer4.2', [1, 2]);
    run('done', 'm', 'layer4.2', [3]);
    run('failed', 'm', 'layer4.2', [9]);
    run('done', 'other', 'layer4.2', [8]);
    run('done', 'm', 'layer3.0', [7]);
    expect(latestScaleInvariantChannels(db, 'm', 'layer4.2')).toEqual([3]);
    expect(latestScaleInvariantChannels(db, 'm', 'layer3.0')).toEqual([7]);
    db.close();
  });
});
