// A chart as a standalone SVG document, for figure panels: the same option rendered by ECharts'
// server-side SVG renderer (no DOM needed), in the light theme (figures go on white paper) and
// without animation, so the string holds the final drawing.
import { echarts, type ChartOption } from './echarts';
import { chartThemeName } from './theme';

/** The font the workbench embeds in exported figures (resources/fonts); the UI's own is 'inherit'. */
const FIGURE_FONT = 'DejaVu Sans';

export function chartToSvg(option: ChartOption, width: number, height: number): string {
  if (!(width > 0 && height > 0)) throw new Error('the chart has no size to export (is it visible?)');
  const chart = echarts.init(null, chartThemeName('light'), { renderer: 'svg', ssr: true, width, height });
  try {
    const textStyle = { ...((option.textStyle as object | undefined) ?? {}), fontFamily: FIGURE_FONT };
    chart.setOption({ ...option, animation: false, textStyle }, { notMerge: true });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
