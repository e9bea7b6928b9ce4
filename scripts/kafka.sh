#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller in one JVM) without Docker.
#
#   scripts/kafka.sh up            resolve jars (first run), format storage (first run), start, wait until ready
#   scripts/kafka.sh down [--purge] stop the broker (and OIDC issuer) this script started; --purge also deletes data
#   scripts/kafka.sh status        running / not running, pid, port (exit 0 running, 3 not running)
#   scripts/kafka.sh logs [-f]     last lines of the broker (and OIDC issuer) logs (-f: follow)
#
# Environment (defaults in brackets):
#   KAFKA_PORT [9092]  KAFKA_CONTROLLER_PORT [9093]  KAFKA_DATA_DIR [<root>/.cache/kafka/data]
#   KAFKA_READY_TIMEOUT [120] seconds   KAFKA_STOP_TIMEOUT [30] seconds
#   KAFKA_HEAP_OPTS [-Xmx1g -Xms256m]   KAFKA_OPTS [] extra JVM options
#   KAFKA_LOG_LEVEL [WARN]  level of <data>/logs/server.log
#   KAFKA_INTERNAL_PARTITIONS [1]  partitions of __consumer_offsets and __transaction_state when the
#     storage is formatted (Kafka's default is 50, as on a user's cluster: the benches use that)
#   KAFKA_INITIAL_REBALANCE_DELAY_MS [0]  group.initial.rebalance.delay.ms: how long a new consumer group's
#     first rebalance waits for more members (Kafka's default is 3000, as on a user's cluster)
#   KAFKA_SECURE [1]  1: also secured listeners (TLS/mTLS/SASL/OAUTHBEARER) + ACLs; 0: plaintext only
#   KAFKA_SASL_SSL_PORT [KAFKA_PORT+2] SCRAM/PLAIN   KAFKA_MTLS_PORT [KAFKA_PORT+3] mutual TLS
#   KAFKA_OAUTH_PORT [KAFKA_PORT+4] OAUTHBEARER     KAFKA_OIDC_PORT [KAFKA_PORT+5] token service (HTTP)
#   KAFKA_OIDC_TOKEN_LIFETIME [30] seconds; the secured listeners are described in <data>/secure/broker.json
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
KAFKA_INTERNAL_PARTITIONS="${KAFKA_INTERNAL_PARTITIONS:-1}"
KAFKA_INITIAL_REBALANCE_DELAY_MS="${KAFKA_INITIAL_REBALANCE_DELAY_MS:-0}"

# Secured listeners (section "secured listeners" below). Only cmd_up turns them on (SECURE=1): kafka-cluster.sh
# sources this file and calls write_config/launch directly, so its nodes stay plaintext.
KAFKA_SECURE="${KAFKA_SECURE:-1}"
KAFKA_OIDC_TOKEN_LIFETIME="${KAFKA_OIDC_TOKEN_LIFETIME:-30}"
SECURE=0
SECURE_JVM_OPTS=""
OIDC_ISSUER="$ROOT/scripts/oidc-issuer.mjs"
OIDC_AUDIENCE=local-kafka          # the "aud" the issuer puts into tokens and the broker expects
REAUTH_MS=20000                    # connections.max.reauth.ms of the OAUTHBEARER listener
SCRAM_USERS=(admin gateway-producer gateway-delivery gateway-scram)   # SCRAM-SHA-256 and -512 each
PLAIN_USERS=(admin gateway-plain)
OIDC_CLIENTS=(gateway-oauth gateway-oauth-2)
SUPER_USERS="User:ANONYMOUS;User:admin"  # ANONYMOUS: PLAINTEXT clients, controller, inter-broker

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
  SECURE_DIR="$DATA_DIR/secure"          # certificates, keys, credentials, broker.json (never committed)
  CREDENTIALS="$SECURE_DIR/credentials"  # "<kind> <name> <secret>" lines, random per data dir
  DESCRIPTOR="$SECURE_DIR/broker.json"
  SCRAM_MARKER="$SECURE_DIR/scram-users.sha256"
  ISSUER_PID_FILE="$DATA_DIR/oidc-issuer.pid"
  ISSUER_LOG="$LOGS_DIR/oidc-issuer.log"
}
set_paths

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

