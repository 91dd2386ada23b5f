// `artiphys run` requests: the indices alias, the --steps short name, per-lambda results as details.
import { describe, expect, it } from 'vitest';
import { diverseSettings } from '../../../src/shared/analyses/diverse';
import { settingsFromFlags } from '../../../src/main/cli/args';
import { isDetailResult, runRequest } from '../../../src/main/cli/run-request';

describe('run requests', () => {
  it('turns the issue\'s diverse command line into valid diverse settings', () => {
    const flags = { model: 'builtin:complex-cell', layer: 'response', units: '0-2', lambdas: '0,0.1,1', steps: '40', json: true, project: 'p.artiphys' };
    const req = runRequest('diverse', settingsFromFlags(flags));
    expect(req.kind).toBe('diverse');
    const s = diverseSettings.parse(req.settings);
    expect(s).toMatchObject({ modelId: 'builtin:complex-cell', units: [0, 1, 2], lambdas: [0, 0.1, 1], maxSteps: 40 });
  });

  it('runs indices as the diverse sweep with the indices on, even when the flags say otherwise', () => {
    const req = runRequest('indices', { modelId: 'm', layer: 'l', indices: false, steps: 5 });
    expect(req).toEqual({ kind: 'diverse', settings: { modelId: 'm', layer: 'l', indices: true, maxSteps: 5 } });
  });

  it('passes other kinds through and refuses a setting given under both names', () => {
    expect(runRequest('shapes', { step: 3 })).toEqual({ kind: 'shapes', settings: { step: 3 } });
    expect(() => runRequest('diverse', { steps: 3, maxSteps: 4 })).toThrow(/--steps and its long name/);
  });

  it('refuses a flag that is no setting of the kind, naming it and the likely one', () => {
    expect(() => runRequest('max-image', { modelId: 'builtin:energy', stepz: 5 })).toThrow(/unknown option --stepz for "run max-image"; did you mean --steps\?/);
    expect(() => runRequest('shapes', { steps: 3 })).toThrow(/unknown option --steps for "run shapes"; did you mean --step\?/);
    expect(() => runRequest('diverse', { learningRat: 0.1 })).toThrow(/did you mean --learning-rate\?/);
    expect(() => runRequest('max-image', { zzz: 1 })).toThrow(/unknown option --zzz for "run max-image"; its options: --model --layer/);
    expect(() => runRequest('nope', {})).toThrow(/unknown analysis "nope"/);
    // short names and aliases still count as known
    expect(runRequest('indices', { steps: 3 }).settings).toMatchObject({ maxSteps: 3, indices: true });
  });

  it('checks a range against the list bound before expanding it', () => {
    const t0 = performance.now();
    expect(() => settingsFromFlags({ units: '0-100000000' })).toThrow(/range 0-100000000 holds 100000001 values; a list holds at most 65536/);
    expect(() => settingsFromFlags({ units: '0-40000,40001-80000' })).toThrow(/at most 65536/);
    expect(() => diverseSettings.parse({ units: '0-100000000' })).toThrow(/range 0-100000000 holds 100000001 values/);
    expect(() => diverseSettings.parse({ units: Array.from({ length: 65_537 }, (_, i) => i) })).toThrow();
    expect(performance.now() - t0).toBeLessThan(200);
    expect(settingsFromFlags({ units: '0-3,8' }).units).toEqual([0, 1, 2, 3, 8]);
    expect(diverseSettings.parse({ units: '0-2,5' }).units).toEqual([0, 1, 2, 5]);
  });

  it('counts per-lambda results as details, unit summaries not', () => {
    expect(isDetailResult('unit/relu3_1/3/lambda/0')).toBe(true);
    expect(isDetailResult('unit/relu3_1/3')).toBe(false);
    expect(isDetailResult('summary')).toBe(false);
  });
});
