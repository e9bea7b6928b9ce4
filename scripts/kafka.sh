#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller in one JVM) without Docker.
#
#   scripts/kafka.sh up            resolve jars (first run), format storage (first run), start, wait until ready
#   scripts/kafka.sh down [--purge] stop the broker this script started; --purge also deletes its data
#   scripts/kafka.sh status        running / not running, pid, port (exit 0 running, 3 not running)
#   scripts/kafka.sh logs [-f]     last lines of the broker logs (-f: follow)
#
# Environment (defaults in brackets):
#   KAFKA_PORT [9092]  KAFKA_CONTROLLER_PORT [9093]  KAFKA_DATA_DIR [<root>/.cache/kafka/data]
#   KAFKA_READY_TIMEOUT [120] seconds   KAFKA_STOP_TIMEOUT [30] seconds
#   KAFKA_HEAP_OPTS [-Xmx1g -Xms256m]   KAFKA_OPTS [] extra JVM options
#   KAFKA_LOG_LEVEL [WARN]  level of <data>/logs/server.log
# See kafka/README.md.
set -euo pipefail

KAFKA_VERSION=4.3.1   # keep in sync with kafka/pom.xml
HOST=127.0.0.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="$ROOT/kafka/pom.xml"
LOG4J_CONFIG="$ROOT/kafka/log4j2.yaml"
PROBE="$ROOT/scripts/kafka-ready.mjs"
LIBS="$ROOT/.cache/kafka/$KAFKA_VERSION/libs"
LIBS_MARKER="$LIBS/.complete"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-120}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1g -Xms256m}"
KAFKA_OPTS="${KAFKA_OPTS:-}"
KAFKA_LOG_LEVEL="${KAFKA_LOG_LEVEL:-WARN}"

