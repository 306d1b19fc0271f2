#!/usr/bin/env node
// Committed, so that npm links the command before anything is built; the code is
// dist/cli.js, built by `npm install` at the repository root (its prepare script).
import process from 'node:process';

import('../dist/cli.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('cli.js')) {
    process.stderr.write('discord-images: not built yet: run npm install (or npm run build -w @discord-images/cli)\n');
    process.exit(1);
  }
  throw error;
});
