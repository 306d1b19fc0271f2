/** EXIF tag 0x0112: how the stored pixels must be rotated/flipped for display (1 = as stored). */
const EXIF_ORIENTATION_TAG = 0x0112;
/** TIFF field type of 16-bit unsigned values. */
const SHORT = 3;
/** TIFF field type of 32-bit unsigned values. */
const LONG = 4;

/**
 * A complete TIFF-structured EXIF block whose only entry is the Orientation. Used in place of
 * a camera's EXIF so that a photo still displays upright while its GPS position, serial
 * numbers and timestamps are gone.
 */
export function orientationOnlyExif(orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('MM\0*', 0, 'latin1'); // big-endian TIFF header
  tiff.writeUInt32BE(8, 4); // IFD0 starts right after the header
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(EXIF_ORIENTATION_TAG, 10);
  tiff.writeUInt16BE(SHORT, 12);
  tiff.writeUInt32BE(1, 14); // count
  tiff.writeUInt16BE(orientation, 18); // value, left-justified in the 4-byte field
  tiff.writeUInt32BE(0, 22); // no IFD1 (so no thumbnail either)
  return tiff;
}

/** Orientations other than 1 are the ones that change how an image displays. */
export function needsOrientation(orientation: number | undefined): orientation is number {
  return orientation !== undefined && orientation >= 2 && orientation <= 8;
}

/**
 * The Orientation (1-8) in IFD0 of a TIFF-structured EXIF block, or undefined when it has
 * none or the block is malformed.
 */
export function exifOrientation(tiff: Buffer): number | undefined {
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const little = order === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  for (let i = 0, entry = ifd + 2; i < u16(ifd) && entry + 12 <= tiff.length; i++, entry += 12) {
    if (u16(entry) !== EXIF_ORIENTATION_TAG) continue;
    // SHORT as the standard says; some writers use LONG, which decoders accept too.
    const type = u16(entry + 2);
    const value = type === SHORT ? u16(entry + 8) : type === LONG ? u32(entry + 8) : 0;
    return value >= 1 && value <= 8 ? value : undefined;
  }
  return undefined;
}
