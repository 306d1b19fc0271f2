# syntax=docker/dockerfile:1
# Discord Images as a container image: docker build -t discord-images .
# This image is not built in this repository's CI (the CI machine has no Docker daemon and no
# internet access): what is checked is that it builds with the same script as CI (see below and
# docs/deployment.md#container-image).

FROM node:20-bookworm-slim AS build
# better-sqlite3 downloads a prebuilt binary for Node 20; a compiler is its fallback when none fits.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# The same install and build as CI (.ci/run), so the two cannot drift; then the dev tools go.
RUN scripts/ci-build.sh \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# glibc's allocator with two arenas, as `npm start` sets it (docs/configuration.md).
ENV DATA_DIR=/data \
  MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/server/package.json ./server/
COPY --from=build /app/server/dist ./server/dist
COPY --from=build /app/web/package.json ./web/
COPY --from=build /app/web/dist ./web/dist
# The official image's unprivileged user (uid 1000) owns the data directory and runs the server.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
# Liveness only (/healthz): a node whose database is away should restart no more than it would
# without a container; load balancers ask /readyz. No curl in the slim image: Node's fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself as PID 1 takes SIGTERM and drains (SHUTDOWN_TIMEOUT); run with --init (compose:
# init: true) so that a zombie is reaped too.
CMD ["node", "server/dist/main.js"]
