#!/bin/bash
# Runs every test berth has and ends with one line "N passed, N failed, N skipped".
#   unit tests (cmocka, TAP) from the release build and the ASan+UBSan build,
#   system tests (bats, TAP) against the ASan+UBSan binary,
#   the libFuzzer targets (tests/fuzz, FUZZ_SECONDS each), the formatting check.
# Env: BUILD (default build), ASAN_BUILD (default build-asan), BATS_FILTER (a regex for bats -f),
#      BERTH_TEST_JOBS (bats --jobs, default 1).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
LOG_DIR=${LOG_DIR:-$(mktemp -d /tmp/berth-test-logs.XXXXXX)}
export CONFORMANCE_DIR=${CONFORMANCE_DIR:-$(cd .. && pwd)/shared/conformance}
# tests that run the fixture scripts (test_gpus: tests/fixtures/fake-nvidia.sh)
export BERTH_SOURCE_DIR=${BERTH_SOURCE_DIR:-$(pwd)}
passed=0 failed=0 skipped=0
failures=()

# Count TAP lines of one suite's output file.
count_tap() {
  local name=$1 file=$2 rc=$3
  local p f s
  p=$(grep -cE '^ok [0-9]+' "$file" | tr -d ' ')
  s=$(grep -cE '^ok [0-9]+.*# (skip|SKIP)' "$file" | tr -d ' ')
  f=$(grep -cE '^not ok [0-9]+' "$file" | tr -d ' ')
  p=$((p - s))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # crashed or failed outside a test case
    f=1
    failures+=("$name (exit $rc, see $file)")
  fi
  grep -E '^not ok' "$file" | sed "s/^/  [$name] /" >&2
  [ "$f" -gt 0 ] && failures+=("$name: $f failed (log: $file)")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  printf '%-28s %4d passed %4d failed %4d skipped\n' "$name" "$p" "$f" "$s"
}

# The offline fixture images (some unit tests read tests/fixtures/out/busybox.tar too), built
# here as the bats helpers would (same inputs digest), before the first test that needs them.
fixtures=tests/fixtures/out
want=$(source tests/fixtures/lib-archive.sh && la_fixture_inputs_digest)
if [[ ! -f $fixtures/busybox.tar || $(cat "$fixtures/.inputs" 2>/dev/null) != "$want" ]]; then
  echo "== fixtures (tests/fixtures/mkimages)"
  rm -rf "$fixtures.new"
  if tests/fixtures/mkimages "$fixtures.new" >"$LOG_DIR/mkimages.log" 2>&1; then
    rm -rf "$fixtures" && mv "$fixtures.new" "$fixtures"
  else
    echo "mkimages failed (see $LOG_DIR/mkimages.log)" >&2
    rm -rf "$fixtures.new"
  fi
fi

echo "== unit tests"
for build in "$BUILD" "$ASAN_BUILD"; do
  for t in "$build"/tests/unit/test_*; do
    [[ -f $t && -x $t ]] || continue
    name="$(basename "$t")@$(basename "$build")"
    out="$LOG_DIR/$name.tap"
    CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1 "$t" >"$out" 2>&1
    count_tap "$name" "$out" $?
  done
done

echo "== conformance corpora (from the unit tests)"
cat "$LOG_DIR"/*@"$BUILD".tap 2>/dev/null | grep -E '^# [A-Za-z0-9_./ -]+: [0-9]+/[0-9]+' | sed 's/^# /  /' | sort -u

echo "== system tests (bats, binary: $ASAN_BUILD/berth)"
export BERTH=${BERTH:-$PWD/$ASAN_BUILD/berth}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
bats_args=(--tap)
[ -n "${BATS_FILTER:-}" ] && bats_args+=(-f "$BATS_FILTER")
[ "${BERTH_TEST_JOBS:-1}" -gt 1 ] && bats_args+=(--jobs "$BERTH_TEST_JOBS")
for f in tests/system/*.bats; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .bats)
  out="$LOG_DIR/$name.tap"
  bats "${bats_args[@]}" "$f" >"$out" 2>&1
  count_tap "$name" "$out" $?
done

echo "== fuzzing (libFuzzer, ${FUZZ_SECONDS:-10}s per target)"
out="$LOG_DIR/fuzz.tap"
tests/fuzz/run.sh >"$out" 2>&1
count_tap fuzz "$out" $?
grep -E '^(ok|not ok)' "$out" | sed 's/^/  /'

echo "== formatting"
if command -v clang-format >/dev/null; then
  out="$LOG_DIR/format.tap"
  if clang-format --dry-run -Werror $(git ls-files '*.c' '*.h') >"$LOG_DIR/format.log" 2>&1; then
    echo "ok 1 - clang-format" >"$out"; rc=0
  else
    echo "not ok 1 - clang-format (make format)" >"$out"; rc=1
    head -20 "$LOG_DIR/format.log" >&2
  fi
  count_tap format "$out" $rc
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "== failures" >&2
  printf '  %s\n' "${failures[@]}" >&2
fi
echo "logs: $LOG_DIR"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
