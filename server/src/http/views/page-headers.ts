import { COPY_SCRIPT_HASH } from './share-page.js';

/** The server-rendered pages: the share page, and the deletion link's pages (confirm, result, error). */
export type PageKind = 'share' | 'deletion';

/**
 * The one place that decides the headers of every HTML page the server renders. Each page
 * loads only its inline style, the favicon and (the share page) the image and its own copy
 * script, so the policy allows exactly that; no page may be framed (clickjacking a Delete
 * button), sniffed into something else, or leak its URL (a deletion secret) in a Referer.
 * Discord's crawler reads the share page's meta tags and ignores the policy, so embeds are unaffected.
 */
export function pageHeaders(kind: PageKind, publicUrl: string): Record<string, string> {
  const deletion = kind === 'deletion';
  const policy = [
    "default-src 'none'",
    // 'self' for the favicon; the public origin for the image when the page is reached another way (a proxy).
    `img-src 'self' ${new URL(publicUrl).origin}`,
    "style-src 'unsafe-inline'",
    ...(deletion ? [] : [`script-src ${COPY_SCRIPT_HASH}`]),
    // The confirm page's form posts back to its own URL.
    `form-action ${deletion ? "'self'" : "'none'"}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ];
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': policy.join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': deletion ? 'no-referrer' : 'strict-origin-when-cross-origin',
    // no-store: the secret in a deletion URL stays out of caches. no-cache: templates and
    // deletions change what a share page says, so caches must ask again.
    'cache-control': deletion ? 'no-store' : 'no-cache',
  };
}

/** Strict-Transport-Security for every answer when the public URL is https (never over http, where browsers ignore it anyway). */
export const hstsHeader = (publicUrl: string): string | undefined => (publicUrl.startsWith('https://') ? 'max-age=31536000' : undefined);

/** An HTML application's page: its policy, then what every such page adds (no base, no forms, no framing). */
function applicationHeaders(policy: string[], referrerPolicy: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': [...policy, "form-action 'none'", "base-uri 'none'", "frame-ancestors 'none'"].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': referrerPolicy,
    // The page is the same for everyone and changes only with the server: caches ask again.
    'cache-control': 'no-cache',
  };
}

/**
 * The headers of the web app's page (index.html). Its scripts and styles are files of its own
 * origin (no inline code: the build inlines nothing); it talks to the API of the same origin;
 * images are thumbnails and files, served from here or the public origin, and `blob:` previews of
 * files being uploaded. index.html is asked for again each time (no-cache) so that a new release
 * is seen at once; the hashed files it names are cached for good by the web plugin.
 */
export function appPageHeaders(publicUrl: string): Record<string, string> {
  const origin = new URL(publicUrl).origin;
  return applicationHeaders(
    [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      `img-src 'self' ${origin} blob:`,
      `connect-src 'self' ${origin}`,
      "manifest-src 'self'",
    ],
    'same-origin',
  );
}

/**
 * The API reference at /docs (plugins/docs.plugin.ts), looser than the pages above because
 * Scalar's page is an application: its script (served from here, hence 'self') starts from an
 * inline script whose hashes the caller passes, and injects its own style sheets and style
 * attributes (hence 'unsafe-inline' for styles, which run no code); it fetches the spec from
 * /api/openapi.json and sends "try it" requests to this server (connect-src 'self'); its icons
 * are inline SVG and data: URLs. Still nothing from another origin, no eval, no framing.
 */
export function docsPageHeaders(scriptHashes: readonly string[]): Record<string, string> {
  return applicationHeaders(
    [
      "default-src 'none'",
      `script-src 'self' ${scriptHashes.join(' ')}`.trim(),
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "font-src 'self' data:",
      "connect-src 'self'",
    ],
    'strict-origin-when-cross-origin',
  );
}
