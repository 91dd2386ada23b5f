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
    expect(runRequest('shapes', { steps: 3 })).toEqual({ kind: 'shapes', settings: { steps: 3 } });
    expect(() => runRequest('diverse', { steps: 3, maxSteps: 4 })).toThrow(/--steps and its long name/);
  });

  it('counts per-lambda results as details, unit summaries not', () => {
    expect(isDetailResult('unit/relu3_1/3/lambda/0')).toBe(true);
    expect(isDetailResult('unit/relu3_1/3')).toBe(false);
    expect(isDetailResult('summary')).toBe(false);
  });
});
