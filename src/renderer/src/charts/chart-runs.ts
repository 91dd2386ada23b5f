// Which runs a view's charts draw, for the provenance of an exported chart. A view provides its
// run ids once; every EChart below it that is not given `runIds` itself uses them.
import { inject, provide, type InjectionKey } from 'vue';

const CHART_RUNS: InjectionKey<() => number[]> = Symbol('chart-runs');

export function provideChartRuns(runIds: () => number[]): void {
  provide(CHART_RUNS, runIds);
}

export function injectChartRuns(): () => number[] {
  return inject(CHART_RUNS, () => []);
}
