import { type BuildAppOptions, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { type Container, createContainer } from '../../src/container.js';
import type { Dialect } from '../../src/db/database.js';
import { randomBase62 } from '../../src/domain/ids.js';
import type { App } from '../../src/http/types.js';
import { atFileEnd } from './cleanup.js';
import { checkResponsesOf } from './contract-check.js';
import { testDatabase } from './database.js';
import { tempDir } from './temp-dir.js';

export const PUBLIC_URL = 'http://img.test';

/** Cheap scrypt for tests only: production uses OWASP's N=2^17. */
export const TEST_SCRYPT = { cost: 2 ** 12, blockSize: 8, parallelization: 1 };

export interface TestApp {
  app: App;
  container: Container;
  config: Readonly<Config>;
  /** Registers a fresh user and returns its API key. */
  newUser(): Promise<{ token: string; username: string; userId: string }>;
  /** `token` header for inject(). */
  auth(token: string): { token: string };
}

/**
 * A full app (real database of the dialect, real local storage in a temp dir) for inject()
 * tests. `env` takes the same variables as production; `beforeReady` may add hooks (and routes,
 * which the contract check treats as the test's own). Every response the app sends is checked
 * against packages/sdk/openapi.json (contract-check.ts): a test that receives one the spec
 * does not allow fails.
 */
export async function createTestApp(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: BuildAppOptions & { beforeReady?: (app: App) => void } = {},
): Promise<TestApp> {
  const dataDir = await tempDir();
  // Rate limits off unless a test asks: most tests make many requests from one address.
  const config = loadConfig({ DATA_DIR: dataDir, PUBLIC_URL, CACHE_SIZE: '16MB', RATE_LIMIT: 'off', ...env });
  const database = await testDatabase(dialect, dataDir);
  const container = await createContainer(config, { database, scrypt: TEST_SCRYPT });
  const app = await buildApp(container, options);
  checkResponsesOf(app);
  options.beforeReady?.(app);
  await app.ready();
  atFileEnd(async () => {
    await app.close();
    await container.close();
  });
  return {
    app,
    container,
    config,
    async newUser() {
      const username = `u${randomBase62(10)}`;
      const response = await app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username, password: 'correct horse battery' },
      });
      if (response.statusCode !== 201) throw new Error(`register failed: ${response.statusCode} ${response.body}`);
      const body = response.json<{ token: string; user: { id: string } }>();
      return { token: body.token, username: username.toLowerCase(), userId: body.user.id };
    },
    auth: (token) => ({ token }),
  };
}
