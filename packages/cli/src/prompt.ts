import { createInterface } from 'node:readline/promises';
import { CliError, INTERRUPTED } from './errors.js';

/** Asks on the terminal (prompt on stderr, so stdout stays clean); `fallback` is shown and taken on Enter. */
export async function ask(question: string, fallback?: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(fallback ? `${question} [${fallback}]: ` : `${question}: `)).trim();
    return answer || fallback || '';
  } finally {
    rl.close();
  }
}

/** Asks without echoing what is typed (a key, a password). Ctrl+C stops the command. */
export async function askHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(`${question}: `);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let answer = '';
      const onData = (chunk: string) => {
        for (const char of chunk) {
          if (char === '\r' || char === '\n' || char === '\u0004') {
            input.off('data', onData);
            return resolve(answer);
          }
          if (char === '\u0003') {
            input.off('data', onData);
            return reject(new CliError('interrupted', { exitCode: INTERRUPTED }));
          }
          if (char === '\u007f' || char === '\b') answer = answer.slice(0, -1);
          else answer += char;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}

/** All of stdin as text (a password piped in), without its final newline. */
export async function readStdinText(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
