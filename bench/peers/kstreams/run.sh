#!/usr/bin/env bash
# PEER, NOT PART OF CLICKSTREAM STUDIO: builds and runs the Kafka Streams peer (issue 22).
#   bench/peers/kstreams/run.sh build          compile it (mvn, Maven Central only) into the cache
#   bench/peers/kstreams/run.sh ARGS...         run it: --broker B --events N [--topic T]
#                                               [--app-id ID] [--threads 2] [--timeout S]
# Cache: $STUDIO_PEERS_CACHE/kstreams (default ~/.cache/clickstream-studio/peers/kstreams): the
# classes and the jars of kafka-streams and its dependencies. Rebuilt when pom.xml or the source
# is newer than the jar. The JVM replaces this shell (exec), so the caller's wait4 rusage is the
# JVM's.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${STUDIO_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clickstream-studio/peers}/kstreams"
JAR="$CACHE/kstreams-peer-1.jar"

build() {
  if [ -f "$JAR" ] && [ "$JAR" -nt "$HERE/pom.xml" ] &&
    [ "$JAR" -nt "$HERE/src/main/java/peer/KStreamsPeer.java" ] && [ -d "$CACHE/libs" ]; then
    return 0
  fi
  command -v mvn >/dev/null || { echo "kstreams peer: mvn missing (apt-get install maven)" >&2; exit 1; }
  mkdir -p "$CACHE"
  echo "kstreams peer: building with mvn into $CACHE" >&2
  if ! mvn -B -q -f "$HERE/pom.xml" -Dpeer.build.dir="$CACHE" package >"$CACHE/mvn.log" 2>&1; then
    tail -30 "$CACHE/mvn.log" >&2
    echo "kstreams peer: mvn failed (full log $CACHE/mvn.log): is Maven Central reachable?" >&2
    exit 1
  fi
}

if [ "${1:-}" = build ]; then
  build
  exit 0
fi
build
exec java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR:$CACHE/libs/*" \
  peer.KStreamsPeer "$@"
