/**
 * The entry of `discord-images admin`: the CLI imports the bundled server/dist/admin.js and
 * runs its operations here, on the database the server's own configuration names
 * (DATABASE_URL, DATA_DIR; the environment over `.env` in the working directory, as the
 * server reads it). Nothing listens: this is for a shell on the server when nobody can sign in.
 */
import { type Env, loadConfig } from './config/config.js';
import { withEnvFile } from './config/env-file.js';
import { databaseOptions, migrate, openDatabase } from './db/database.js';
import { SessionRepository } from './repositories/session.repository.js';
import { UserRepository } from './repositories/user.repository.js';
import { AdminService } from './services/admin.service.js';
import { PRIVATE_UMASK } from './storage/data-dir.js';

export { AppError } from './domain/errors.js';
export { ConfigError } from './config/config.js';
export type { AdminService, AdminUserView, Role } from './services/admin.service.js';

/**
 * Opens the configured database (migrating it, as a first start of the server would), runs
 * `task` and closes it. Throws ConfigError for a bad configuration and AppError for a refused operation.
 */
export async function withAdmin<T>(task: (admin: AdminService) => Promise<T>, env: Env = process.env): Promise<T> {
  const config = loadConfig(withEnvFile(env));
  // Files this creates (a first SQLite database) are private, as the server makes them.
  process.umask(PRIVATE_UMASK);
  const database = openDatabase(databaseOptions(config));
  try {
    await migrate(database);
    const admin = new AdminService(new UserRepository(database.db), new SessionRepository(database.db), {
      defaultQuota: config.defaultQuota,
    });
    return await task(admin);
  } finally {
    await database.close();
  }
}
