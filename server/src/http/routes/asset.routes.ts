import { FAVICON_SVG } from '../views/html.js';
import type { App } from '../types.js';

/** The few static assets server-rendered pages use. */
export async function assetRoutes(app: App): Promise<void> {
  for (const url of ['/favicon.svg', '/favicon.ico']) {
    app.get(url, async (_request, reply) =>
      reply
        .type('image/svg+xml')
        .header('cache-control', 'public, max-age=86400')
        .header('x-content-type-options', 'nosniff')
        .send(FAVICON_SVG),
    );
  }
}
