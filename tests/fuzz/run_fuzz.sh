#!/usr/bin/env bash
# Builds the EventParser libFuzzer target with clang++ (ASan + UBSan) and runs it, time-boxed.
#
#   tests/fuzz/run_fuzz.sh <build-dir> [seconds, default 60]
#
# <build-dir> is the project's CMake build directory: the seeds come from its
# bin/clickstream-studio (`generate`), and everything this script writes goes under
# <build-dir>/fuzz (objects, fuzzer binary, seeds, the growing corpus, crash artifacts, log).
# Relies on nothing else but the repository. Exit codes: 0 clean run, 1 crash / sanitizer report /
# broken invariant / build error, 77 skipped because clang++ or its libFuzzer runtime is missing
# (Debian: apt-get install clang libclang-rt-14-dev).
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 <build-dir> [seconds]" >&2
  exit 2
fi
SECONDS_BUDGET=${2:-60}
case "$SECONDS_BUDGET" in
'' | *[!0-9]* | 0) # libFuzzer reads -max_total_time=0 as "no limit"
  echo "run_fuzz: seconds must be a whole number above 0, got '$SECONDS_BUDGET'" >&2
  exit 2
  ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$1" || exit 1
BUILD=$(cd "$1" && pwd)
OUT="$BUILD/fuzz"
rm -rf "$OUT/artifacts" # crash inputs of an earlier run; this run reports its own
mkdir -p "$OUT/obj" "$OUT/corpus" "$OUT/artifacts" || exit 1

# --- toolchain: clang++ with the libFuzzer + sanitizer runtimes, else skip (77) ---------------
CXX=""
for c in clang++ clang++-14 /usr/bin/clang++; do
  if command -v "$c" >/dev/null 2>&1; then
    CXX=$(command -v "$c")
    break
  fi
done
if [ -z "$CXX" ]; then
  echo "run_fuzz: SKIP: clang++ not found (install clang and libclang-rt-14-dev)"
  exit 77
fi
FLAGS=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long) { return 0; }' \
  >"$OUT/probe.cpp"
if ! "$CXX" "${FLAGS[@]}" "$OUT/probe.cpp" -o "$OUT/probe" >"$OUT/probe.log" 2>&1; then
  echo "run_fuzz: SKIP: $CXX cannot link -fsanitize=fuzzer,address,undefined" \
    "(libFuzzer runtime missing? install libclang-rt-14-dev):"
  sed 's/^/    /' "$OUT/probe.log"
  exit 77
fi

APP="$BUILD/bin/clickstream-studio"
if [ ! -x "$APP" ]; then
  echo "run_fuzz: $APP is missing: build the app first (cmake --build '$BUILD')" >&2
  exit 1
fi

# --- build (incremental: an object is rebuilt when a dependency or the flags changed) ----------
FLAGS_TEXT="$CXX ${FLAGS[*]} -I$REPO"
if [ ! -f "$OUT/flags.txt" ] || [ "$(cat "$OUT/flags.txt")" != "$FLAGS_TEXT" ]; then
  printf '%s' "$FLAGS_TEXT" >"$OUT/flags.txt"
fi

stale() { # <object> <depfile>
  [ -f "$1" ] && [ -f "$2" ] || return 0
  [ "$OUT/flags.txt" -nt "$1" ] && return 0
  local dep
  for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$2"); do
    { [ -e "$dep" ] && [ ! "$dep" -nt "$1" ]; } || return 0
  done
  return 1
}

SOURCES=("$REPO/tests/fuzz/fuzz_parser.cpp" "$REPO/core/aggregate/eventparser.cpp" "$REPO/core/common/timeutil.cpp")
OBJECTS=()
pids=()
started=$(date +%s)
for src in "${SOURCES[@]}"; do
  obj="$OUT/obj/$(basename "$src" .cpp).o"
  OBJECTS+=("$obj")
  if stale "$obj" "$obj.d"; then
    echo "run_fuzz: compiling $(basename "$src")"
    "$CXX" "${FLAGS[@]}" -I"$REPO" -MMD -MF "$obj.d" -c "$src" -o "$obj" >"$obj.log" 2>&1 &
    pids+=($!)
  fi
done
failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
if [ $failed -ne 0 ]; then
  echo "run_fuzz: compilation failed:" >&2
  cat "$OUT"/obj/*.o.log >&2
  rm -f "${OBJECTS[@]}"
  exit 1
fi
if ! "$CXX" "${FLAGS[@]}" "${OBJECTS[@]}" -lsimdjson -o "$OUT/fuzz_parser" \
  >"$OUT/link.log" 2>&1; then
  echo "run_fuzz: link failed:" >&2
  cat "$OUT/link.log" >&2
  exit 1
fi
echo "run_fuzz: built $OUT/fuzz_parser in $(($(date +%s) - started)) s"

# --- seeds: generated events (some malformed), one per file, plus the hand-made ones -----------
rm -rf "$OUT/seeds"
mkdir -p "$OUT/seeds"
if ! QT_QPA_PLATFORM=offscreen "$APP" generate --count 20 --malformed 0.3 --seed 1 \
  >"$OUT/seeds.jsonl" 2>"$OUT/seeds.log"; then
  echo "run_fuzz: '$APP generate' failed:" >&2
  cat "$OUT/seeds.log" >&2
  exit 1
fi
i=0
while IFS= read -r line || [ -n "$line" ]; do
  printf '%s' "$line" >"$OUT/seeds/generated_$(printf '%03d' $i).json"
  i=$((i + 1))
done <"$OUT/seeds.jsonl"
if [ $i -eq 0 ]; then
  echo "run_fuzz: '$APP generate' printed no events" >&2
  exit 1
fi
cp "$REPO"/tests/fuzz/seeds/* "$OUT/seeds/"
echo "run_fuzz: $i generated seeds + $(ls "$REPO/tests/fuzz/seeds" | wc -l) hand-made;" \
  "fuzzing for ${SECONDS_BUDGET} s"

# --- run -----------------------------------------------------------------------------------------
# libFuzzer's own default exit code for a crash is 77, the skip code: make every failure 1.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=0:detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
cd "$OUT" || exit 1
"$OUT/fuzz_parser" \
  -max_total_time="$SECONDS_BUDGET" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -dict="$REPO/tests/fuzz/parser.dict" \
  -artifact_prefix="$OUT/artifacts/" -print_final_stats=1 \
  "$OUT/corpus" "$OUT/seeds" >"$OUT/fuzz.log" 2>&1
rc=$?

REPORT='ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant broken'
if [ $rc -ne 0 ] || grep -qE "$REPORT" "$OUT/fuzz.log"; then
  echo "run_fuzz: FAILED (fuzzer exit code $rc); the end of $OUT/fuzz.log:"
  tail -n 60 "$OUT/fuzz.log"
  for a in "$OUT"/artifacts/*; do
    [ -e "$a" ] || continue
    echo "run_fuzz: artifact $a:"
    head -c 600 "$a" | od -c | head -n 20
    echo "run_fuzz: reproduce with: $OUT/fuzz_parser '$a'"
  done
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$OUT/fuzz.log"
echo "run_fuzz: OK: no crash, no sanitizer report, no broken invariant" \
  "($(ls "$OUT/corpus" | wc -l) corpus entries)"
exit 0
