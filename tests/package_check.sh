#!/usr/bin/env bash
# Builds the .deb with cpack and checks it the way a distribution would:
#   package_check.sh BUILD_DIR PROJECT_VERSION DESKTOP_ID
# cpack writes into BUILD_DIR/package-test (its own directory, so this can run beside other tests
# and beside `cmake --build build --target package`). Every checker's failure fails the test.
set -uo pipefail

build=$1
version=$2
id=$3
out=$build/package-test
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

for tool in cpack dpkg-deb dpkg-shlibdeps desktop-file-validate appstreamcli lintian man readelf; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out"
if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" >"$out/cpack.log" 2>&1; then
  cat "$out/cpack.log" >&2
  echo "FAIL: cpack" >&2
  exit 1
fi
shopt -s nullglob
debs=("$out"/clickstream-studio_*.deb)
[ ${#debs[@]} -eq 1 ] || { echo "FAIL: expected one .deb in $out, found ${#debs[@]}" >&2; exit 1; }
deb=${debs[0]}
echo "package: $deb"

# --- metadata -------------------------------------------------------------------------------
field() { dpkg-deb --field "$deb" "$1"; }
dpkg-deb --info "$deb"
[ "$(field Package)" = clickstream-studio ] && pass "Package" || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] && pass "Version $version" \
  || fail "Version is '$(field Version)', the project's is $version"
depends=$(field Depends)
[ -n "$depends" ] || fail "Depends is empty"
for dep in libqt6widgets6 libqt6core6 librdkafka qt6-qpa-plugins libc6; do
  grep -q "$dep" <<<"$depends" && pass "Depends has $dep" || fail "Depends lacks $dep: $depends"
done
for f in Maintainer Section Priority Homepage Description Architecture; do
  [ -n "$(field "$f")" ] && pass "$f" || fail "no $f field"
done

# --- contents -------------------------------------------------------------------------------
contents=$(dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|')
expected=(
  /usr/bin/clickstream-studio
  "/usr/share/applications/$id.desktop"
  "/usr/share/metainfo/$id.metainfo.xml"
  "/usr/share/icons/hicolor/scalable/apps/$id.svg"
  /usr/share/man/man1/clickstream-studio.1.gz
  /usr/share/doc/clickstream-studio/copyright
  /usr/share/doc/clickstream-studio/changelog.gz
)
for size in 16 22 24 32 48 64 128 256; do
  expected+=("/usr/share/icons/hicolor/${size}x${size}/apps/$id.png")
done
for path in "${expected[@]}"; do
  grep -qxF "$path" <<<"$contents" && pass "contains $path" || fail "missing $path"
done
if grep -v '^/usr/' <<<"$contents" | grep -vqx '/'; then
  fail "files outside /usr: $(grep -v '^/usr/' <<<"$contents" | grep -vx '/' | tr '\n' ' ')"
fi

# --- the files themselves, from a scratch root ----------------------------------------------
root=$out/root
dpkg -x "$deb" "$root"
desktop=$root/usr/share/applications/$id.desktop
if msg=$(desktop-file-validate "$desktop" 2>&1) && [ -z "$msg" ]; then
  pass "desktop-file-validate"
else
  fail "desktop-file-validate: $msg"
fi
grep -qx "Icon=$id" "$desktop" && pass "desktop Icon=$id" || fail "desktop entry's Icon is not $id"
metainfo=$root/usr/share/metainfo/$id.metainfo.xml
if appstreamcli validate --no-net --pedantic "$metainfo"; then pass "appstreamcli validate"; else fail "appstreamcli validate"; fi
if appstreamcli validate-tree --no-net "$root"; then pass "appstreamcli validate-tree"; else fail "appstreamcli validate-tree"; fi
grep -q "<release version=\"$version\"" "$metainfo" && pass "metainfo release $version" \
  || fail "metainfo has no release entry for $version"
for size in 16 22 24 32 48 64 128 256; do
  png=$root/usr/share/icons/hicolor/${size}x${size}/apps/$id.png
  dims=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$png" 2>/dev/null)
  [ "$dims" = "${size}x${size}" ] || fail "$png is '$dims', not ${size}x${size}"
done

# The man page: renders without groff warnings, has the usual sections and the version.
man_text=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$root/usr/share/man/man1/clickstream-studio.1.gz" 2>"$out/man.err")
if [ -s "$out/man.err" ]; then fail "man -l warns: $(cat "$out/man.err")"; fi
for section in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT; do
  grep -q "^$section" <<<"$man_text" && pass "man page has $section" || fail "man page lacks $section"
done
grep -Eq "^ +clickstream-studio +- +produce, +aggregate" <<<"$man_text" && pass "man page NAME line" \
  || fail "man page NAME line is wrong"
grep -q "clickstream-studio $version" <<<"$man_text" && pass "man page shows $version" \
  || fail "man page lacks the version $version"

# The packaged binary runs (it links the system's libraries) and reports the project version.
bin=$root/usr/bin/clickstream-studio
if readelf -S "$bin" | grep -Eq '\.(debug_info|symtab)\b'; then
  fail "the packaged binary is not stripped"
else
  pass "the packaged binary is stripped"
fi
got=$(env -u DISPLAY -u WAYLAND_DISPLAY "$bin" --version 2>&1)
[ "$got" = "clickstream-studio $version" ] && pass "packaged binary --version: $got" \
  || fail "packaged binary --version printed '$got'"

# --- lintian: no error-level findings -------------------------------------------------------
# (run as root here, which lintian allows with a warning on stderr; --no-cfg keeps user
# configuration out of it)
lintian_out=$(lintian --no-cfg --display-info --tag-display-limit 0 "$deb" 2>"$out/lintian.err")
lintian_rc=$?
echo "lintian (exit $lintian_rc):"
echo "$lintian_out"
grep -v "running with root privileges" "$out/lintian.err" >&2 || true
if grep -q '^E:' <<<"$lintian_out"; then
  fail "lintian reports errors"
elif [ $lintian_rc -ne 0 ]; then
  fail "lintian exited with $lintian_rc"
else
  pass "lintian: no errors"
fi

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all package checks passed"
