/**
 * S3 storage: raw serving and upload ingest with STORAGE=s3 against the local driver, on one
 * moto server (moto_server, a Python S3 emulator) started by the bench. Serving is measured
 * through the service's memory cache (hot, the default CACHE_SIZE) and without it
 * (CACHE_SIZE=0: every request reads the object from S3), with serve.ts's wrk measurement;
 * ingest with ingest.ts's clients. The baseline of each is the same service on local disk,
 * measured in the same run.
 *
 * moto answers far more slowly than a real S3 endpoint, so the cold lines and the ingest line
 * measure moto more than the service: they show the cost of going to the bucket at all.
 */
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { request } from 'undici';
import { CLIENTS, DURATION_MS, ingestSamples, serviceIngest, WARMUP_MS, type LoadResult } from './ingest.js';
import { noiseJpeg } from './lib/images.js';
import { findExecutable, freePort, logTail, makeTempDir, start, stop, type Started } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { registerUser, startService, stopService, uploadFile } from './lib/service.js';
import { fixed, mibPerSec, ms, renderTable } from './lib/table.js';
import { errorCount, LOAD, measure, subject, WARMUP_S, type Row } from './serve.js';

const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench-secret' };

interface Moto {
  endpoint: string;
  started: Started;
  /** The service's S3_* settings for a fresh bucket, made here. */
  bucket(name: string): Promise<Record<string, string>>;
}

