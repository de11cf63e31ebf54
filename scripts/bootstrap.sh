#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing Clickstream Studio needs.
# Idempotent, and silent when everything is already there. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  # Qt 6 (Widgets, Charts, Network, Test) and what Charts needs
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libxkbcommon-dev libgl-dev qt6-qpa-plugins
  fonts-dejavu-core
  # engine libraries
  librdkafka-dev libsimdjson-dev libpqxx-dev libhiredis-dev qtkeychain-qt6-dev libcli11-dev
  libfmt-dev libabsl-dev nlohmann-json3-dev libcpp-httplib-dev
  # tests: Catch2, servers started by the test script, a virtual display, a Kafka CLI peer
  catch2 postgresql redis-server xvfb xauth x11-apps kcat
  # bench/compare: the Python peer aggregator (bench/peers/), run by Debian's /usr/bin/python3
  python3-confluent-kafka
  # bench/compare --kafka single: the engine peers (bench/peers/kstreams built with javac and
  # Maven; bench/peers/spark's pyspark in a venv) and the chart of the run (docs/bench-peers.png)
  openjdk-17-jdk-headless python3-venv python3-matplotlib
  # the `kafka` tests: Apache Kafka's jars from Maven Central (scripts/kafka.sh, tests/kafka/pom.xml)
  # run on Java 17; openssl makes the test cluster's CA and broker certificates
  openjdk-17-jre-headless maven openssl
  # GUI tests: a Secret Service (gnome-keyring) on a private D-Bus session for the keychain
  gnome-keyring libsecret-tools dbus-x11
  # postgresql-hll: hll_union_agg merges the sinks' HyperLogLog sketches inside PostgreSQL
  # (the tests check our sketch bytes against the extension's own)
  postgresql-15-hll
  # monitoring tests: promtool and a real Prometheus server scraping /metrics
  prometheus
  # the deploy test: docker-compose.yml and deploy/*.yml parsed by Debian's /usr/bin/python3
  python3-yaml
  # the parser fuzz test: clang++ with the libFuzzer and sanitizer runtimes
  clang libclang-rt-14-dev
  # scripts/format.sh --check, run by scripts/test.sh before the build
  clang-format
  # the .deb: icons rendered from the SVG, the man page from --help, and the package test's
  # checkers (dpkg-shlibdeps is in dpkg-dev, from build-essential)
  librsvg2-bin help2man lintian desktop-file-utils appstream
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: run as root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done" >&2
