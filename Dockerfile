# syntax=docker/dockerfile:1
# Production image: the compiled daemon on Node 20, with ping for icmp probes.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native addon when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iputils-ping tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    INCIDENTD_LISTEN_HOST=0.0.0.0
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY probes ./probes
COPY rules ./rules
# The SQLite store lives under /app/data by default; mount a volume there.
RUN mkdir -p /app/data && chown -R node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 9740
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/cli.js"]
CMD ["run", "--config", "config/incidentd.yaml", "--probes", "probes", "--rules", "rules"]
