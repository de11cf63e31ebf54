#!/usr/bin/env bash
# A real Apache Kafka (KRaft) on loopback, as plain JVM processes, for the tests and benchmarks.
#
#   scripts/kafka.sh start single|cluster DIR   start in DIR (created; must not be running);
#                                               returns once every broker answers; the first
#                                               line of stdout is bootstrap=HOST:PORT,...
#   scripts/kafka.sh stop DIR                   stop every node started in DIR (0 when none runs)
#   scripts/kafka.sh node-stop DIR N [--kill]   stop node N (SIGTERM, or SIGKILL with --kill)
#   scripts/kafka.sh node-start DIR N           start node N again (same ports and data) and
#                                               wait until the cluster has all its brokers
#   scripts/kafka.sh status DIR                 one line per node: N PID running|stopped PORT
#   scripts/kafka.sh resolve [single|cluster]   fetch the jars only; prints the libs folder
#   scripts/kafka.sh run-class DIR CLASS ARGS   run one of Kafka's tool classes on the jars of the
#                                               set-up in DIR (e.g. org.apache.kafka.tools.consumer.
#                                               group.ConsumerGroupCommand --command-config
#                                               DIR/admin.properties --bootstrap-server ...)
#
# single:  one node (broker + controller), PLAINTEXT.
# cluster: three nodes, each broker + controller, with deploy/kafka/cluster.properties (the
#          settings docker-compose.yml's cluster profile uses): clients on SASL_SSL with
#          SCRAM-SHA-512, a CA and broker certificates made here with openssl, replication
#          factor 3, min ISR 2, StandardAuthorizer with ACLs. Users (created at format time):
#            admin    super user, the brokers' own;
#            studio   the app's: everything on topics, groups and the cluster;
#            limited  reads and describes topics, has no rights on any consumer group.
#
# What DIR holds afterwards (other scripts rely on it):
#   bootstrap              the bootstrap list, one line (also the first line of stdout)
#   setup                  single | cluster;  version: the Kafka release running
#   client.properties      librdkafka properties of the app's user (cluster only: security.protocol,
#                          sasl.mechanism, sasl.username, ssl.ca.location); client.password its
#                          password; <user>.password for admin and limited (all mode 0600)
#   admin.properties       Java client properties for Kafka's tools as the super user
#   admin.librdkafka       librdkafka properties as the super user (kcat -F), with the password
#   tls/ca.pem             the CA the brokers' certificates are signed with (cluster)
#   node-N/                server.properties, pid, server.log, data/ of node N (1-based)
#
# The Kafka releases are pinned in tests/kafka/pom.xml: kafka.version (4.1.1) for single,
# kafka.cluster.version (3.9.1) for cluster, whose SCRAM logins librdkafka 2.0.2 cannot do on 4.x
# (the pom says why). `mvn` copies a release's jars (from Maven Central only) into
# $STUDIO_KAFKA_CACHE/kafka-<version> (default ~/.cache/clickstream-studio), reused by later runs. Needs Java 17+, Maven, openssl (cluster) and kcat (readiness). Every wait has a
# deadline: STUDIO_KAFKA_START_TIMEOUT (s, default 150) for the brokers to answer,
# STUDIO_KAFKA_RESOLVE_TIMEOUT (s, default 900) for the download. STUDIO_KAFKA_HEAP sets each
# node's heap (default 512m); STUDIO_KAFKA_VERSION runs another release than the pinned one.
# Exit status: 0 ok, 1 failure (message on stderr), 2 bad usage.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="$REPO/tests/kafka/pom.xml"
CLUSTER_PROPERTIES="$REPO/deploy/kafka/cluster.properties"
START_TIMEOUT="${STUDIO_KAFKA_START_TIMEOUT:-150}"
RESOLVE_TIMEOUT="${STUDIO_KAFKA_RESOLVE_TIMEOUT:-900}"
HEAP="${STUDIO_KAFKA_HEAP:-512m}"

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}
usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