DATA_DIR="${KAFKA_DATA_DIR:-$ROOT/.cache/kafka/data}"
case "$DATA_DIR" in /*) ;; *) DATA_DIR="$PWD/$DATA_DIR" ;; esac
# The files of the broker whose data is in $DATA_DIR.
set_paths() {
  CONFIG="$DATA_DIR/server.properties"
  LOG_DIRS="$DATA_DIR/kraft-combined-logs"
  LOGS_DIR="$DATA_DIR/logs"
  OUT_LOG="$LOGS_DIR/kafka.out"
  SERVER_LOG="$LOGS_DIR/server.log"
  PID_FILE="$DATA_DIR/kafka.pid"
}
set_paths

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

[[ "$KAFKA_READY_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_READY_TIMEOUT must be a number of seconds"
[[ "$KAFKA_STOP_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_STOP_TIMEOUT must be a number of seconds"

usage() {
  sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

check_port_var() {
  local name=$1 value=$2
  [[ "$value" =~ ^[0-9]+$ ]] && (( value >= 1 && value <= 65535 )) || die "$name must be a TCP port, got '$value'"
}

# ------------------------------------------------------------------ prerequisites
JAVA_BIN=""
find_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    JAVA_BIN="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    JAVA_BIN="$(command -v java)"
  else
    die "java not found on PATH. Kafka $KAFKA_VERSION needs Java 17 or newer, e.g. 'apt-get install openjdk-17-jre-headless'."
  fi
  local line major
  line="$("$JAVA_BIN" -version 2>&1 | head -n 1)"
  major="$(sed -E 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/' <<<"$line")"
  # "1.8.0_x" -> 8, "17.0.15" -> 17, "21" -> 21
  if [[ "$major" == 1\ * ]]; then major="${major#1 }"; else major="${major%% *}"; fi
  [[ "$major" =~ ^[0-9]+$ ]] || die "cannot tell the Java version of $JAVA_BIN ($line)"
  (( major >= 17 )) || die "$JAVA_BIN is Java $major; Kafka $KAFKA_VERSION needs Java 17 or newer (e.g. 'apt-get install openjdk-17-jre-headless', or set JAVA_HOME)."
}

check_node() {
  command -v node >/dev/null 2>&1 || die "node not found on PATH (needed for the readiness probe scripts/kafka-ready.mjs); install Node.js 18 or newer."
}

check_mvn() {
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH; it is needed once to download the Kafka jars from Maven Central (e.g. 'apt-get install maven')."
}

# ------------------------------------------------------------------ jars
ensure_libs() {
  if [[ -f "$LIBS_MARKER" ]]; then return 0; fi
  check_mvn
  say "resolving jars from Maven Central (first run only)…"
  local tmp="$LIBS.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp" >"$tmp.mvn.log" 2>&1; then
    cat "$tmp.mvn.log" >&2
    rm -rf "$tmp" "$tmp.mvn.log"
    die "mvn could not resolve the Kafka jars (see above)"
  fi
  rm -f "$tmp.mvn.log"
  local n
  n="$(find "$tmp" -maxdepth 1 -name '*.jar' | wc -l)"
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing"; }
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  printf 'kafka %s: %s jars\n' "$KAFKA_VERSION" "$n" >"$LIBS_MARKER"
  say "cached $n jars ($(du -sh "$LIBS" | cut -f1)) in ${LIBS#"$ROOT"/}"
}

java_cp() { printf '%s/*' "$LIBS"; }

# ------------------------------------------------------------------ config + storage
# Writes $CONFIG. kafka-cluster.sh sets NODE_ID, QUORUM (the controller quorum line) and REPLICAS
# (replication factor of every topic, internal ones too; min.insync.replicas is one less, at least 1).
write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIRS" "$LOGS_DIR"
  local tmp="$CONFIG.tmp.$$" replicas="${REPLICAS:-1}"
  local min_isr=$(( replicas > 1 ? replicas - 1 : 1 ))
  cat >"$tmp" <<EOF
# Generated by ${GENERATED_BY:-scripts/kafka.sh} — edit the script, not this file.
# KRaft: this process is both broker and controller.
process.roles=broker,controller
node.id=${NODE_ID:-1}
${QUORUM:-controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

log.dirs=$LOG_DIRS
num.partitions=3
default.replication.factor=$replicas
min.insync.replicas=$min_isr
auto.create.topics.enable=false
unclean.leader.election.enable=false
num.recovery.threads.per.data.dir=1

# Internal topics: one partition each, so the single coordinator partition that the
# readiness probe waits for serves every group.
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
EOF
  mv "$tmp" "$CONFIG"
}

is_formatted() { [[ -f "$LOG_DIRS/meta.properties" ]]; }

format_storage() {
  if is_formatted; then return 0; fi
  # A log dir without meta.properties is a leftover of an interrupted format: start clean.
  rm -rf "$LOG_DIRS"
  mkdir -p "$LOG_DIRS"
  local cluster_id
  cluster_id="$("$JAVA_BIN" -cp "$(java_cp)" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  [[ -n "$cluster_id" ]] || die "kafka.tools.StorageTool random-uuid printed nothing"
  say "formatting storage (cluster id $cluster_id)…"
  local out
  if ! out="$("$JAVA_BIN" -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOGS_DIR" \
      -cp "$(java_cp)" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" --standalone 2>&1)"; then
    printf '%s\n' "$out" >&2
    rm -rf "$LOG_DIRS"
    die "storage format failed"
  fi
}

# ------------------------------------------------------------------ process helpers
# Prints the pid of the broker this script started, if it is still running.
our_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: it must be a JVM running kafka.Kafka with our config.
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "kafka.Kafka $CONFIG" || return 1
  fi
  printf '%s\n' "$pid"
}

probe() { # probe [extra args] -> exit code of kafka-ready.mjs, its message in PROBE_MSG
  local rc=0
  PROBE_MSG="$(node "$PROBE" --host "$HOST" --port "$KAFKA_PORT" "$@")" || rc=$?
  return "$rc"
}

port_open() { # port_open PORT: does anything accept connections on HOST:PORT?
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

show_log_tail() {
  local f
  for f in "$OUT_LOG" "$SERVER_LOG"; do
    if [[ -s "$f" ]]; then
      printf -- '----- last lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2
    fi
  done
}

# Waits until the broker (pid $1, or a foreign one if empty) answers and its group
# coordinator is loaded. Prints a dot per attempt.
wait_ready() {
  local pid=$1 start=$SECONDS rc dots=0
  while :; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      (( dots )) && echo
      rm -f "$PID_FILE"
      show_log_tail
      die "broker process $pid exited during startup (logs in $LOGS_DIR)"
    fi
    rc=0; probe --timeout-ms 2000 || rc=$?
    if (( rc == 0 )); then
      (( dots )) && echo
      return 0
    fi
    if (( SECONDS - start >= KAFKA_READY_TIMEOUT )); then
      (( dots )) && echo
      show_log_tail
      die "not ready after ${KAFKA_READY_TIMEOUT}s (last probe: $PROBE_MSG)${pid:+; broker pid $pid left running, stop it with 'scripts/kafka.sh down'}"
    fi
    printf '.'
    dots=1
    sleep 1
  done
}

# Serialises concurrent 'up'/'down' runs on the same data dir (e.g. parallel test workers),
# so two of them never start two brokers. flock is in util-linux; without it, no lock.
lock_data_dir() {
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/.kafka.sh.lock"
  if ! flock -n 9; then
    say "another scripts/kafka.sh is working on $DATA_DIR, waiting for it…"
    flock -w $(( KAFKA_READY_TIMEOUT + KAFKA_STOP_TIMEOUT + 600 )) 9 || die "gave up waiting for the lock on $DATA_DIR"
  fi
}

# ------------------------------------------------------------------ commands
cmd_up() {
  check_port_var KAFKA_PORT "$KAFKA_PORT"
  check_port_var KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  check_node
  lock_data_dir
  local t0=$SECONDS pid rc

  # Already started by us (maybe by an interrupted 'up')? Just wait for it.
  if pid="$(our_pid)"; then
    say "already running (pid $pid), checking readiness…"
    wait_ready "$pid"
    say "ready on $HOST:$KAFKA_PORT (pid $pid)"
    return 0
  fi
  rm -f "$PID_FILE"

  # Something else on the port? Reuse it if it is Kafka, never start a second broker.
  rc=0; probe --api-versions-only --timeout-ms 5000 || rc=$?
  case "$rc" in
    0)
      say "a Kafka broker not started by this script already answers on $HOST:$KAFKA_PORT; reusing it"
      wait_ready ""
      say "ready on $HOST:$KAFKA_PORT (not managed by this script: 'down' will not stop it)"
      return 0 ;;
    10) ;; # port free
    *) die "$HOST:$KAFKA_PORT is in use by something that does not answer as Kafka ($PROBE_MSG); set KAFKA_PORT to another port" ;;
  esac
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    die "controller port $HOST:$KAFKA_CONTROLLER_PORT is already in use; set KAFKA_CONTROLLER_PORT to another port"
  fi

  find_java
  ensure_libs
  write_config
  format_storage  # changing the ports later is fine: the controller re-registers its endpoint

  {
    printf '\n===== %s starting Kafka %s (port %s, controller %s) =====\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$KAFKA_VERSION" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  } >>"$OUT_LOG"
  pid="$(launch)"
  say "started pid $pid, waiting for readiness…"
  wait_ready "$pid"
  say "ready on $HOST:$KAFKA_PORT ($(( SECONDS - t0 ))s)"
}

# Starts the JVM on $CONFIG in the background (its own session), records and prints its pid.
launch() {
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS / KAFKA_OPTS are word lists on purpose
  setsid nohup "$JAVA_BIN" $KAFKA_HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOGS_DIR" \
    -Dkafka.log.level="$KAFKA_LOG_LEVEL" \
    $KAFKA_OPTS \
    -cp "$(java_cp)" kafka.Kafka "$CONFIG" \
    </dev/null >>"$OUT_LOG" 2>&1 9>&- &
  local pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  printf '%s\n' "$pid"
}

cmd_down() {
  local purge=0 arg
  for arg in "$@"; do
    case "$arg" in
      --purge) purge=1 ;;
      *) die "unknown option for down: $arg" ;;
    esac
  done
  [[ -d "$DATA_DIR" ]] && lock_data_dir
  local pid
  if pid="$(our_pid)"; then
    say "stopping pid $pid…"
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null && (( waited < KAFKA_STOP_TIMEOUT * 10 )); do
      sleep 0.1
      waited=$(( waited + 1 ))
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid still running after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$PID_FILE"
    say "stopped"
  else
    rm -f "$PID_FILE"
    if probe --api-versions-only --timeout-ms 1000 >/dev/null 2>&1; then
      say "no broker started by this script is running (a broker on $HOST:$KAFKA_PORT was not started by it; leaving it alone)"
    else
      say "not running"
    fi
  fi
  if (( purge )); then
    rm -rf "$DATA_DIR"
    say "deleted $DATA_DIR"
  fi
}

cmd_status() {
  local pid rc=0
  if pid="$(our_pid)"; then
    probe --timeout-ms 2000 || rc=$?
    if (( rc == 0 )); then
      say "running (pid $pid) on $HOST:$KAFKA_PORT, ready; data in $DATA_DIR"
    else
      say "running (pid $pid) on $HOST:$KAFKA_PORT, not ready: $PROBE_MSG"
    fi
    return 0
  fi
  probe --api-versions-only --timeout-ms 2000 || rc=$?
  if (( rc == 0 )); then
    say "running on $HOST:$KAFKA_PORT, but not started by this script (no pid)"
    return 0
  fi
  say "not running (port $HOST:$KAFKA_PORT)"
  return 3
}

cmd_logs() {
  local follow=0 arg files=()
  for arg in "$@"; do
    case "$arg" in
      -f|--follow) follow=1 ;;
      *) die "unknown option for logs: $arg" ;;
    esac
  done
  [[ -e "$SERVER_LOG" ]] && files+=("$SERVER_LOG")
  [[ -e "$OUT_LOG" ]] && files+=("$OUT_LOG")
  (( ${#files[@]} )) || die "no logs yet in $LOGS_DIR"
  if (( follow )); then
    exec tail -n 50 -F "${files[@]}"
  fi
  tail -n 100 "${files[@]}"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

# scripts/kafka-cluster.sh sources this file for its functions (jars, Java, probes, launch).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
