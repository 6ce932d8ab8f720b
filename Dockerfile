# syntax=docker/dockerfile:1
# Build: the bundles in dist/ carry every production dependency, so the runtime stage needs Node
# and those files: no node_modules, no package manager, no shell.
FROM node:22-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/build-options.mjs scripts/
COPY src src
RUN npm run build

# Runtime: distroless Node 22, non-root (uid 65532), read-only root filesystem friendly: the agent
# writes nothing to disk but the code it compiled in /tmp (deploy/ mounts an emptyDir there, which
# outlives a container's restart; without one, the cache is skipped). Kubernetes probes replace a HEALTHCHECK.
FROM gcr.io/distroless/nodejs22-debian12:nonroot AS runtime
WORKDIR /app
# The entry, the bundle of each command, their source maps (node --enable-source-maps turns a
# stack trace back into source lines) and the licences of everything bundled.
COPY --from=build /src/dist/ /app/
USER 65532:65532
# The agent keeps the code it compiled in /tmp: a restarted container skips compiling it (about a
# third of the start to the first sync, BENCHMARKS.md).
ENV NODE_ENV=production LOG_FORMAT=json NODE_COMPILE_CACHE=/tmp/node-compile-cache
EXPOSE 8080
STOPSIGNAL SIGTERM
# A young generation of 4 MB instead of V8's 16: the agent allocates in short bursts, and the
# larger one kept about 60 MB of RSS after start-up for nothing (BENCHMARKS.md, memory).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=4", "/app/main.js"]
CMD ["run"]
