/**
 * `npm run bench [-- serve|ingest|memory|thumbnail|start|sdk-upload|cli-start|web-weight|s3|database|listing|cluster-load ...]`:
 * runs the chosen benchmarks (all but listing and cluster-load by default), prints one table each, and
 * writes every figure to <os.tmpdir()>/discord-images-bench/latest.json.
 * Baselines are measured in the same run as the service because this machine is noisy:
 * only ratios measured minutes apart mean anything.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, constants, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchCliStart } from './cli-start.js';
import { benchClusterLoad } from './cluster-load.js';
import { benchDatabase } from './database.js';
import { benchIngest } from './ingest.js';
import { benchListing } from './listing.js';
import { benchMemory } from './memory.js';
import { findExecutable, killEverything } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { buildService } from './lib/service.js';
import { benchSdkUpload } from './sdk-upload.js';
import { benchServe } from './serve.js';
import { benchS3 } from './s3.js';
import { benchStartup } from './start.js';
import { benchThumbnail } from './thumbnail.js';
import { benchWebWeight } from './web-weight.js';

const SECTIONS = {
  serve: benchServe,
  ingest: benchIngest,
  memory: benchMemory,
  thumbnail: benchThumbnail,
  start: benchStartup,
  'sdk-upload': benchSdkUpload,
  'cli-start': benchCliStart,
  'web-weight': benchWebWeight,
  s3: benchS3,
  database: benchDatabase,
  listing: benchListing,
  'cluster-load': benchClusterLoad,
} satisfies Record<string, (context: SectionContext) => Promise<SectionResult>>;
type SectionName = keyof typeof SECTIONS;
/**
 * Run only when named: listing seeds a million uploads per case (minutes each), cluster-load needs
 * PostgreSQL, moto and redis-server besides nginx and takes over a minute.
 */
const ONLY_WHEN_NAMED = new Set<SectionName>(['listing', 'cluster-load']);
const isSectionName = (name: string): name is SectionName => Object.hasOwn(SECTIONS, name);

// Children run in their own process groups, so a Ctrl-C reaches only us: take them down with us.
process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every process the bench started`);
    killEverything();
    process.exit(128 + constants.signals[signal]);
  });
}

const benchStart = performance.now();
const log = (message: string): void => console.error(`[${((performance.now() - benchStart) / 1000).toFixed(1).padStart(5)} s] ${message}`);

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((arg) => arg !== '--');
  const unknown = args.filter((arg) => !isSectionName(arg));
  if (unknown.length > 0) {
    console.error(`unknown benchmark: ${unknown.join(', ')}\nusage: npm run bench [-- ${Object.keys(SECTIONS).join('|')} ...]`);
    return 2;
  }
  const chosen =
    args.length > 0
      ? [...new Set(args.filter(isSectionName))]
      : (Object.keys(SECTIONS) as SectionName[]).filter((name) => !ONLY_WHEN_NAMED.has(name));

  const tools = { nginx: findExecutable('nginx'), wrk: findExecutable('wrk') };
  if (chosen.includes('serve') && (!tools.nginx || !tools.wrk)) {
    const missing = (['nginx', 'wrk'] as const).filter((tool) => !tools[tool]);
    console.error(
      `The serve benchmark needs ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed.\n` +
        `Install the Debian package${missing.length > 1 ? 's' : ''}:  apt-get install -y ${missing.join(' ')}\n` +
        `or run only the other benchmarks:  npm run bench -- ingest memory`,
    );
    return 1;
  }

  const startedAt = new Date();
  // Other work on the machine skews every figure; the load average tells whether it was there.
  const loadAtStart = loadavg()[0] ?? NaN;
  log('building the service (npm run build)');
  const build = await buildService();
  const serviceUnavailable = build.ok ? undefined : 'service not built (npm run build failed, output above)';
  if (!build.ok) log(`npm run build failed, only the baselines will be measured:\n${build.output}`);

  const context: SectionContext = { log, tools, serviceUnavailable };
  const results: Partial<Record<SectionName, SectionResult | { error: string }>> = {};
  const tables: string[] = [];
  const problems: string[] = serviceUnavailable ? [serviceUnavailable] : [];
  const missed: string[] = [];
  for (const name of chosen) {
    const sectionStart = Date.now();
    log(`=== ${name} ===`);
    try {
      const result = await SECTIONS[name](context);
      results[name] = result;
      tables.push(result.table);
      problems.push(...result.problems);
      missed.push(...(result.missed ?? []));
    } catch (error) {
      results[name] = { error: (error as Error).stack ?? String(error) };
      tables.push(`${name.toUpperCase()}: failed: ${(error as Error).message}`);
      problems.push(`${name}: ${(error as Error).message}`);
    }
    log(`${name} took ${((Date.now() - sectionStart) / 1000).toFixed(0)} s`);
  }

  const load = `load average ${loadAtStart.toFixed(2)} at start, ${(loadavg()[0] ?? NaN).toFixed(2)} at end`;
  const machine = `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`;
  const outDir = join(tmpdir(), 'discord-images-bench');
  mkdirSync(outDir, { recursive: true });
  const outPath = join(outDir, 'latest.json');
  writeFileSync(
    outPath,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, load, chosen, results, missed, problems }, null, 2)}\n`,
  );

  console.log(`\nDiscord Images benchmarks — ${startedAt.toISOString()} — ${machine} — ${load}`);
  console.log('Ratios compare with baselines measured minutes apart in this same run; absolute figures vary from run to run.\n');
  console.log(tables.join('\n\n'));
  const list = (title: string, lines: string[]) => {
    if (lines.length > 0) console.log(`\n${title}:\n${lines.map((line) => `  - ${line}`).join('\n')}`);
  };
  list('Targets missed', missed);
  list('Problems (figures missing or doubtful)', problems);
  console.log(`\nAll figures: ${outPath}`);
  return problems.length > 0 ? 1 : 0;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(killEverything);
