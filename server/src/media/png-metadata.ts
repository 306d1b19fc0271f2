import { crc32 } from 'node:zlib';
import type { ByteReader } from './byte-reader.js';
import { needsOrientation, orientationOnlyExif } from './exif.js';
import { corruptImage } from './media-errors.js';
import { OutputPlan } from './output-plan.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Chunk types as the 32-bit numbers they are in the file: compared without making strings. */
const chunkType = (name: string): number => Buffer.from(name, 'latin1').readUInt32BE(0);
const IHDR = chunkType('IHDR');
const IEND = chunkType('IEND');
const EXIF = chunkType('eXIf');
/** Text (author, software, prompts, comments), modification time, and EXIF. */
const METADATA_CHUNKS = new Set(['tEXt', 'zTXt', 'iTXt', 'tIME', 'eXIf'].map(chunkType));
const MAX_CHUNK_LENGTH = 0x7fffffff;
/** Length, type and CRC around each chunk's data. */
const CHUNK_OVERHEAD = 12;

/** An eXIf chunk holding only the Orientation, so a rotated image still displays upright. */
function orientationChunk(orientation: number): Buffer {
  const typeAndData = Buffer.concat([Buffer.from('eXIf', 'latin1'), orientationOnlyExif(orientation)]);
  const chunk = Buffer.alloc(typeAndData.length + 8);
  chunk.writeUInt32BE(typeAndData.length - 4, 0);
  typeAndData.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(typeAndData), chunk.length - 4);
  return chunk;
}

/**
 * Plans a PNG (or APNG) without text, time and EXIF chunks; every other chunk is copied
 * whole, so CRCs stay valid. Bytes after IEND are dropped.
 */
export async function planPng(reader: ByteReader, orientation: number | undefined): Promise<OutputPlan> {
  const plan = new OutputPlan();
  if (!(await reader.ensure(8)) || !reader.bytes(0, 8).equals(SIGNATURE)) {
    throw corruptImage('missing PNG signature');
  }
  plan.keep(0, 8);
  reader.skip(8);
  let exifSeen = false;

  // A 5 MiB screenshot has hundreds of IDAT chunks: this loop makes no string or promise per
  // chunk unless its window must move.
  for (let first = true; ; first = false) {
    if (!reader.holds(8) && !(await reader.ensure(8))) throw corruptImage('missing IEND chunk');
    const length = reader.u32be(0);
    const type = reader.u32be(4);
    if (length > MAX_CHUNK_LENGTH) throw corruptImage('bad chunk length');
    if (!isChunkType(reader)) throw corruptImage('bad chunk type');
    if (first && type !== IHDR) throw corruptImage('IHDR is not the first chunk');
    const start = reader.position;
    const end = start + CHUNK_OVERHEAD + length;
    if (end > reader.size) throw corruptImage(`${reader.latin1(4, 4)} chunk runs past the end of the file`);
    reader.skip(CHUNK_OVERHEAD + length);

    if (!METADATA_CHUNKS.has(type)) plan.keep(start, end);
    else if (type === EXIF && !exifSeen) {
      exifSeen = true;
      if (needsOrientation(orientation)) plan.insert(orientationChunk(orientation));
    }
    if (type === IEND) return plan;
  }
}

/** Chunk types are four ASCII letters (bytes 4 to 7 of the chunk). */
function isChunkType(reader: ByteReader): boolean {
  for (let i = 4; i < 8; i++) {
    const byte = reader.u8(i) | 0x20; // lower case
    if (byte < 0x61 || byte > 0x7a) return false;
  }
  return true;
}
