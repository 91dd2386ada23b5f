// Compact float arrays in results, and the shape analysis settings with the METHODS defaults.
import { describe, expect, it } from 'vitest';
import { decodeFloat32, encodeFloat32 } from '../../../src/shared/float-codec';
import { parseSettings } from '../../../src/shared/analyses/registry';

describe('float32 base64 codec', () => {
  it('is standard base64 of the little-endian float32 bytes and round-trips exactly', () => {
    for (const n of [0, 1, 2, 3, 4, 1001]) {
      const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 10 ** (i % 7) * (i % 5 === 4 ? -1 : 1));
      if (n > 2) values[2] = NaN;
      const text = encodeFloat32(values);
      // Node's Buffer is the independent reference (this machine is little-endian like the format).
      expect(text).toBe(Buffer.from(values.buffer).toString('base64'));
      const back = decodeFloat32(text);
      expect(back.length).toBe(n);
      back.forEach((v, i) => expect(Object.is(v, values[i])).toBe(true));
    }
    expect(() => decodeFloat32('abc')).toThrow(/multiple of 4/);
    expect(() => decodeFloat32('AAAA!AAAAAAAAAAA')).toThrow(/invalid base64 character/);
  });
});

describe('shape analysis settings', () => {
  it('defaults are the METHODS §9-10 values', () => {
    expect(parseSettings('shapes', {})).toMatchObject({
      layers: ['response'],
      size: 32,
      intensity: 255,
      background: 0,
      antialias: false,
      stimulusSet: 'standard',
      shuffledControl: true,
      randomWeightsControl: true,
      translation: true,
      direction: 'horizontal',
      step: 2,
      largeSize: 64,
      dimIntensity: 100,
    });
  });

  it('takes a comma list of layers from the command line and refuses bad values by name', () => {
    expect(parseSettings('shapes', { layers: 'relu1_1,relu2_1' }).layers).toEqual(['relu1_1', 'relu2_1']);
    expect(() => parseSettings('shapes', { size: 0 })).toThrow(/size/);
    expect(() => parseSettings('shapes', { direction: 'diagonal' })).toThrow(/direction/);
  });
});
