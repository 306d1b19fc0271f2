/** multipart/form-data framing shared by the Node and browser builds. */

export interface PartMeta {
  name: string;
  type: string;
}

export const newBoundary = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `----discord-images-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
};

export const contentTypeFor = (boundary: string): string => `multipart/form-data; boundary=${boundary}`;

/**
 * The headers of one `files[]` part. The file name is a quoted string with `\` escapes, which
 * the server's parser reads back exactly (browsers' FormData turns `"` into `%22` instead);
 * line breaks, which no header may hold, become %0D and %0A as browsers send them.
 */
export const partHead = (boundary: string, { name, type }: PartMeta): string =>
  `--${boundary}\r\nContent-Disposition: form-data; name="files[]"; filename="${name
    .replace(/[\\"]/g, '\\$&')
    .replace(/\r/g, '%0D')
    .replace(/\n/g, '%0A')}"\r\nContent-Type: ${type.replace(/[\r\n]/g, '') || 'application/octet-stream'}\r\n\r\n`;

export const PART_END = '\r\n';
export const closing = (boundary: string): string => `--${boundary}--\r\n`;

export const DEFAULT_NAME = 'image';
export const DEFAULT_TYPE = 'application/octet-stream';
