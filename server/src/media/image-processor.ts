import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../domain/errors.js';
import { detectImageType } from './detect-type.js';
import { accentColor } from './accent-color.js';
import { corruptImage, withCorruptErrors } from './media-errors.js';
import { stripMetadata, type StoredFile } from './metadata-stripper.js';
import { Semaphore } from './semaphore.js';

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'image/avif';
export type ImageExt = 'png' | 'jpg' | 'gif' | 'webp' | 'avif';

/** A finished temp file; sha256 is the hex digest of its bytes. */
export interface ReceivedFile {
  path: string;
  size: number;
  sha256: string;
  /**
   * Set when the file is a JPEG already stripped of its metadata as it was written
   * (receive-image.ts): `changed` when anything was removed, `failure` when its structure
   * is broken (the bytes after the break were written as they came).
   */
  jpeg?: { changed: boolean; failure: AppError | undefined };
}

export interface ProcessedImage {
  mime: ImageMime;
  ext: ImageExt;
  /** As displayed: EXIF orientations 5-8 swap width and height. */
  width: number;
  height: number;
  /** The accent colour (accent-color.ts), '#rrggbb', lowercase; stored as `dominant_color`. */
  dominantColor: string;
  /** The file to store: the input itself when nothing had to be stripped, else the scratch file. */
  path: string;
  size: number;
  sha256: string;
}

export interface ImageProcessorOptions {
  /** Width x height of one frame above which an image is refused as a decompression bomb. */
  maxPixels: number;
  /** Images decoded at once; ignored when `semaphore` is given. @default os.availableParallelism() */
  concurrency?: number;
  /** Slots shared with other sharp work (thumbnails), so that all of it together stays bounded. */
  semaphore?: Semaphore;
}

interface FormatInfo {
  ext: ImageExt;
  /** sharp's name for the format, to check its decoder agrees with the magic number. */
  sharpFormat: NonNullable<Metadata['format']>;
  /** Whether the stored file keeps EXIF orientation, so displayed size follows it. */
  keepsOrientation: boolean;
}

const FORMATS: Record<ImageMime, FormatInfo> = {
  'image/png': { ext: 'png', sharpFormat: 'png', keepsOrientation: true },
  'image/jpeg': { ext: 'jpg', sharpFormat: 'jpeg', keepsOrientation: true },
  // Stripping drops WebP's EXIF, orientation included; GIF has none.
  'image/gif': { ext: 'gif', sharpFormat: 'gif', keepsOrientation: false },
  'image/webp': { ext: 'webp', sharpFormat: 'webp', keepsOrientation: false },
  // libheif applies the AVIF rotation boxes itself, so sharp's width/height are as displayed.
  'image/avif': { ext: 'avif', sharpFormat: 'heif', keepsOrientation: false },
};

/**
 * An animation may decode to at most this many times maxPixels in total (frame pixels x
 * frames). Each frame is already within maxPixels, but a GIF of thousands of tiny-delta
 * frames still costs full-canvas decoding per frame: this bounds the CPU spent on one upload
 * while leaving room for ordinary animations (500x500 x 400 frames is 100 megapixels).
 */
const ANIMATION_PIXELS_FACTOR = 10;
/** Pixels decoded into memory for the colour sample, across all frames. */
const SAMPLE_PIXELS = 256 * 1024;
const SAMPLE_EDGE = 64;

interface Header {
  width: number;
  height: number;
  pages: number;
  orientation: number | undefined;
  /** EXIF or XMP present (what stripping must remove). */
  identifying: boolean;
}

/**
 * The only user of sharp. Checks an upload is a supported image from its bytes, refuses
 * decompression bombs from the header, decodes it fully once (to prove it is what it claims
 * and to sample its colour) and strips metadata without re-encoding pixels.
 */
export class ImageProcessor {
  private readonly maxPixels: number;
  private readonly decoding: Semaphore;

  constructor(options: ImageProcessorOptions) {
    this.maxPixels = options.maxPixels;
    this.decoding = options.semaphore ?? new Semaphore(options.concurrency ?? availableParallelism());
    // sharp's operation cache would keep temp files open and their pixels in memory after
    // they have been moved to storage; every upload is decoded exactly once anyway.
    sharp.cache(false);
  }

