#!/bin/sh
# Build stage of a workspace image (checker/src/engine/build): the learner's code, as uid 10001,
# with no network at all, within memory/pids/CPU limits and the run's time limit. /src is the
# workspace's copy (read-only); /app already holds node_modules from the dependency stage.
set -eu
cp -R /src/. /app/
cd /app
export npm_config_cache=/tmp/npm-cache npm_config_offline=true npm_config_update_notifier=false
# The dependencies' install scripts (those npm allows), then the workspace's own preinstall,
# install and postinstall (npm rebuild runs the root's too), then its prepare and build.
npm rebuild --foreground-scripts
for script in prepare build; do
  npm run --if-present "$script"
done
rm -rf /tmp/npm-cache
