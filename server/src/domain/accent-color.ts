/**
 * When a colour "stands out" as an embed's accent bar, in both of Discord's themes. The bar is
 * drawn on the embed's background (dark #2b2d31, light #f2f3f5), so a colour near either one
 * vanishes there, and a grey reads as part of Discord's own chrome. Measured in CIELAB:
 *
 * - CIE76 ΔE (Euclidean distance in L*a*b*) of at least 20 from each background: ΔE 2.3 is
 *   a just-noticeable difference, 20 a different colour at a glance (#000000 is only 18.6
 *   from the dark background, #ffffff 4.3 from the light one);
 * - chroma C*ab of at least 15: Discord's greys (text #dbdee1, muted #949ba4) have under 6,
 *   its blurple 82, its green 59.
 */
export const EMBED_BACKGROUNDS = { dark: '#2b2d31', light: '#f2f3f5' } as const;
const MIN_DELTA_E = 20;
const MIN_CHROMA = 15;

/** The embed colour when the image offers none and nobody configured one: Discord's blurple (as the favicon). */
export const FALLBACK_ACCENT = '#5865f2';

export type Rgb = readonly [number, number, number];
type Lab = readonly [number, number, number];

export const parseHex = (hex: string): Rgb => {
  const n = Number.parseInt(hex.slice(1), 16);
  return [n >> 16, (n >> 8) & 0xff, n & 0xff];
};

/** sRGB (8-bit) to CIELAB, D65 white. */
function toLab([r, g, b]: Rgb): Lab {
  const linear = (c: number) => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const [lr, lg, lb] = [linear(r), linear(g), linear(b)];
  const x = (0.4124 * lr + 0.3576 * lg + 0.1805 * lb) / 0.95047;
  const y = 0.2126 * lr + 0.7152 * lg + 0.0722 * lb;
  const z = (0.0193 * lr + 0.1192 * lg + 0.9505 * lb) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (t * 24389) / 27 / 116 + 16 / 116);
  const [fx, fy, fz] = [f(x), f(y), f(z)];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const BACKGROUNDS_LAB = Object.values(EMBED_BACKGROUNDS).map((hex) => toLab(parseHex(hex)));

/** True when the colour is visible as an accent bar on both themes' embed backgrounds. */
export function standsOut(rgb: Rgb): boolean {
  const [l, a, b] = toLab(rgb);
  if (Math.hypot(a, b) < MIN_CHROMA) return false;
  return BACKGROUNDS_LAB.every(([bl, ba, bb]) => Math.hypot(l - bl, a - ba, b - bb) >= MIN_DELTA_E);
}
