import { randomBytes } from 'node:crypto';

/**
 * The bytes a browser sends around one file in a multipart/form-data body. Built by hand
 * rather than with FormData so that the body can be a plain Buffer (exact Content-Length,
 * no per-request encoding cost in the client) or a stream of any length.
 */
export interface MultipartEnvelope {
  head: Buffer;
  tail: Buffer;
  contentType: string;
}

export function multipartEnvelope(field: string, filename: string, fileType: string): MultipartEnvelope {
  const boundary = `----di-bench-${randomBytes(12).toString('hex')}`;
  return {
    head: Buffer.from(
      `--${boundary}\r\n` +
        `Content-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
        `Content-Type: ${fileType}\r\n\r\n`,
    ),
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
