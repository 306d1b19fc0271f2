#!/usr/bin/env bash
# Installs and builds the project from a clean checkout. The one script both places that do
# this run: CI (.ci/run) and the container image (Dockerfile), so the image is built exactly as
# the code CI tested; server/test/unit/deployment.test.ts fails when either stops calling it.
set -euo pipefail
cd "$(dirname "$0")/.."
# Also runs the root "prepare" script: the SDK, the CLI and the web app (web/dist).
npm ci --no-audit --no-fund
# server/dist/main.js and admin.js, which `node server/dist/main.js` and the image run.
npm run build