kafka_version() { # single|cluster
  if [ -n "${STUDIO_KAFKA_VERSION:-}" ]; then # another release, e.g. to try one out
    echo "$STUDIO_KAFKA_VERSION"
    return
  fi
  local key=kafka.version
  [ "${1:-single}" = cluster ] && key=kafka.cluster.version
  sed -n "s:.*<$key>\\(.*\\)</$key>.*:\\1:p" "$POM" | head -1
}

# ---------------------------------------------------------------------------------------------
# Prerequisites and the jars

need_java() {
  command -v java >/dev/null 2>&1 ||
    die "no Java runtime (java not on PATH): Kafka 4 needs Java 17 or newer (scripts/bootstrap.sh installs openjdk-17-jre-headless)"
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  [ -n "$v" ] && [ "$v" -ge 17 ] ||
    die "Java ${v:-of unknown version} found, Kafka 4 needs 17 or newer (java -version)"
}

need_tool() { # tool package purpose
  command -v "$1" >/dev/null 2>&1 || die "$1 not found (install the $2 package): it is needed $3"
}

LIBS=""
VERSION=""
resolve() { # version
  need_java
  local version="$1" cache
  [ -n "$version" ] || die "no Kafka version pinned in $POM"
  VERSION="$version"
  cache="${STUDIO_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clickstream-studio}/kafka-$version"
  LIBS="$cache/libs"
  local stamp="$cache/pom.sha256" want
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$LIBS" ]; then
    return 0
  fi
  need_tool mvn maven "to fetch Apache Kafka $version's jars from Maven Central"
  mkdir -p "$cache"
  # Two set-ups may start at once (ctest fixtures): one resolves, the other waits for it.
  exec 9>"$cache/.lock"
  flock -w "$RESOLVE_TIMEOUT" 9 || die "timed out after ${RESOLVE_TIMEOUT} s waiting for another resolve of $cache"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$LIBS" ]; then
    exec 9>&-
    return 0
  fi
  echo "kafka.sh: fetching Apache Kafka $version's jars with mvn into $LIBS (once)" >&2
  rm -rf "$cache/libs.tmp"
  local log="$cache/mvn.log"
  if ! timeout "$RESOLVE_TIMEOUT" mvn -B -q -f "$POM" dependency:copy-dependencies \
    -Dkafka.version="$version" -DincludeScope=runtime -DoutputDirectory="$cache/libs.tmp" >"$log" 2>&1; then
    tail -n 25 "$log" >&2 || true
    exec 9>&-
    die "could not resolve org.apache.kafka:kafka_2.13:$version with mvn (log above, full log in $log): is Maven Central reachable?"
  fi
  ls "$cache/libs.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 ||
    die "mvn finished but no kafka_2.13 jar is in $cache/libs.tmp"
  rm -rf "$LIBS"
  mv "$cache/libs.tmp" "$LIBS"
  echo "$want" >"$stamp"
  exec 9>&-
}

# Logging: the broker at INFO to stdout (node-N/server.log), Kafka's tools warnings and errors
# only to stderr. Kafka 4 logs through Log4j 2 (X-log4j2.properties), 3.9 through reload4j
# (X-log4j.properties); with both bindings on 3.9's class path either may win: both are written.
write_log_config() { # file level
  local target=System.err
  [ "$2" = INFO ] && target=System.out
  cat >"$1-log4j.properties" <<EOF
log4j.rootLogger=$2, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.Target=$target
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
  cat >"$1-log4j2.properties" <<EOF
status = error
appender.out.type = Console
appender.out.name = out
appender.out.target = $([ "$2" = INFO ] && echo SYSTEM_OUT || echo SYSTEM_ERR)
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = $2
rootLogger.appenderRef.out.ref = out
logger.kafka-request.name = kafka.request.logger
logger.kafka-request.level = WARN
logger.state-change.name = state.change.logger
logger.state-change.level = WARN
EOF
}

