// Chart colours for the light and dark themes, matching the CSS variables of styles/base.css.
// Calm, distinguishable hues; text and axes in the UI's own greys.
import type { Theme } from '../stores/ui';

interface Tones {
  text: string;
  muted: string;
  axis: string;
  split: string;
  tooltip: string;
  palette: string[];
}

const TONES: Record<Theme, Tones> = {
  light: {
    text: '#1f2933',
    muted: '#5f6b7a',
    axis: '#b8c0ca',
    split: '#e7eaee',
    tooltip: '#ffffff',
    palette: ['#2f6db0', '#d07a1f', '#3f8f5f', '#b0415a', '#7657a6', '#8a7350', '#c05b99', '#5f6b7a', '#9a962f', '#2f9aaa'],
  },
  dark: {
    text: '#dbe1e8',
    muted: '#9aa5b1',
    axis: '#4d5663',
    split: '#2b313a',
    tooltip: '#1d2229',
    palette: ['#6fa3dc', '#eca25a', '#74c193', '#e07b91', '#a98ddb', '#c2a97e', '#e08fc4', '#a3adb9', '#d0cb62', '#63c6d4'],
  },
};

export function chartThemeName(theme: Theme): string {
  return `artiphys-${theme}`;
}

function axis(t: Tones) {
  return {
    axisLine: { lineStyle: { color: t.axis } },
    axisTick: { lineStyle: { color: t.axis } },
    axisLabel: { color: t.muted },
    nameTextStyle: { color: t.muted },
    splitLine: { lineStyle: { color: t.split } },
  };
}

function build(t: Tones): object {
  return {
    color: t.palette,
    backgroundColor: 'transparent',
    textStyle: { color: t.text, fontFamily: 'inherit' },
    title: { textStyle: { color: t.text, fontWeight: 600, fontSize: 13 }, subtextStyle: { color: t.muted } },
    legend: { textStyle: { color: t.muted } },
    tooltip: {
      backgroundColor: t.tooltip,
      borderColor: t.axis,
      textStyle: { color: t.text },
    },
    categoryAxis: axis(t),
    valueAxis: axis(t),
    logAxis: axis(t),
    timeAxis: axis(t),
    line: { symbolSize: 5 },
  };
}

export const chartThemes: Record<string, object> = {
  [chartThemeName('light')]: build(TONES.light),
  [chartThemeName('dark')]: build(TONES.dark),
};