  /** Detects type from bytes, fully decodes, strips metadata without re-encoding. Throws AppError. */
  async process(input: ReceivedFile, scratchPath: string): Promise<ProcessedImage> {
    const mime = await detectImageType(input.path);
    const format = FORMATS[mime];
    const header = await this.decoding.run(() => readHeader(input.path, format));
    const decodeLimit = this.checkPixels(header);
    if (mime === 'image/avif' && header.identifying) {
      // Privacy by default: we cannot yet remove AVIF metadata without re-encoding, so we refuse
      // rather than publish someone's GPS position.
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        'is an AVIF with embedded EXIF/XMP metadata, which this server cannot remove yet: export it without metadata, or as PNG, JPEG or WebP',
      );
    }

    // Decoding (CPU, in libuv threads) and stripping (file I/O) overlap.
    const [stored, colour] = await Promise.allSettled([
      stripMetadata(input, mime, format.keepsOrientation ? header.orientation : undefined, scratchPath),
      this.decoding.run(() => decodeColour(input.path, header.pages, decodeLimit)),
    ]);
    if (colour.status === 'rejected') {
      if (stored.status === 'fulfilled') await removeScratch(stored.value, input);
      throw colour.reason; // the decoder's verdict says most about a bad file
    }
    if (stored.status === 'rejected') throw stored.reason;

    const turned = format.keepsOrientation && (header.orientation ?? 1) >= 5;
    return {
      mime,
      ext: format.ext,
      width: turned ? header.height : header.width,
      height: turned ? header.width : header.height,
      dominantColor: colour.value,
      ...stored.value,
    };
  }

  /** Refuses bombs before any pixel is decoded; returns the pixel limit for the decoder. */
  private checkPixels({ width, height, pages }: Header): number {
    const framePixels = width * height;
    if (framePixels > this.maxPixels) {
      throw new AppError('IMAGE_TOO_LARGE', `is ${width}x${height} pixels, over the limit of ${this.maxPixels} pixels`);
    }
    const animationLimit = this.maxPixels * ANIMATION_PIXELS_FACTOR;
    if (pages > 1 && framePixels * pages > animationLimit) {
      throw new AppError(
        'IMAGE_TOO_LARGE',
        `is an animation of ${pages} frames of ${width}x${height} pixels, over the limit of ${animationLimit} pixels in all frames`,
      );
    }
    // sharp checks its own reading of the header against this as a second guard; for an
    // animation it counts all frames stacked, hence the animation limit.
    return pages > 1 ? animationLimit : this.maxPixels;
  }
}

/** Header only: dimensions, frame count, orientation. No pixel is decoded here. */
async function readHeader(path: string, format: FormatInfo): Promise<Header> {
  // No pixel limit here: the header is needed to report the size of a refused image.
  const metadata = await withCorruptErrors(sharp(path, { limitInputPixels: false }).metadata());
  const { width, height } = metadata;
  if (metadata.format !== format.sharpFormat || width === undefined || height === undefined) {
    throw corruptImage('contents do not match the file signature');
  }
  return {
    width,
    height: metadata.pageHeight ?? height,
    pages: metadata.pages ?? 1,
    orientation: metadata.orientation,
    identifying: metadata.exif !== undefined || metadata.xmp !== undefined,
  };
}

/**
 * The one full decode. Shrinking to a small sample is the cheapest way to make the decoder
 * read all compressed data (JPEG shrink-on-load still entropy-decodes every block), and the
 * sample gives the accent colour. sharp reads from the path: the file is never buffered.
 */
async function decodeColour(path: string, pages: number, limitInputPixels: number): Promise<string> {
  // Every frame is decoded, but the sample shrinks with the frame count to bound memory.
  const edge = Math.max(1, Math.min(SAMPLE_EDGE, Math.floor(Math.sqrt(SAMPLE_PIXELS / pages))));
  const { data, info } = await withCorruptErrors(
    sharp(path, { failOn: 'error', limitInputPixels, animated: pages > 1 })
      .resize(edge, edge, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
  // The colour of the first frame: the one an embed shows before playing.
  const frameBytes = info.width * (info.pageHeight ?? info.height) * info.channels;
  return accentColor(data.subarray(0, frameBytes), info.channels);
}

/** A scratch copy of an upload that turned out to be corrupt is not left behind. */
async function removeScratch(stored: StoredFile, input: ReceivedFile): Promise<void> {
  if (stored.path !== input.path) await rm(stored.path, { force: true });
}
