/**
 * A request fuzzer: malformed requests for a given route, built from a seeded PRNG so that a
 * failure replays from its seed. Each case starts from a plausible request for the route (a
 * real key, real ids, a body of the right kind) and breaks one part of it: the request line,
 * the path, the headers, a JSON body or a multipart body; or it sends junk after a request.
 */

export interface Random {
  /** 0 <= n < max */
  int(max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
}

/** mulberry32: tiny, fast and good enough to pick test inputs. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random: Random = {
    int: (max) => Math.floor(next() * max),
    pick: (items) => items[random.int(items.length)]!,
    chance: (probability) => next() < probability,
  };
  return random;
}

export interface FuzzRoute {
  method: string;
  /** Fastify's pattern: `/api/uploads/:id`, `/i/:file` ... */
  url: string;
}

/** What a plausible request needs: a working key and ids that exist. */
export interface FuzzTarget {
  token: string;
  uploadId: string;
  deletionSecret: string;
}

export interface FuzzCase {
  /** What was broken, for the failure report. */
  kind: string;
  bytes: Buffer;
  /** The (first) request is a HEAD: its answer has no body. */
  head: boolean;
}

interface Draft {
  method: string;
  target: string;
  version: string;
  eol: string;
  headers: [string, string | Buffer][];
  body: Buffer;
  /** false: the headers already say (or deliberately misstate) how long the body is. */
  contentLength: boolean;
  /** Bytes after the request, in the same write. */
  trailing: Buffer;
}

const BOUNDARY = 'fuzzBoundary7MA4YWxkTrZu0gW';

/** A plausible request for the route, before anything is broken. */
function draftFor(route: FuzzRoute, target: FuzzTarget): Draft {
  const path = route.url
    .replace(':id', target.uploadId)
    .replace(':secret', target.deletionSecret)
    .replace(':file', route.url.startsWith('/t/') ? `${target.uploadId}.webp` : `${target.uploadId}.png`);
  const draft: Draft = {
    method: route.method,
    target: path,
    version: 'HTTP/1.1',
    eol: '\r\n',
    headers: [
      ['Host', '127.0.0.1'],
      ['token', target.token],
      ['Accept', 'application/json'],
    ],
    body: Buffer.alloc(0),
    contentLength: true,
    trailing: Buffer.alloc(0),
  };
  if (route.url === '/api/upload') setMultipart(draft, multipartBody([{ headers: partHeaders('files[]', 'a.png'), data: TINY_PNG }]));
  else if (['POST', 'PATCH', 'PUT', 'DELETE'].includes(route.method)) setJson(draft, '{"name":"fuzz"}');
  return draft;
}

function setHeader(draft: Draft, name: string, value: string | Buffer): void {
  draft.headers = draft.headers.filter(([key]) => key.toLowerCase() !== name.toLowerCase());
  draft.headers.push([name, value]);
}

function setJson(draft: Draft, body: string | Buffer): void {
  setHeader(draft, 'Content-Type', 'application/json');
  draft.body = Buffer.from(body);
}

function setMultipart(draft: Draft, body: Buffer, contentType = `multipart/form-data; boundary=${BOUNDARY}`): void {
  setHeader(draft, 'Content-Type', contentType);
  draft.body = body;
}

function serialize(draft: Draft): Buffer {
  const { eol } = draft;
  const lines: Buffer[] = [Buffer.from(`${draft.method} ${draft.target} ${draft.version}${eol}`, 'latin1')];
  const sendLength = draft.contentLength && !(draft.body.length === 0 && ['GET', 'HEAD'].includes(draft.method));
  const headers = sendLength ? [...draft.headers, ['Content-Length', String(draft.body.length)] as [string, string]] : draft.headers;
  for (const [name, value] of headers) lines.push(Buffer.from(`${name}: `, 'latin1'), Buffer.from(value), Buffer.from(eol));
  lines.push(Buffer.from(eol), draft.body, draft.trailing);
  return Buffer.concat(lines);
}

// 1x1 PNG: a real image, so some uploads get far enough to be stored (and then all parts run).
const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

