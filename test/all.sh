#!/usr/bin/env bash
# `npm run test:all`: the whole test suite on a fresh machine of this kind (Debian 12, root, the
# npm registry and Debian's packages reachable). Starts or installs only what is missing, then runs
# jest with any arguments given:
#   - Postgres on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (the reference app's tests use them);
#   - the checker and the reference app built (npm install builds them; this checks);
#   - a Docker-API engine (docker/engine/setup-podman.sh: Podman) and the offline images
#     (docker/images/build.sh), for the container tests; both reuse what is already there.
# Expect 13 to 20 minutes of jest on 2 cores at load 4 (687 tests), plus about 9 minutes the
# first time for the engine and the images. `npm test` runs jest alone, on a machine already set up.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[test:all %ss] %s\n' "$SECONDS" "$*" >&2; }

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  say "starting the machine's Postgres"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting the machine's Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
fi

if [ ! -f checker/dist/cli.js ] || [ ! -f reference-app/dist/server.js ]; then
  say "building the checker and the reference app"
  npm run build
fi

engine_answers() {
  [ -n "${DOCKER_HOST:-}" ] && curl -fsS --max-time 3 --unix-socket "${DOCKER_HOST#unix://}" http://d/_ping >/dev/null 2>&1
}
if ! engine_answers; then
  export DOCKER_HOST=unix:///run/podman/podman.sock
  if ! engine_answers; then
    say "setting up the container engine (docker/engine/setup-podman.sh)"
    eval "$(docker/engine/setup-podman.sh)"
  fi
fi
export TESTCONTAINERS_RYUK_DISABLED=true
say "container images (docker/images/build.sh reuses the ones already built)"
docker/images/build.sh

say "jest: the whole suite (13 to 20 minutes on 2 cores)"
exec npx jest "$@"
