# syntax=docker/dockerfile:1
# dbaas API and operator CLI. Build: docker build -t dbaas .
# Untested on the project's machines (no Docker daemon there); see README "Deployment".

# Node 24, the active LTS line (package.json `engines` also admits 20.19+ and 22.13+).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency install script is needed to build or run dbaas.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npx nest build api \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DBAAS_DATA_DIR=/var/lib/dbaas
WORKDIR /app
# The engines' own tools that backups, restores and clones run (docs/backups.md):
# mariadb-dump/mariadb, and pg_dump/pg_restore/psql of PostgreSQL 16 and 17 from the
# PostgreSQL project's apt repository (the API takes the client of the server's major, else
# the nearest newer one; bookworm's own is 15, older than the compose file's server).
# Redis needs none.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql-common mariadb-client \
 && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
 && apt-get install -y --no-install-recommends postgresql-client-16 postgresql-client-17 \
 && rm -rf /var/lib/apt/lists/*
# The image's own unprivileged `node` user (uid 1000) runs the app; it owns only the data
# folder of the embedded store, never the code.
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
RUN mkdir -p /var/lib/dbaas && chown node:node /var/lib/dbaas \
 && ln -s /app/dist/apps/cli/src/main.js /usr/local/bin/dbaas \
 && chmod 0755 /app/dist/apps/cli/src/main.js
USER node
VOLUME ["/var/lib/dbaas"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The heap settings of `npm start` (see the README's Performance section).
CMD ["node", "--max-old-space-size=256", "--max-semi-space-size=8", "dist/apps/api/src/main.js"]