// ---------------------------------------------------------------- request line

function breakRequestLine(draft: Draft, random: Random): string {
  switch (random.int(5)) {
    case 0:
      draft.method = random.pick([
        'get',
        'G\x00ET',
        'PROPFIND',
        'CONNECT',
        'TRACE',
        'PRI',
        'OPTIONS',
        'PUT',
        '',
        'X'.repeat(300),
        'GET GET',
        '\x7f',
      ]);
      return `method ${JSON.stringify(draft.method.slice(0, 20))}`;
    case 1:
      draft.target = random.pick([
        '*',
        '',
        ' ',
        `http://127.0.0.1${draft.target}`,
        `http://[::1${draft.target}`,
        `//${draft.target}`,
        `${draft.target} ${draft.target}`,
        `${draft.target}\x00`,
        `${draft.target}\t`,
        'example.com:443',
        `/..${draft.target}`,
        `\\${draft.target.slice(1)}`,
      ]);
      return 'request target';
    case 2:
      draft.version = random.pick([
        'HTTP/1.0',
        'HTTP/0.9',
        'HTTP/2.0',
        'HTTP/1.1x',
        '',
        'http/1.1',
        'HTTP/1.1 extra',
        'HTTP/9.9',
        'HTTP/1',
        'HTTPS/1.1',
      ]);
      return `version ${JSON.stringify(draft.version)}`;
    case 3:
      draft.eol = random.pick(['\n', '\r', '\r\r\n', '\n\r']);
      return 'line endings';
    default:
      draft.method = random.pick(['GET', 'POST', 'DELETE', 'PATCH', 'HEAD']);
      draft.target = `${draft.target}${random.pick(['', '/', '//', '/x'])}`;
      return `method ${draft.method} on a neighbour path`;
  }
}

// ---------------------------------------------------------------- path

const BROKEN_ESCAPES = ['%', '%f', '%ff', '%zz', '%c3%28', '%e2%82', '%00', '%2e%2e', '%2f', '%25', '%u0041', '%%', '%C0%AF', '%ed%a0%80'];
const ODD_CHARS = ['..', '//', ';', '\\', '"', '<', '{', '|', '^', '`', '\x7f', '\u00e9', '\u{1f600}', '\xff', '~', '!', '@', '(', ')'];

function breakPath(draft: Draft, random: Random): string {
  const segments = draft.target.split('/');
  const index = 1 + random.int(Math.max(1, segments.length - 1));
  switch (random.int(4)) {
    case 0: {
      const escape = random.pick(BROKEN_ESCAPES);
      segments[index] = random.chance(0.5) ? `${segments[index] ?? ''}${escape}` : escape;
      draft.target = segments.join('/');
      return `path escape ${escape}`;
    }
    case 1: {
      const length = random.pick([81, 201, 256, 1_000, 4_000, 9_000, 20_000]);
      segments[index] = 'a'.repeat(length);
      draft.target = segments.join('/');
      return `path segment of ${length}`;
    }
    case 2: {
      const odd = Array.from({ length: 1 + random.int(3) }, () => random.pick(ODD_CHARS)).join('');
      segments[index] = random.chance(0.5) ? `${segments[index] ?? ''}${odd}` : odd;
      // Raw bytes above 0x7f go out as UTF-8, the way a careless client would send them.
      draft.target = Buffer.from(segments.join('/')).toString('latin1');
      return 'odd characters in the path';
    }
    default: {
      const query = random.pick([
        '?limit=abc',
        '?limit=10&limit=20',
        '?limit[]=1',
        '?limit=1e400',
        '?limit=-1',
        '?limit=0x10',
        '?%ff=1',
        '?=&=&&',
        '?url=%ff',
        '?url=http://127.0.0.1/%ff',
        '?before=../../etc',
        '?upload=%00',
        `?${'a=1&'.repeat(2_000)}`,
        `?limit=${'9'.repeat(400)}`,
        '?__proto__[admin]=1',
        '?constructor[prototype][admin]=1',
        '#fragment',
        '?',
      ]);
      draft.target = `${draft.target}${query}`;
      return `query ${query.slice(0, 30)}`;
    }
  }
}

