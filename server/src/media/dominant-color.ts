/** 4 bits per channel: 4096 bins, coarse enough that noise and gradients pool together. */
const BIN_BITS = 4;

/**
 * The most common colour of a small decoded sample: pixels are pooled into coarse RGB bins
 * (weighted by opacity, so a logo's transparent surround does not win) and the fullest bin's
 * average is returned, which is exact for flat colours. Pixels are 8-bit, interleaved,
 * 1 to 4 channels (grey, grey+alpha, RGB, RGBA).
 */
export function dominantColor(pixels: Uint8Array, channels: number): string {
  const binCount = 1 << (3 * BIN_BITS);
  const weights = new Float64Array(binCount);
  const sums = new Float64Array(binCount * 3);
  const hasAlpha = channels === 2 || channels === 4;
  const shift = 8 - BIN_BITS;

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
  }

  let best = -1;
  for (let bin = 0, most = 0; bin < binCount; bin++) {
    if (weights[bin]! > most) {
      most = weights[bin]!;
      best = bin;
    }
  }
  if (best === -1) return '#000000'; // fully transparent: no colour to speak of
  const hex = (sum: number) =>
    Math.round(sum / weights[best]!)
      .toString(16)
      .padStart(2, '0');
  return `#${hex(sums[best * 3]!)}${hex(sums[best * 3 + 1]!)}${hex(sums[best * 3 + 2]!)}`;
}
