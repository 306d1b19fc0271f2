import { describe, expect, it } from 'vitest';
import { extractExamples, extractSpecSamples } from './helpers/docs-examples.js';

// The doc-example runner's reading of markdown and of the spec's code samples: what it runs and
// what it refuses to guess.

describe('what the doc-example runner picks up', () => {
  it('takes shell and JavaScript blocks with their options, names them by line, and makes no test for a skip', () => {
    const markdown = [
      '# Page',
      '```sh',
      'curl a',
      '```',
      '<!-- example: skip: a sketch of a terminal session -->',
      '```sh',
      'not run',
      '```',
      '```json',
      '{}',
      '```',
      '<!-- example: expect 401, 404; continues -->',
      '',
      '```javascript',
      'await b;',
      '```',
    ].join('\n');
    expect(extractExamples(markdown, 'page.md')).toEqual([
      { name: 'page.md:2 (sh)', lang: 'sh', code: 'curl a', expect: [], prelude: false, continues: false },
      { name: 'page.md:14 (js)', lang: 'js', code: 'await b;', expect: [401, 404], prelude: false, continues: true },
    ]);
  });

  it('refuses a skip without a reason and an option it does not know', () => {
    expect(() => extractExamples('<!-- example: skip -->\n```sh\nx\n```\n', 'page.md')).toThrow(/must say why/);
    expect(() => extractExamples('<!-- example: expcet 401 -->\n```sh\nx\n```\n', 'page.md')).toThrow(/unknown example option/);
  });

  it("takes every x-codeSamples entry of the spec's operations", () => {
    const spec = {
      paths: {
        '/api/me': {
          get: {
            'x-codeSamples': [
              { lang: 'Shell', label: 'curl', source: 'curl x' },
              { lang: 'JavaScript', source: 'await y;' },
            ],
          },
        },
      },
    };
    expect(extractSpecSamples(spec, 'openapi.json').map(({ name, lang, code }) => ({ name, lang, code }))).toEqual([
      { name: 'openapi.json GET /api/me (curl)', lang: 'sh', code: 'curl x' },
      { name: 'openapi.json GET /api/me (JavaScript)', lang: 'js', code: 'await y;' },
    ]);
  });
});