// ---------------------------------------------------------------- headers

function breakHeaders(draft: Draft, random: Random): string {
  switch (random.int(12)) {
    case 0: {
      const value = random.pick([
        '-1',
        'abc',
        '1e3',
        '+5',
        ' 5',
        '99999999999999999999',
        '0x10',
        '5, 6',
        '',
        String(draft.body.length + 50),
      ]);
      draft.contentLength = false;
      draft.headers.push(['Content-Length', value]);
      if (random.chance(0.3)) draft.headers.push(['Content-Length', String(draft.body.length)]);
      return `content-length ${JSON.stringify(value)}`;
    }
    case 1: {
      const value = random.pick([
        'chunked',
        'chunked, chunked',
        'gzip, chunked',
        'xchunked',
        'chunked\t',
        'identity',
        'chunked, identity',
        'CHUNKED',
      ]);
      const keepLength = random.chance(0.5);
      draft.contentLength = keepLength;
      draft.headers.push(['Transfer-Encoding', value]);
      if (random.chance(0.3)) draft.headers.push(['Transfer-Encoding', random.pick(['chunked', 'gzip'])]);
      const size = draft.body.length.toString(16);
      draft.body = random.pick([
        Buffer.concat([Buffer.from(`${size}\r\n`), draft.body, Buffer.from('\r\n0\r\n\r\n')]),
        Buffer.concat([Buffer.from(`${size};ext=${'x'.repeat(random.int(20_000))}\r\n`), draft.body, Buffer.from('\r\n0\r\n\r\n')]),
        Buffer.from('zz\r\nhello\r\n0\r\n\r\n'),
        Buffer.concat([Buffer.from(`${size}\r\n`), draft.body]),
        Buffer.from('ffffffffffffffff\r\nx\r\n'),
        Buffer.from('0\r\nX-Trailer: 1\r\n\r\n'),
      ]);
      return `transfer-encoding ${JSON.stringify(value)}${keepLength ? ' with content-length' : ''}`;
    }
    case 2: {
      const cookie = random.pick([
        'di_session=%ff',
        `di_session=${'a'.repeat(5_000)}`,
        '=;;=;',
        'di_session="unterminated',
        Array.from({ length: 300 }, (_, i) => `c${i}=${i}`).join('; '),
        'di_session=\xff\xfe',
        'di_session=a; di_session=b',
        'di_session',
      ]);
      setHeader(draft, 'Cookie', Buffer.from(cookie, 'latin1'));
      if (random.chance(0.5)) draft.headers = draft.headers.filter(([name]) => name !== 'token');
      return 'cookie';
    }
    case 3: {
      const token = random.pick([
        '',
        ' ',
        'di_',
        `di_${'A'.repeat(40)}`,
        'di_%ff',
        'x'.repeat(10_000),
        'di_\xe9\xe9',
        `di_${'a'.repeat(40)} extra`,
        'null',
      ]);
      setHeader(draft, 'token', Buffer.from(token, 'latin1'));
      if (random.chance(0.3)) draft.headers.push(['token', 'second']);
      return `token ${JSON.stringify(token.slice(0, 20))}`;
    }
    case 4: {
      draft.headers = draft.headers.filter(([name]) => name !== 'token');
      const value = random.pick([
        'Bearer',
        'Bearer ',
        'Bearer a b',
        'Basic dXNlcjpwYXNz',
        'bearer di_x',
        '\tBearer x',
        `Bearer ${'A'.repeat(9_000)}`,
        'Digest x=y',
      ]);
      draft.headers.push(['Authorization', value]);
      return `authorization ${JSON.stringify(value.slice(0, 20))}`;
    }
    case 5: {
      const value = random.pick([
        '',
        'text/html',
        '*/*;q=abc',
        'application/json;q=0',
        'application/*',
        ',,,,',
        Array(2_000).fill('a/b').join(','),
        'application/json;q=1e400',
        '*/*;q=-1',
      ]);
      setHeader(draft, 'Accept', value);
      return `accept ${JSON.stringify(value.slice(0, 20))}`;
    }
    case 6: {
      const size = random.pick([8_000, 15_000, 16_300, 17_000, 40_000, 100_000]);
      draft.headers.push(['X-Huge', 'h'.repeat(size)]);
      return `header of ${size} bytes`;
    }
    case 7: {
      const count = random.pick([100, 500, 2_001, 3_000]);
      for (let i = 0; i < count; i++) draft.headers.push([`X-Many-${i}`, String(i)]);
      return `${count} headers`;
    }
    case 8: {
      const line = random.pick([
        'Bad Header: x',
        'X:Y:Z',
        '\xe9: x',
        ': empty name',
        'no colon at all',
        ' folded continuation',
        'X-Nul: a\x00b',
        'X-Cr: a\rb',
      ]);
      draft.headers.splice(1 + random.int(draft.headers.length - 1), 0, [line, '']);
      return `header line ${JSON.stringify(line)}`;
    }
    case 9: {
      const value = random.pick([
        'application/json; charset=utf-16',
        'multipart/form-data',
        'multipart/form-data; boundary=',
        ';;;',
        'application/json, text/plain',
        '\xff/x',
        'application/x-www-form-urlencoded',
        'text/plain',
        'application/octet-stream',
        'application/xml',
        `multipart/form-data; boundary=${'b'.repeat(300)}`,
        'image/png',
      ]);
      setHeader(draft, 'Content-Type', Buffer.from(value, 'latin1'));
      return `content-type ${JSON.stringify(value.slice(0, 30))}`;
    }
    case 10: {
      const [name, value] = random.pick([
        ['Expect', '100-continue'],
        ['Expect', 'something-else'],
        ['Host', ''],
        ['Host', 'a b'],
        ['Host', '127.0.0.1, evil.example'],
        ['Range', 'bytes=5-1'],
        ['Range', `bytes=${Array(1_000).fill('0-0').join(',')}`],
        ['Range', 'items=0-1'],
        ['If-None-Match', '"\xff", *, W/'],
        ['If-Range', 'Thu, 99 Foo 9999'],
        ['X-Forwarded-For', '::::, 999.1.1.1, %ff'],
        ['Connection', 'keep-alive, Upgrade'],
        ['Upgrade', 'websocket'],
        ['Upgrade', 'h2c'],
        ['X-Embed-Title', '\xe2\x80\xae\x00evil'],
        ['X-Embed-Color', '#zzzzzz'],
        ['X-Csrf-Token', '\xff'],
      ] as const);
      draft.headers.push([name, Buffer.from(value, 'latin1')]);
      return `header ${name}: ${JSON.stringify(value.slice(0, 20))}`;
    }
    default:
      if (random.chance(0.5)) draft.headers = draft.headers.filter(([name]) => name !== 'Host');
      else draft.headers.push(['Host', 'second.example']);
      return 'missing or duplicate host';
  }
}

