import { type Rgb, standsOut } from '../domain/accent-color.js';

/** 4 bits per channel: 4096 bins, coarse enough that noise and gradients pool together. */
const BIN_BITS = 4;
/** A colour must cover this share of the visible sample to be the accent: a few stray pixels do not count. */
const MIN_ACCENT_SHARE = 0.01;

/**
 * The image's accent colour from a small decoded sample: the most prominent colour that
 * stands out on both of Discord's embed backgrounds (domain/accent-color.ts), else the most
 * common colour, which the embed then replaces with a configured one. A dark-mode screenshot
 * is mostly Discord's own background: its accent is the most common colour of its content.
 *
 * Pixels are pooled into coarse RGB bins, weighted by opacity (a logo's transparent surround
 * does not count); a bin's colour is its pixels' average, exact for flat colours. Pixels are
 * 8-bit, interleaved, 1 to 4 channels (grey, grey+alpha, RGB, RGBA). '#rrggbb', lowercase.
 */
export function accentColor(pixels: Uint8Array, channels: number): string {
  const binCount = 1 << (3 * BIN_BITS);
  const weights = new Float64Array(binCount);
  const sums = new Float64Array(binCount * 3);
  const hasAlpha = channels === 2 || channels === 4;
  const shift = 8 - BIN_BITS;

  let total = 0;
  for (let i = 0; i + channels <= pixels.length; i += channels) {
    const r = pixels[i]!;
    const g = channels >= 3 ? pixels[i + 1]! : r;
    const b = channels >= 3 ? pixels[i + 2]! : r;
    const weight = hasAlpha ? pixels[i + channels - 1]! / 255 : 1;
    if (weight === 0) continue;
    const bin = ((r >> shift) << (2 * BIN_BITS)) | ((g >> shift) << BIN_BITS) | (b >> shift);
    weights[bin]! += weight;
    sums[bin * 3]! += r * weight;
    sums[bin * 3 + 1]! += g * weight;
    sums[bin * 3 + 2]! += b * weight;
    total += weight;
  }
  if (total === 0) return '#000000'; // fully transparent: no colour to speak of

  const colourOf = (bin: number): Rgb => {
    const weight = weights[bin]!;
    return [Math.round(sums[bin * 3]! / weight), Math.round(sums[bin * 3 + 1]! / weight), Math.round(sums[bin * 3 + 2]! / weight)];
  };
  let dominant = -1;
  let accent = -1;
  for (let bin = 0; bin < binCount; bin++) {
    const weight = weights[bin]!;
    if (weight === 0) continue;
    if (dominant === -1 || weight > weights[dominant]!) dominant = bin;
    if (weight >= total * MIN_ACCENT_SHARE && (accent === -1 || weight > weights[accent]!) && standsOut(colourOf(bin))) accent = bin;
  }
  return `#${colourOf(accent === -1 ? dominant : accent)
    .map((c) => c.toString(16).padStart(2, '0'))
    .join('')}`;
}
