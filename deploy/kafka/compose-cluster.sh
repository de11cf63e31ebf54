#!/bin/sh
# The docker-compose.yml `cluster` profile's brokers, from the same settings the tests run
# (deploy/kafka/cluster.properties, which scripts/kafka.sh also writes into every node), inside
# the apache/kafka image (mounted at /deploy/kafka, read-only). Three steps, one per service:
#
#   compose-cluster.sh tls      (service kafka-cluster-tls, once) a CA and a PKCS12 key store per
#                               broker, made with keytool into $TLS_DIR (a shared volume); the
#                               clients' CA is $TLS_DIR/ca.pem (docker compose cp
#                               kafka-1:/etc/kafka/tls/ca.pem .)
#   compose-cluster.sh broker   (kafka-1..3) server.properties = cluster.properties + this node's
#                               listeners, SCRAM login and key store; storage formatted on the
#                               first start with the SCRAM-SHA-512 users admin and studio; then
#                               the broker runs in the foreground
#   compose-cluster.sh acls     (kafka-cluster-acls, once the brokers are healthy) the app's user
#                               `studio` may do everything on topics, groups and the cluster
#
# Environment: NODE_ID, CLUSTER_ID, CONTROLLER_QUORUM_VOTERS, LISTENERS, ADVERTISED_LISTENERS
# (broker); BOOTSTRAP (acls); KAFKA_ADMIN_PASSWORD, CLICKSTREAM_SASL_PASSWORD,
# KAFKA_TLS_PASSWORD (from .env). KAFKA_LIBS (default /opt/kafka/libs), DEPLOY_DIR (default the
# folder of this script), TLS_DIR (default /etc/kafka/tls), DATA_DIR (default
# /var/lib/kafka/data) and CONFIG_DIR (default /tmp/kafka-config) let it run outside the image.
set -eu

LIBS="${KAFKA_LIBS:-/opt/kafka/libs}"
DEPLOY="${DEPLOY_DIR:-$(cd "$(dirname "$0")" && pwd)}"
TLS="${TLS_DIR:-/etc/kafka/tls}"
DATA="${DATA_DIR:-/var/lib/kafka/data}"
CONFIG="${CONFIG_DIR:-/tmp/kafka-config}"
SCRAM_MODULE=org.apache.kafka.common.security.scram.ScramLoginModule

die() {
  echo "compose-cluster.sh: $*" >&2
  exit 1
}
need() { # variable...
  for v in "$@"; do
    eval "[ -n \"\${$v:-}\" ]" || die "$v is not set (see .env.example)"
  done
}

tls() {
  need KAFKA_TLS_PASSWORD
  if [ -f "$TLS/ca.pem" ] && [ -f "$TLS/broker-3.p12" ]; then
    echo "compose-cluster.sh: certificates already in $TLS"
    return
  fi
  mkdir -p "$TLS"
  cd "$TLS"
  rm -f ca.p12 ca.pem broker-*.p12 broker-*.csr broker-*.pem
  pass="$KAFKA_TLS_PASSWORD"
  keytool -genkeypair -alias ca -dname "CN=Clickstream Studio compose CA" -ext bc:c \
    -keyalg RSA -keysize 2048 -validity 825 -storetype PKCS12 -keystore ca.p12 \
    -storepass "$pass" -keypass "$pass"
  keytool -exportcert -rfc -alias ca -keystore ca.p12 -storepass "$pass" -file ca.pem
  for n in 1 2 3; do
    keytool -genkeypair -alias broker -dname "CN=kafka-$n" -keyalg RSA -keysize 2048 \
      -validity 825 -storetype PKCS12 -keystore "broker-$n.p12" -storepass "$pass" \
      -keypass "$pass"
    keytool -certreq -alias broker -keystore "broker-$n.p12" -storepass "$pass" \
      -file "broker-$n.csr"
    keytool -gencert -alias ca -keystore ca.p12 -storepass "$pass" -infile "broker-$n.csr" \
      -outfile "broker-$n.pem" -rfc -validity 825 \
      -ext "SAN=dns:localhost,dns:kafka-$n,ip:127.0.0.1" -ext "EKU=serverAuth,clientAuth"
    keytool -importcert -noprompt -alias ca -file ca.pem -keystore "broker-$n.p12" \
      -storepass "$pass"
    keytool -importcert -alias broker -file "broker-$n.pem" -keystore "broker-$n.p12" \
      -storepass "$pass"
    rm -f "broker-$n.csr"
  done
  chmod 644 ca.pem
  chmod 600 ca.p12 broker-*.p12
  # The brokers run as the image's user.
  if [ "$(id -u)" = 0 ] && id appuser >/dev/null 2>&1; then
    chown appuser "$TLS" ca.pem broker-*.p12
  fi
  echo "compose-cluster.sh: CA and broker key stores in $TLS"
}

