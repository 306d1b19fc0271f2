/**
 * The setup page's files as pure functions (web/src/tool-files.ts): what a person downloads for
 * ShareX, a shell and curl, for any server address and key. The browser test
 * (web-settings.browser.test.ts) runs the downloaded files against a real server.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { sharexUploader } from '@discord-images/sdk';
import { describe, expect, it } from 'vitest';
import { curlOneLiner, hostLabel, shellQuote, shellScript, sxcuFile } from '../web/src/tool-files.js';

const TOKEN = `di_${'Ab3'.repeat(13)}x`;
const ORIGIN = 'https://img.example.com';

const bash = (script: string, args: string[] = []): string => execFileSync('bash', ['-c', script, 'bash', ...args], { encoding: 'utf8' });

describe('the setup page files', () => {
  it('the .sxcu is the uploader of docs/sharex.md for this server and key, named after the host', async () => {
    const docs = await readFile(new URL('../docs/sharex.md', import.meta.url), 'utf8');
    const documented = JSON.parse(/```json\n(\{\n {2}"Version"[\s\S]+?)```/.exec(docs)![1]!) as Record<string, unknown>;
    const file = sxcuFile(ORIGIN, TOKEN);
    expect(file.filename).toBe('img.example.com.sxcu');
    expect(JSON.parse(file.text)).toEqual({
      ...documented,
      Name: 'Discord Images (img.example.com)',
      RequestURL: 'https://img.example.com/api/upload',
      Headers: { token: TOKEN },
    });
    // The same object the CLI prints, but for the name.
    expect(JSON.parse(file.text)).toEqual({
      ...sharexUploader({ baseUrl: `${ORIGIN}/`, token: TOKEN }),
      Name: 'Discord Images (img.example.com)',
    });
  });

  it('names files after the host, a port included', () => {
    expect(hostLabel('http://localhost:3000')).toBe('localhost-3000');
    expect(sxcuFile('http://localhost:3000', TOKEN).filename).toBe('localhost-3000.sxcu');
    expect(JSON.parse(sxcuFile('http://localhost:3000', TOKEN).text)).toMatchObject({ Name: 'Discord Images (localhost:3000)' });
    expect(shellScript('http://localhost:3000', TOKEN).filename).toBe('localhost-3000-upload.sh');
    expect(curlOneLiner('http://localhost:3000', TOKEN).filename).toBe('localhost-3000-curl.sh');
  });

  it('quotes any text as one shell word', () => {
    for (const text of ['plain', `it's "quoted" $HOME \`ls\` ; rm -rf / \\ *`, '', 'token: di_x', "''"]) {
      expect(bash(`printf %s ${shellQuote(text)}`)).toBe(text);
    }
  });

  it('the script is valid bash that holds the address and the key', () => {
    const { text, type } = shellScript(ORIGIN, TOKEN);
    expect(type).toBe('text/x-shellscript');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain(`DI_URL=${ORIGIN}\n`);
    expect(text).toContain(`DI_TOKEN=${TOKEN} `);
    execFileSync('bash', ['-n'], { input: text });
  });

  it('the one-liner is one curl command with the key header and a files[] part', () => {
    const { text } = curlOneLiner(ORIGIN, TOKEN);
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(text).toBe(`curl -H 'token: ${TOKEN}' -F 'files[]=@screenshot.png' ${ORIGIN}/api/upload\n`);
    execFileSync('bash', ['-n'], { input: text });
  });
});
