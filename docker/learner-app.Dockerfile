# The learner's workspace as an image (used by `sandbox check --runtime container`).
# Dependencies are installed here, inside the build, so no install script ever runs on the host.
# NODE_IMAGE: the sandbox runner (docker/images/runner) or the official node:20-slim.
ARG NODE_IMAGE=node:20-slim
FROM ${NODE_IMAGE}
USER root
RUN mkdir -p /app && chown 10001:10001 /app
WORKDIR /app
ENV HOME=/tmp NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
USER 10001:10001
COPY --chown=10001:10001 package*.json npm-shrinkwrap.json* ./
# npm 11 lock files may omit other platforms' optional binaries, which `npm ci` refuses: then install.
RUN if [ -f package-lock.json ] || [ -f npm-shrinkwrap.json ]; then npm ci || npm install; else npm install; fi \
 && rm -rf /tmp/.npm
COPY --chown=10001:10001 . .
RUN if node -e 'process.exit(require("./package.json").scripts?.build ? 0 : 1)'; then npm run build; fi \
 && rm -rf /tmp/.npm
