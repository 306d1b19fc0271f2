import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../server/src/domain/errors.js';
import { ROOT } from './helpers/server.js';

// docs/api.md is written by hand; these keep it from drifting from the code: its error table
// against the catalogue, its endpoint table against the generated spec.

const guide = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
const spec = JSON.parse(readFileSync(join(ROOT, 'packages/sdk/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
};

/** The body rows of the first markdown table after `heading`, as cells. */
function tableAfter(heading: string): string[][] {
  const start = guide.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/api.md has no "${heading}"`);
  const rows: string[][] = [];
  for (const line of guide.slice(start).split('\n').slice(2)) {
    if (line.startsWith('|'))
      rows.push(
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    else if (rows.length > 0) break;
  }
  return rows.slice(2);
}

/** A path with each segment holding a parameter (`:id`, `{file}`, `:id.:ext`) as `{}`. */
const shape = (path: string) =>
  path
    .split('/')
    .map((segment) => (/[:{]/.test(segment) ? '{}' : segment))
    .join('/');

describe('docs/api.md against the code', () => {
  it('lists exactly the error codes of server/src/domain/errors.ts, with their statuses', () => {
    const documented = Object.fromEntries(tableAfter('### Catalogue').map(([code, status]) => [code!.replace(/`/g, ''), Number(status)]));
    expect(documented).toEqual({ ...ERROR_STATUS });
  });

  it('names every operation of the spec in its endpoint table', () => {
    const documented = new Set<string>();
    for (const [first] of tableAfter('## Endpoints at a glance')) {
      const methods = [...first!.matchAll(/`([A-Z]+)(?: |`)/g)].map((match) => match[1]!);
      const paths = [...first!.matchAll(/(\/[^\s`?]*)/g)].map((match) => shape(match[1]!));
      for (const method of methods) for (const path of paths) documented.add(`${method} ${path}`);
    }
    const operations = Object.entries(spec.paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => method !== 'head')
        .map((method) => `${method.toUpperCase()} ${shape(path)}`),
    );
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.filter((operation) => !documented.has(operation))).toEqual([]);
  });

  it('says near its top where the generated reference is', () => {
    const top = guide.split('\n## ')[0]!;
    expect(top).toContain('`/docs`');
    expect(top).toContain('`/api/openapi.json`');
  });
});
