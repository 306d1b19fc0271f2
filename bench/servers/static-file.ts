/**
 * Reference point for raw serving: the least a Node server does to send a file, i.e.
 * node:http plus fs.createReadStream piped to the response: no framework, no routing, no
 * cache, one process. Usage: static-file.ts <file> <port>
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';

const [file = '', port = ''] = process.argv.slice(2);
if (!file || !port) throw new Error('usage: static-file.ts <file> <port>');
// The file never changes during a run, so its size is read once rather than per request.
const size = statSync(file).size;

createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': size });
  if (req.method === 'HEAD') return void res.end();
  // .pipe() rather than stream.pipeline(): the classic idiom, and measurably cheaper here.
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}).listen(Number(port), '127.0.0.1', () => console.log(`static-file listening on 127.0.0.1:${port}`));
