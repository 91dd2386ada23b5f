// The shared helpers every side uses: one integer-list parser (settings and command line; the
// form's units field wraps it too), one median, seeded normal draws.
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/shared/analyses/registry';
import { MAX_LIST_LENGTH, parseIntList } from '../../../src/shared/analyses/ranges';
import { settingsFromFlags } from '../../../src/main/cli/args';
import { gaussian, mulberry32 } from '../../../src/shared/math/random';
import { median } from '../../../src/shared/math/stats';

describe('integer lists', () => {
  it('reads numbers and ranges the same in the settings and on the command line', () => {
    expect(parseIntList(' 0-3, 7 ,9-9')).toEqual([0, 1, 2, 3, 7, 9]);
    expect(parseSettings('diverse', { units: '0-3,7' }).units).toEqual([0, 1, 2, 3, 7]);
    expect(settingsFromFlags({ units: '0-3,7' }).units).toEqual([0, 1, 2, 3, 7]);
    // Negative numbers stay a plain number list on the command line (rotations, for instance).
    expect(settingsFromFlags({ rotations: '-10,0,10' }).rotations).toEqual([-10, 0, 10]);
  });

  it('names the wrong part, a backwards range and a list over the bound', () => {
    expect(() => parseIntList('0-3, x')).toThrow(/"x" is not a whole number or range/);
    expect(() => parseIntList('5-2')).toThrow(/range 5-2 runs backwards/);
    expect(parseIntList(' , ')).toEqual([]);
    expect(() => parseIntList(`0-${MAX_LIST_LENGTH - 1},${MAX_LIST_LENGTH}-${MAX_LIST_LENGTH + 5}`)).toThrow(new RegExp(`at most ${MAX_LIST_LENGTH}`));
    expect(() => parseSettings('diverse', { units: '1.5' })).toThrow(/1.5.*is not a whole number or range/);
  });
});

describe('statistics and random draws', () => {
  it('median of the finite values, null when none', () => {
    expect(median([3, NaN, 1, 2])).toBe(2);
    expect(median(new Float32Array([4, 1, 3, 2]))).toBe(2.5);
    expect(median([NaN, Infinity])).toBeNull();
  });

  it('gaussian draws are standard normal and repeat with the seed', () => {
    const draw = (seed: number) => {
      const rand = mulberry32(seed);
      return Array.from({ length: 20_000 }, () => gaussian(rand));
    };
    const xs = draw(5);
    expect(draw(5)).toEqual(xs);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});
