/** Thumbnails fit this box (aspect kept, never enlarged). */
export const THUMBNAIL_BOX = 400;

/** The size of an image's thumbnail, as the thumbnailer makes it (for oEmbed's thumbnail_width/height). */
export function thumbnailSize(width: number, height: number, box = THUMBNAIL_BOX): { width: number; height: number } {
  const scale = Math.min(1, box / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
