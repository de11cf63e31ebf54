#!/usr/bin/env bash
# PEER, NOT PART OF CLICKSTREAM STUDIO: builds and runs the Flink peer (issue 22).
#   bench/peers/flink/run.sh build          compile it (mvn, Maven Central only) into the cache
#   bench/peers/flink/run.sh ARGS...         run it: --broker B [--topic T] [--group G]
#                                            [--parallelism 2] (reads what the topic holds)
# Cache: $STUDIO_PEERS_CACHE/flink (default ~/.cache/clickstream-studio/peers/flink): the
# classes and the jars of Flink, its Kafka connector and their dependencies. Rebuilt when pom.xml or the source
# is newer than the jar. The JVM replaces this shell (exec), so the caller's wait4 rusage is the
# JVM's.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${STUDIO_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clickstream-studio/peers}/flink"
JAR="$CACHE/flink-peer-1.jar"

build() {
  if [ -f "$JAR" ] && [ "$JAR" -nt "$HERE/pom.xml" ] &&
    [ "$JAR" -nt "$HERE/src/main/java/peer/FlinkPeer.java" ] && [ -d "$CACHE/libs" ]; then
    return 0
  fi
  command -v mvn >/dev/null || { echo "flink peer: mvn missing (apt-get install maven)" >&2; exit 1; }
  mkdir -p "$CACHE"
  echo "flink peer: building with mvn into $CACHE" >&2
  if ! mvn -B -q -f "$HERE/pom.xml" -Dpeer.build.dir="$CACHE" package >"$CACHE/mvn.log" 2>&1; then
    tail -30 "$CACHE/mvn.log" >&2
    echo "flink peer: mvn failed (full log $CACHE/mvn.log): is Maven Central reachable?" >&2
    exit 1
  fi
}

if [ "${1:-}" = build ]; then
  build
  exit 0
fi
build
# Flink 2 on Java 17 needs these opened (the JVM options Flink's own distribution sets).
OPENS=()
for p in java.lang java.net java.io java.nio sun.nio.ch java.lang.reflect java.text java.time \
  java.util java.util.concurrent java.util.concurrent.atomic java.util.concurrent.locks; do
  OPENS+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
exec java -Xmx1g "${OPENS[@]}" --add-exports=java.base/sun.net.util=ALL-UNNAMED \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR:$CACHE/libs/*" peer.FlinkPeer "$@"
