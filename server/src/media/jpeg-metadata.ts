import type { ByteReader } from './byte-reader.js';
import { needsOrientation, orientationOnlyExif } from './exif.js';
import { corruptImage } from './media-errors.js';
import { OutputPlan } from './output-plan.js';

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const APP15 = 0xef;
const COM = 0xfe;
/** Bytes of a segment's payload looked at to tell e.g. EXIF from XMP in APP1. */
const IDENTIFIER_BYTES = 12;

type SegmentAction = 'keep' | 'drop' | 'exif';

/**
 * Which segments may stay. APPn and COM carry metadata (EXIF, XMP, IPTC, comments, MPF
 * pointers...) except three needed for correct display: JFIF (APP0), the ICC profile (APP2,
 * possibly in several chunks) and Adobe (APP14, tells the decoder the colour transform).
 * Every other marker (tables, frame and scan headers) is part of the image.
 */
function segmentAction(marker: number, identifier: string): SegmentAction {
  switch (marker) {
    case APP0:
      return identifier.startsWith('JFIF\0') ? 'keep' : 'drop';
    case APP1:
      return identifier.startsWith('Exif\0') ? 'exif' : 'drop';
    case APP2:
      return identifier.startsWith('ICC_PROFILE\0') ? 'keep' : 'drop';
    case APP14:
      return identifier.startsWith('Adobe') ? 'keep' : 'drop';
    case COM:
      return 'drop';
    default:
      return marker > APP0 && marker <= APP15 ? 'drop' : 'keep';
  }
}

/** Markers that stand alone, without a length: TEM and the restart markers. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

/** APP1 holding only the Orientation, in place of the original EXIF. */
function orientationSegment(orientation: number): Buffer {
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), orientationOnlyExif(orientation)]);
  const header = Buffer.from([0xff, APP1, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

/**
 * Plans a JPEG without its metadata segments. The first EXIF APP1 becomes an
 * orientation-only APP1 when the photo needs rotating; scan data is copied untouched;
 * anything after EOI (MPF secondary images, motion-photo videos, vendor trailers) is dropped.
 */
export async function planJpeg(reader: ByteReader, orientation: number | undefined): Promise<OutputPlan> {
  const plan = new OutputPlan();
  if (!(await reader.ensure(2)) || reader.u8(0) !== 0xff || reader.u8(1) !== SOI) {
    throw corruptImage('missing JPEG start marker');
  }
  plan.keep(0, 2);
  reader.skip(2);
  let exifSeen = false;

  for (;;) {
    const start = reader.position;
    const marker = await readMarker(reader);
    if (marker === EOI) {
      plan.keep(start, reader.position);
      return plan;
    }
    if (isStandalone(marker)) {
      plan.keep(start, reader.position);
      continue;
    }
    if (marker === SOI || marker === 0x00) throw corruptImage('unexpected JPEG marker');

    if (!(await reader.ensure(2))) throw corruptImage('segment cut short');
    const length = reader.u16be();
    if (length < 2) throw corruptImage('bad segment length');
    const end = reader.position + length;
    if (end > reader.size) throw corruptImage('segment runs past the end of the file');
    const peek = Math.min(length - 2, IDENTIFIER_BYTES);
    await reader.ensure(2 + peek);
    const action = segmentAction(marker, reader.latin1(2, peek));
    reader.skip(length);

    if (action === 'keep') plan.keep(start, end);
    if (action === 'exif' && !exifSeen) {
      exifSeen = true;
      if (needsOrientation(orientation)) plan.insert(orientationSegment(orientation));
    }
    if (marker === SOS) {
      await skipEntropyCodedData(reader);
      plan.keep(end, reader.position);
    }
  }
}

/** Reads 0xFF, any fill bytes (0xFF padding) and the marker code; returns the code. */
async function readMarker(reader: ByteReader): Promise<number> {
  if (!(await reader.ensure(1))) throw corruptImage('missing JPEG end marker');
  if (reader.u8() !== 0xff) throw corruptImage('expected a JPEG marker');
  do {
    reader.skip(1);
    if (!(await reader.ensure(1))) throw corruptImage('missing JPEG end marker');
  } while (reader.u8() === 0xff);
  const marker = reader.u8();
  reader.skip(1);
  return marker;
}

/**
 * Leaves `position` on the 0xFF that starts the next marker after a scan. Inside scan data
 * 0xFF is followed by 0x00 (a stuffed byte) or a restart marker, which are data. The scan
 * runs synchronously over each window: megabytes of scan data hold thousands of 0xFF.
 */
async function skipEntropyCodedData(reader: ByteReader): Promise<void> {
  for (;;) {
    if (!(await reader.ensure(2))) throw corruptImage('missing JPEG end marker');
    const window = reader.buffered();
    let at = window.indexOf(0xff);
    while (at !== -1 && at + 1 < window.length) {
      const next = window[at + 1]!;
      if (next !== 0x00 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) {
        reader.skip(at);
        return;
      }
      at = window.indexOf(0xff, next === 0xff ? at + 1 : at + 2);
    }
    // Keep a 0xFF that ends the window: its marker code is in the next one.
    reader.skip(at === -1 ? window.length : at);
  }
}
