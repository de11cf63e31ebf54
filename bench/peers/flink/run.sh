#!/usr/bin/env bash
# PEER, NOT PART OF CLICKSTREAM STUDIO: builds and runs the Flink peer (issue 22).
#   bench/peers/flink/run.sh build          compile it (mvn, Maven Central only) into the cache
#   bench/peers/flink/run.sh ARGS...         run it: --broker B [--topic T] [--group G]
#                                            [--parallelism 2] (reads what the topic holds)
# Build and cache: bench/peers/mvn-peer.sh (jars of Flink, its Kafka connector and their
# dependencies). The JVM replaces this shell (exec), so the caller's wait4 rusage is the JVM's.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEER=flink PEER_CLASS=FlinkPeer PEER_LABEL="flink peer"
source "$HERE/../mvn-peer.sh"
peer_main "$@"
# Flink 2 on Java 17 needs these opened (the JVM options Flink's own distribution sets).
OPENS=()
for p in java.lang java.net java.io java.nio sun.nio.ch java.lang.reflect java.text java.time \
  java.util java.util.concurrent java.util.concurrent.atomic java.util.concurrent.locks; do
  OPENS+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
exec java -Xmx1g "${OPENS[@]}" --add-exports=java.base/sun.net.util=ALL-UNNAMED \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR:$CACHE/libs/*" peer.FlinkPeer "$@"
