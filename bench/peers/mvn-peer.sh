#!/usr/bin/env bash
# PEER, NOT PART OF CLICKSTREAM STUDIO (issue 22): the Maven build and cache shared by the Java
# peers. Sourced by bench/peers/<name>/run.sh after it sets PEER (kstreams, flink), PEER_CLASS
# (the main class) and PEER_LABEL (for messages). Defines:
#   CACHE  $STUDIO_PEERS_CACHE/<name> (default ~/.cache/clickstream-studio/peers/<name>): the
#          classes and the jars of the peer and its dependencies
#   JAR    the peer's own jar in CACHE
#   build  compiles it with mvn (Maven Central only) into CACHE unless the jar is newer than
#          pom.xml and the main source
#   peer_main "$@"  `build` alone builds and exits; anything else builds if needed and returns,
#          so the caller execs the JVM (the caller's wait4 rusage is then the JVM's)
CACHE="${STUDIO_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clickstream-studio/peers}/$PEER"
JAR="$CACHE/$PEER-peer-1.jar"

build() {
  if [ -f "$JAR" ] && [ "$JAR" -nt "$HERE/pom.xml" ] &&
    [ "$JAR" -nt "$HERE/src/main/java/peer/$PEER_CLASS.java" ] && [ -d "$CACHE/libs" ]; then
    return 0
  fi
  command -v mvn >/dev/null || { echo "$PEER_LABEL: mvn missing (apt-get install maven)" >&2; exit 1; }
  mkdir -p "$CACHE"
  echo "$PEER_LABEL: building with mvn into $CACHE" >&2
  if ! mvn -B -q -f "$HERE/pom.xml" -Dpeer.build.dir="$CACHE" package >"$CACHE/mvn.log" 2>&1; then
    tail -30 "$CACHE/mvn.log" >&2
    echo "$PEER_LABEL: mvn failed (full log $CACHE/mvn.log): is Maven Central reachable?" >&2
    exit 1
  fi
}

peer_main() {
  if [ "${1:-}" = build ]; then
    build
    exit 0
  fi
  build
}
