# One image for every TrigRun service; the command picks the service:
#   node dist/apps/<api-gateway|scheduler|trigger-ingest|step-runner|notifier>/src/main.js
#   node dist/tools/setup.js   (migrations and JetStream streams; the k8s migration Job)

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install everything, compile with swc, then drop dev dependencies ---------------
FROM ${NODE_IMAGE} AS build
# The lockfile and package.json's "allowScripts" (which dependencies may run install scripts)
# are npm 11 features; the npm bundled with Node 20 is 10.x and would ignore the allow-list.
ARG NPM_VERSION=11.19.1
RUN npm install --global npm@${NPM_VERSION}
WORKDIR /app
# Dependencies first, so source edits do not invalidate the npm ci layer.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

# ---- runtime ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# Owned by root and not writable by the runtime user: the app never writes to its own files.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The base image's unprivileged "node" user, given numerically so runtimes enforcing
# runAsNonRoot (Kubernetes) can verify it without reading /etc/passwd.
USER 1000:1000
EXPOSE 3000
# Node runs as PID 1 and the services handle SIGTERM themselves (graceful drain).
CMD ["node", "dist/apps/api-gateway/src/main.js"]
