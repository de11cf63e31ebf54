#!/usr/bin/env bash
# PEER, NOT PART OF CLICKSTREAM STUDIO: sets up and runs the Spark Structured Streaming peer.
#   bench/peers/spark/run.sh setup           venv with pyspark (requirements.txt, from PyPI) and
#                                            the Kafka source's jars (Maven Central, through
#                                            spark.jars.packages into an Ivy cache), once
#   bench/peers/spark/run.sh ARGS...          run seed003_spark.py: --broker B --out DIR [--topic T]
# Cache: $STUDIO_PEERS_CACHE/spark (default ~/.cache/clickstream-studio/peers/spark): spark-venv/
# and ivy/. Needs Java 17 and python3-venv. Python replaces this shell (exec), so the caller's
# wait4 rusage covers Python and, once it has reaped it, the JVM it starts.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${STUDIO_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clickstream-studio/peers}/spark"
VENV="$CACHE/spark-venv"
IVY="$CACHE/ivy"

setup() {
  if [ ! -x "$VENV/bin/python" ] || [ "$HERE/requirements.txt" -nt "$VENV/.installed" ]; then
    mkdir -p "$CACHE"
    echo "spark peer: installing $(cat "$HERE/requirements.txt") into $VENV (once)" >&2
    /usr/bin/python3 -m venv "$VENV" ||
      { echo "spark peer: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
    "$VENV/bin/python" -m pip install -q -r "$HERE/requirements.txt" >&2
    touch "$VENV/.installed"
  fi
}

version() { "$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)'; }

if [ "${1:-}" = setup ]; then
  setup
  # Resolve the Kafka source once (not timed later): a session that only starts and stops.
  "$VENV/bin/python" - "$IVY" "org.apache.spark:spark-sql-kafka-0-10_2.13:$(version)" <<'PY'
import sys
from pyspark.sql import SparkSession
s = (SparkSession.builder.master("local[1]").config("spark.jars.packages", sys.argv[2])
     .config("spark.jars.ivy", sys.argv[1]).config("spark.ui.enabled", "false").getOrCreate())
s.stop()
PY
  exit 0
fi
setup
exec "$VENV/bin/python" "$HERE/seed003_spark.py" --ivy "$IVY" \
  --kafka-package "org.apache.spark:spark-sql-kafka-0-10_2.13:$(version)" "$@"
