import type { ByteReader } from './byte-reader.js';
import { corruptImage } from './media-errors.js';
import { OutputPlan } from './output-plan.js';

const EXTENSION = 0x21;
const IMAGE_DESCRIPTOR = 0x2c;
const TRAILER = 0x3b;
const COMMENT_LABEL = 0xfe;
const APPLICATION_LABEL = 0xff;
/** Application extensions that only set the loop count; every other one (XMP...) is metadata. */
const LOOP_APPLICATIONS = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0']);
const SCREEN_DESCRIPTOR_END = 13;
const IMAGE_DESCRIPTOR_BYTES = 10;

/** Bytes of a colour table announced by a packed-fields byte (0 when there is none). */
function colourTableBytes(packed: number): number {
  return packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0;
}

/**
 * Plans a GIF without comment extensions and application extensions other than the loop
 * count. Frames, graphic control and plain-text extensions are copied; bytes after the
 * trailer are dropped. A file that ends cleanly between blocks without a trailer is
 * accepted, as browsers do.
 */
export async function planGif(reader: ByteReader): Promise<OutputPlan> {
  const plan = new OutputPlan();
  if (!(await reader.ensure(SCREEN_DESCRIPTOR_END)) || !/^GIF8[79]a$/.test(reader.latin1(0, 6))) {
    throw corruptImage('missing GIF header');
  }
  reader.skip(SCREEN_DESCRIPTOR_END + colourTableBytes(reader.u8(10)));
  if (reader.remaining < 0) throw corruptImage('colour table cut short');
  plan.keep(0, reader.position);

  while (await reader.ensure(1)) {
    const start = reader.position;
    const introducer = reader.u8();
    if (introducer === TRAILER) {
      plan.keep(start, start + 1);
      return plan;
    }
    let keep = true;
    if (introducer === IMAGE_DESCRIPTOR) await skipImage(reader);
    else if (introducer === EXTENSION) keep = await skipExtension(reader);
    else throw corruptImage('unknown GIF block');
    plan.keep(start, keep ? reader.position : start);
  }
  return plan;
}

/** Skips one frame: descriptor, local colour table, LZW code size and data sub-blocks. */
async function skipImage(reader: ByteReader): Promise<void> {
  if (!(await reader.ensure(IMAGE_DESCRIPTOR_BYTES))) throw corruptImage('image descriptor cut short');
  reader.skip(IMAGE_DESCRIPTOR_BYTES + colourTableBytes(reader.u8(9)) + 1);
  await skipSubBlocks(reader);
}

/** Skips one extension; returns whether it is to be kept. */
async function skipExtension(reader: ByteReader): Promise<boolean> {
  if (!(await reader.ensure(2))) throw corruptImage('extension cut short');
  const label = reader.u8(1);
  reader.skip(2);
  let keep = label !== COMMENT_LABEL;
  if (label === APPLICATION_LABEL) {
    // The first sub-block is the 8-byte identifier and 3-byte authentication code.
    const identified = (await reader.ensure(12)) && reader.u8() === 11;
    keep = identified && LOOP_APPLICATIONS.has(reader.latin1(1, 11));
  }
  await skipSubBlocks(reader);
  return keep;
}

/** Data sub-blocks: a length byte then that many bytes, until a zero length. */
async function skipSubBlocks(reader: ByteReader): Promise<void> {
  // At most 255 bytes each, so thousands per frame: awaited only when the window moves.
  for (;;) {
    if (!reader.holds(1) && !(await reader.ensure(1))) throw corruptImage('GIF data cut short');
    const length = reader.u8();
    reader.skip(1 + length);
    if (length === 0) return;
  }
}
