#!/usr/bin/env bash
# scripts/kafka.sh on bad input (ctest kafka_script_bad_input): each case ends within its deadline
# with a non-zero exit and a message naming the problem, and leaves no broker running.
#   tests/kafka/test_kafka_script.sh   (uses the jars kafka.sh cached; resolves them if needed)
set -uo pipefail
KAFKA_SH="$(cd "$(dirname "$0")/../.." && pwd)/scripts/kafka.sh"
WORK="$(mktemp -d /tmp/studio-kafka-script.XXXXXX)"
trap 'for d in late dash; do bash "$KAFKA_SH" stop "$WORK/$d" >/dev/null 2>&1; done; rm -rf "$WORK"' EXIT
failures=0
expect() { # name want-rc pattern rc output
  if [ "$4" != "$2" ] || ! grep -q -- "$3" <<<"$5"; then
    echo "FAIL: $1: exit $4 (want $2), output:"
    echo "$5" | tail -n 5
    failures=$((failures + 1))
  else
    echo "ok: $1"
  fi
}

# No Java on PATH: only the tools the script needs besides java.
mkdir -p "$WORK/bin"
for t in bash sed head cat grep python3 kcat sha256sum tr mkdir cut dirname timeout flock rm mv \
  ls seq openssl base64 date chmod cp touch sleep tail env setsid; do
  ln -sf "$(command -v "$t")" "$WORK/bin/$t"
done
out="$(PATH="$WORK/bin" timeout 30 bash "$KAFKA_SH" start single "$WORK/nojava" 2>&1)"
expect "no JDK" 1 "no Java runtime" $? "$out"

# No Maven and nothing cached.
ln -sf "$(readlink -f "$(command -v java)")" "$WORK/bin/java"
out="$(STUDIO_KAFKA_CACHE="$WORK/cache" PATH="$WORK/bin" timeout 30 bash "$KAFKA_SH" start single "$WORK/nomvn" 2>&1)"
expect "no Maven" 1 "mvn not found" $? "$out"

# A release Maven Central does not have.
out="$(STUDIO_KAFKA_VERSION=0.0.42 STUDIO_KAFKA_CACHE="$WORK/cache" timeout 300 bash "$KAFKA_SH" start single "$WORK/noversion" 2>&1)"
expect "failed resolve" 1 "could not resolve org.apache.kafka:kafka_2.13:0.0.42" $? "$out"

# A port in use.
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$WORK/port" &
holder=$!
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
port="$(cat "$WORK/port")"
out="$(STUDIO_KAFKA_PORTS="$port 1" timeout 60 bash "$KAFKA_SH" start single "$WORK/busy" 2>&1)"
expect "port in use" 1 "port $port on 127.0.0.1 is in use" $? "$out"
kill "$holder" 2>/dev/null

# Regression: a cluster id starting with '-' (one random id in 64) failed the start with
# "kafka-storage: error: argument --cluster-id/-t: expected one argument".
out="$(STUDIO_KAFKA_CLUSTER_ID=-dashFirstId012345678A timeout 200 bash "$KAFKA_SH" start single "$WORK/dash" 2>&1)"
expect "cluster id starting with a dash" 0 "^bootstrap=127.0.0.1:" $? "$out"
out="$(timeout 60 bash "$KAFKA_SH" stop "$WORK/dash" 2>&1)"
expect "cluster id starting with a dash: stop" 0 "" $? "$out"

# Brokers that do not answer within the deadline: stopped, nothing left running. The broker's JVM
# is held back 30 s by a java on PATH that waits before it runs Kafka's main class (formatting the
# storage runs at once): on a quiet machine a warm JVM answered within the first metadata request's
# 3 s wait and the start passed the 1 s deadline.
mkdir -p "$WORK/slowbin"
cat >"$WORK/slowbin/java" <<SLOW
#!/bin/bash
case " \$* " in *" kafka.Kafka "*) sleep 30 ;; esac
exec "$(readlink -f "$(command -v java)")" "\$@"
SLOW
chmod +x "$WORK/slowbin/java"
out="$(PATH="$WORK/slowbin:$PATH" STUDIO_KAFKA_START_TIMEOUT=1 timeout 120 bash "$KAFKA_SH" start single "$WORK/late" 2>&1)"
expect "deadline" 1 "did not answer within 1 s" $? "$out"
if pgrep -f "$WORK/late/node-1/server.properties" >/dev/null; then
  echo "FAIL: deadline: a broker still runs"
  failures=$((failures + 1))
fi

# Stop when nothing runs, or in a folder that never held a set-up.
out="$(timeout 30 bash "$KAFKA_SH" stop "$WORK/late" 2>&1)"
expect "stop, nothing running" 0 "nothing runs" $? "$out"
out="$(timeout 30 bash "$KAFKA_SH" stop "$WORK/never" 2>&1)"
expect "stop, no folder" 0 "" $? "$out"

# Bad usage.
out="$(timeout 30 bash "$KAFKA_SH" start triple "$WORK/x" 2>&1)"
expect "bad usage" 2 "start single|cluster DIR" $? "$out"

[ "$failures" = 0 ] && echo "kafka.sh bad input: all passed" && exit 0
exit 1