log_options() { # config-file-prefix
  echo "-Dlog4j2.configurationFile=$1-log4j2.properties -Dlog4j.configuration=file:$1-log4j.properties"
}

run_class() { # class args... (Kafka tools: small heap, quick start)
  local cfg="${TMPDIR:-/tmp}/clickstream-kafka-tools-log"
  [ -f "$cfg-log4j2.properties" ] || write_log_config "$cfg" WARN
  # shellcheck disable=SC2046
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    $(log_options "$cfg") -cp "$LIBS/*" "$@"
}

# Kafka 4 moved some tools from core (kafka.admin) into kafka-tools.
acl_command_class() {
  case "$VERSION" in
  3.*) echo kafka.admin.AclCommand ;;
  *) echo org.apache.kafka.tools.AclCommand ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Helpers

free_ports() { # count -> that many distinct free loopback ports, one per line
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

port_in_use() { # port -> 0 when something listens on 127.0.0.1:port
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}

random_secret() { head -c 18 /dev/urandom | base64 | tr '+/' 'xy'; }

write_secret() { # file value
  (umask 077 && printf '%s\n' "$2" >"$1")
}

# A node's pid, when that process is alive and is the Kafka of this DIR (a recycled pid is not).
node_pid() { # dir n
  local f="$1/node-$2/pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$1/node-$2/server.properties" || return 1
  echo "$pid"
}

node_count() { # dir
  local n=0
  while [ -d "$1/node-$((n + 1))" ]; do n=$((n + 1)); done
  echo "$n"
}

launch_node() { # dir n
  local dir="$1" n="$2" node="$1/node-$2"
  # setsid: the node outlives this script and its caller's process group (a ctest fixture).
  # shellcheck disable=SC2046
  setsid java "-Xms128m" "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true $(log_options "$dir/log") \
    -cp "$LIBS/*" kafka.Kafka "$node/server.properties" \
    </dev/null >>"$node/server.log" 2>&1 &
  echo $! >"$node/pid"
}

# Waits until the metadata of the cluster in DIR lists `want` brokers; dies (after stopping what
# runs there) when a node exits or the deadline passes.
wait_ready() { # dir want
  local dir="$1" want="$2" deadline=$((SECONDS + START_TIMEOUT)) n brokers=0 out
  local count
  count="$(node_count "$dir")"
  while :; do
    for n in $(seq 1 "$count"); do
      # Alive by pid (right after the launch its command line may not be java's yet).
      if [ -f "$dir/node-$n/pid" ] && [ ! -f "$dir/node-$n/stopped" ] &&
        ! kill -0 "$(cat "$dir/node-$n/pid")" 2>/dev/null; then
        echo "kafka.sh: node $n exited; the end of $dir/node-$n/server.log:" >&2
        grep -v '^\s*$' "$dir/node-$n/server.log" | tail -n 20 >&2 || true
        if grep -q "Address already in use" "$dir/node-$n/server.log"; then
          echo "kafka.sh: a port of node $n is in use by another program" >&2
        fi
        cmd_stop "$dir" >/dev/null 2>&1 || true
        die "node $n of $dir did not start"
      fi
    done
    out="$(timeout 10 kcat -F "$dir/admin.librdkafka" -L -J -m 3 2>/dev/null || true)"
    brokers="$(printf '%s' "$out" | python3 -c '
import json, sys
try:
    print(len(json.load(sys.stdin).get("brokers", [])))
except Exception:
    print(0)')"
    [ "$brokers" -ge "$want" ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      for n in $(seq 1 "$count"); do
        echo "kafka.sh: the end of $dir/node-$n/server.log:" >&2
        grep -v '^\s*$' "$dir/node-$n/server.log" | tail -n 8 >&2 || true
      done
      cmd_stop "$dir" >/dev/null 2>&1 || true
      die "the brokers in $dir did not answer within ${START_TIMEOUT} s ($brokers of $want in the metadata; STUDIO_KAFKA_START_TIMEOUT sets the deadline)"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------
# TLS (cluster): a CA and one certificate per broker for 127.0.0.1 and localhost, in PKCS12

make_certificates() { # dir nodes
  local dir="$1" nodes="$2" tls="$1/tls" n pass
  mkdir -p "$tls"
  chmod 700 "$tls"
  pass="$(random_secret)"
  write_secret "$tls/keystore.password" "$pass"
  local subj="/O=Clickstream Studio test cluster"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 -keyout "$tls/ca.key" \
    -out "$tls/ca.pem" -subj "$subj/CN=test CA $(date -u +%FT%TZ)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    >/dev/null 2>&1 || die "openssl could not make the CA in $tls"
  for n in $(seq 1 "$nodes"); do
    openssl req -newkey rsa:2048 -nodes -keyout "$tls/node-$n.key" -out "$tls/node-$n.csr" \
      -subj "$subj/CN=broker-$n" >/dev/null 2>&1 || die "openssl could not make node $n's key"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' \
      >"$tls/node-$n.ext"
    openssl x509 -req -in "$tls/node-$n.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
      -CAcreateserial -days 30 -sha256 -extfile "$tls/node-$n.ext" -out "$tls/node-$n.pem" \
      >/dev/null 2>&1 || die "openssl could not sign node $n's certificate"
    openssl pkcs12 -export -in "$tls/node-$n.pem" -inkey "$tls/node-$n.key" \
      -certfile "$tls/ca.pem" -name "broker-$n" -out "$tls/node-$n.p12" \
      -passout "file:$tls/keystore.password" >/dev/null 2>&1 ||
      die "openssl could not write node $n's key store"
    chmod 600 "$tls/node-$n.key" "$tls/node-$n.p12"
  done
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_start() { # single|cluster dir
  local setup="$1" dir="$2" nodes
  case "$setup" in
  single) nodes=1 ;;
  cluster) nodes=3 ;;
  *) usage ;;
  esac
  need_tool kcat kcat "to tell when the brokers answer"
  need_tool python3 python3 "to pick free ports"
  [ "$setup" = single ] || need_tool openssl openssl "to make the cluster's certificates"
  resolve "$(kafka_version "$setup")"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  local n
  for n in $(seq 1 "$(node_count "$dir")"); do
    if node_pid "$dir" "$n" >/dev/null; then
      die "a Kafka set-up already runs in $dir (node $n): scripts/kafka.sh stop $dir first"
    fi
  done
  # A fresh start: nothing of an earlier run is kept.
  rm -rf "$dir"/node-* "$dir/tls" "$dir"/*.password "$dir"/*.properties "$dir/admin.librdkafka" \
    "$dir/bootstrap" "$dir/setup" "$dir/version" "$dir"/log-log4j*.properties
  write_log_config "$dir/log" INFO

  # Ports: a client listener and a controller listener per node (+ an internal one for cluster).
  local per=2
  [ "$setup" = cluster ] && per=3
  local ports
  if [ -n "${STUDIO_KAFKA_PORTS:-}" ]; then # fixed ports (space-separated), e.g. to reproduce
    ports="$(echo "$STUDIO_KAFKA_PORTS" | tr ' ,' '\n\n' | grep -v '^$')"
    [ "$(echo "$ports" | wc -l)" -ge $((nodes * per)) ] ||
      die "STUDIO_KAFKA_PORTS needs $((nodes * per)) ports for $setup"
  else
    ports="$(free_ports $((nodes * per)))"
  fi
  local p
  for p in $ports; do
    if port_in_use "$p"; then
      die "port $p on 127.0.0.1 is in use by another program (choose other STUDIO_KAFKA_PORTS, or leave it unset for free ports)"
    fi
  done
  local -a P
  mapfile -t P <<<"$ports"
  local -a client controller internal
  for n in $(seq 1 "$nodes"); do
    client[n]="${P[$(((n - 1) * per))]}"
    controller[n]="${P[$(((n - 1) * per + 1))]}"
    [ "$setup" = cluster ] && internal[n]="${P[$(((n - 1) * per + 2))]}"
  done
  local voters="" bootstrap=""
  for n in $(seq 1 "$nodes"); do
    voters+="${voters:+,}$n@127.0.0.1:${controller[n]}"
    bootstrap+="${bootstrap:+,}127.0.0.1:${client[n]}"
  done

  local -a scram=()
  if [ "$setup" = cluster ]; then
    make_certificates "$dir" "$nodes"
    local user
    for user in admin studio limited; do
      write_secret "$dir/$user.password" "$(random_secret)"
      scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(cat "$dir/$user.password")]")
    done
    cp "$dir/studio.password" "$dir/client.password"
    chmod 600 "$dir/client.password"
  fi

  # A KRaft cluster id: 16 random bytes in URL-safe base64, never starting with '-' (Kafka's own
  # Uuid.randomUuid() skips those: the storage tool's argument parser takes "-t -xyz..." for an
  # option, and the start failed with "argument --cluster-id/-t: expected one argument" whenever
  # the first character came out as '-', about one start in 64).
  # STUDIO_KAFKA_CLUSTER_ID sets it (the bad-input test starts one with a leading '-').
  local cluster_id="${STUDIO_KAFKA_CLUSTER_ID:--}"
  while [ -z "${STUDIO_KAFKA_CLUSTER_ID:-}" ] && [ "${cluster_id:0:1}" = "-" ]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  for n in $(seq 1 "$nodes"); do
    local node="$dir/node-$n"
    mkdir -p "$node/data"
    {
      echo "# node $n of a '$setup' set-up made by scripts/kafka.sh"
      echo "node.id=$n"
      echo "controller.quorum.voters=$voters"
      echo "log.dirs=$node/data"
      if [ "$setup" = single ]; then
        echo "process.roles=broker,controller"
        echo "listeners=PLAINTEXT://127.0.0.1:${client[n]},CONTROLLER://127.0.0.1:${controller[n]}"
        echo "advertised.listeners=PLAINTEXT://127.0.0.1:${client[n]}"
        echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
        echo "inter.broker.listener.name=PLAINTEXT"
        echo "controller.listener.names=CONTROLLER"
        echo "offsets.topic.replication.factor=1"
        echo "transaction.state.log.replication.factor=1"
        echo "transaction.state.log.min.isr=1"
        echo "num.partitions=12"
        echo "group.initial.rebalance.delay.ms=0"
      else
        echo "# --- deploy/kafka/cluster.properties ---"
        grep -v '^\s*#' "$CLUSTER_PROPERTIES" | grep -v '^\s*$'
        echo "# --- this node ---"
        echo "listeners=INTERNAL://127.0.0.1:${internal[n]},EXTERNAL://127.0.0.1:${client[n]},CONTROLLER://127.0.0.1:${controller[n]}"
        echo "advertised.listeners=INTERNAL://127.0.0.1:${internal[n]},EXTERNAL://127.0.0.1:${client[n]}"
        echo "listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$(cat "$dir/admin.password")\";"
        # The server side of SCRAM needs no credentials, only the login module.
        echo "listener.name.external.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
        echo "ssl.keystore.type=PKCS12"
        echo "ssl.keystore.location=$dir/tls/node-$n.p12"
        echo "ssl.keystore.password=$(cat "$dir/tls/keystore.password")"
      fi
      # Small and quick for tests on a 2-core machine: fewer offsets partitions than the 50
      # default (created when the first group commits), quick group joins.
      echo "offsets.topic.num.partitions=12"
      echo "log.segment.bytes=67108864"
      echo "log.retention.check.interval.ms=30000"
      echo "num.network.threads=2"
      echo "num.io.threads=4"
      echo "background.threads=4"
    } >"$node/server.properties"
    chmod 600 "$node/server.properties"
  done

  # Format every node's storage (in parallel: each is a JVM start), SCRAM users included.
  local -a formatting=()
  for n in $(seq 1 "$nodes"); do
    (run_class kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$dir/node-$n/server.properties" \
      ${scram[@]+"${scram[@]}"} >"$dir/node-$n/format.log" 2>&1) &
    formatting+=($!)
  done
  for n in $(seq 1 "$nodes"); do
    if ! wait "${formatting[n - 1]}"; then
      # The log may hold the SCRAM passwords in the echoed arguments: only the error lines.
      grep -iv "password" "$dir/node-$n/format.log" | tail -n 10 >&2 || true
      die "formatting node $n's storage failed (kafka.tools.StorageTool)"
    fi
  done

  # Client settings.
  if [ "$setup" = single ]; then
    : >"$dir/admin.properties"
    printf 'bootstrap.servers=%s\n' "$bootstrap" >"$dir/admin.librdkafka"
  else
    (
      umask 077
      {
        echo "security.protocol=SASL_SSL"
        echo "sasl.mechanism=SCRAM-SHA-512"
        echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$(cat "$dir/admin.password")\";"
        echo "ssl.truststore.type=PEM"
        echo "ssl.truststore.location=$dir/tls/ca.pem"
      } >"$dir/admin.properties"
      {
        echo "bootstrap.servers=$bootstrap"
        echo "security.protocol=SASL_SSL"
        echo "sasl.mechanisms=SCRAM-SHA-512"
        echo "sasl.username=admin"
        echo "sasl.password=$(cat "$dir/admin.password")"
        echo "ssl.ca.location=$dir/tls/ca.pem"
      } >"$dir/admin.librdkafka"
      {
        echo "security.protocol=SASL_SSL"
        echo "sasl.mechanism=SCRAM-SHA-512"
        echo "sasl.username=studio"
        echo "ssl.ca.location=$dir/tls/ca.pem"
      } >"$dir/client.properties"
    )
  fi

  for n in $(seq 1 "$nodes"); do
    launch_node "$dir" "$n"
  done
  echo "$setup" >"$dir/setup"
  echo "$VERSION" >"$dir/version"
  wait_ready "$dir" "$nodes"

  if [ "$setup" = cluster ]; then
    # ACLs through the super user: the app's user may do everything with topics, groups and the
    # cluster (create topics, idempotent writes, describe configs) and its transactional ids
    # (produce --transactional); `limited` may read and
    # describe topics and nothing else: no consumer group rights at all.
    local acl
    acl="$(acl_command_class)"
    (run_class "$acl" --bootstrap-server "$bootstrap" --command-config "$dir/admin.properties" \
      --add --allow-principal User:studio --operation All --topic '*' --group '*' --cluster \
      --transactional-id '*' \
      --force >"$dir/acl-studio.log" 2>&1) &
    local a1=$!
    (run_class "$acl" --bootstrap-server "$bootstrap" --command-config "$dir/admin.properties" \
      --add --allow-principal User:limited --operation Read --operation Describe --topic '*' \
      --force >"$dir/acl-limited.log" 2>&1) &
    local a2=$!
    local ok=1
    wait "$a1" || ok=0
    wait "$a2" || ok=0
    if [ "$ok" = 0 ]; then
      tail -n 10 "$dir/acl-studio.log" "$dir/acl-limited.log" >&2 || true
      cmd_stop "$dir" >/dev/null 2>&1 || true
      die "setting the ACLs failed (org.apache.kafka.tools.AclCommand)"
    fi
  fi
  echo "$bootstrap" >"$dir/bootstrap"
  echo "bootstrap=$bootstrap"
  echo "kafka.sh: $setup set-up of Apache Kafka $VERSION up in $dir" >&2
}

stop_pids() { # signal grace pids...
  local sig="$1" grace="$2"
  shift 2
  [ $# -gt 0 ] || return 0
  kill "-$sig" "$@" 2>/dev/null || true
  local deadline=$((SECONDS + grace)) p alive
  while :; do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    [ "$SECONDS" -ge "$deadline" ] && break
    sleep 0.2
  done
  kill -KILL "$@" 2>/dev/null || true
  sleep 0.5
}

cmd_stop() { # dir
  local dir="$1"
  [ -d "$dir" ] || return 0
  dir="$(cd "$dir" && pwd)"
  local n pid pids=()
  for n in $(seq 1 "$(node_count "$dir")"); do
    if pid="$(node_pid "$dir" "$n")"; then
      pids+=("$pid")
      kill -CONT "$pid" 2>/dev/null || true # a node frozen with SIGSTOP cannot shut down
    fi
  done
  # Brokers first would wait for controllers that are stopping too: all at once, then SIGKILL
  # after 20 s (nothing of a test set-up is kept).
  stop_pids TERM 20 ${pids[@]+"${pids[@]}"}
  for n in $(seq 1 "$(node_count "$dir")"); do rm -f "$dir/node-$n/pid"; done
  [ ${#pids[@]} -eq 0 ] && echo "kafka.sh: nothing runs in $dir" >&2
  return 0
}

cmd_node_stop() { # dir n [--kill]
  local dir n="$2" pid
  dir="$(cd "$1" && pwd)"
  [ -d "$dir/node-$n" ] || die "no node $n in $dir"
  pid="$(node_pid "$dir" "$n")" || {
    echo "kafka.sh: node $n of $dir is not running" >&2
    return 0
  }
  touch "$dir/node-$n/stopped"
  kill -CONT "$pid" 2>/dev/null || true
  if [ "${3:-}" = --kill ]; then
    stop_pids KILL 5 "$pid"
  else
    stop_pids TERM 60 "$pid"
  fi
  rm -f "$dir/node-$n/pid"
}

cmd_node_start() { # dir n
  local dir n="$2"
  dir="$(cd "$1" && pwd)"
  [ -f "$dir/node-$n/server.properties" ] || die "no node $n in $dir (start the set-up first)"
  node_pid "$dir" "$n" >/dev/null && die "node $n of $dir is already running"
  need_tool kcat kcat "to tell when the brokers answer"
  resolve "$(cat "$dir/version")"
  rm -f "$dir/node-$n/stopped"
  launch_node "$dir" "$n"
  local running=0 m
  for m in $(seq 1 "$(node_count "$dir")"); do
    node_pid "$dir" "$m" >/dev/null && running=$((running + 1))
  done
  wait_ready "$dir" "$running"
}

cmd_status() { # dir
  local dir="$1" n pid port
  [ -d "$dir" ] || die "no such folder: $dir"
  for n in $(seq 1 "$(node_count "$dir")"); do
    port="$(sed -n 's/^advertised.listeners=.*\(PLAINTEXT\|EXTERNAL\):\/\/127.0.0.1:\([0-9]*\).*/\2/p' "$dir/node-$n/server.properties")"
    if pid="$(node_pid "$dir" "$n")"; then
      echo "$n $pid running $port"
    else
      echo "$n - stopped $port"
    fi
  done
}

[ $# -ge 1 ] || usage
case "$1" in
start)
  [ $# -eq 3 ] || usage
  cmd_start "$2" "$3"
  ;;
stop)
  [ $# -eq 2 ] || usage
  cmd_stop "$2"
  ;;
node-stop)
  [ $# -ge 3 ] && [ $# -le 4 ] || usage
  cmd_node_stop "$2" "$3" "${4:-}"
  ;;
node-start)
  [ $# -eq 3 ] || usage
  cmd_node_start "$2" "$3"
  ;;
status)
  [ $# -eq 2 ] || usage
  cmd_status "$2"
  ;;
resolve)
  [ $# -le 2 ] || usage
  resolve "$(kafka_version "${2:-single}")"
  echo "$LIBS"
  ;;
run-class)
  [ $# -ge 3 ] || usage
  [ -f "$2/version" ] || die "no set-up was started in $2"
  resolve "$(cat "$2/version")"
  shift 2
  run_class "$@"
  ;;
-h | --help | help) usage ;;
*) usage ;;
esac
