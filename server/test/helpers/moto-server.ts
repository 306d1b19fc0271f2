import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../../src/config/config.js';
import type { Defer } from './defer.js';

/** A real S3 server: moto's, which .ci/run makes sure is installed. */
export interface MotoServer {
  endpoint: string;
  /** A client of its own, for looking at the bucket behind the code under test's back. */
  client: S3Client;
  /** S3 settings for a fresh bucket (its name made unique), created unless `create` is false. */
  bucket(create?: boolean): Promise<S3Config>;
}

/**
 * Starts `moto_server` on a free port, stopped through `defer`. Without Vitest (the benches
 * start it too); a test file calls startMoto() (moto.ts).
 */
export async function launchMoto(defer: Defer): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
  defer(() => client.destroy());
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${output}`);
    const up = await fetch(`${endpoint}/moto-api/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`moto_server did not answer on ${endpoint}:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let buckets = 0;
  return {
    endpoint,
    client,
    async bucket(create = true) {
      const bucket = `test-${process.pid}-${(buckets += 1)}-${Math.random().toString(36).slice(2, 8)}`;
      if (create) await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return { endpoint, region: 'us-east-1', bucket, ...credentials, forcePathStyle: true, prefix: '', publicUrl: undefined };
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}
