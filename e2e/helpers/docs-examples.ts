/**
 * Runs the shell and JavaScript examples of the docs against a real server, as a reader would.
 *
 * What a reader is assumed to have (the conventions the docs and the spec's code samples follow):
 * - the server at `http://localhost:3000` (`https://img.example.com` on the ShareX page, where it
 *   stands for a public address); both become the test server's URL;
 * - on every page but the README, an account `alice` (password `correct horse battery`, the first
 *   account, so the admin) whose key is in `$TOKEN` / `process.env.TOKEN`;
 * - `screenshot.png` and `photo.jpg` in the working directory, which no example may change;
 * - placeholders that stand for the reader's own things, replaced by real ones made for each
 *   example that names them: upload `k3J9aQ2xZp` and its deletion secret
 *   `Vn2oQ7xLc4RtY8sKp1ZdW6mB3hFj9aEu`, key `lIhSsJ8NbyqmtKtt`, invite `Hq2Wm9ZtR4cLx7Vb` (alice is
 *   the admin), another account `pR4mWz9KcT2vYh6B` (for the admin's examples: a fresh account,
 *   registered then), `di_your_api_key` (the key in
 *   $TOKEN), and values a reader copies from an answer shown earlier on the page: the sample
 *   token of a registration and the sample `csrf_token` of a sign-in;
 * - a register example on a page where its username is taken registers a fresh name instead.
 *
 * A page's examples run in order in one working directory, shell variables exported by one
 * block reach the next (`export TOKEN=…`), and JavaScript blocks run as Node ES modules after the
 * page's `prelude` block. An HTML comment just before a block changes how it is run:
 * `<!-- example: skip: <why> -->` (not runnable by nature; no test is made for it),
 * `<!-- example: expect 404 -->` (the block shows that error on purpose: it must occur, and
 * other HTTP errors still fail it), `<!-- example: prelude -->` (JavaScript run before each later
 * block of the page), `<!-- example: continues -->` (JavaScript that goes on from the previous
 * JavaScript block, in the same module). Options combine with `;`.
 *
 * An example fails when it exits non-zero, when curl or fetch gets an HTTP error (>= 400) it does
 * not expect, when it changes the reader's files, when a JSON comment after a curl command
 * (`# {"role":"admin",…}`) names a field no answer of the block has, or a value other than the
 * answer's, or when `console.log(…); // 304` prints something else first.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jpeg, png } from '../../server/test/helpers/fixtures.js';
import { tempDir } from '../../server/test/helpers/temp-dir.js';
import { type RunningServer, startServer } from './server.js';

export type ExampleLang = 'sh' | 'js';

export interface Example {
  /** The test's name: where the example is, so a failure points at the doc to fix. */
  name: string;
  lang: ExampleLang;
  code: string;
  /** HTTP error statuses the example shows on purpose. */
  expect: number[];
  prelude: boolean;
  continues: boolean;
}

export interface ExampleResult {
  /** Empty when the example did what the doc says. */
  problems: string[];
  /** The code as run, its output and the answers it got: the failure message. */
  transcript: string;
}

const LANGS: Record<string, ExampleLang> = { sh: 'sh', bash: 'sh', shell: 'sh', curl: 'sh', js: 'js', javascript: 'js', node: 'js' };

export const PLACEHOLDER = {
  url: 'http://localhost:3000',
  publicUrl: 'https://img.example.com',
  uploadId: 'k3J9aQ2xZp',
  deletionSecret: 'Vn2oQ7xLc4RtY8sKp1ZdW6mB3hFj9aEu',
  keyId: 'lIhSsJ8NbyqmtKtt',
  inviteId: 'Hq2Wm9ZtR4cLx7Vb',
  /** Another account than alice's, for the admin's examples. */
  userId: 'pR4mWz9KcT2vYh6B',
  apiKey: 'di_your_api_key',
  /** The token in the sample answer of POST /api/auth/register (README, api.md). */
  registeredToken: 'di_uc7FwCJ9aYdPppw5kKN8U3SJFBLpH5kknJ8iQrFS',
  /** The csrf_token in the sample answer of POST /api/auth/login (api.md). */
  csrfToken: 'JYx14xqSNTX7YamTBn_wppNic9DN3ou8YDJ_9ivZFcI',
} as const;

