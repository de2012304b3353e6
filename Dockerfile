# syntax=docker/dockerfile:1
# Production image: the compiled daemon (bundled: dist/bundle, see build/bundle.ts) on Node 20, with fping (many hosts per process) and ping for icmp probes.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native addon when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# `npm ci` builds dist/ itself (the prepare script runs tsc, Vite and build/bundle.ts), so the sources are copied before it;
# the npm cache mount keeps a change of src/ from downloading every package again.
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY portal ./portal
COPY build ./build
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends fping iputils-ping tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# MALLOC_ARENA_MAX: as deploy/incidentd.service (two malloc arenas: a lower RSS, see there).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    INCIDENTD_LISTEN_HOST=0.0.0.0
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json: "type": "module" for dist/, and the version `incidentd --version` prints.
COPY package.json LICENSE ./
# Example files, used when nothing is mounted over them; docker-compose.yml bind-mounts the
# project's config/, probes/ and rules/ instead, so edits reload without a rebuild.
COPY config ./config
COPY probes ./probes
COPY rules ./rules
# State (the SQLite store and the intake journal) lives under /app/data: mount a named volume
# there (-v incidentd-data:/app/data); docker-compose.yml does. A new named volume takes the
# folder's owner (node) from the image.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
# API; SNMP traps when snmp_traps is enabled (1162 needs no privilege; publish it as 162/udp).
EXPOSE 9740 1162/udp
# tini passes SIGTERM (stop) and SIGHUP (reload: docker kill -s HUP …) on to the daemon.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/bundle/cli.js"]
CMD ["run", "--config", "config/incidentd.yaml", "--probes", "probes", "--rules", "rules"]