broker() {
  need NODE_ID CLUSTER_ID CONTROLLER_QUORUM_VOTERS LISTENERS ADVERTISED_LISTENERS \
    KAFKA_ADMIN_PASSWORD CLICKSTREAM_SASL_PASSWORD KAFKA_TLS_PASSWORD
  [ -f "$DEPLOY/cluster.properties" ] || die "no $DEPLOY/cluster.properties"
  [ -f "$TLS/broker-$NODE_ID.p12" ] || die "no $TLS/broker-$NODE_ID.p12 (service kafka-cluster-tls)"
  mkdir -p "$CONFIG" "$DATA"
  umask 077
  {
    echo "# --- deploy/kafka/cluster.properties ---"
    grep -v '^[[:space:]]*#' "$DEPLOY/cluster.properties" | grep -v '^[[:space:]]*$'
    echo "# --- this node ---"
    echo "node.id=$NODE_ID"
    echo "controller.quorum.voters=$CONTROLLER_QUORUM_VOTERS"
    echo "listeners=$LISTENERS"
    echo "advertised.listeners=$ADVERTISED_LISTENERS"
    echo "log.dirs=$DATA"
    echo "listener.name.internal.scram-sha-512.sasl.jaas.config=$SCRAM_MODULE required username=\"admin\" password=\"$KAFKA_ADMIN_PASSWORD\";"
    echo "listener.name.external.scram-sha-512.sasl.jaas.config=$SCRAM_MODULE required;"
    echo "ssl.keystore.type=PKCS12"
    echo "ssl.keystore.location=$TLS/broker-$NODE_ID.p12"
    echo "ssl.keystore.password=$KAFKA_TLS_PASSWORD"
  } >"$CONFIG/server.properties"
  if [ ! -f "$DATA/meta.properties" ]; then
    # SCRAM users exist from the first start: the brokers log in to each other as admin.
    java -Xmx256m -cp "$LIBS/*" kafka.tools.StorageTool format --ignore-formatted \
      --cluster-id="$CLUSTER_ID" -c "$CONFIG/server.properties" \
      --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]" \
      --add-scram "SCRAM-SHA-512=[name=studio,password=$CLICKSTREAM_SASL_PASSWORD]" ||
      die "formatting $DATA failed"
  fi
  # The image's log configuration (console), when there is one.
  log=""
  [ -f /opt/kafka/config/log4j.properties ] &&
    log="-Dlog4j.configuration=file:/opt/kafka/config/log4j.properties"
  # shellcheck disable=SC2086
  exec java ${KAFKA_HEAP_OPTS:--Xmx1g -Xms1g} -XX:+UseG1GC -Djava.awt.headless=true $log \
    -cp "$LIBS/*" kafka.Kafka "$CONFIG/server.properties"
}

acls() {
  need BOOTSTRAP KAFKA_ADMIN_PASSWORD
  mkdir -p "$CONFIG"
  umask 077
  {
    echo "security.protocol=SASL_PLAINTEXT"
    echo "sasl.mechanism=SCRAM-SHA-512"
    echo "sasl.jaas.config=$SCRAM_MODULE required username=\"admin\" password=\"$KAFKA_ADMIN_PASSWORD\";"
  } >"$CONFIG/admin.properties"
  java -Xmx256m -cp "$LIBS/*" kafka.admin.AclCommand --bootstrap-server "$BOOTSTRAP" \
    --command-config "$CONFIG/admin.properties" --add --allow-principal User:studio \
    --operation All --topic '*' --group '*' --cluster --force
}

case "${1:-}" in
tls | broker | acls) "$1" ;;
*) die "usage: compose-cluster.sh tls|broker|acls" ;;
esac
