// APC fit speed (METHODS §10): 4,096 units against the 65,536-model grid at once, the goal is
// under 5 s on a 2-core CPU. Also the one-off cost of building the prediction matrix.
import * as tf from '@tensorflow/tfjs';
import { ApcFitter } from '../../src/main/engine/apc-fit';
import { shippedApcPoints } from '../../src/main/engine/shape-data';
import { apcPredictionMatrix, selectStimuli, stimulusCount } from '../../src/shared/math/apc';
import { mulberry32 } from '../../src/shared/math/random';
import { STANDARD_SET_INDICES } from '../../src/shared/math/shapes';
import type { BenchModule } from './run';

const UNITS = 4096;

const bench: BenchModule = {
  title: `APC fit of ${UNITS} units x 65,536 models x 362 shapes (${tf.getBackend()} backend)`,
  async run(report) {
    const points = selectStimuli(shippedApcPoints(), STANDARD_SET_INDICES);
    let t = performance.now();
    const matrix = apcPredictionMatrix(points);
    report('build normalized prediction matrix (once per stimulus set)', (performance.now() - t) / 1000, 's');
    const fitter = new ApcFitter(matrix);
    const rand = mulberry32(1);
    const stimuli = stimulusCount(points);
    const responses = Float32Array.from({ length: stimuli * UNITS }, () => rand());
    try {
      await fitter.fit(responses.subarray(0, stimuli * 64), 64); // warm-up: kernels and thread pool
      const times: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        t = performance.now();
        await fitter.fit(responses, UNITS);
        times.push((performance.now() - t) / 1000);
      }
      report(`fit ${UNITS} units, best of 3`, Math.min(...times), 's');
      report(`fit ${UNITS} units, median of 3`, times.sort((a, b) => a - b)[1], 's');
      t = performance.now();
      await fitter.fitShuffled(responses, UNITS, 1);
      report(`shuffled control, ${UNITS} units`, (performance.now() - t) / 1000, 's');
    } finally {
      fitter.dispose();
    }
  },
};
export default bench;
