#!/bin/sh
# Dependency stage of a workspace image (checker/src/engine/build): npm, trusted, fetches what the
# manifests in /src name, with --ignore-scripts, so no code of the workspace or of its dependencies
# runs here. /src holds package.json and the lock file only (no sources, no .npmrc).
set -eu
mkdir -p /app
cd /app
for f in package.json package-lock.json npm-shrinkwrap.json; do
  if [ -f "/src/$f" ]; then cp "/src/$f" .; fi
done
export npm_config_cache=/tmp/npm-cache npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# A registry that does not answer is retried for seconds, not minutes (the run's time limit is for grading).
export npm_config_fetch_retry_mintimeout=2000 npm_config_fetch_retry_maxtimeout=10000
if [ -f package-lock.json ] || [ -f npm-shrinkwrap.json ]; then
  # npm 11 lock files may omit other platforms' optional binaries, which `npm ci` refuses: then install.
  npm ci --ignore-scripts || npm install --ignore-scripts
else
  npm install --ignore-scripts
fi
rm -rf /tmp/npm-cache
chown -R 10001:10001 /app
