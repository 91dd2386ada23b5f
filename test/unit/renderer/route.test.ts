// The workbench's address: every view and selection survives formatting and parsing, and a
// hand-edited or foreign hash yields no route rather than a wrong one.
import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute, type Route } from '../../../src/renderer/src/util/route';

describe('routes', () => {
  const routes: Route[] = [
    { view: 'run', runId: 12, selection: { modelId: 'builtin:energy', layer: 'response', channel: 0 }, project: '/data/my lab/a.artiphys' },
    { view: 'model', runId: null, selection: { modelId: 'vgg19-1a2b3c4d', layer: 'features.0/conv#1?x=1' }, project: null },
    { view: 'gallery', runId: null, selection: null, project: 'C:\\lab\\b.artiphys' },
    { view: null, runId: null, selection: { modelId: 'builtin:corner' }, project: null },
  ];
  for (const r of routes) {
    it(`round-trips ${formatRoute(r)}`, () => {
      expect(parseRoute(formatRoute(r))).toEqual(r);
    });
  }

  it('reads links written by hand', () => {
    expect(parseRoute('#/run/7')).toEqual({ view: 'run', runId: 7, selection: null, project: null });
    expect(parseRoute('#/model?model=builtin:energy&layer=response&unit=3').selection).toEqual({ modelId: 'builtin:energy', layer: 'response', channel: 3 });
  });

  it('leaves out what it does not understand', () => {
    expect(parseRoute('')).toEqual({ view: null, runId: null, selection: null, project: null });
    expect(parseRoute('#/run/abc').view).toBeNull();
    expect(parseRoute('#/elsewhere').view).toBeNull();
    // A unit without its layer means nothing.
    expect(parseRoute('#/model?model=m&unit=3').selection).toEqual({ modelId: 'm' });
    expect(parseRoute('#/model?model=m&layer=l&unit=-1').selection).toEqual({ modelId: 'm', layer: 'l' });
  });
});
