import { atFileEnd } from './cleanup.js';
import { launchMoto, type MotoServer } from './moto-server.js';

export type { MotoServer };

/** A real S3 server for this test file (moto's), stopped when the file ends. */
export const startMoto = (): Promise<MotoServer> => launchMoto(atFileEnd);
