#!/usr/bin/env bash
# Make sure a Redis answers on 127.0.0.1 for development and tests.
#
#   scripts/redis.sh start   reuse a Redis already answering, else install Debian's redis-server
#                            (as root, when missing) and start one, in-memory only
#   scripts/redis.sh stop    stop the Redis this script started
set -euo pipefail

PORT=${PD_REDIS_PORT:-6379}
RUN_DIR=${PD_REDIS_RUN_DIR:-/tmp/provider-directory-redis-${PORT}}
PID_FILE="$RUN_DIR/redis.pid"

log() { printf 'redis.sh: %s\n' "$*" >&2; }

answering() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]
  else
    # No client yet: speak the protocol by hand.
    { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    local reply; read -r -t 2 reply <&3 || true
    exec 3>&-
    [ "${reply%$'\r'}" = "+PONG" ]
  fi
}

install() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    log "redis-server is not installed; install Debian's redis-server package"
    exit 1
  fi
  log "installing Debian's redis-server"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
}

start() {
  if answering; then
    log "a Redis already answers on 127.0.0.1:$PORT; reusing it"
    return 0
  fi
  install
  mkdir -p "$RUN_DIR"
  redis-server --bind 127.0.0.1 --port "$PORT" --daemonize yes --pidfile "$PID_FILE" \
    --dir "$RUN_DIR" --save "" --appendonly no --logfile "$RUN_DIR/redis.log"
  for _ in $(seq 50); do answering && { log "started on 127.0.0.1:$PORT"; return 0; }; sleep 0.2; done
  log "Redis did not answer; see $RUN_DIR/redis.log"
  exit 1
}

stop() {
  if [ -s "$PID_FILE" ]; then
    kill "$(cat "$PID_FILE")" 2>/dev/null || true
    rm -f "$PID_FILE"
  else
    log "no Redis started by this script on port $PORT"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
