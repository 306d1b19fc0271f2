import type { ByteReader } from './byte-reader.js';
import { corruptImage } from './media-errors.js';
import { OutputPlan } from './output-plan.js';

const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;
const VP8X_PAYLOAD_BYTES = 10;
const METADATA_CHUNKS = new Set(['EXIF', 'XMP ']);
/** VP8X feature flags announcing the chunks removed here. */
const EXIF_FLAG = 0x08;
const XMP_FLAG = 0x04;

/**
 * Plans a WebP without EXIF and XMP chunks: their VP8X flags are cleared and the RIFF size is
 * rewritten. ICCP, ANIM/ANMF, ALPH and the VP8/VP8L bitstreams are copied as they are. EXIF
 * orientation is not carried over: browsers do not apply it to WebP.
 */
export async function planWebp(reader: ByteReader): Promise<OutputPlan> {
  if (!(await reader.ensure(RIFF_HEADER_BYTES)) || reader.latin1(0, 4) !== 'RIFF' || reader.latin1(8, 4) !== 'WEBP') {
    throw corruptImage('missing RIFF WEBP header');
  }
  const riffEnd = 8 + reader.u32le(4);
  if (riffEnd > reader.size) throw corruptImage('RIFF size runs past the end of the file');
  const header = reader.bytes(0, RIFF_HEADER_BYTES);
  reader.skip(RIFF_HEADER_BYTES);

  const body = new OutputPlan();
  while (reader.position < riffEnd) {
    if (!(await reader.ensure(CHUNK_HEADER_BYTES))) throw corruptImage('chunk header cut short');
    const fourCc = reader.latin1(0, 4);
    const length = reader.u32le(4);
    const start = reader.position;
    const end = start + CHUNK_HEADER_BYTES + length + (length % 2); // payloads are padded to even
    if (end > riffEnd) throw corruptImage(`${fourCc.trim()} chunk runs past the RIFF size`);

    const rewritten = fourCc === 'VP8X' ? await vp8xWithoutMetadataFlags(reader, length) : undefined;
    if (rewritten) body.insert(rewritten);
    else if (!METADATA_CHUNKS.has(fourCc)) body.keep(start, end);
    reader.position = end;
  }

  if (body.isCopyOf(RIFF_HEADER_BYTES, reader.size)) {
    const whole = new OutputPlan();
    whole.keep(0, reader.size);
    return whole;
  }
  const plan = new OutputPlan();
  header.writeUInt32LE(RIFF_HEADER_BYTES - 8 + body.size, 4);
  plan.insert(header);
  plan.append(body);
  return plan;
}

/** The VP8X chunk with the EXIF and XMP flags cleared, or undefined when none is set. */
async function vp8xWithoutMetadataFlags(reader: ByteReader, length: number): Promise<Buffer | undefined> {
  if (length !== VP8X_PAYLOAD_BYTES) throw corruptImage('bad VP8X chunk length');
  await reader.ensure(CHUNK_HEADER_BYTES + length);
  const flags = reader.u8(CHUNK_HEADER_BYTES);
  if ((flags & (EXIF_FLAG | XMP_FLAG)) === 0) return undefined;
  const chunk = reader.bytes(0, CHUNK_HEADER_BYTES + length);
  chunk[CHUNK_HEADER_BYTES] = flags & ~(EXIF_FLAG | XMP_FLAG);
  return chunk;
}
