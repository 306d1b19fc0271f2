import type { AppError } from '../domain/errors.js';
import { exifOrientation, needsOrientation, orientationOnlyExif } from './exif.js';
import { corruptImage } from './media-errors.js';

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

const EMPTY = Buffer.alloc(0);

/** 0xFF fill bytes allowed before one marker; encoders write a few at most. */
const MAX_FILL_BYTES = 64 * 1024;

/** Bytes after the EXIF APP1 identifier (`Exif\0\0`) where its TIFF structure starts. */
const EXIF_HEADER_BYTES = 6;

type State =
  | { kind: 'start' }
  /** Before or inside a marker: `fill` 0xFF bytes already taken (counted, not held). */
  | { kind: 'marker'; fill: number }
  /** Inside a segment's payload: `left` bytes to copy or drop. */
  | { kind: 'copy' | 'drop'; left: number; then: 'marker' | 'scan' }
  /** Inside the first EXIF segment, gathered whole (64 KiB at most) to read its orientation. */
  | { kind: 'exif'; gathered: Buffer; filled: number }
  /** Entropy-coded data after a scan header, up to the next marker. */
  | { kind: 'scan' }
  /** After EOI: dropped. */
  | { kind: 'done' }
  /** The structure broke: the rest is passed on as it came. */
  | { kind: 'raw' };

/**
 * Removes a JPEG's metadata segments while its bytes stream by, without touching pixel
 * data, so an upload is written once and already stripped. The first EXIF APP1 becomes an
 * orientation-only APP1 when the photo needs rotating; scan data passes untouched; anything
 * after EOI (MPF secondary images, motion-photo videos, vendor trailers) is dropped.
 *
 * Push chunks as they come, then call end(). Kept bytes go to `emit` in order. Between
 * chunks it holds at most a segment header (15 bytes) and the EXIF segment (64 KiB at most,
 * gathered in place), so the work stays linear however small the chunks. When the
 * structure is broken, `failure` says how and the rest is passed on unchanged, so that the
 * decoder can still give its own verdict on the file.
 */
export class JpegStripper {
  failure: AppError | undefined;
  /** Whether anything was dropped or inserted: false means the output equals the input. */
  changed = false;
  private state: State = { kind: 'start' };
  private pending = EMPTY;
  private exifSeen = false;
  /** Waiting for the rest of a segment's identifier, its length already read. */
  private inSegmentHeader = false;

  constructor(private readonly emit: (bytes: Buffer) => void) {}

  push(chunk: Buffer): void {
    const bytes = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = EMPTY;
    let at = 0;
    while (at < bytes.length) {
      const next = this.step(bytes, at);
      if (next === undefined) {
        // Needs more bytes than this chunk holds: keep the rest for the next one.
        this.pending = Buffer.from(bytes.subarray(at));
        return;
      }
      at = next;
    }
  }

  end(): void {
    const { state } = this;
    if (state.kind === 'done' || state.kind === 'raw') return;
    if (state.kind === 'start') this.fail('missing JPEG start marker');
    else if (state.kind === 'copy' || state.kind === 'drop' || state.kind === 'exif' || this.inSegmentHeader)
      this.fail('segment runs past the end of the file');
    else this.fail('missing JPEG end marker');
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = EMPTY;
  }

  /** Handles what it can from `bytes[at]` on; returns where it stopped, or undefined for more bytes. */
  private step(bytes: Buffer, at: number): number | undefined {
    const { state } = this;
    switch (state.kind) {
      case 'raw':
        this.emit(bytes.subarray(at));
        return bytes.length;
      case 'done':
        if (bytes.length > at) this.changed = true;
        return bytes.length;
      case 'start':
        if (bytes.length - at < 2) return undefined;
        if (bytes[at] !== 0xff || bytes[at + 1] !== SOI) return this.fail('missing JPEG start marker', at);
        this.emit(bytes.subarray(at, at + 2));
        this.state = { kind: 'marker', fill: 0 };
        return at + 2;
      case 'copy':
      case 'drop': {
        const end = Math.min(bytes.length, at + state.left);
        if (state.kind === 'copy') this.emit(bytes.subarray(at, end));
        state.left -= end - at;
        if (state.left === 0) this.state = state.then === 'scan' ? { kind: 'scan' } : { kind: 'marker', fill: 0 };
        return end;
      }
      case 'exif': {
        const copied = bytes.copy(state.gathered, state.filled, at);
        state.filled += copied;
        if (state.filled < state.gathered.length) return at + copied;
        const orientation = exifOrientation(state.gathered.subarray(EXIF_HEADER_BYTES));
        if (needsOrientation(orientation)) this.emit(orientationSegment(orientation));
        this.state = { kind: 'marker', fill: 0 };
        return at + copied;
      }
      case 'scan':
        return this.scan(bytes, at);
      case 'marker':
        return this.marker(bytes, at, state.fill);
    }
  }

