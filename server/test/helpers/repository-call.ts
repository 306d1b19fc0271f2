import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import type { NewUpload } from '../../src/repositories/types.js';
import { UploadRepository } from '../../src/repositories/upload.repository.js';
import { UserRepository } from '../../src/repositories/user.repository.js';

// Apart from racing-repositories.ts, because the racer processes run it outside Vitest.

/** One repository call, sent as data so that it can run in another process. */
export type RepositoryCall =
  | { repository: 'users'; method: 'create'; args: Parameters<UserRepository['create']> }
  | { repository: 'uploads'; method: 'insertWithinQuota'; args: [userId: string, uploads: NewUpload[]] };

export type CallOutcome = { ok: true; value: unknown } | { ok: false; error: string };

/** Calls a repository method on repositories over `db`, turning a throw into an outcome. */
export async function callRepository(db: Kysely<Database>, call: RepositoryCall): Promise<CallOutcome> {
  try {
    const value =
      call.repository === 'users'
        ? await new UserRepository(db).create(...call.args)
        : // The race is over the rows: no bytes are placed, so there is nothing to ensure.
          await new UploadRepository(db).insertWithinQuota(...call.args, async () => {});
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
