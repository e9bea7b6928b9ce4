#!/usr/bin/env bash
# Local Apicurio Registry (Confluent-compatible schema registry API) without Docker, for tests,
# the demo and CI. In-memory storage: every start begins empty.
#
#   scripts/registry.sh up          resolve the server (first run), start it, wait until ready, print the URL
#   scripts/registry.sh down        stop the registry this script started (and only it)
#   scripts/registry.sh status      running / not running, pid, URL (exit 0 running, 3 not running)
#   scripts/registry.sh url         print the Confluent-compatible API's URL
#   scripts/registry.sh logs [-f]   last lines of the registry's log (-f: follow)
#
# Environment (defaults in brackets):
#   REGISTRY_PORT [18081]  HTTP API on 127.0.0.1 (Confluent-compatible API at /apis/ccompat/v7)
#   REGISTRY_MANAGEMENT_PORT [18091]  health and metrics on 127.0.0.1 (readiness: /health/ready)
#   REGISTRY_DATA_DIR [<root>/.cache/apicurio/data]  pid file, lock and logs
#   REGISTRY_READY_TIMEOUT [120] seconds   REGISTRY_STOP_TIMEOUT [30] seconds
#   REGISTRY_HEAP_OPTS [-Xmx512m -Xms64m]   REGISTRY_OPTS [] extra JVM options
#   JAVA_HOME  used when it is Java 21 or newer; otherwise the newest JDK >= 21 in /usr/lib/jvm
# The server is io.apicurio:apicurio-registry-app:<version>:tar.gz:all from Maven Central,
# unpacked once into .cache/apicurio/<version>. It needs Java 21 or newer.
set -euo pipefail

REGISTRY_VERSION=3.3.3
JAVA_MIN=21
HOST=127.0.0.1
CCOMPAT_PATH=/apis/ccompat/v7

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="$ROOT/.cache/apicurio/$REGISTRY_VERSION"
DIST_MARKER="$DIST/.complete"
ARTIFACT="io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all"
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

REGISTRY_PORT="${REGISTRY_PORT:-18081}"
REGISTRY_MANAGEMENT_PORT="${REGISTRY_MANAGEMENT_PORT:-18091}"
REGISTRY_READY_TIMEOUT="${REGISTRY_READY_TIMEOUT:-120}"
REGISTRY_STOP_TIMEOUT="${REGISTRY_STOP_TIMEOUT:-30}"
REGISTRY_HEAP_OPTS="${REGISTRY_HEAP_OPTS:--Xmx512m -Xms64m}"
REGISTRY_OPTS="${REGISTRY_OPTS:-}"

