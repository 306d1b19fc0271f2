/** How Discord fetches a link, and a desktop browser for comparison. */

/** The user agent of Discord's link unfurler. */
export const DISCORDBOT_UA = 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)';
/** A desktop Chrome, as people (and Discord's image proxy, which looks like a browser) send it. */
export const CHROME_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

/** Discord gives up on a page after 10 s or more than 5 redirects. */
export const DISCORD_FETCH = { timeoutMs: 10_000, maxRedirects: 5 } as const;

export interface FetchedPage {
  response: Response;
  body: Buffer;
  /** Redirects followed to get there. */
  redirects: number;
  elapsedMs: number;
}

/**
 * One GET as Discord's unfurler makes it: its user agent, no JavaScript, redirects followed by
 * hand so they can be counted, and the whole exchange inside Discord's time limit.
 */
export async function fetchLikeDiscord(url: string, userAgent = DISCORDBOT_UA): Promise<FetchedPage> {
  const started = performance.now();
  const signal = AbortSignal.timeout(DISCORD_FETCH.timeoutMs);
  let target = url;
  for (let redirects = 0; ; redirects++) {
    const response = await fetch(target, { headers: { 'user-agent': userAgent, accept: 'text/html,*/*' }, redirect: 'manual', signal });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (redirects === DISCORD_FETCH.maxRedirects) throw new Error(`${url}: more than ${DISCORD_FETCH.maxRedirects} redirects`);
      target = new URL(location, target).href;
      continue;
    }
    const body = Buffer.from(await response.arrayBuffer());
    return { response, body, redirects, elapsedMs: performance.now() - started };
  }
}
