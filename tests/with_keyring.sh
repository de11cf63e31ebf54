#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with gnome-keyring's Secret Service unlocked, so
# keychain tests work headless: with_keyring.sh <test binary> [args...]
# HOME and the XDG dirs point into a temporary directory, so the user's own keyrings are never
# touched; the bus and the daemon end with the command. Exits 77 (skipped) without the tools.
set -euo pipefail
for tool in dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "with_keyring.sh: $tool not installed" >&2; exit 77; }
done
tmp=$(mktemp -d /tmp/studio-keyring-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
       XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
unset XDG_CURRENT_DESKTOP KDE_FULL_SESSION DISPLAY WAYLAND_DISPLAY
# The login keyring is created and unlocked with a throwaway password read from stdin (an empty
# one makes gnome-keyring ask a prompter, which cannot show headless).
exec dbus-run-session -- bash -c '
  printf %s "studio-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  export STUDIO_TEST_KEYRING=1
  exec "$@"' keyring "$@"
