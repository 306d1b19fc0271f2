/** Whether an Accept header allows a JSON answer (no header means anything goes). */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return acceptedTypes(accept).some((type) => ['*/*', 'application/*', 'application/json'].includes(type));
}

/** Whether a client asks for JSON rather than a page: it names application/json and not text/html, as browsers do. */
export function prefersJson(accept: string | undefined): boolean {
  const types = acceptedTypes(accept ?? '');
  return types.includes('application/json') && !types.includes('text/html');
}

/** The media types an Accept header lists, leaving out those refused with q=0. */
function acceptedTypes(accept: string): string[] {
  return accept
    .split(',')
    .map((range) => range.split(';').map((part) => part.trim().toLowerCase()))
    .filter(([, ...params]) => !params.some((param) => /^q=0(\.0*)?$/.test(param)))
    .map(([type = '']) => type);
}