// ---------------------------------------------------------------- JSON bodies

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

const JSON_BODIES: readonly ((random: Random) => string)[] = [
  () => '{',
  () => '{"name":',
  () => '[',
  () => 'nul',
  () => '"\\ud800"',
  () => '\u0000',
  () => '{"name":"a",}',
  () => '\ufeff{}',
  () => '',
  () => ' ',
  () => '{"name":12}',
  () => '{"name":null}',
  () => '{"name":[]}',
  () => '{"name":{}}',
  () => '{"name":true}',
  () => '{"username":1,"password":2}',
  () => '{"username":["a"],"password":{"b":1}}',
  () => '{"enabled":"yes"}',
  () => '{"enabled":1}',
  () => '{"title":5}',
  () => '{"color":12345}',
  () => '[]',
  () => '12',
  () => '"string"',
  () => 'null',
  () => 'true',
  (random) => nested(random.pick([100, 1_000, 10_000, 30_000])),
  (random) => `{"name":${nested(random.pick([100, 5_000, 20_000]))}}`,
  (random) => `${'{"a":'.repeat(random.pick([500, 5_000]))}1${'}'.repeat(5_000)}`,
  () => '{"name":1e400}',
  () => '{"name":123456789012345678901234567890}',
  () => '{"limit":-0}',
  () => '{"name":NaN}',
  () => '{"__proto__":{"admin":true,"role":"admin"}}',
  () => '{"name":"x","__proto__":{"role":"admin"}}',
  () => '{"constructor":{"prototype":{"admin":true}}}',
  () => '{"name":"x","constructor":{"prototype":{"admin":true}}}',
  () => `{"name":"${'a'.repeat(60_000)}"}`,
  () => `{"name":"${'a'.repeat(200_000)}"}`,
  () => '{"name":"a","name":"b"}',
  () => '{"name":"\\u202e\\u0000"}',
  () => '{"title":"\\ud83d"}',
  () => `{${Array.from({ length: 3_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`,
];

