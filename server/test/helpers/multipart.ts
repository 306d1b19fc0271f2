export interface Part {
  /** @default 'files[]' */
  field?: string;
  filename: string;
  data: Buffer;
  /** The client's declared type, which the server must ignore. @default 'application/octet-stream' */
  type?: string;
}

/** A multipart/form-data body built by the platform's own FormData, as a browser or fetch would send it. */
export async function multipart(parts: Part[], fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const part of parts) {
    form.append(
      part.field ?? 'files[]',
      new Blob([new Uint8Array(part.data)], { type: part.type ?? 'application/octet-stream' }),
      part.filename,
    );
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return {
    payload: Buffer.from(await request.arrayBuffer()),
    headers: { 'content-type': request.headers.get('content-type')! },
  };
}
