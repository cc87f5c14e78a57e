# The reference app as an image. Build from the repository root:
#   docker build -f docker/reference-app.Dockerfile -t backend-sandbox/reference-app .
# Offline (podman, local base): add --build-arg NODE_IMAGE=localhost/backend-sandbox/runner:local
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
USER root
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY reference-app/package.json reference-app/
COPY checker/package.json checker/
# npm 11 lock files omit other platforms' optional binaries, so `npm ci` refuses them; install honours the lock.
RUN npm install --workspace reference-app --include-workspace-root --ignore-scripts --no-audit --no-fund
COPY reference-app reference-app
RUN npm run build --workspace reference-app

FROM ${NODE_IMAGE} AS runtime
USER root
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY reference-app/package.json reference-app/
COPY checker/package.json checker/
RUN npm install --workspace reference-app --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf /root/.npm
COPY --from=build /src/reference-app/dist reference-app/dist
USER 10001:10001
WORKDIR /app/reference-app
EXPOSE 3000
ENV PORT=3000
CMD ["node", "dist/server.js"]