async function startMoto(context: SectionContext): Promise<Moto> {
  const executable = findExecutable('moto_server');
  if (!executable) throw new Error('moto_server is not installed (pip install "moto[server]")');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const work = makeTempDir('moto');
  const started = start(executable, ['-H', '127.0.0.1', '-p', String(port)], { cwd: work, logPath: join(work, 'moto.log') });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await request(`${endpoint}/moto-api/`).then(
      async (response) => (await response.body.dump(), true),
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline || started.child.exitCode !== null) {
      await stop(started);
      throw new Error(`moto_server did not answer on ${endpoint}\n${logTail(started.logPath)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  context.log(`s3: moto_server on ${endpoint}`);
  return {
    endpoint,
    started,
    async bucket(name) {
      const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
      return {
        STORAGE: 's3',
        S3_ENDPOINT: endpoint,
        S3_REGION: 'us-east-1',
        S3_BUCKET: name,
        S3_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        S3_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
      };
    },
  };
}

export async function benchS3(context: SectionContext): Promise<SectionResult> {
  const { wrk } = context.tools;
  if (!wrk) throw new Error('s3 needs wrk (apt-get install -y wrk)');
  if (context.serviceUnavailable) return { table: 'S3: not built', problems: [], data: {} };
  const moto = await startMoto(context);
  const problems: string[] = [];
  try {
    // Serving: serve.ts's image and measurement, four configurations of one service each.
    const image = await noiseJpeg(200_000);
    const { width, height } = await sharp(image).metadata();
    let buckets = 0;
    const serveRows: Row[] = [];
    for (const { name, s3, cacheSize } of [
      { name: 'local, memory cache (baseline)', s3: false },
      { name: 'local, CACHE_SIZE=0', s3: false, cacheSize: '0' },
      { name: 's3, memory cache (hot)', s3: true },
      { name: 's3, CACHE_SIZE=0 (cold: moto)', s3: true, cacheSize: '0' },
    ]) {
      serveRows.push({
        isService: true,
        ...(await subject(
          name,
          async () =>
            startService({
              workers: 1,
              env: {
                ...(s3 ? await moto.bucket(`bench-serve-${(buckets += 1)}`) : {}),
                ...(cacheSize === undefined ? {} : { CACHE_SIZE: cacheSize }),
              },
            }),
          async (service) => {
            const token = await registerUser(service);
            const rawUrl = await uploadFile(service, token, { bytes: image, filename: 'bench.jpg', type: 'image/jpeg' });
            return measure(context, wrk, `s3 serve: ${name}`, rawUrl, image);
          },
          stopService,
        )),
      });
    }
    const localRps = serveRows[0]?.result?.requestsPerSec;
    const serveTable = renderTable(
      `S3 RAW SERVING — GET of one ${fixed(image.length / 1000, 1)} KB JPEG (${width}x${height}), wrk -t${LOAD.threads} -c${LOAD.connections} -d${LOAD.durationS}s after a ${WARMUP_S} s warm-up, WORKERS=1`,
      ['storage, cache', 'req/s', 'p50', 'p99', 'transfer', 'errors', 'req/s vs local'],
      serveRows.map((row) => {
        if (!row.result) {
          problems.push(`s3 / serve ${row.name}: ${row.error}`);
          return [row.name, 'failed', '', '', '', '', ''];
        }
        const r = row.result;
        const errors = errorCount(r);
        if (errors > 0) problems.push(`s3 / serve ${row.name}: ${errors} failed requests (non-2xx or socket errors)`);
        const share = localRps ? `${fixed(r.requestsPerSec / localRps, 2)}x` : 'n/a';
        return [
          row.name,
          fixed(r.requestsPerSec),
          ms(r.latencyP50Ms),
          ms(r.latencyP99Ms),
          mibPerSec(r.transferPerSec),
          fixed(errors),
          share,
        ];
      }),
      [
        'baseline: the same service on local disk with its default memory cache (CACHE_SIZE 256 MiB), as serve measures it.',
        'hot: the object is in the memory cache after the first request, so S3 is not asked again; cold: CACHE_SIZE=0, every request',
        'streams the object from the bucket. moto_server is a single-process Python emulator far slower than S3, so the cold line',
        'measures moto more than the service: it is the cost of a trip to the bucket here, not a figure to expect from real S3.',
      ],
    );

    // Ingest: ingest.ts's samples and clients, local disk then S3.
    const samples = await ingestSamples(context);
    const ingestRows: string[][] = [];
    const ingestData: unknown[] = [];
    for (const sample of samples) {
      const results: Array<LoadResult | undefined> = [];
      for (const [label, s3] of [
        ['local', false],
        ['s3', true],
      ] as const) {
        try {
          const env = s3 ? await moto.bucket(`bench-ingest-${(buckets += 1)}`) : {};
          const result = await serviceIngest(context, sample, env, `s3 ingest: ${label}`);
          if (result.failures > 0)
            problems.push(`s3 / ingest ${label} ${sample.label}: ${result.failures} failed: ${JSON.stringify(result.failureKinds)}`);
          results.push(result);
        } catch (error) {
          problems.push(`s3 / ingest ${label} ${sample.label}: ${(error as Error).message}`);
          results.push(undefined);
        }
      }
      const [local, remote] = results;
      ingestRows.push([sample.label, '', '', '', '', '', '']);
      for (const [name, result] of [
        ['  service, local disk (baseline)', local],
        ['  service, STORAGE=s3 (moto)', remote],
      ] as const) {
        ingestRows.push(
          result
            ? [
                name,
                fixed(result.uploadsPerSec, 1),
                mibPerSec(result.bytesPerSec),
                ms(result.latencyP50Ms),
                ms(result.latencyP99Ms),
                `${result.uploads} / ${result.failures}`,
                local ? `${fixed(result.uploadsPerSec / local.uploadsPerSec, 2)}x` : 'n/a',
              ]
            : [name, 'failed', '', '', '', '', ''],
        );
      }
      ingestData.push({ image: sample.label, local, s3: remote });
    }
    const ingestTable = renderTable(
      `S3 UPLOAD INGEST — ${CLIENTS} concurrent clients, ${DURATION_MS / 1000} s each after a ${WARMUP_MS / 1000} s warm-up, every upload distinct, WORKERS=1`,
      ['image / storage', 'uploads/s', 'image MiB/s', 'p50', 'p99', 'ok / failed', 'vs local'],
      ingestRows,
      [
        'as the ingest section measures the service; with STORAGE=s3 every upload is also PUT to the bucket (moto here) before its 201,',
        'so the s3 line is bound by moto, a Python emulator: it shows the cost of the trip, not what a real S3 endpoint would allow.',
      ],
    );
    return {
      table: `${serveTable}\n\n${ingestTable}`,
      problems,
      data: { serve: { image: { bytes: image.length, width, height }, load: LOAD, rows: serveRows }, ingest: ingestData },
    };
  } finally {
    await stop(moto.started);
  }
}