const PASSWORD = 'correct horse battery';
const BLOCK_TIMEOUT_MS = 30_000;

interface Directives {
  skip: boolean;
  expect: number[];
  prelude: boolean;
  continues: boolean;
}

function parseDirectives(text: string, where: string): Directives {
  const directives: Directives = { skip: false, expect: [], prelude: false, continues: false };
  for (const part of text
    .split(';')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const expect = /^expect ((?:\d{3}[, ]*)+)$/.exec(part);
    if (expect) directives.expect.push(...expect[1]!.split(/[, ]+/).filter(Boolean).map(Number));
    else if (/^skip\b/.test(part)) {
      if (!/^skip:? *\(?\S.{9,}/.test(part)) throw new Error(`${where}: a skip must say why ("skip: <reason>")`);
      directives.skip = true;
    } else if (part === 'prelude') directives.prelude = true;
    else if (part === 'continues') directives.continues = true;
    else throw new Error(`${where}: unknown example option "${part}" (skip: <why>, expect <status>, prelude, continues)`);
  }
  return directives;
}

/** The runnable blocks of a markdown file, in order; `file` names them (`docs/api.md:120 (js)`). */
export function extractExamples(markdown: string, file: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.trim().startsWith(fence!); i++) body.push(lines[i]!.slice(indent!.length));
    const lang = LANGS[info!.toLowerCase()];
    let previous = start - 1;
    while (previous >= 0 && lines[previous]!.trim() === '') previous--;
    const comment = /^\s*<!--\s*example:\s*(.*?)\s*-->\s*$/.exec(lines[previous] ?? '');
    const where = `${file}:${start + 1}`;
    if (!lang) {
      if (comment) throw new Error(`${where}: an example option on a block that is neither shell nor JavaScript`);
      continue;
    }
    const directives = comment ? parseDirectives(comment[1]!, where) : parseDirectives('', where);
    if (directives.skip) continue;
    examples.push({ name: `${where} (${lang})`, lang, code: body.join('\n'), ...omitSkip(directives) });
  }
  return examples;
}

const omitSkip = ({ expect, prelude, continues }: Directives) => ({ expect, prelude, continues });

interface CodeSample {
  lang: string;
  label?: string;
  source: string;
}

/** The `x-codeSamples` of every operation of an OpenAPI document, each a standalone example. */
export function extractSpecSamples(spec: { paths: Record<string, Record<string, unknown>> }, file: string): Example[] {
  const examples: Example[] = [];
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const samples = (operation as { 'x-codeSamples'?: CodeSample[] })['x-codeSamples'] ?? [];
      for (const sample of samples) {
        const lang = LANGS[sample.lang.toLowerCase()];
        const name = `${file} ${method.toUpperCase()} ${path} (${sample.label ?? sample.lang})`;
        if (!lang) throw new Error(`${name}: a code sample in a language the runner does not know`);
        examples.push({ name, lang, code: sample.source, expect: [], prelude: false, continues: false });
      }
    }
  }
  return examples;
}

interface Answer {
  tool: 'curl' | 'fetch';
  method: string;
  url: string;
  status: number;
  body?: string;
}

interface Logged {
  line: number;
  text: string;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** One reader on one fresh server: a page's examples run through one session, in order. */
export class ExampleSession {
  private readonly readerFiles = ['screenshot.png', 'photo.jpg'];
  private readonly registeredNames = new Set<string>();
  private preludes: string[] = [];
  private lastModule: string[] = [];
  private lastRegisteredToken: string | undefined;
  private lastCsrfToken: string | undefined;
  private runs = 0;

  private constructor(
    readonly server: RunningServer,
    /** The reader's working directory. */
    readonly workDir: string,
    /** The runner's own files: state, logs, modules, stand-in commands. */
    private readonly ownDir: string,
    private readonly token: string | undefined,
  ) {}

