#!/bin/sh
# As the official image: `redis-server` (or a .conf first argument) runs in the foreground as the
# redis user, without the packaged config's daemonize/bind/logfile settings; nothing kept on disk.
set -eu
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
  shift
  set -- redis-server --bind '*' '-::*' --protected-mode no --save '' --appendonly no "$@"
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
