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
];
if (existsSync(join(ROOT, SPEC))) {
  pages.push({ file: SPEC, account: true, examples: extractSpecSamples(JSON.parse(readFileSync(join(ROOT, SPEC), 'utf8')), SPEC) });
}

for (const page of pages.filter((candidate) => candidate.examples.length > 0)) {
  describe(`the examples of ${page.file}`, () => {
    let session: ExampleSession;
    let results: Array<Promise<ExampleResult>> = [];

    beforeAll(async () => {
      session = await ExampleSession.start({ account: page.account });
      // Started now, one after another in page order; each test awaits its own.
      let previous: Promise<unknown> = Promise.resolve();
      results = page.examples.map((example) => {
        const result = previous.then(() => session.run(example));
        previous = result.catch(() => undefined);
        return result;
      });
    }, 120_000);
    afterAll(async () => {
      await Promise.allSettled(results);
      await session?.stop();
    });

    for (const [index, example] of page.examples.entries()) {
      it(example.name, async () => {
        const { problems, transcript } = await results[index]!;
        expect(problems, transcript).toEqual([]);
      }, 180_000);
    }
  });
}