/** One of the malformed or ill-typed JSON bodies (for clients such as fetch, too). */
export function fuzzJsonBody(random: Random): { index: number; body: string } {
  const index = random.int(JSON_BODIES.length);
  return { index, body: JSON_BODIES[index]!(random) };
}

function breakJson(draft: Draft, random: Random): string {
  const { index, body } = fuzzJsonBody(random);
  setJson(draft, body);
  if (random.chance(0.15))
    setHeader(draft, 'Content-Type', random.pick(['application/json; charset=latin1', 'text/plain', 'application/vnd.api+json']));
  if (draft.method === 'GET' || draft.method === 'HEAD') draft.method = random.pick(['POST', 'PATCH', 'DELETE', draft.method]);
  return `json body #${index}`;
}

// ---------------------------------------------------------------- multipart bodies

interface PartDraft {
  headers: string;
  data: Buffer;
}

const partHeaders = (name: string, filename?: string) =>
  `Content-Disposition: form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}\r\nContent-Type: image/png\r\n`;

function multipartBody(parts: PartDraft[], boundary = BOUNDARY, close = true): Buffer {
  const chunks = parts.flatMap((part) => [Buffer.from(`--${boundary}\r\n${part.headers}\r\n`), part.data, Buffer.from('\r\n')]);
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

function breakMultipart(draft: Draft, random: Random): string {
  const image = { headers: partHeaders('files[]', 'a.png'), data: TINY_PNG };
  const variants: readonly [string, () => void][] = [
    ['boundary mismatch', () => setMultipart(draft, multipartBody([image], 'other'))],
    ['no boundary', () => setMultipart(draft, multipartBody([image]), 'multipart/form-data')],
    ['empty boundary', () => setMultipart(draft, multipartBody([image], ''), 'multipart/form-data; boundary=')],
    [
      'overlong boundary',
      () => setMultipart(draft, multipartBody([image], 'b'.repeat(200)), `multipart/form-data; boundary=${'b'.repeat(200)}`),
    ],
    ['quoted boundary', () => setMultipart(draft, multipartBody([image], 'a b'), 'multipart/form-data; boundary="a b"')],
    [
      'truncated',
      () => {
        const whole = multipartBody([image, image]);
        setMultipart(draft, whole.subarray(0, random.int(whole.length)));
      },
    ],
    ['no closing boundary', () => setMultipart(draft, multipartBody([image], BOUNDARY, false))],
    ['part without headers', () => setMultipart(draft, multipartBody([{ headers: '', data: TINY_PNG }]))],
    ['part without disposition', () => setMultipart(draft, multipartBody([{ headers: 'Content-Type: image/png\r\n', data: TINY_PNG }]))],
    [
      'huge part header',
      () =>
        setMultipart(
          draft,
          multipartBody([{ headers: `${image.headers}X-Pad: ${'p'.repeat(random.pick([10_000, 100_000]))}\r\n`, data: TINY_PNG }]),
        ),
    ],
    [
      'many part headers',
      () =>
        setMultipart(
          draft,
          multipartBody([{ headers: image.headers + Array.from({ length: 500 }, (_, i) => `X-${i}: ${i}\r\n`).join(''), data: TINY_PNG }]),
        ),
    ],
    ['wrong field name', () => setMultipart(draft, multipartBody([{ headers: partHeaders('avatar', 'a.png'), data: TINY_PNG }]))],
    [
      'odd file name',
      () =>
        setMultipart(
          draft,
          multipartBody([
            {
              headers: partHeaders(
                'files[]',
                random.pick(['../../etc/passwd', 'a\x00b.png', 'x'.repeat(1_000), '%ff.png', '\u202egnp.exe']),
              ),
              data: TINY_PNG,
            },
          ]),
        ),
    ],
    ['text field only', () => setMultipart(draft, multipartBody([{ headers: partHeaders('note'), data: Buffer.from('hello') }]))],
    ['many parts', () => setMultipart(draft, multipartBody(Array.from({ length: random.pick([30, 120]) }, () => image)))],
    [
      'not an image',
      () =>
        setMultipart(draft, multipartBody([image, { headers: partHeaders('files[]', 'b.png'), data: Buffer.from('not an image at all') }])),
    ],
    ['empty file', () => setMultipart(draft, multipartBody([{ headers: partHeaders('files[]', 'empty.png'), data: Buffer.alloc(0) }]))],
    ['preamble junk', () => setMultipart(draft, Buffer.concat([Buffer.from('junk before\r\n'), multipartBody([image])]))],
    ['LF line endings', () => setMultipart(draft, Buffer.from(multipartBody([image]).toString('latin1').replace(/\r\n/g, '\n'), 'latin1'))],
    [
      'nested multipart/mixed',
      () =>
        setMultipart(
          draft,
          multipartBody([
            {
              headers: 'Content-Disposition: form-data; name="files[]"\r\nContent-Type: multipart/mixed; boundary=inner\r\n',
              data: Buffer.from('--inner\r\n\r\nx\r\n--inner--'),
            },
          ]),
        ),
    ],
    ['empty body', () => setMultipart(draft, Buffer.alloc(0))],
    [
      'embed fields',
      () =>
        setMultipart(
          draft,
          multipartBody([
            {
              headers: partHeaders(random.pick(['embed_title', 'embed_color', 'embed_enabled', '__proto__'])),
              data: Buffer.from(random.pick(['\xff', '#zz', 'maybe', 'x'.repeat(70_000)]), 'latin1'),
            },
            image,
          ]),
        ),
    ],
  ];
  const [name, apply] = random.pick(variants);
  apply();
  if (draft.method === 'GET' || draft.method === 'HEAD') draft.method = 'POST';
  return `multipart: ${name}`;
}

// ---------------------------------------------------------------- junk after a request

function addTrailing(draft: Draft, random: Random): string {
  draft.headers.push(['Connection', 'keep-alive']);
  const junk = random.pick([
    'x',
    '\r\n\r\n',
    'GET /healthz HTTP/1.1\r\n',
    'GET /%ff HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST /api/auth/login HTTP/1.1\r\nContent-Length: 5\r\n\r\n{',
    '\x00\x01\x02\xff',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  ]);
  draft.trailing = Buffer.from(junk, 'latin1');
  return `junk after the request: ${JSON.stringify(junk.slice(0, 20))}`;
}

const BREAKERS = [breakRequestLine, breakPath, breakHeaders, breakHeaders, breakJson, breakMultipart, addTrailing] as const;

/** One malformed request for `route`: a plausible request with one or two parts broken. */
export function fuzzCase(random: Random, route: FuzzRoute, target: FuzzTarget): FuzzCase {
  const draft = draftFor(route, target);
  const kinds = [random.pick(BREAKERS)(draft, random)];
  if (random.chance(0.25)) kinds.push(random.pick(BREAKERS)(draft, random));
  return { kind: `${route.method} ${route.url}: ${kinds.join(' + ')}`, bytes: serialize(draft), head: draft.method === 'HEAD' };
}