  /**
   * Passes scan data on up to the 0xFF that starts the next marker. Inside scan data 0xFF is
   * followed by 0x00 (a stuffed byte), a restart marker or more 0xFF fill, which are data.
   */
  private scan(bytes: Buffer, at: number): number | undefined {
    let ff = bytes.indexOf(0xff, at);
    while (ff !== -1 && ff + 1 < bytes.length) {
      const code = bytes[ff + 1]!;
      if (code !== 0x00 && code !== 0xff && !(code >= 0xd0 && code <= 0xd7)) {
        this.emit(bytes.subarray(at, ff));
        this.state = { kind: 'marker', fill: 0 };
        return ff;
      }
      ff = bytes.indexOf(0xff, code === 0xff ? ff + 1 : ff + 2);
    }
    if (ff === -1) {
      this.emit(bytes.subarray(at));
      return bytes.length;
    }
    // A 0xFF that ends the chunk: its marker code comes in the next one.
    this.emit(bytes.subarray(at, ff));
    return ff === at ? undefined : ff;
  }

  /**
   * A marker (after any 0xFF fill) and, for a segment, its length and identifier. Fill bytes
   * are counted as they pass and written again only in front of a kept marker.
   */
  private marker(bytes: Buffer, at: number, taken: number): number | undefined {
    if (taken === 0 && bytes[at] !== 0xff) return this.fail('expected a JPEG marker', at);
    let code = at;
    while (code < bytes.length && bytes[code] === 0xff) code += 1;
    const fill = taken + code - at;
    // Fill bytes are legal, but a stream of nothing else is not a picture.
    if (fill > MAX_FILL_BYTES) return this.fail('endless fill bytes before a marker', at);
    if (code >= bytes.length || code > at) {
      this.state = { kind: 'marker', fill };
      return code;
    }
    const marker = bytes[code]!;
    const afterCode = code + 1;
    const prefix = Buffer.alloc(fill, 0xff);
    if (marker === EOI || isStandalone(marker)) {
      this.emit(prefix);
      this.emit(bytes.subarray(code, afterCode));
      this.state = marker === EOI ? { kind: 'done' } : { kind: 'marker', fill: 0 };
      return afterCode;
    }
    if (marker === SOI || marker === 0x00) return this.fail('unexpected JPEG marker', at);
    if (bytes.length - afterCode < 2) return undefined;
    const length = bytes.readUInt16BE(afterCode);
    if (length < 2) return this.fail('bad segment length', at);
    const payload = afterCode + 2;
    const peek = Math.min(length - 2, IDENTIFIER_BYTES);
    this.inSegmentHeader = bytes.length - payload < peek;
    if (this.inSegmentHeader) return undefined;
    const action = segmentAction(marker, bytes.toString('latin1', payload, payload + peek));
    const left = length - 2;
    const then = marker === SOS ? 'scan' : 'marker';
    if (action === 'keep') {
      this.emit(prefix);
      this.emit(bytes.subarray(code, payload));
      this.state = { kind: 'copy', left, then };
    } else if (action === 'exif' && !this.exifSeen) {
      this.changed = true;
      this.exifSeen = true;
      this.state = { kind: 'exif', gathered: Buffer.allocUnsafe(left), filled: 0 };
      return payload;
    } else {
      this.changed = true;
      this.state = { kind: 'drop', left, then };
    }
    if (left === 0) this.state = then === 'scan' ? { kind: 'scan' } : { kind: 'marker', fill: 0 };
    return payload;
  }

  private fail(reason: string, at?: number): number | undefined {
    this.failure ??= corruptImage(reason);
    this.state = { kind: 'raw' };
    return at;
  }
}
