import { describe, expect, it } from 'vitest';
import { parseHex, standsOut } from '../../src/domain/accent-color.js';
import { accentColor } from '../../src/media/accent-color.js';

/** n copies of one pixel. */
const repeat = (pixel: number[], n: number) => Array.from({ length: n }, () => pixel).flat();

describe('accentColor', () => {
  it('returns a flat colour exactly, lowercase', () => {
    expect(accentColor(Uint8Array.from(repeat([0xab, 0xcd, 0xef], 10)), 3)).toBe('#abcdef');
  });

  it('picks the most common colour, averaging near-identical shades', () => {
    const pixels = [...repeat([10, 20, 200], 5), ...repeat([12, 22, 202], 5), ...repeat([250, 0, 0], 8)];
    expect(accentColor(Uint8Array.from(pixels), 3)).toBe('#0b15c9');
  });

  it('weights pixels by opacity and ignores transparent ones', () => {
    const pixels = [...repeat([0, 0, 0, 0], 50), ...repeat([255, 255, 255, 40], 10), ...repeat([0, 128, 0, 255], 5)];
    expect(accentColor(Uint8Array.from(pixels), 4)).toBe('#008000');
  });

  it('handles grey and grey+alpha samples', () => {
    expect(accentColor(Uint8Array.from(repeat([0x80], 4)), 1)).toBe('#808080');
    expect(accentColor(Uint8Array.from([...repeat([0x10, 0], 9), 0x90, 255]), 2)).toBe('#909090');
  });

  it('falls back to black when nothing is visible', () => {
    expect(accentColor(Uint8Array.from(repeat([255, 0, 0, 0], 4)), 4)).toBe('#000000');
  });
});

describe('standsOut (both embed backgrounds)', () => {
  it.each([
    ['#2b2d31', false], // the dark embed background itself
    ['#f2f3f5', false], // the light one
    ['#000000', false], // ΔE 18.6 from the dark background
    ['#ffffff', false],
    ['#949ba4', false], // a grey that differs from both, but is no colour
    ['#30324a', false], // a dark navy: a colour, but too close to the dark background
    ['#5865f2', true],
    ['#23a55a', true],
    ['#f0b232', true],
    ['#fee75c', true],
  ])('%s: %s', (hex, expected) => {
    expect(standsOut(parseHex(hex))).toBe(expected);
  });

  it('skips a background that covers most of the image for the most common colour that stands out', () => {
    const pixels = [
      ...repeat([0x2b, 0x2d, 0x31], 80),
      ...repeat([0xdb, 0xde, 0xe1], 12),
      ...repeat([0x23, 0xa5, 0x5a], 6),
      ...repeat([0xeb, 0x45, 0x9e], 2),
    ];
    expect(accentColor(Uint8Array.from(pixels), 3)).toBe('#23a55a');
  });

  it('ignores a colour under 1% of the image', () => {
    const pixels = [...repeat([0x80, 0x80, 0x80], 999), ...repeat([0xff, 0, 0], 1)];
    expect(accentColor(Uint8Array.from(pixels), 3)).toBe('#808080');
  });
});
