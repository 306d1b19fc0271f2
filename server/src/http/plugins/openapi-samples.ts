import { STATUS_CODES } from 'node:http';
import { ERROR_STATUS } from '../../domain/errors.js';

/**
 * The curl and JavaScript example of every operation (`x-codeSamples`, which /docs shows), made
 * from one template per language so that they cannot disagree with the route: its method, path,
 * whether it needs a key, and the body below. They follow the docs' conventions (docs/api.md):
 * the key in $TOKEN (alice's, the admin's), `screenshot.png` in the working directory, the sample ids of SPEC.md and
 * docs/api.md (another account: `pR4mWz9KcT2vYh6B`); the
 * suite runs every one of them against a real server (e2e/docs-examples.e2e.test.ts).
 */
/** The server URL the committed document (packages/sdk/openapi.json) and its samples name. */
export const DOCUMENT_SERVER = 'http://localhost:3000';

export interface CodeSample {
  lang: 'Shell' | 'JavaScript';
  label: string;
  source: string;
}

/** The sample values of path parameters, by path. */
const PATH_VALUES: Record<string, Record<string, string>> = {
  '/api/keys/{id}': { id: 'lIhSsJ8NbyqmtKtt' },
  '/api/admin/users/{id}': { id: 'pR4mWz9KcT2vYh6B' },
  '/api/admin/invites/{id}': { id: 'Hq2Wm9ZtR4cLx7Vb' },
  '/i/{file}': { file: 'k3J9aQ2xZp.png' },
  '/t/{file}': { file: 'k3J9aQ2xZp.webp' },
  '/d/{id}/{secret}': { id: 'k3J9aQ2xZp', secret: 'Vn2oQ7xLc4RtY8sKp1ZdW6mB3hFj9aEu' },
};
const DEFAULT_VALUES: Record<string, string> = { id: 'k3J9aQ2xZp' };

/** Query strings and JSON bodies of the operations that take them, by `METHOD path`. */
const QUERIES: Record<string, string> = {
  'GET /api/uploads': '?limit=50&q=screenshot',
  'GET /api/admin/users': '?limit=50',
  'GET /api/me/embed/preview': '?upload=k3J9aQ2xZp',
  'GET /api/oembed': `?url=${DOCUMENT_SERVER}/k3J9aQ2xZp`,
};
const BODIES: Record<string, object> = {
  'POST /api/auth/register': { username: 'alice', password: 'correct horse battery' },
  'POST /api/auth/login': { username: 'alice', password: 'correct horse battery' },
  'POST /api/keys': { name: 'ShareX on my laptop' },
  'PATCH /api/me/embed': { title: '{file.name}', color: 'auto' },
  'POST /api/me/embed/preview': { upload: 'k3J9aQ2xZp', embed: { title: '{file.name} by {user.name}', color: '#5865f2' } },
  'PATCH /api/admin/embed': { site_name: 'My image host' },
  'PATCH /api/admin/users/{id}': { quota_bytes: 1073741824 },
  'POST /api/admin/invites': { max_uses: 5, expires_in_days: 30 },
  // Harmless to run: the reader's password stays what it was.
  'POST /api/me/password': { current_password: 'correct horse battery', new_password: 'correct horse battery' },
};
/** Answers that are bytes: saved to a new file, never over the reader's own. */
const SAVE_AS: Record<string, string> = {
  '/i/{file}': 'downloaded.png',
  '/t/{file}': 'thumbnail.webp',
  '/favicon.svg': 'favicon.svg',
  '/favicon.ico': 'favicon.ico',
};

export function codeSamples(method: string, path: string, needsKey: boolean): CodeSample[] {
  const verb = method.toUpperCase();
  const key = `${verb} ${path}`;
  const values = PATH_VALUES[path] ?? DEFAULT_VALUES;
  const url = `${DOCUMENT_SERVER}${path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? name)}${QUERIES[key] ?? ''}`;
  const body = BODIES[key];
  const upload = key === 'POST /api/upload';
  // The deletion link's POST answers a page to browsers and 204 to a client asking for JSON.
  const asksJson = key === 'POST /d/{id}/{secret}';
  const saveAs = SAVE_AS[path];

  const curl = [`curl${verb === 'GET' ? '' : ` -X ${verb}`} "${url}"`];
  if (needsKey) curl.push(`-H "token: $TOKEN"`);
  if (asksJson) curl.push(`-H 'accept: application/json'`);
  if (body) curl.push(`-H 'content-type: application/json'`, `-d '${JSON.stringify(body)}'`);
  if (upload) curl.push(`-F 'files[]=@screenshot.png'`);
  if (saveAs) curl.push(`-o ${saveAs}`);

  const headers = [
    needsKey && 'token: process.env.TOKEN',
    asksJson && "accept: 'application/json'",
    body && "'content-type': 'application/json'",
  ]
    .filter(Boolean)
    .join(', ');
  const options = [
    verb !== 'GET' && `method: '${verb}'`,
    headers && `headers: { ${headers} }`,
    body && `body: JSON.stringify(${JSON.stringify(body)})`,
    upload && 'body: form',
  ].filter(Boolean);
  const js = [
    ...(upload
      ? [
          "import { openAsBlob } from 'node:fs';",
          '',
          'const form = new FormData();',
          "form.append('files[]', await openAsBlob('screenshot.png'), 'screenshot.png');",
        ]
      : []),
    `const res = await fetch('${url}'${options.length ? `, { ${options.join(', ')} }` : ''});`,
    saveAs
      ? `console.log(res.status, res.headers.get('content-type'), (await res.arrayBuffer()).byteLength);`
      : 'console.log(res.status, await res.text());',
  ];
  return [
    { lang: 'Shell', label: 'curl', source: curl.join(' \\\n  ') },
    { lang: 'JavaScript', label: 'JavaScript (fetch)', source: js.join('\n') },
  ];
}

/** The error catalogue as a Markdown table, for the document's description. */
export function errorTable(): string {
  const rows = Object.entries(ERROR_STATUS).map(([code, status]) => `| ${status} | ${STATUS_CODES[status]} | \`${code}\` |`);
  return ['| status | meaning | code |', '| --- | --- | --- |', ...rows].join('\n');
}
