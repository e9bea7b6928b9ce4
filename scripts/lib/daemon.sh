# Helpers of the scripts that run a local service in the background and manage it through a pid
# file (scripts/kafka.sh, scripts/registry.sh). Sourced; the sourcing script defines say, die and HOST.

check_port_var() { # check_port_var NAME VALUE: dies unless VALUE is a TCP port
  local name=$1 value=$2
  [[ "$value" =~ ^[0-9]+$ ]] && (( value >= 1 && value <= 65535 )) || die "$name must be a TCP port, got '$value'"
}

port_open() { # port_open PORT: does anything accept connections on HOST:PORT?
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# lock_file FILE WAIT_SECONDS: holds an exclusive lock on FILE (file descriptor 9) until the script
# exits, so concurrent 'up'/'down' runs on one data dir (e.g. parallel test workers) never start two
# services. flock is in util-linux; without it, no lock.
lock_file() {
  local file=$1 wait=$2
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$(dirname "$file")"
  exec 9>"$file"
  if ! flock -n 9; then
    say "another run of this script is working on $(dirname "$file"), waiting for it…"
    flock -w "$wait" 9 || die "gave up waiting for the lock on $(dirname "$file")"
  fi
}

# await PID TIMEOUT CHECK: runs the command CHECK every second until it succeeds (returns 0),
# printing a dot a wait. Returns 1 as soon as PID (when not empty) has exited, 2 after TIMEOUT seconds.
await() {
  local pid=$1 timeout=$2 check=$3 start=$SECONDS dots=0 rc
  while :; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then rc=1; break; fi
    if "$check"; then rc=0; break; fi
    if (( SECONDS - start >= timeout )); then rc=2; break; fi
    printf '.'
    dots=1
    sleep 1
  done
  if (( dots )); then echo; fi
  return "$rc"
}

# log_tail FILE...: the last 40 lines of each FILE that is not empty, on stderr.
log_tail() {
  local f
  for f in "$@"; do
    if [[ -s "$f" ]]; then
      printf -- '----- last lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2
    fi
  done
}

# await_start PID TIMEOUT CHECK NAME: awaits CHECK. When PID (the service NAME, or empty for one
# not started here) exits first, removes PID_FILE and dies; after TIMEOUT seconds, dies. Both show
# show_log_tail first. The sourcing script defines PID_FILE, LOGS_DIR, show_log_tail and
# probe_detail (what the last CHECK saw).
await_start() {
  local pid=$1 timeout=$2 check=$3 name=$4 rc=0
  await "$pid" "$timeout" "$check" || rc=$?
  (( rc )) || return 0
  show_log_tail
  if (( rc == 1 )); then
    rm -f "$PID_FILE"
    die "$name process $pid exited during startup (logs in $LOGS_DIR)"
  fi
  die "not ready after ${timeout}s ($(probe_detail))${pid:+; $name pid $pid left running, stop it with '${0##*/} down'}"
}

# stop_pid PID TIMEOUT: SIGTERM, then SIGKILL when PID still runs after TIMEOUT seconds; returns once it is gone.
stop_pid() {
  local pid=$1 timeout=$2 waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && (( waited < timeout * 10 )); do
    sleep 0.1
    waited=$(( waited + 1 ))
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid still running after ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
}

# java_major JAVA: prints the major version of that java ("1.8.0_x" -> 8, "17.0.15" -> 17, "25" -> 25);
# fails when its -version line has none.
java_major() {
  local line major
  line="$("$1" -version 2>&1 | head -n 1)" || return 1
  major="$(sed -nE 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/p' <<<"$line")"
  if [[ "$major" == 1\ * ]]; then major="${major#1 }"; else major="${major%% *}"; fi
  [[ "$major" =~ ^[0-9]+$ ]] || return 1
  printf '%s\n' "$major"
}

# mvn_fetch DIR WHAT MVN_ARGS...: runs mvn quietly with MVN_ARGS and -DoutputDirectory=DIR (made
# empty first). On failure prints mvn's output, removes DIR and dies naming WHAT.
mvn_fetch() {
  local dir=$1 what=$2
  shift 2
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH; it is needed once to download $what from Maven Central (e.g. 'apt-get install maven')."
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! mvn -q -B -Dstyle.color=never "$@" -DoutputDirectory="$dir" >"$dir.mvn.log" 2>&1; then
    cat "$dir.mvn.log" >&2
    rm -rf "$dir" "$dir.mvn.log"
    die "mvn could not resolve $what (see above)"
  fi
  rm -f "$dir.mvn.log"
}

# pid_running PID_FILE MARK: prints the pid recorded in PID_FILE when that process still runs and its
# command line contains MARK (a guard against pid reuse); fails otherwise.
pid_running() {
  local file=$1 mark=$2 pid
  [[ -f "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$mark" || return 1
  fi
  printf '%s\n' "$pid"
}

# show_logs [-f] -- FILE...: the last lines of those FILEs that exist (-f: follow them).
show_logs() {
  local follow=0 files=() f
  while [[ $# -gt 0 && "$1" != -- ]]; do
    case "$1" in
      -f|--follow) follow=1 ;;
      *) die "unknown option for logs: $1" ;;
    esac
    shift
  done
  [[ $# -gt 0 ]] && shift
  for f in "$@"; do [[ -e "$f" ]] && files+=("$f"); done
  (( ${#files[@]} )) || die "no logs yet ($*)"
  if (( follow )); then exec tail -n 50 -F "${files[@]}"; fi
  tail -n 100 "${files[@]}"
}
