/** EXIF tag 0x0112: how the stored pixels must be rotated/flipped for display (1 = as stored). */
const EXIF_ORIENTATION_TAG = 0x0112;

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
  tiff.writeUInt16BE(3, 12); // type SHORT
  tiff.writeUInt32BE(1, 14); // count
  tiff.writeUInt16BE(orientation, 18); // value, left-justified in the 4-byte field
  tiff.writeUInt32BE(0, 22); // no IFD1 (so no thumbnail either)
  return tiff;
}

/** Orientations other than 1 are the ones that change how an image displays. */
export function needsOrientation(orientation: number | undefined): orientation is number {
  return orientation !== undefined && orientation >= 2 && orientation <= 8;
}
