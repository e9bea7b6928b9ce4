#!/usr/bin/env bash
# Local three-node Apache Kafka cluster (KRaft, each node broker+controller) for fault tests,
# from the same jars as scripts/kafka.sh (whose functions it sources: one place for jars and Java).
#
#   scripts/kafka-cluster.sh up            format (first run) and start the three nodes, wait until ready
#   scripts/kafka-cluster.sh down [--purge] stop the nodes this script started; --purge also deletes data
#   scripts/kafka-cluster.sh kill N        kill -9 node N (1..3)
#   scripts/kafka-cluster.sh stop N        stop node N gracefully (SIGTERM)
#   scripts/kafka-cluster.sh start N       start node N again and wait until it answers
#   scripts/kafka-cluster.sh brokers       print the bootstrap list (host:port,...)
#
# Topics default to replication factor 3 with min.insync.replicas=2, internal topics too.
# Environment (defaults in brackets):
#   KAFKA_CLUSTER_PORT [39111]             broker N listens on KAFKA_CLUSTER_PORT + N - 1
#   KAFKA_CLUSTER_CONTROLLER_PORT [39131]  controller N on KAFKA_CLUSTER_CONTROLLER_PORT + N - 1
#   KAFKA_CLUSTER_DATA_DIR [<root>/.cache/kafka/cluster]   node N keeps its data in <dir>/node-N
#   KAFKA_HEAP_OPTS [-Xmx512m -Xms128m] per node; KAFKA_READY_TIMEOUT, KAFKA_STOP_TIMEOUT as for kafka.sh
set -euo pipefail

CLUSTER_HEAP="${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m}"
# shellcheck source=scripts/kafka.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka.sh"
KAFKA_HEAP_OPTS="$CLUSTER_HEAP"

NODES=3
BROKER_BASE="${KAFKA_CLUSTER_PORT:-39111}"
CONTROLLER_BASE="${KAFKA_CLUSTER_CONTROLLER_PORT:-39131}"
CLUSTER_DIR="${KAFKA_CLUSTER_DATA_DIR:-$ROOT/.cache/kafka/cluster}"
case "$CLUSTER_DIR" in /*) ;; *) CLUSTER_DIR="$PWD/$CLUSTER_DIR" ;; esac

csay() { printf 'kafka-cluster: %s\n' "$*"; }

# Points kafka.sh's per-broker variables (ports, data, logs, pid) at node N.
use_node() {
  local n=$1
  [[ "$n" =~ ^[1-3]$ ]] || die "node must be 1, 2 or 3, got '$n'"
  NODE=$n
  KAFKA_PORT=$(( BROKER_BASE + n - 1 ))
  KAFKA_CONTROLLER_PORT=$(( CONTROLLER_BASE + n - 1 ))
  DATA_DIR="$CLUSTER_DIR/node-$n"
  set_paths
}

brokers() {
  local n list=()
  for n in $(seq 1 $NODES); do list+=("$HOST:$(( BROKER_BASE + n - 1 ))"); done
  (IFS=,; printf '%s\n' "${list[*]}")
}

voters() {
  local n list=()
  for n in $(seq 1 $NODES); do list+=("$n@$HOST:$(( CONTROLLER_BASE + n - 1 ))"); done
  (IFS=,; printf '%s\n' "${list[*]}")
}

write_node_config() {
  NODE_ID=$NODE QUORUM="controller.quorum.voters=$(voters)" REPLICAS=$NODES GENERATED_BY=scripts/kafka-cluster.sh write_config
}

format_node() {
  local cluster_id=$1
  [[ -f "$LOG_DIRS/meta.properties" ]] && return 0
  rm -rf "$LOG_DIRS"
  mkdir -p "$LOG_DIRS"
  "$JAVA_BIN" -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOGS_DIR" \
    -cp "$(java_cp)" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" >/dev/null 2>&1 ||
    die "storage format of node $NODE failed"
}

cluster_id() {
  local file="$CLUSTER_DIR/cluster.id"
  if [[ ! -s "$file" ]]; then
    mkdir -p "$CLUSTER_DIR"
    "$JAVA_BIN" -cp "$(java_cp)" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$file"
  fi
  cat "$file"
}

# Starts node N unless it runs already; does not wait.
start_node() {
  use_node "$1"
  if our_pid >/dev/null; then return 0; fi
  port_open "$KAFKA_PORT" && die "$HOST:$KAFKA_PORT is in use by something else; set KAFKA_CLUSTER_PORT"
  write_node_config
  format_node "$(cluster_id)"
  printf '\n===== %s starting node %s =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$NODE" >>"$OUT_LOG"
  csay "node $NODE: started pid $(launch) on $HOST:$KAFKA_PORT"
}

# Waits until nodes $@ answer with a loaded group coordinator (which needs all three). The ports are
# in Linux's ephemeral range (32768-60999): a client socket (another node connecting to a node that
# is not listening yet can even connect to itself over loopback) or another program's listener may
# hold one for a while, and the node's JVM then dies with "Address already in use". Such a node is
# started again every 3 s, ten times at most, while the others keep waiting for it.
wait_nodes() {
  local start=$SECONDS n pid ready tries
  declare -A restarts=()
  while :; do
    ready=0
    for n in "$@"; do
      use_node "$n"
      pid="$(our_pid || true)"
      if [[ -z "$pid" ]]; then
        tries=${restarts[$n]:-0}
        grep -q 'Address already in use' "$SERVER_LOG" 2>/dev/null && (( tries < 10 )) || { show_log_tail; die "node $n exited during start-up (logs in $LOGS_DIR)"; }
        restarts[$n]=$(( tries + 1 ))
        csay "node $n: its port was taken, starting it again ($(( tries + 1 ))/10)"
        : >"$SERVER_LOG"
        start_node "$n"
      elif probe --timeout-ms 2000; then
        ready=$(( ready + 1 ))
      fi
    done
    (( ready == $# )) && return 0
    (( SECONDS - start < KAFKA_READY_TIMEOUT )) || die "nodes $* not ready after ${KAFKA_READY_TIMEOUT}s (last probe: $PROBE_MSG)"
    sleep 3
  done
}

stop_node() { # stop_node N SIGNAL
  use_node "$1"
  local pid
  pid="$(our_pid)" || { csay "node $NODE: not running"; return 0; }
  kill "-$2" "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= KAFKA_STOP_TIMEOUT * 10 )); then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.1
    waited=$(( waited + 1 ))
  done
  rm -f "$PID_FILE"
  csay "node $NODE: stopped ($2)"
}

cluster_main() {
  local cmd="${1:-}" n
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up)
      check_node
      find_java
      ensure_libs
      # All three first: the controllers need a quorum before any broker is ready.
      for n in $(seq 1 $NODES); do start_node "$n"; done
      wait_nodes $(seq 1 $NODES)
      csay "ready: $(brokers)" ;;
    down)
      for n in $(seq 1 $NODES); do stop_node "$n" TERM; done
      if [[ "${1:-}" == "--purge" ]]; then rm -rf "$CLUSTER_DIR"; csay "deleted $CLUSTER_DIR"; fi ;;
    kill) stop_node "${1:?node}" KILL ;;
    stop) stop_node "${1:?node}" TERM ;;
    start)
      check_node
      find_java
      start_node "${1:?node}"
      wait_nodes "$1"
      csay "node $1: ready" ;;
    brokers) brokers ;;
    *) sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
  esac
}

cluster_main "$@"
