// One racer of racing-repositories.ts: its own connection to the SQLite file in argv[2]. It
// answers "ready", then runs one repository call per line of stdin and answers each outcome.
import { createInterface } from 'node:readline';
import { openDatabase } from '../../src/db/database.js';
import { type RepositoryCall, callRepository } from './repository-call.js';

const handle = openDatabase({ databaseUrl: undefined, dataDir: process.argv[2]! });
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${JSON.stringify(await callRepository(handle.db, JSON.parse(line) as RepositoryCall))}\n`);
}
await handle.close();
