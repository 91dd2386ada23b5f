// Speed of the unit gallery's backend on a 5,000-unit layer (issue goal: the gallery of such a
// layer opens in under a second; the renderer measures its side): opening the project and the
// first gallery.query through Workbench.call, then sorted, filtered and note-search queries.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forkEngine } from '../../src/main/services/engine-process';
import { Workbench } from '../../src/main/services/workbench';
import type { GalleryPage } from '../../src/shared/curation';
import { createGalleryProject } from '../fixtures/gallery-project';
import type { BenchModule } from './run';
import { median } from '../../src/shared/math/stats';

const UNITS = 5000;
const REPEATS = 5;

const bench: BenchModule = {
  title: `gallery.query over a ${UNITS}-unit layer (feature-vis and diverse runs), through Workbench.call`,
  async run(report) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-gallery-bench-'));
    const wb = Workbench.open({ launcher: forkEngine, projectPath: path.join(dir, 'blank.artiphys'), create: true, backend: 'cpu' });
    try {
      let t = performance.now();
      const project = createGalleryProject(path.join(dir, 'gallery.artiphys'), { units: UNITS });
      report('write the fixture project (10,000 results, 20,000 PNGs)', (performance.now() - t) / 1000, 's');
      await wb.runner.start(); // the engine's start-up is not the gallery's time
      const query = async (params: Record<string, unknown>) => (await wb.call({ method: 'gallery.query', params })) as GalleryPage;

      t = performance.now();
      await wb.call({ method: 'project.open', params: { path: project.file } });
      const first = await query({ modelId: project.modelId, layer: project.layer });
      report('open the project + first query of the layer', performance.now() - t, 'ms');
      if (first.cards.length !== UNITS) throw new Error(`expected ${UNITS} cards, got ${first.cards.length}`);

      const cards = (await query({})).cards;
      await wb.call({ method: 'curation.tag', params: { unitIds: cards.slice(0, 500).map((c) => c.unitId), tag: 'texture', add: true } });
      await wb.call({ method: 'curation.note', params: { unitId: cards[7].unitId, text: 'Texture-like, strong at the edges' } });

      const timed = async (label: string, params: Record<string, unknown>) => {
        const ms: number[] = [];
        let n = 0;
        for (let i = 0; i < REPEATS; i++) {
          const t0 = performance.now();
          n = (await query(params)).cards.length;
          ms.push(performance.now() - t0);
        }
        report(`${label} (${n} cards, median of ${REPEATS})`, median(ms)!, 'ms');
      };
      await timed('layer, default order', { layer: project.layer });
      await timed('layer, sorted by SI', { layer: project.layer, sort: { by: 'shiftInvariance', descending: true } });
      await timed('SI >= 0.5 and LC <= 1, sorted by lambda*', {
        filters: [{ metric: 'shiftInvariance', min: 0.5 }, { metric: 'linearCombination', max: 1 }],
        sort: { by: 'lambdaStar', descending: false },
      });
      await timed('tag texture', { tag: 'texture' });
      await timed('note search "edge"', { search: 'edge' });
      const t1 = performance.now();
      await wb.call({ method: 'units.get', params: { unitId: cards[7].unitId } });
      report('units.get of one unit', performance.now() - t1, 'ms');
    } finally {
      wb.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