  /** Starts a fresh server; with `account`, registers alice first and puts her key in TOKEN. */
  static async start({ account }: { account: boolean }): Promise<ExampleSession> {
    const root = await tempDir('di-docs-');
    const [workDir, ownDir, dataDir] = ['work', 'own', 'data'].map((name) => join(root, name)) as [string, string, string];
    await Promise.all([workDir, ownDir, dataDir, join(ownDir, 'bin'), join(ownDir, 'home')].map((dir) => mkdir(dir, { recursive: true })));
    const server = await startServer({ DATA_DIR: dataDir });
    let token: string | undefined;
    if (account) {
      const response = await fetch(`${server.url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: PASSWORD }),
      });
      if (response.status !== 201) throw new Error(`registering alice: ${response.status} ${await response.text()}`);
      token = ((await response.json()) as { token: string }).token;
    }
    const session = new ExampleSession(server, workDir, ownDir, token);
    if (account) session.registeredNames.add('alice');
    await session.prepare();
    return session;
  }

  async stop(): Promise<void> {
    await this.server.stop('SIGKILL');
  }

  private async prepare(): Promise<void> {
    await writeFile(join(this.workDir, 'screenshot.png'), await png(64, 48, 7));
    await writeFile(join(this.workDir, 'photo.jpg'), await jpeg(30, 40, 8));
    await writeFile(join(this.ownDir, 'capture.png'), await png(80, 60, 9));
    const realCurl = await this.which('curl');
    const bin = join(this.ownDir, 'bin');
    const commands: Record<string, string> = {
      // curl itself, keeping each answer's headers and body for the checks.
      curl: [
        'id="$(date +%s%N)-$$"',
        'printf "%s\\n" "$@" > "$DOCS_EXAMPLE_CURL_DIR/$id.args"',
        'set -o pipefail',
        `${quote(realCurl)} -D "$DOCS_EXAMPLE_CURL_DIR/$id.headers" "$@" | tee "$DOCS_EXAMPLE_CURL_DIR/$id.body"`,
      ].join('\n'),
      // Desktop tools the ShareX page pipes through: a capture, and a clipboard the runner reads.
      flameshot: `[ "$*" = "gui --raw" ] || { echo "flameshot stand-in: only 'gui --raw'" >&2; exit 2; }\ncat ${quote(join(this.ownDir, 'capture.png'))}`,
      xclip: `cat > ${quote(join(this.ownDir, 'clipboard'))}`,
      'wl-copy': `cat > ${quote(join(this.ownDir, 'clipboard'))}`,
    };
    for (const [name, script] of Object.entries(commands)) {
      await writeFile(join(bin, name), `#!/usr/bin/env bash\n${script}\n`);
      await chmod(join(bin, name), 0o755);
    }
    const initial = [`export DOCS_EXAMPLE_REAL_CURL=${quote(realCurl)}`];
    if (this.token) initial.push(`export TOKEN=${quote(this.token)}`);
    await writeFile(this.statePath, `${initial.join('\n')}\n`);
  }

  private get statePath(): string {
    return join(this.ownDir, 'state.sh');
  }

  private async which(command: string): Promise<string> {
    for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, command))) return join(dir, command);
    throw new Error(`${command} is not installed`);
  }

  /** Runs one example; never throws for the example's own failures, which come back as problems. */
  async run(example: Example): Promise<ExampleResult> {
    const n = ++this.runs;
    const code = await this.substitute(example);
    const problems: string[] = [];
    const logPath = join(this.ownDir, `log-${n}.jsonl`);
    const curlDir = join(this.ownDir, `curl-${n}`);
    await mkdir(curlDir);
    await writeFile(logPath, '');
    await rm(join(this.ownDir, 'clipboard'), { force: true });
    const before = await this.readerFileHashes();

    let script: string;
    let moduleParts: string[] = [];
    const setup = [`. ${quote(this.statePath)}`, `export DOCS_EXAMPLE_LOG=${quote(logPath)} DOCS_EXAMPLE_CURL_DIR=${quote(curlDir)}`];
    if (example.lang === 'sh') {
      script = [...setup, 'set -e -o pipefail', code, `export -p > ${quote(this.statePath)}`].join('\n');
    } else {
      moduleParts = example.continues ? [...this.lastModule, code] : [...this.preludes, code];
      if (example.continues && this.lastModule.length === 0) problems.push('"continues", but no JavaScript block comes before it');
      const modulePath = join(this.ownDir, `example-${n}.mjs`);
      await writeFile(modulePath, moduleParts.join('\n'));
      const preload = pathToFileURL(join(import.meta.dirname, 'docs-examples-preload.js')).href;
      script = [...setup, `exec node --import ${quote(preload)} ${quote(modulePath)}`].join('\n');
      this.lastModule = moduleParts;
      if (example.prelude) this.preludes = [...this.preludes, code];
    }
    const scriptPath = join(this.ownDir, `example-${n}.sh`);
    await writeFile(scriptPath, `${script}\n`);
    const { exitCode, stdout, stderr, timedOut } = await this.spawn(scriptPath);

    const answers = [...(await this.curlAnswers(curlDir))];
    const logged: Logged[] = [];
    for (const line of (await readFile(logPath, 'utf8')).split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as (Answer & { tool: 'fetch' }) | (Logged & { tool: 'log' });
      if (entry.tool === 'log') logged.push(entry);
      else answers.push(entry);
    }
    this.learnFrom(answers);

    if (timedOut) problems.push(`still running after ${BLOCK_TIMEOUT_MS / 1000} s`);
    else if (exitCode !== 0) problems.push(`exited with ${exitCode}`);
    const expected = new Set(example.expect);
    for (const answer of answers) {
      if (answer.status >= 400 && !expected.has(answer.status)) {
        problems.push(`${answer.tool}: ${answer.method} ${answer.url} answered ${answer.status} ${answer.body?.slice(0, 300) ?? ''}`);
      }
    }
    for (const status of expected) {
      if (!answers.some((answer) => answer.status === status)) problems.push(`shows ${status} on purpose, but no answer was ${status}`);
    }
    if (example.lang === 'sh') problems.push(...checkJsonComments(code, answers));
    else problems.push(...checkLogComments(code, moduleParts.slice(0, -1).join('\n').split('\n').length, logged, moduleParts.length > 1));
    const after = await this.readerFileHashes();
    for (const file of this.readerFiles) if (before[file] !== after[file]) problems.push(`changed the reader's ${file}`);
    const clipboard = existsSync(join(this.ownDir, 'clipboard'))
      ? (await readFile(join(this.ownDir, 'clipboard'), 'utf8')).trim()
      : undefined;
    if (clipboard !== undefined && !new RegExp(`^${escapeRegExp(this.server.url)}/[A-Za-z0-9]{10}$`).test(clipboard)) {
      problems.push(`copied ${JSON.stringify(clipboard)}, not a share link`);
    }

    const transcript = [
      `--- ${example.name}, as run:`,
      example.lang === 'js' ? moduleParts.join('\n') : code,
      `--- stdout:\n${stdout.slice(0, 4000)}`,
      `--- stderr:\n${stderr.slice(0, 4000)}`,
      `--- answers:\n${answers.map((answer) => `${answer.tool} ${answer.method} ${answer.url} -> ${answer.status}`).join('\n')}`,
    ].join('\n');
    return { problems, transcript };
  }

  /** Hash and mtime: rewriting a file with the very same bytes is still writing over it. */
  private async readerFileHashes(): Promise<Record<string, string>> {
    const hashes: Record<string, string> = {};
    for (const file of this.readerFiles) {
      const path = join(this.workDir, file);
      hashes[file] = existsSync(path) ? `${sha256(await readFile(path))} ${(await stat(path)).mtimeMs}` : 'missing';
    }
    return hashes;
  }

  private spawn(scriptPath: string): Promise<{ exitCode: number | null; stdout: string; stderr: string; timedOut: boolean }> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', [scriptPath], {
        cwd: this.workDir,
        env: {
          PATH: `${join(this.ownDir, 'bin')}:${process.env.PATH ?? ''}`,
          HOME: join(this.ownDir, 'home'),
          LC_ALL: 'C.UTF-8',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        timedOut = true;
        process.kill(-child.pid!, 'SIGKILL');
      }, BLOCK_TIMEOUT_MS);
      child.on('error', reject);
      child.on('close', (exitCode) => {
        clearTimeout(timer);
        resolve({ exitCode, stdout, stderr, timedOut });
      });
    });
  }

  /** What the curl stand-in kept of each call, in call order. */
  private async curlAnswers(dir: string): Promise<Answer[]> {
    const ids = [...new Set((await readdir(dir)).map((name) => name.replace(/\.\w+$/, '')))].sort();
    const answers: Answer[] = [];
    for (const id of ids) {
      const args = (await readFile(join(dir, `${id}.args`), 'utf8')).split('\n');
      const headers = existsSync(join(dir, `${id}.headers`)) ? await readFile(join(dir, `${id}.headers`), 'utf8') : '';
      const statuses = [...headers.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((match) => Number(match[1])).filter((status) => status >= 200);
      const url = args.find((arg) => /^https?:\/\//.test(arg)) ?? '?';
      const explicit = args[args.indexOf('-X') + 1];
      const method =
        args.includes('-X') && explicit
          ? explicit
          : args.includes('-I')
            ? 'HEAD'
            : args.some((arg) => /^-[Fd]$/.test(arg))
              ? 'POST'
              : 'GET';
      // No status: curl never got an answer, and its exit code says why.
      if (statuses.length === 0) continue;
      const body = existsSync(join(dir, `${id}.body`)) ? await readFile(join(dir, `${id}.body`), 'utf8') : undefined;
      answers.push({ tool: 'curl', method, url, status: statuses.at(-1)!, body });
    }
    return answers;
  }

  /** Keeps what a reader would copy from the answers: a new token, a CSRF token, taken names. */
  private learnFrom(answers: Answer[]): void {
    for (const answer of answers) {
      const body = parseJson(answer.body) as { token?: string; csrf_token?: string; user?: { username?: string } } | undefined;
      if (!body) continue;
      if (answer.url.endsWith('/api/auth/register') && answer.status === 201) {
        this.lastRegisteredToken = body.token;
        if (body.user?.username) this.registeredNames.add(body.user.username);
      }
      if (answer.url.endsWith('/api/auth/login') && answer.status === 200) this.lastCsrfToken = body.csrf_token;
    }
  }

  /** The example's code with the reader's things in place of the placeholders. */
  private async substitute(example: Example): Promise<string> {
    let code = example.code.replaceAll(PLACEHOLDER.url, this.server.url).replaceAll(PLACEHOLDER.publicUrl, this.server.url);
    if (code.includes(PLACEHOLDER.uploadId) || code.includes(PLACEHOLDER.deletionSecret)) {
      const upload = await this.freshUpload();
      code = code.replaceAll(PLACEHOLDER.uploadId, upload.id).replaceAll(PLACEHOLDER.deletionSecret, upload.delete_url.split('/').at(-1)!);
    }
    if (code.includes(PLACEHOLDER.keyId))
      code = code.replaceAll(PLACEHOLDER.keyId, await this.fresh('/api/keys', { name: 'for a docs example' }, 'key'));
    if (code.includes(PLACEHOLDER.inviteId))
      code = code.replaceAll(PLACEHOLDER.inviteId, await this.fresh('/api/admin/invites', {}, 'invite'));
    if (code.includes(PLACEHOLDER.userId)) code = code.replaceAll(PLACEHOLDER.userId, await this.freshUser());
    if (code.includes(PLACEHOLDER.apiKey)) code = code.replaceAll(PLACEHOLDER.apiKey, this.requireToken());
    // Until the page has signed up or in, these stay as they are: the block that shows them as
    // a sample answer is the one that gets the real one.
    if (this.lastRegisteredToken) code = code.replaceAll(PLACEHOLDER.registeredToken, this.lastRegisteredToken);
    if (this.lastCsrfToken) code = code.replaceAll(PLACEHOLDER.csrfToken, this.lastCsrfToken);
    if (code.includes('/api/auth/register')) {
      for (const [, name] of code.matchAll(/\busername["']?\s*:\s*["']([\w.-]+)["']/g)) {
        if (!this.registeredNames.has(name!)) continue;
        let fresh = 2;
        while (this.registeredNames.has(`${name}${fresh}`)) fresh++;
        code = code.replace(new RegExp(`\\b${escapeRegExp(name!)}\\b`, 'g'), `${name}${fresh}`);
      }
    }
    return code;
  }

  private requireToken(): string {
    if (!this.token) throw new Error('this page has no account, so no key to put in place of a placeholder');
    return this.token;
  }

  private async freshUpload(): Promise<{ id: string; delete_url: string }> {
    const form = new FormData();
    form.append('files[]', new Blob([await readFile(join(this.workDir, 'screenshot.png'))]), 'screenshot.png');
    const response = await fetch(`${this.server.url}/api/upload`, { method: 'POST', headers: { token: this.requireToken() }, body: form });
    if (response.status !== 201) throw new Error(`uploading for a placeholder: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { files: Array<{ id: string; delete_url: string }> }).files[0]!;
  }

  private async freshUser(): Promise<string> {
    const response = await fetch(`${this.server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `reader${Math.random().toString(36).slice(2, 10)}`, password: PASSWORD }),
    });
    if (response.status !== 201) throw new Error(`registering an account for a placeholder: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { user: { id: string } }).user.id;
  }

  /** The id of a new thing of the reader's (a key, an invite), made by POSTing `body` to `path`. */
  private async fresh(path: string, body: object, what: 'key' | 'invite'): Promise<string> {
    const response = await fetch(`${this.server.url}${path}`, {
      method: 'POST',
      headers: { token: this.requireToken(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`making a ${what} for a placeholder: ${response.status} ${await response.text()}`);
    const created = (await response.json()) as { id: string } | { key: { id: string } };
    return 'key' in created ? created.key.id : created.id;
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Values that differ on every run (ids, keys, secrets, times, hashes, URLs): only their field is checked. */
const incidental = (value: string) => /…|:\/\/|^di_|^\d{4}-\d\d-\d\dT|^[A-Za-z0-9_-]{10,}$/.test(value);

/**
 * A comment that shows an answer as JSON (`# {"user":{…,"role":"admin"},…}`, possibly over
 * several `#` lines) must describe some answer of the block: each field it names exists there,
 * with the value shown unless that value is incidental or elided (`…`).
 */
export function checkJsonComments(code: string, answers: Answer[]): string[] {
  const problems: string[] = [];
  const lines = code.split('\n');
  const bodies = answers.map((answer) => parseJson(answer.body)).filter((body) => body !== undefined);
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*#\s*[{[]"/.test(lines[i]!)) continue;
    const comment = [lines[i]!];
    while (i + 1 < lines.length && /^\s*#\s{2,}"/.test(lines[i + 1]!)) comment.push(lines[++i]!);
    const text = comment.join(' ');
    const fields = [...text.matchAll(/"(\w+)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)?/g)].map(([, key, raw]) => ({
      key: key!,
      value: raw === undefined ? undefined : (JSON.parse(raw) as unknown),
    }));
    const claims = fields.filter(({ value }) => !(typeof value === 'string' && incidental(value)));
    const holds = (body: unknown) =>
      claims.every(({ key, value }) => {
        const found = fieldValues(body, key);
        return found.length > 0 && (value === undefined || found.some((item) => item === value));
      });
    if (!bodies.some(holds)) {
      const shown = claims.map(({ key, value }) => (value === undefined ? key : `${key}=${JSON.stringify(value)}`)).join(', ');
      problems.push(`the comment "${text.trim().slice(0, 120)}" matches no answer of the block (checked: ${shown})`);
    }
  }
  return problems;
}

/** Every value stored under `key` anywhere inside `value`. */
function fieldValues(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => fieldValues(item, key));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([name, item]) => [...(name === key ? [item] : []), ...fieldValues(item, key)]);
}

/** `console.log(x); // 304`: what that line printed first starts with the number in its comment. */
function checkLogComments(code: string, offset: number, logged: Logged[], hasParts: boolean): string[] {
  const problems: string[] = [];
  const first = hasParts ? offset + 1 : 1;
  code.split('\n').forEach((text, index) => {
    const claim = /console\.log\(.*\);?\s*\/\/\s*(\d{3})\b/.exec(text)?.[1];
    if (!claim) return;
    const printed = logged.find((entry) => entry.line === first + index)?.text;
    if (printed === undefined) problems.push(`"${text.trim()}" printed nothing`);
    else if (!printed.startsWith(claim)) problems.push(`"${text.trim()}" printed ${JSON.stringify(printed.slice(0, 200))}`);
  });
  return problems;
}
