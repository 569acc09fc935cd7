# syntax=docker/dockerfile:1
# hopwatch's container image.
#
#   docker build -t hopwatch .                     # the runtime image: `hopwatch run` by default
#   docker build --target demo -t hopwatch:demo .  # the same plus nginx and dnsmasq for `hopwatch demo`
#
# CI has no Docker engine: scripts/image-recipe.sh performs these steps without one (same commands,
# the image's user and environment, a read-only root) and test/deploy/dockerfile.test.ts checks that
# the two agree. Change a step here, change it there.
#
# Pin the base by digest for byte-for-byte rebuilds: --build-arg NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:...
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: TypeScript to dist/. tsc needs the dev dependencies but no native module, so no install scripts run.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY test/lab ./test/lab
RUN npm run build

# --- deps: production dependencies only; better-sqlite3 compiled from source against this Node's own
# headers (no prebuilt binary downloaded, no headers fetched), then its sources and objects dropped.
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj node_modules/better-sqlite3/build/Release/obj.target node_modules/better-sqlite3/build/Release/.deps node_modules/better-sqlite3/build/Release/sqlite3.a node_modules/better-sqlite3/build/Release/test_extension.node \
 && npm cache clean --force

# --- app: the slim runtime (no compiler, no dev dependencies), as an unprivileged user.
FROM ${NODE_IMAGE} AS app
# The heap cap keeps RSS near 280 MB at 5,000 routes (the live set is under 100 MB). Without it
# `hopwatch run` bounds V8's heap growth itself (~300 MB RSS at 5,000 routes: bench/README.md); the
# cap is kept so the image's memory limit holds whatever V8 does. Raise it for clusters with many
# more routes: NODE_OPTIONS=--max-old-space-size=512.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=256 \
    HOPWATCH_LISTEN=0.0.0.0:8080 \
    HOPWATCH_DB=/data/hopwatch.db
WORKDIR /app
COPY package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY migrations ./migrations
COPY dashboard ./dashboard
COPY deploy/docker/healthcheck.mjs ./healthcheck.mjs
RUN ln -s /app/bin/hopwatch.js /usr/local/bin/hopwatch \
 && ln -s /app/bin/kubectl-hopwatch /usr/local/bin/kubectl-hopwatch \
 && mkdir -p /data \
 && chown 1000:1000 /data
# The node image's own unprivileged user, by number so Kubernetes can verify runAsNonRoot.
USER 1000:1000
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["hopwatch"]
CMD ["run"]

# --- demo: `hopwatch demo` runs a simulated cluster inside the container (real nginx and dnsmasq on loopback).
FROM app AS demo
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light dnsmasq-base \
 && rm -rf /var/lib/apt/lists/*
USER 1000:1000
CMD ["demo", "--listen", "0.0.0.0:8080"]

# --- runtime: the default target (the last stage), what `docker build .` produces.
FROM app AS runtime
