#!/usr/bin/env bash
# Builds the sandbox's container images without any registry: a Debian base from debootstrap,
# then postgres, redis and the Node runner FROM it. Images already built are reused; each tag carries
# a content hash of its inputs, so a changed Dockerfile or context rebuilds only what changed.
# Writes docker/.build/images.env and images.json (the image names the checker uses).
# Usage: docker/images/build.sh [--force]      (needs podman: docker/engine/setup-podman.sh)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD_DIR="$(cd "$HERE/.." && pwd)/.build"
PREFIX="${SANDBOX_IMAGE_PREFIX:-localhost/backend-sandbox}"
SUITE=bookworm
BASE_PACKAGES="postgresql-15,redis-server,libstdc++6,ca-certificates,tini,procps"
FORCE="${1:-}"

log() { printf '[images %ss] %s\n' "$SECONDS" "$*" >&2; }
hash_of() { sha256sum | cut -c1-12; }
exists() { [ "$FORCE" != "--force" ] && podman image exists "$1"; }
apt_mirror() {
  # The Debian mirror the machine already uses (deb822 or one-line sources).
  local url
  url="$(grep -rhoE '(URIs:|^deb)\s+https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -v security | head -n1 | awk '{print $2}')"
  echo "${MIRROR:-${url:-http://deb.debian.org/debian}}"
}

mkdir -p "$BUILD_DIR"
timings=()

# 1. Base: a minimal Debian root filesystem imported as an image (no registry involved).
base_hash="$(printf '%s %s %s\n' "$SUITE" "$BASE_PACKAGES" "$(dpkg --print-architecture)" | hash_of)"
BASE_IMAGE="$PREFIX/base:$SUITE-$base_hash"
if exists "$BASE_IMAGE"; then
  log "reusing $BASE_IMAGE"
else
  start=$SECONDS
  rootfs="$BUILD_DIR/rootfs-$base_hash"
  rm -rf "$rootfs"
  mirror="$(apt_mirror)"
  log "debootstrap $SUITE from $mirror (about a minute)"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" "$mirror" >"$BUILD_DIR/debootstrap.log" 2>&1 \
    || { tail -n 30 "$BUILD_DIR/debootstrap.log" >&2; exit 1; }
  # Nothing of the build host leaks into images: no apt lists, no caches, no default cluster.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/lib/postgresql/15/main "$rootfs"/etc/postgresql/15/main
  log "importing $BASE_IMAGE"
  tar -C "$rootfs" -c . | podman import --message "debootstrap $SUITE minbase" - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  timings+=("base=$((SECONDS - start))s")
fi

# 2. Images FROM the base. The runner's context gets the host's node + npm (no Node 20 in Debian 12).
prepare_runner_context() {
  local ctx="$1"
  mkdir -p "$ctx/node/bin" "$ctx/node/lib/node_modules"
  cp "$(command -v node)" "$ctx/node/bin/node"
  cp -a "$(npm root -g)/npm" "$ctx/node/lib/node_modules/npm"
  # Containers reach the npm registry through the same TLS path as the host, so they need its CA bundle.
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca.crt"
  printf 'node %s npm %s\n' "$(node -v)" "$(npm -v 2>/dev/null)" >"$ctx/VERSIONS"
}

declare -A IMAGES
build_image() {
  local name="$1" ctx="$BUILD_DIR/context-$1"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -a "$HERE/$name/." "$ctx/"
  [ "$name" = runner ] && prepare_runner_context "$ctx"
  local h
  h="$( { echo "$BASE_IMAGE"; cat "$ctx/VERSIONS" 2>/dev/null || true; \
          find "$ctx" -type f ! -path '*/node/*' -print0 | sort -z | xargs -0 sha256sum | sed "s#$ctx##"; } | hash_of)"
  local image="$PREFIX/$name:$h"
  if exists "$image"; then
    log "reusing $image"
  else
    local start=$SECONDS
    log "building $image"
    podman build --quiet --build-arg "BASE=$BASE_IMAGE" --label "backend-sandbox.image=$name" \
      -t "$image" -t "$PREFIX/$name:local" "$ctx" >/dev/null
    timings+=("$name=$((SECONDS - start))s")
  fi
  podman tag "$image" "$PREFIX/$name:local"
  # Older builds of this image go (those still used by a container stay).
  podman images --format '{{.Repository}}:{{.Tag}}' --filter "reference=$PREFIX/$name" \
    | grep -vxF -e "$image" -e "$PREFIX/$name:local" | xargs -r podman rmi >/dev/null 2>&1 || true
  rm -rf "$ctx"
  IMAGES[$name]="$image"
}

for name in postgres redis runner; do build_image "$name"; done

cat >"$BUILD_DIR/images.env" <<ENV
SANDBOX_BASE_IMAGE=$BASE_IMAGE
SANDBOX_POSTGRES_IMAGE=${IMAGES[postgres]}
SANDBOX_REDIS_IMAGE=${IMAGES[redis]}
SANDBOX_NODE_IMAGE=${IMAGES[runner]}
ENV
cat >"$BUILD_DIR/images.json" <<JSON
{
  "base": "$BASE_IMAGE",
  "postgres": "${IMAGES[postgres]}",
  "redis": "${IMAGES[redis]}",
  "node": "${IMAGES[runner]}"
}
JSON
log "done in ${SECONDS}s ${timings[*]:-(all reused)}; names in $BUILD_DIR/images.json"
cat "$BUILD_DIR/images.env"
