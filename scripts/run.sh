#!/usr/bin/env bash
# Installs what is missing, builds, and starts Clickstream Studio on the embedded defaults.
# Without a display the app runs headless (embedded broker + a producer) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh >/dev/null
exec build/bin/clickstream-studio "$@"
