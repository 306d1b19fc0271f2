// Loaded with `node --import` before a JavaScript example from the docs (see docs-examples.ts).
// It changes nothing the example sees: it notes each answer fetch() gets and each console.log()
// call's line, one JSON object a line in $DOCS_EXAMPLE_LOG, so the runner can fail an example
// that met an HTTP error it does not show on purpose, or printed other than its comment says.
/* global process, console, Request */
import { appendFileSync } from 'node:fs';
import { inspect } from 'node:util';

const log = process.env.DOCS_EXAMPLE_LOG;
const note = (entry) => appendFileSync(log, `${JSON.stringify(entry)}\n`);

const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  const url = input instanceof Request ? input.url : String(input);
  // JSON answers are small; a copy is read so the example can still read the original.
  const body = response.headers.get('content-type')?.includes('json') ? await response.clone().text() : undefined;
  note({ tool: 'fetch', method: method.toUpperCase(), url, status: response.status, body });
  return response;
};

const realLog = console.log;
console.log = (...args) => {
  const caller = new Error().stack?.split('\n')[2] ?? '';
  const line = /example-\d+\.mjs:(\d+):\d+/.exec(caller)?.[1];
  if (line) note({ tool: 'log', line: Number(line), text: args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg))).join(' ') });
  realLog(...args);
};
