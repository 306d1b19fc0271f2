import type { FastifyReply } from 'fastify';

/**
 * Points at the next page of a keyset-paged list: `Link: <PUBLIC_URL/path?...&before=next>; rel="next"`,
 * keeping the request's own query (its `limit`, filters) and putting the cursor last. Nothing when
 * this is the last page.
 */
export function linkNextPage(
  reply: FastifyReply,
  publicUrl: string,
  path: string,
  query: Record<string, string | number | undefined>,
  next: string | undefined,
): void {
  if (next === undefined) return;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && key !== 'before') params.set(key, String(value));
  params.set('before', next);
  reply.header('link', `<${publicUrl}${path}?${params.toString()}>; rel="next"`);
}