[[ "$KAFKA_READY_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_READY_TIMEOUT must be a number of seconds"
[[ "$KAFKA_STOP_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_STOP_TIMEOUT must be a number of seconds"

usage() {
  sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# check_port_var, port_open, lock_file, await, log_tail, await_start, stop_pid, java_major, mvn_fetch, pid_running, show_logs
# shellcheck source=scripts/lib/daemon.sh
source "$ROOT/scripts/lib/daemon.sh"

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
  local major
  major="$(java_major "$JAVA_BIN")" || die "cannot tell the Java version of $JAVA_BIN ($("$JAVA_BIN" -version 2>&1 | head -n 1))"
  (( major >= 17 )) || die "$JAVA_BIN is Java $major; Kafka $KAFKA_VERSION needs Java 17 or newer (e.g. 'apt-get install openjdk-17-jre-headless', or set JAVA_HOME)."
}

check_node() {
  command -v node >/dev/null 2>&1 || die "node not found on PATH (needed for the readiness probe scripts/kafka-ready.mjs); install Node.js 18 or newer."
}

# ------------------------------------------------------------------ jars
ensure_libs() {
  if [[ -f "$LIBS_MARKER" ]]; then return 0; fi
  say "resolving jars from Maven Central (first run only)…"
  local tmp="$LIBS.tmp.$$"
  mvn_fetch "$tmp" "the Kafka jars" -f "$POM" dependency:copy-dependencies -DincludeScope=runtime
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
  local listeners protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  listeners="$(plain_listeners)"
  if (( SECURE )); then
    listeners="$(secure_listeners)"
    protocols+=",SASL_SSL:SASL_SSL,MTLS:SSL,OAUTH:SASL_SSL"
  fi
  cat >"$tmp" <<EOF
# Generated by ${GENERATED_BY:-scripts/kafka.sh} — edit the script, not this file.
# KRaft: this process is both broker and controller.
process.roles=broker,controller
node.id=${NODE_ID:-1}
${QUORUM:-controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT}
listeners=$listeners
advertised.listeners=$listeners
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols

log.dirs=$LOG_DIRS
num.partitions=3
default.replication.factor=$replicas
min.insync.replicas=$min_isr
auto.create.topics.enable=false
unclean.leader.election.enable=false
num.recovery.threads.per.data.dir=1

# Internal topics: one partition each by default (tests), so the single coordinator partition that
# the readiness probe waits for serves every group; KAFKA_INTERNAL_PARTITIONS=50 is Kafka's default.
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=$KAFKA_INTERNAL_PARTITIONS
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=$KAFKA_INTERNAL_PARTITIONS
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=$KAFKA_INITIAL_REBALANCE_DELAY_MS
EOF
  if (( SECURE )); then
    secure_config >>"$tmp"
    chmod 600 "$tmp"  # the PLAIN passwords are in it
  fi
  mv "$tmp" "$CONFIG"
}

plain_listeners() { printf '%s\n' "PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT"; }
secure_listeners() {
  printf '%s\n' "$(plain_listeners),SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT,MTLS://$HOST:$KAFKA_MTLS_PORT,OAUTH://$HOST:$KAFKA_OAUTH_PORT"
}

# The part of server.properties for the secured listeners (the listener.name.<name>. prefixes
# use the lower-cased listener name). One key store (the broker's certificate for
# 127.0.0.1/localhost, signed by the test CA) serves all three TLS listeners.
secure_config() {
  local plain_users="" u
  for u in "${PLAIN_USERS[@]}"; do plain_users+=" user_$u=\"$(secret plain "$u")\""; done
  cat <<EOF

# ---- Secured listeners (scripts/kafka.sh, KAFKA_SECURE=1; KAFKA_SECURE=0 turns them off) ----
# Every principal needs ACLs, except the super users. PLAINTEXT clients, the controller and
# inter-broker traffic are User:ANONYMOUS, so everything on the PLAINTEXT listener keeps full access.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=$SUPER_USERS

ssl.keystore.type=PEM
ssl.keystore.location=$SECURE_DIR/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_DIR/ca.pem
# A client certificate "CN=gateway-mtls,O=..." is the principal User:gateway-mtls.
ssl.principal.mapping.rules=RULE:^CN=([^,]+).*\$/\$1/,DEFAULT

# SASL_SSL: SCRAM users live in the cluster metadata (added at format time, or by ConfigCommand
# for a data dir formatted without them); PLAIN users are the user_<name> options of the JAAS config.
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;

# MTLS: TLS with a client certificate signed by the test CA.
listener.name.mtls.ssl.client.auth=required

# OAUTHBEARER: the broker only validates tokens (signature against the issuer's JWKS, iss, aud,
# exp). The login module has no options, so the broker's own login makes no token; it never needs
# one (inter-broker traffic is PLAINTEXT). A session lasts at most $REAUTH_MS ms (less if the token
# expires sooner); then the client must re-authenticate on its connection or be disconnected.
listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER
listener.name.oauth.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
listener.name.oauth.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
listener.name.oauth.oauthbearer.sasl.oauthbearer.jwks.endpoint.url=$OIDC_URL/jwks
listener.name.oauth.oauthbearer.sasl.oauthbearer.expected.issuer=$OIDC_URL
listener.name.oauth.oauthbearer.sasl.oauthbearer.expected.audience=$OIDC_AUDIENCE
listener.name.oauth.oauthbearer.connections.max.reauth.ms=$REAUTH_MS
EOF
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
  # With the secured listeners, the SCRAM users go into the initial metadata right away.
  local out scram=() u
  if (( SECURE )); then
    for u in "${SCRAM_USERS[@]}"; do
      scram+=(--add-scram "SCRAM-SHA-256=[name=$u,password=$(secret scram "$u")]"
              --add-scram "SCRAM-SHA-512=[name=$u,password=$(secret scram "$u")]")
    done
  fi
  if ! out="$("$JAVA_BIN" -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOGS_DIR" \
      -cp "$(java_cp)" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" --standalone \
      "${scram[@]}" 2>&1)"; then
    printf '%s\n' "$out" >&2
    rm -rf "$LOG_DIRS"
    die "storage format failed"
  fi
  if (( SECURE )); then scram_fingerprint >"$SCRAM_MARKER"; fi
}

# ------------------------------------------------------------------ process helpers
# Prints the pid of the broker this script started, if it is still running.
# Guard against pid reuse: it must be a JVM running kafka.Kafka with our config.
our_pid() { pid_running "$PID_FILE" "kafka.Kafka $CONFIG"; }

probe() { # probe [extra args] -> exit code of kafka-ready.mjs, its message in PROBE_MSG
  local rc=0
  PROBE_MSG="$(node "$PROBE" --host "$HOST" --port "$KAFKA_PORT" "$@")" || rc=$?
  return "$rc"
}

show_log_tail() { log_tail "$OUT_LOG" "$SERVER_LOG"; }

# Waits until the broker (pid $1, or a foreign one if empty) answers and its group
# coordinator is loaded. Prints a dot per attempt.
probe_ready() { probe --timeout-ms 2000; }

probe_detail() { printf 'last probe: %s' "$PROBE_MSG"; }
wait_ready() { await_start "$1" "$KAFKA_READY_TIMEOUT" probe_ready broker; }

# Serialises concurrent 'up'/'down' runs on the same data dir (e.g. parallel test workers),
# so two of them never start two brokers. flock is in util-linux; without it, no lock.
lock_data_dir() { lock_file "$DATA_DIR/.kafka.sh.lock" $(( KAFKA_READY_TIMEOUT + KAFKA_STOP_TIMEOUT + 600 )); }

# ------------------------------------------------------------------ secured listeners
# With KAFKA_SECURE=1 (the default) 'up' adds three listeners next to PLAINTEXT, for tests of
# secured clients, and turns on ACLs (see secure_config):
#   SASL_SSL  KAFKA_SASL_SSL_PORT  TLS + SCRAM-SHA-256/512 or PLAIN
#   MTLS      KAFKA_MTLS_PORT      TLS with a client certificate (principal = its CN)
#   OAUTH     KAFKA_OAUTH_PORT     TLS + OAUTHBEARER, JWTs from scripts/oidc-issuer.mjs
# Everything they need (test CA, certificates, random passwords, the issuer's signing key) is
# made once per data dir in <data>/secure/, and <data>/secure/broker.json describes it for tests.

# Ports of the secured listeners and of the token service; the defaults follow KAFKA_PORT.
set_secure_ports() {
  KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-$(( KAFKA_PORT + 2 ))}"
  KAFKA_MTLS_PORT="${KAFKA_MTLS_PORT:-$(( KAFKA_PORT + 3 ))}"
  KAFKA_OAUTH_PORT="${KAFKA_OAUTH_PORT:-$(( KAFKA_PORT + 4 ))}"
  KAFKA_OIDC_PORT="${KAFKA_OIDC_PORT:-$(( KAFKA_PORT + 5 ))}"
  local name seen=" $KAFKA_PORT $KAFKA_CONTROLLER_PORT "
  for name in KAFKA_SASL_SSL_PORT KAFKA_MTLS_PORT KAFKA_OAUTH_PORT KAFKA_OIDC_PORT; do
    check_port_var "$name" "${!name}"
    [[ "$seen" != *" ${!name} "* ]] || die "$name=${!name} collides with another port of this broker; set the ports apart"
    seen+="${!name} "
  done
  [[ "$KAFKA_OIDC_TOKEN_LIFETIME" =~ ^[1-9][0-9]*$ ]] || die "KAFKA_OIDC_TOKEN_LIFETIME must be a number of seconds"
  OIDC_URL="http://$HOST:$KAFKA_OIDC_PORT"
  # Kafka 4 fetches a JWKS only from URLs that this system property allows.
  SECURE_JVM_OPTS="-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=$OIDC_URL/jwks"
}

# secret KIND NAME: prints the secret of NAME from $CREDENTIALS, making a random one on first use
# (so passwords differ per data dir but stay the same across restarts).
secret() {
  local kind=$1 name=$2 value=""
  if [[ -f "$CREDENTIALS" ]]; then
    value="$(awk -v k="$kind" -v n="$name" '$1 == k && $2 == n { print $3; exit }' "$CREDENTIALS")"
  fi
  if [[ -z "$value" ]]; then
    value="$(openssl rand -hex 16)"
    (umask 077; printf '%s %s %s\n' "$kind" "$name" "$value" >>"$CREDENTIALS")
  fi
  printf '%s\n' "$value"
}

ensure_credentials() {
  command -v openssl >/dev/null 2>&1 || die "openssl not found on PATH; it makes the test certificates and passwords (e.g. 'apt-get install openssl'), or run with KAFKA_SECURE=0"
  mkdir -p "$SECURE_DIR"
  chmod 700 "$SECURE_DIR"
  local u sep="" tmp="$SECURE_DIR/oidc-clients.json.tmp.$$"
  for u in "${SCRAM_USERS[@]}"; do secret scram "$u" >/dev/null; done
  for u in "${PLAIN_USERS[@]}"; do secret plain "$u" >/dev/null; done
  for u in "${OIDC_CLIENTS[@]}"; do secret oidc "$u" >/dev/null; done
  secret passphrase gateway-mtls-pass >/dev/null
  chmod 600 "$CREDENTIALS"
  # The issuer reads its clients from JSON.
  {
    printf '{'
    for u in "${OIDC_CLIENTS[@]}"; do printf '%s%s: %s' "$sep" "$(json_str "$u")" "$(json_str "$(secret oidc "$u")")"; sep=', '; done
    printf '}\n'
  } >"$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$SECURE_DIR/oidc-clients.json"
}

# Fingerprint of the SCRAM passwords, kept in $SCRAM_MARKER once the users are in the metadata.
scram_fingerprint() { grep '^scram ' "$CREDENTIALS" | sort | sha256sum | cut -d' ' -f1; }

CERT_FILES=(ca.pem ca-key.pem broker.pem broker-key.pem broker-keystore.pem other-ca.pem other-ca-key.pem
  gateway-mtls.pem gateway-mtls-key.pem gateway-mtls-pass.pem gateway-mtls-pass-key.pem)

# Are all certificates there, valid for at least another day, and does the passphrase open the
# encrypted client key? Otherwise ensure_certs makes a new set.
certs_ok() {
  local f
  for f in "${CERT_FILES[@]}"; do [[ -s "$SECURE_DIR/$f" ]] || return 1; done
  for f in ca.pem broker.pem other-ca.pem gateway-mtls.pem gateway-mtls-pass.pem; do
    openssl x509 -checkend 86400 -noout -in "$SECURE_DIR/$f" >/dev/null 2>&1 || return 1
  done
  MTLS_PASSPHRASE="$(secret passphrase gateway-mtls-pass)" \
    openssl pkey -in "$SECURE_DIR/gateway-mtls-pass-key.pem" -passin env:MTLS_PASSPHRASE -noout >/dev/null 2>&1
}

ensure_certs() {
  if certs_ok; then return 0; fi
  say "making a test CA and certificates in $SECURE_DIR…"
  local tmp="$SECURE_DIR/.certs.tmp.$$" f
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! (umask 077; cd "$tmp" && MTLS_PASSPHRASE="$(secret passphrase gateway-mtls-pass)" make_certs) >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "could not make the test certificates (openssl, see above)"
  fi
  chmod 644 "$tmp"/*.pem
  chmod 600 "$tmp"/*key*.pem  # broker-keystore.pem holds the broker's key too
  for f in "${CERT_FILES[@]}"; do mv -f "$tmp/$f" "$SECURE_DIR/$f"; done
  rm -rf "$tmp" "$tmp.log"
}

# Makes all certificates in the current directory. Keys are unencrypted PKCS#8 PEM, except the one
# of gateway-mtls-pass: encrypted PKCS#8 (AES-256-CBC, passphrase $MTLS_PASSPHRASE), which Node's tls
# opens with { passphrase }. other-ca is a CA that nothing here trusts, for negative tests.
make_certs() {
  cat >openssl.cnf <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  local org="/O=webhook-gateway local Kafka (test only)"
  make_ca ca "$org/CN=local Kafka test CA"
  make_ca other-ca "$org/CN=unrelated test CA"
  make_cert broker server "$org/CN=localhost"
  make_cert gateway-mtls client "$org/CN=gateway-mtls"
  make_cert gateway-mtls-pass client "$org/CN=gateway-mtls-pass" encrypted
  # Kafka's PEM key store: the private key, then the certificate chain.
  cat broker-key.pem broker.pem ca.pem >broker-keystore.pem
  rm -f openssl.cnf ./*.csr
}

make_ca() { # make_ca NAME SUBJECT
  openssl req -x509 -config openssl.cnf -extensions ca -newkey rsa:2048 -nodes \
    -keyout "$1-key.pem" -out "$1.pem" -days 3650 -subj "$2"
}

make_cert() { # make_cert NAME EXTENSIONS SUBJECT [encrypted]
  local name=$1 ext=$2 subject=$3
  if [[ "${4:-}" == encrypted ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc -pass env:MTLS_PASSPHRASE -out "$name-key.pem"
  else
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name-key.pem"
  fi
  openssl req -new -config openssl.cnf -key "$name-key.pem" -passin env:MTLS_PASSPHRASE -subj "$subject" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -set_serial "0x$(openssl rand -hex 16)" \
    -days 825 -extfile openssl.cnf -extensions "$ext" -out "$name.pem"
}

# Prints the pid of the OIDC issuer started for this data dir, if it is still running.
issuer_pid() { pid_running "$ISSUER_PID_FILE" "$OIDC_ISSUER --dir $SECURE_DIR "; }

# Starts the token service (unless it runs with these settings already) and waits until it
# listens: the broker fetches the JWKS from it while it starts.
start_issuer() {
  local pid waited=0
  local args=(--dir "$SECURE_DIR" --host "$HOST" --port "$KAFKA_OIDC_PORT" --audience "$OIDC_AUDIENCE"
    --token-lifetime "$KAFKA_OIDC_TOKEN_LIFETIME")
  if pid="$(issuer_pid)"; then
    if [[ ! -r "/proc/$pid/cmdline" ]] || tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$OIDC_ISSUER ${args[*]} "; then
      return 0
    fi
    say "the OIDC issuer (pid $pid) runs with other settings, restarting it…"
    stop_issuer
  fi
  rm -f "$ISSUER_PID_FILE"
  if port_open "$KAFKA_OIDC_PORT"; then
    die "OIDC issuer port $HOST:$KAFKA_OIDC_PORT is already in use; set KAFKA_OIDC_PORT to another port"
  fi
  mkdir -p "$LOGS_DIR"
  printf '\n===== %s starting the OIDC issuer on %s =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$OIDC_URL" >>"$ISSUER_LOG"
  # Own session like the broker; fd 9 (the data dir lock) closed so it does not hold the lock.
  setsid nohup node "$OIDC_ISSUER" "${args[@]}" </dev/null >>"$ISSUER_LOG" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$ISSUER_PID_FILE"
  until port_open "$KAFKA_OIDC_PORT"; do
    if ! kill -0 "$pid" 2>/dev/null || (( waited >= 100 )); then
      tail -n 20 "$ISSUER_LOG" >&2 || true
      die "the OIDC issuer did not come up on $OIDC_URL (log: $ISSUER_LOG)"
    fi
    sleep 0.1
    waited=$(( waited + 1 ))
  done
  say "OIDC issuer on $OIDC_URL (pid $pid)"
}

stop_issuer() {
  local pid waited=0
  if ! pid="$(issuer_pid)"; then
    rm -f "$ISSUER_PID_FILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= 50 )); then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.1
    waited=$(( waited + 1 ))
  done
  rm -f "$ISSUER_PID_FILE"
  say "stopped the OIDC issuer (pid $pid)"
}

# The secured listeners open together with PLAINTEXT; this only makes sure of it.
wait_secure_listeners() {
  local port start=$SECONDS
  for port in "$KAFKA_SASL_SSL_PORT" "$KAFKA_MTLS_PORT" "$KAFKA_OAUTH_PORT"; do
    until port_open "$port"; do
      (( SECONDS - start < 30 )) || { show_log_tail; die "secured listener $HOST:$port does not accept connections (logs in $LOGS_DIR)"; }
      sleep 0.2
    done
  done
}

# SCRAM users are normally written into the metadata when the storage is formatted. A data dir
# formatted without them (before this script had secured listeners, or with KAFKA_SECURE=0) gets
# them here, once, over the PLAINTEXT listener (User:ANONYMOUS is a super user) with Kafka's
# ConfigCommand. The broker refuses two credentials of one user in one request, and ConfigCommand
# alters one user per run, so it runs once per user and mechanism: each mechanism as one parallel
# wave of short JVMs (C1 only, small heap), about 10 s in all. Setting a credential again is
# harmless, so an interrupted run is simply repeated by the next 'up'.
ensure_scram_users() {
  local want mech u i failed=0 pids=()
  want="$(scram_fingerprint)"
  if [[ -f "$SCRAM_MARKER" && "$(cat "$SCRAM_MARKER")" == "$want" ]]; then return 0; fi
  [[ -n "$JAVA_BIN" ]] || find_java
  say "adding the SCRAM users to a data dir formatted without them…"
  for mech in SCRAM-SHA-256 SCRAM-SHA-512; do
    pids=()
    for u in "${SCRAM_USERS[@]}"; do
      "$JAVA_BIN" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m \
        -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOGS_DIR" \
        -cp "$(java_cp)" kafka.admin.ConfigCommand --bootstrap-server "$HOST:$KAFKA_PORT" --alter \
        --entity-type users --entity-name "$u" --add-config "$mech=[password=$(secret scram "$u")]" \
        >"$SECURE_DIR/.scram-$u.log" 2>&1 &
      pids+=("$!")
    done
    for i in "${!pids[@]}"; do
      u="${SCRAM_USERS[$i]}"
      if ! wait "${pids[$i]}"; then
        cat "$SECURE_DIR/.scram-$u.log" >&2
        say "could not add the $mech credential of $u (see above)"
        failed=1
      fi
      rm -f "$SECURE_DIR/.scram-$u.log"
    done
  done
  (( ! failed )) || die "could not add the SCRAM users; the next 'up' tries again"
  printf '%s\n' "$want" >"$SCRAM_MARKER"
}

json_str() { # a JSON string literal
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

json_secrets() { # json_secrets KIND NAME... -> {"NAME": "<secret>", ...}
  local kind=$1 sep="" name
  shift
  printf '{'
  for name in "$@"; do printf '%s%s: %s' "$sep" "$(json_str "$name")" "$(json_str "$(secret "$kind" "$name")")"; sep=', '; done
  printf '}'
}

# <data>/secure/broker.json: what a test needs to connect to each secured listener.
write_descriptor() {
  local d=$SECURE_DIR tmp="$DESCRIPTOR.tmp.$$"
  : >"$tmp"
  chmod 600 "$tmp"  # it holds every password
  cat >"$tmp" <<EOF
{
  "plaintext": "$HOST:$KAFKA_PORT",
  "saslSsl": "$HOST:$KAFKA_SASL_SSL_PORT",
  "mtls": "$HOST:$KAFKA_MTLS_PORT",
  "oauth": "$HOST:$KAFKA_OAUTH_PORT",
  "oidc": {
    "issuer": "$OIDC_URL",
    "tokenUrl": "$OIDC_URL/token",
    "jwksUrl": "$OIDC_URL/jwks",
    "audience": "$OIDC_AUDIENCE",
    "tokenLifetimeSeconds": $KAFKA_OIDC_TOKEN_LIFETIME,
    "clients": $(json_secrets oidc "${OIDC_CLIENTS[@]}")
  },
  "ca": $(json_str "$d/ca.pem"),
  "otherCa": $(json_str "$d/other-ca.pem"),
  "mtlsClients": {
    "gateway-mtls": {"cert": $(json_str "$d/gateway-mtls.pem"), "key": $(json_str "$d/gateway-mtls-key.pem")},
    "gateway-mtls-pass": {"cert": $(json_str "$d/gateway-mtls-pass.pem"), "key": $(json_str "$d/gateway-mtls-pass-key.pem"), "passphrase": $(json_str "$(secret passphrase gateway-mtls-pass)")}
  },
  "scram": $(json_secrets scram "${SCRAM_USERS[@]}"),
  "plain": $(json_secrets plain "${PLAIN_USERS[@]}"),
  "superUsers": ["User:ANONYMOUS", "User:admin"],
  "reauthMs": $REAUTH_MS
}
EOF
  mv "$tmp" "$DESCRIPTOR"
}

# Before the config is written: secrets, certificates, token service.
secure_prepare() {
  SECURE=1
  ensure_credentials
  ensure_certs
  start_issuer
}

# After the broker is ready: listeners open, SCRAM users present, descriptor up to date.
secure_finish() {
  wait_secure_listeners
  ensure_scram_users
  write_descriptor
}

# ------------------------------------------------------------------ commands
cmd_up() {
  check_port_var KAFKA_PORT "$KAFKA_PORT"
  check_port_var KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  [[ "$KAFKA_SECURE" == 0 || "$KAFKA_SECURE" == 1 ]] || die "KAFKA_SECURE must be 1 (secured listeners too) or 0 (plaintext only), got '$KAFKA_SECURE'"
  if (( KAFKA_SECURE )); then set_secure_ports; fi
  check_node
  lock_data_dir
  local t0=$SECONDS pid rc

  # Already started by us (maybe by an interrupted 'up')? Just wait for it (and, with the secured
  # listeners, make sure that its issuer runs, its SCRAM users exist and broker.json is written).
  if pid="$(our_pid)"; then
    say "already running (pid $pid), checking readiness…"
    wait_ready "$pid"
    up_running
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
  if (( KAFKA_SECURE )); then check_secure_ports; fi

  find_java
  ensure_libs
  if (( KAFKA_SECURE )); then
    secure_prepare
  else
    # Plaintext only: nothing may look as if the secured listeners were there.
    rm -f "$DESCRIPTOR"
    stop_issuer
  fi
  write_config
  format_storage  # changing the ports later is fine: the controller re-registers its endpoint

  {
    printf '\n===== %s starting Kafka %s (port %s, controller %s) =====\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$KAFKA_VERSION" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  } >>"$OUT_LOG"
  pid="$(launch)"
  say "started pid $pid, waiting for readiness…"
  wait_ready "$pid"
  if (( SECURE )); then
    secure_finish
    say "secured listeners: SASL_SSL $HOST:$KAFKA_SASL_SSL_PORT, MTLS $HOST:$KAFKA_MTLS_PORT, OAUTH $HOST:$KAFKA_OAUTH_PORT (see $DESCRIPTOR)"
  fi
  say "ready on $HOST:$KAFKA_PORT ($(( SECONDS - t0 ))s)"
}

# Ports of the secured listeners must be free before the JVM starts (it would exit on a taken
# one). The issuer's port may be held by our own issuer, left running by an interrupted 'up'.
check_secure_ports() {
  local name
  for name in KAFKA_SASL_SSL_PORT KAFKA_MTLS_PORT KAFKA_OAUTH_PORT; do
    if port_open "${!name}"; then die "$name $HOST:${!name} is already in use; set $name to another port"; fi
  done
  if ! issuer_pid >/dev/null && port_open "$KAFKA_OIDC_PORT"; then
    die "KAFKA_OIDC_PORT $HOST:$KAFKA_OIDC_PORT is already in use; set KAFKA_OIDC_PORT to another port"
  fi
}

# 'up' on a broker that this script started earlier: the config cannot change while it runs.
up_running() {
  local want have
  if (( KAFKA_SECURE )); then want="listeners=$(secure_listeners)"; else want="listeners=$(plain_listeners)"; fi
  have="$(grep -m1 '^listeners=' "$CONFIG" || true)"
  if [[ "$have" != "$want" ]]; then
    say "note: the running broker has $have, not the $want asked for (KAFKA_SECURE=$KAFKA_SECURE); 'scripts/kafka.sh down' and 'up' apply it"
    return 0
  fi
  if (( KAFKA_SECURE )); then
    SECURE=1
    ensure_credentials
    start_issuer
    secure_finish
  fi
}

# Starts the JVM on $CONFIG in the background (its own session), records and prints its pid.
launch() {
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS / KAFKA_OPTS are word lists on purpose
  setsid nohup "$JAVA_BIN" $KAFKA_HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOGS_DIR" \
    -Dkafka.log.level="$KAFKA_LOG_LEVEL" \
    $KAFKA_OPTS $SECURE_JVM_OPTS \
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
    stop_pid "$pid" "$KAFKA_STOP_TIMEOUT"
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
  stop_issuer
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
    if grep -q '^listener.name.oauth.' "$CONFIG" 2>/dev/null; then
      say "secured listeners: $(grep -m1 '^listeners=' "$CONFIG" | sed 's/^listeners=//'); described in $DESCRIPTOR"
      if pid="$(issuer_pid)"; then say "OIDC issuer running (pid $pid)"; else say "OIDC issuer NOT running ('up' starts it)"; fi
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

cmd_logs() { show_logs "$@" -- "$SERVER_LOG" "$OUT_LOG" "$ISSUER_LOG"; }

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
