#!/usr/bin/env bash
# PEER, NOT PART OF CLICKSTREAM STUDIO: builds and runs the Kafka Streams peer (issue 22).
#   bench/peers/kstreams/run.sh build          compile it (mvn, Maven Central only) into the cache
#   bench/peers/kstreams/run.sh ARGS...         run it: --broker B --events N [--topic T]
#                                               [--app-id ID] [--threads 2] [--timeout S]
# Build and cache: bench/peers/mvn-peer.sh (jars of kafka-streams and its dependencies). The JVM
# replaces this shell (exec), so the caller's wait4 rusage is the JVM's.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEER=kstreams PEER_CLASS=KStreamsPeer PEER_LABEL="kstreams peer"
source "$HERE/../mvn-peer.sh"
peer_main "$@"
exec java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR:$CACHE/libs/*" \
  peer.KStreamsPeer "$@"
