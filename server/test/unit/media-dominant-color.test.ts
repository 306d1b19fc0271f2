import { describe, expect, it } from 'vitest';
import { dominantColor } from '../../src/media/dominant-color.js';

/** n copies of one pixel. */
const repeat = (pixel: number[], n: number) => Array.from({ length: n }, () => pixel).flat();

describe('dominantColor', () => {
  it('returns a flat colour exactly, lowercase', () => {
    expect(dominantColor(Uint8Array.from(repeat([0xab, 0xcd, 0xef], 10)), 3)).toBe('#abcdef');
  });

  it('picks the most common colour, averaging near-identical shades', () => {
    const pixels = [...repeat([10, 20, 200], 5), ...repeat([12, 22, 202], 5), ...repeat([250, 0, 0], 8)];
    expect(dominantColor(Uint8Array.from(pixels), 3)).toBe('#0b15c9');
  });

  it('weights pixels by opacity and ignores transparent ones', () => {
    const pixels = [...repeat([0, 0, 0, 0], 50), ...repeat([255, 255, 255, 40], 10), ...repeat([0, 128, 0, 255], 5)];
    expect(dominantColor(Uint8Array.from(pixels), 4)).toBe('#008000');
  });

  it('handles grey and grey+alpha samples', () => {
    expect(dominantColor(Uint8Array.from(repeat([0x80], 4)), 1)).toBe('#808080');
    expect(dominantColor(Uint8Array.from([...repeat([0x10, 0], 9), 0x90, 255]), 2)).toBe('#909090');
  });

  it('falls back to black when nothing is visible', () => {
    expect(dominantColor(Uint8Array.from(repeat([255, 0, 0, 0], 4)), 4)).toBe('#000000');
  });
});
