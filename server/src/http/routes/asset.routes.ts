import { FAVICON_SVG } from '../views/html.js';
import type { App } from '../types.js';

/** The few static assets server-rendered pages use. */
export async function assetRoutes(app: App): Promise<void> {
  for (const [url, operationId] of [
    ['/favicon.svg', 'getFaviconSvg'],
    ['/favicon.ico', 'getFaviconIco'],
  ] as const) {
    app.get(
      url,
      { schema: { tags: ['files'], operationId, summary: 'The site icon (SVG, also at the .ico name browsers ask for)' } },
      async (_request, reply) =>
        reply
          .type('image/svg+xml')
          .header('cache-control', 'public, max-age=86400')
          .header('x-content-type-options', 'nosniff')
          .send(FAVICON_SVG),
    );
  }
}
