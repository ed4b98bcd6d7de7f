# syntax=docker/dockerfile:1
# The `coldtier` daemon as a container image: built in one stage, shipped as the
# production install only (no dev dependencies, no chdb or PGlite: the image runs
# against a ClickHouse server and PostgreSQL from its --config), as a non-root user.
#   docker build -t coldtier .
#   docker run -v ./coldtier.yaml:/etc/coldtier/coldtier.yaml:ro -e COLDTIER_DATABASE_URL=... -p 8000:8000 coldtier
# The tests build the same production install with the same command and run this
# ENTRYPOINT from it (apps/reference-scheduler/test/deploy.test.ts).

ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
RUN corepack enable && corepack prepare pnpm@10.34.9 --activate
# Dependencies first, so a source change does not re-download them.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/offload-core/package.json packages/offload-core/
COPY packages/offload-metrics/package.json packages/offload-metrics/
COPY packages/offload-diagnostics/package.json packages/offload-diagnostics/
COPY packages/test-support/package.json packages/test-support/
COPY apps/reference-scheduler/package.json apps/reference-scheduler/
# No install scripts: the build needs no native engine (chdb is only for tests and the embedded demo).
RUN pnpm install --frozen-lockfile --ignore-scripts
COPY . .
RUN pnpm build
# --legacy: copies the workspace packages' built files without inject-workspace-packages.
RUN pnpm --filter @coldtier/reference-scheduler deploy --legacy --prod --no-optional /opt/coldtier

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
COPY --from=build /opt/coldtier /opt/coldtier
# The node image's unprivileged user (uid 1000); state under /var/lib/coldtier.
RUN mkdir -p /var/lib/coldtier /etc/coldtier && chown node:node /var/lib/coldtier
USER 1000:1000
WORKDIR /var/lib/coldtier
EXPOSE 8000
ENTRYPOINT ["node", "/opt/coldtier/dist/cli.js"]
CMD ["start", "--config", "/etc/coldtier/coldtier.yaml", "--port", "8000"]