DATA_DIR="${REGISTRY_DATA_DIR:-$ROOT/.cache/apicurio/data}"
case "$DATA_DIR" in /*) ;; *) DATA_DIR="$PWD/$DATA_DIR" ;; esac
LOGS_DIR="$DATA_DIR/logs"
LOG_FILE="$LOGS_DIR/registry.log"
PID_FILE="$DATA_DIR/registry.pid"

API_URL="http://$HOST:$REGISTRY_PORT$CCOMPAT_PATH"
READY_URL="http://$HOST:$REGISTRY_MANAGEMENT_PORT/health/ready"

say() { printf 'registry: %s\n' "$*"; }
die() { printf 'registry: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# check_port_var, port_open, lock_file, await, log_tail, await_start, stop_pid, java_major, mvn_fetch, pid_running, show_logs
# shellcheck source=scripts/lib/daemon.sh
source "$ROOT/scripts/lib/daemon.sh"

check_settings() {
  check_port_var REGISTRY_PORT "$REGISTRY_PORT"
  check_port_var REGISTRY_MANAGEMENT_PORT "$REGISTRY_MANAGEMENT_PORT"
  [[ "$REGISTRY_PORT" != "$REGISTRY_MANAGEMENT_PORT" ]] || die "REGISTRY_PORT and REGISTRY_MANAGEMENT_PORT must differ (both $REGISTRY_PORT)"
  [[ "$REGISTRY_READY_TIMEOUT" =~ ^[0-9]+$ ]] || die "REGISTRY_READY_TIMEOUT must be a number of seconds"
  [[ "$REGISTRY_STOP_TIMEOUT" =~ ^[0-9]+$ ]] || die "REGISTRY_STOP_TIMEOUT must be a number of seconds"
}

# ------------------------------------------------------------------ prerequisites
# Sets JAVA_BIN to JAVA_HOME's java when it is new enough, else to the newest java >= JAVA_MIN
# among /usr/lib/jvm/* and the one on PATH.
JAVA_BIN=""
find_java() {
  local candidate major best="" best_major=0 seen=()
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    major="$(java_major "$JAVA_HOME/bin/java" || echo 0)"
    if (( major >= JAVA_MIN )); then JAVA_BIN="$JAVA_HOME/bin/java"; return 0; fi
    seen+=("$JAVA_HOME/bin/java (JAVA_HOME): Java $major")
  fi
  for candidate in /usr/lib/jvm/*/bin/java "$(command -v java 2>/dev/null || true)"; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    major="$(java_major "$candidate" || echo 0)"
    seen+=("$candidate: Java $major")
    if (( major >= JAVA_MIN && major > best_major )); then best="$candidate"; best_major=$major; fi
  done
  if [[ -z "$best" ]]; then
    local found="none"
    (( ${#seen[@]} )) && found="$(printf '%s; ' "${seen[@]}")" && found="${found%; }"
    die "Apicurio Registry $REGISTRY_VERSION needs Java $JAVA_MIN or newer, and none was found (looked at JAVA_HOME, /usr/lib/jvm/*, PATH: $found). Install a JDK >= $JAVA_MIN (e.g. Temurin 21 or 25 under /usr/lib/jvm) or set JAVA_HOME to one."
  fi
  JAVA_BIN="$best"
}

check_curl() {
  command -v curl >/dev/null 2>&1 || die "curl not found on PATH; it probes the registry's readiness (e.g. 'apt-get install curl')."
}

# ------------------------------------------------------------------ server
ensure_dist() {
  if [[ -f "$DIST_MARKER" ]]; then return 0; fi
  say "resolving $ARTIFACT from Maven Central (first run only)…"
  local tmp="$DIST.tmp.$$" t0=$SECONDS
  # Without a pom the plugin makes ./${project.basedir}/target (its markers): run it in a scratch dir.
  local scratch="$DIST.mvn.$$"
  rm -rf "$DIST".mvn.* "$DIST".tmp.*  # left by an interrupted or failed first run
  mkdir -p "$scratch"
  cd "$scratch"
  mvn_fetch "$tmp" "$ARTIFACT" "$DEPENDENCY_PLUGIN:unpack" -Dartifact="$ARTIFACT"
  cd "$ROOT"
  rm -rf "$scratch"
  [[ -f "$tmp/quarkus-run.jar" ]] || { rm -rf "$tmp"; die "mvn finished but quarkus-run.jar is not at the root of the unpacked $ARTIFACT"; }
  rm -rf "$DIST"
  mv "$tmp" "$DIST"
  printf 'apicurio-registry-app %s\n' "$REGISTRY_VERSION" >"$DIST_MARKER"
  say "cached $(du -sh "$DIST" | cut -f1) in ${DIST#"$ROOT"/} ($(( SECONDS - t0 ))s)"
}

# ------------------------------------------------------------------ process helpers
# Prints the pid of the registry this script started on this data dir, if it is still running.
# Guard against pid reuse: it must be a JVM running our unpacked server.
our_pid() { pid_running "$PID_FILE" "-jar $DIST/quarkus-run.jar"; }

# The port (HTTP API or management) that the running registry was started with.
running_port() { # running_port PID PROPERTY
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | sed -n "s/^-D$2=//p" | head -n 1
}

http_status() { # http_status URL -> the HTTP status code, 000 when nothing answers
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true
}

is_ready() { [[ "$(http_status "$READY_URL")" == 200 ]]; }

# Does a schema registry (ours or another) answer the Confluent-compatible API on REGISTRY_PORT?
api_answers() { [[ "$(http_status "$API_URL/subjects")" == 200 ]]; }

show_log_tail() { log_tail "$LOG_FILE"; }

probe_detail() { printf '%s' "$READY_URL"; }
wait_ready() { await_start "$1" "$REGISTRY_READY_TIMEOUT" is_ready registry; }

lock_data_dir() { lock_file "$DATA_DIR/.registry.sh.lock" $(( REGISTRY_READY_TIMEOUT + REGISTRY_STOP_TIMEOUT + 600 )); }

# Starts the JVM in the background (its own session, working directory the data dir), records and
# prints its pid. Storage is the default in-memory H2 database; both listeners stay on 127.0.0.1.
launch() {
  # shellcheck disable=SC2086  # REGISTRY_HEAP_OPTS / REGISTRY_OPTS are word lists on purpose
  (cd "$DATA_DIR" && exec setsid nohup "$JAVA_BIN" $REGISTRY_HEAP_OPTS -Djava.awt.headless=true \
    -Dquarkus.http.host="$HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host="$HOST" -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
    $REGISTRY_OPTS \
    -jar "$DIST/quarkus-run.jar" \
    </dev/null >>"$LOG_FILE" 2>&1 9>&-) &
  local pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  printf '%s\n' "$pid"
}

# ------------------------------------------------------------------ commands
cmd_up() {
  check_settings
  check_curl
  lock_data_dir
  local t0=$SECONDS pid port

  # Already started by us (maybe by an interrupted 'up')? Wait for it.
  if pid="$(our_pid)"; then
    port="$(running_port "$pid" quarkus.http.port)"
    if [[ "$port" != "$REGISTRY_PORT" ]]; then
      die "the registry started from $DATA_DIR (pid $pid) listens on port $port, not REGISTRY_PORT=$REGISTRY_PORT; 'scripts/registry.sh down' first, or use another REGISTRY_DATA_DIR"
    fi
    REGISTRY_MANAGEMENT_PORT="$(running_port "$pid" quarkus.management.port)"
    READY_URL="http://$HOST:$REGISTRY_MANAGEMENT_PORT/health/ready"
    say "already running (pid $pid), checking readiness…"
    wait_ready "$pid"
    say "ready at $API_URL (pid $pid)"
    return 0
  fi
  rm -f "$PID_FILE"

  # Something else on the port? Reuse it if it answers as a schema registry, never start a second one.
  if port_open "$REGISTRY_PORT"; then
    if api_answers; then
      say "a schema registry not started by this script already answers at $API_URL; reusing it ('down' will not stop it)"
      say "ready at $API_URL"
      return 0
    fi
    die "$HOST:$REGISTRY_PORT is in use by something that does not answer as a schema registry; set REGISTRY_PORT to another port"
  fi
  if port_open "$REGISTRY_MANAGEMENT_PORT"; then
    die "management port $HOST:$REGISTRY_MANAGEMENT_PORT is already in use; set REGISTRY_MANAGEMENT_PORT to another port"
  fi

  find_java
  ensure_dist
  mkdir -p "$LOGS_DIR"
  printf '\n===== %s starting Apicurio Registry %s (port %s, management %s, %s) =====\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$REGISTRY_VERSION" "$REGISTRY_PORT" "$REGISTRY_MANAGEMENT_PORT" "$JAVA_BIN" >>"$LOG_FILE"
  pid="$(launch)"
  say "started pid $pid ($JAVA_BIN), waiting for readiness…"
  wait_ready "$pid"
  say "ready at $API_URL ($(( SECONDS - t0 ))s)"
}

cmd_down() {
  [[ -d "$DATA_DIR" ]] && lock_data_dir
  local pid
  if pid="$(our_pid)"; then
    say "stopping pid $pid…"
    stop_pid "$pid" "$REGISTRY_STOP_TIMEOUT"
    rm -f "$PID_FILE"
    say "stopped"
  else
    rm -f "$PID_FILE"
    if api_answers; then
      say "no registry started by this script is running (the one at $API_URL was not started by it; leaving it alone)"
    else
      say "not running"
    fi
  fi
}

cmd_status() {
  local pid
  if pid="$(our_pid)"; then
    REGISTRY_MANAGEMENT_PORT="$(running_port "$pid" quarkus.management.port)"
    READY_URL="http://$HOST:$REGISTRY_MANAGEMENT_PORT/health/ready"
    API_URL="http://$HOST:$(running_port "$pid" quarkus.http.port)$CCOMPAT_PATH"
    if is_ready; then
      say "running (pid $pid) at $API_URL, ready; log in $LOG_FILE"
    else
      say "running (pid $pid) at $API_URL, not ready ($READY_URL); log in $LOG_FILE"
    fi
    return 0
  fi
  if api_answers; then
    say "running at $API_URL, but not started by this script (no pid)"
    return 0
  fi
  say "not running (port $HOST:$REGISTRY_PORT)"
  return 3
}

cmd_logs() { show_logs "$@" -- "$LOG_FILE"; }

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    url) printf '%s\n' "$API_URL" ;;
    logs) cmd_logs "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
