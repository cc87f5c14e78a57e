#!/usr/bin/env bash
# Makes a Docker-API container engine answer on this machine (Podman, no Docker daemon needed).
# Idempotent: installs only what is missing, starts the API service only when its socket is silent.
# Usage: sudo docker/engine/setup-podman.sh   then   export DOCKER_HOST=unix:///run/podman/podman.sock
set -euo pipefail

SOCKET_DIR=/run/podman
SOCKET="$SOCKET_DIR/podman.sock"
LOG_FILE="${PODMAN_SERVICE_LOG:-/var/log/podman-service.log}"
CONF=/etc/containers/containers.conf

log() { echo "[setup-podman] $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "run as root (it installs packages and starts a system service)"; exit 1
fi

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v iptables >/dev/null 2>&1 || missing+=(iptables) # netavark needs it for bridge networks
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" podman runc debootstrap iptables >/dev/null
fi

# Hybrid cgroups v1: crun refuses, runc works. No CAP_SYS_RESOURCE: keep rlimits at or below the host's.
desired_conf='[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"'
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$desired_conf" ]; then
  log "writing $CONF"
  mkdir -p "$(dirname "$CONF")"
  printf '%s\n' "$desired_conf" > "$CONF"
fi

answers() { curl -fsS --max-time 3 --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; }

if ! answers; then
  log "starting podman API service on $SOCKET (log: $LOG_FILE)"
  mkdir -p "$SOCKET_DIR"
  rm -f "$SOCKET"
  # From / : the service writes files such as "oom" into its working directory.
  # exec: no shell stays behind holding the caller's stdout (eval "$(setup-podman.sh)" must return).
  (cd / && exec setsid nohup podman system service --time=0 "unix://$SOCKET" >>"$LOG_FILE" 2>&1 < /dev/null) &
  for _ in $(seq 1 60); do
    answers && break
    sleep 0.5
  done
  if ! answers; then
    log "the podman API did not answer within 30 s; see $LOG_FILE"; tail -n 20 "$LOG_FILE" >&2 || true; exit 1
  fi
fi

log "engine answers: podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
echo "export DOCKER_HOST=unix://$SOCKET"
echo "export TESTCONTAINERS_RYUK_DISABLED=true"
