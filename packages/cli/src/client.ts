import type { DiscordImages } from '@discord-images/sdk';
import { loadSettings, type Settings } from './config.js';

/** The SDK, loaded only by the commands that talk to the server. */
export const loadSdk = () => import('@discord-images/sdk');

export async function connect(settings?: Settings): Promise<{ di: DiscordImages; settings: Settings }> {
  const resolved = settings ?? (await loadSettings());
  const { DiscordImages } = await loadSdk();
  return { di: new DiscordImages({ baseUrl: resolved.url, token: resolved.token }), settings: resolved };
}
