import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Example, type ExampleResult, ExampleSession, extractExamples, extractSpecSamples } from './helpers/docs-examples.js';
import { ROOT } from './helpers/server.js';

// Every shell and JavaScript example of the README, the guides and the spec's code samples, run
// against a real server the way a reader runs them (conventions: helpers/docs-examples.ts). A
// page's examples run in order, each on the state the ones above it left; each test waits for
// its own, so the tests pass in any order.

const SPEC = 'packages/sdk/openapi.json';

interface Page {
  file: string;
  examples: Example[];
  /** The README's reader starts with nothing; every other page's reader has an account. */
  account: boolean;
}

const markdown = (file: string, account: boolean): Page => ({
  file,
  account,
  examples: extractExamples(readFileSync(join(ROOT, file), 'utf8'), file),
});

const pages: Page[] = [
  markdown('README.md', false),
  markdown('docs/api.md', true),
  markdown('docs/sharex.md', true),
  markdown('docs/configuration.md', true),
  markdown('docs/decisions.md', true),
  markdown('docs/deployment.md', true),
];
if (existsSync(join(ROOT, SPEC))) {
  pages.push({ file: SPEC, account: true, examples: extractSpecSamples(JSON.parse(readFileSync(join(ROOT, SPEC), 'utf8')), SPEC) });
}
const runnable = pages.filter((page) => page.examples.length > 0);

const sessions: ExampleSession[] = [];
/** Per page, each example's result, in the page's order. */
const results = new Map<Page, Array<Promise<ExampleResult>>>();

beforeAll(async () => {
  // Pages run side by side, each on a server of its own; a page's examples one after another.
  await Promise.all(
    runnable.map(async (page) => {
      const session = await ExampleSession.start({ account: page.account });
      sessions.push(session);
      let previous: Promise<unknown> = Promise.resolve();
      results.set(
        page,
        page.examples.map((example) => {
          const result = previous.then(() => session.run(example));
          previous = result.catch(() => undefined);
          return result;
        }),
      );
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([...results.values()].flat());
  await Promise.all(sessions.map((session) => session.stop()));
});

for (const page of runnable) {
  describe(`the examples of ${page.file}`, () => {
    for (const [index, example] of page.examples.entries()) {
      it(
        example.name,
        async () => {
          const { problems, transcript } = await results.get(page)![index]!;
          expect(problems, transcript).toEqual([]);
        },
        180_000,
      );
    }
  });
}
