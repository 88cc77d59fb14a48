#!/bin/bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for FUZZ_SECONDS (default
# 10), starting from the seed corpus here. Prints one TAP line per target; exits non-zero when a
# target found a crash. New inputs found are kept in build-fuzz/corpus-<target>/ (not committed).
#   tests/fuzz/run.sh [TARGET...]       targets: ref template layer dockerfile shell dockerignore
#                                       copy_match compose
set -u
cd "$(dirname "$0")/../.." || exit 1
OUT=${FUZZ_BUILD:-build-fuzz}
SECS=${FUZZ_SECONDS:-10}
mkdir -p "$OUT"
if ! command -v clang >/dev/null; then
  echo "ok 1 - fuzzing # SKIP clang is not installed"
  exit 0
fi
# shellcheck disable=SC2054
CFLAGS=(-std=gnu11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined
  -fno-sanitize-recover=undefined -Wno-unused-command-line-argument)
common=(src/util/util.c src/util/err.c src/util/log.c src/util/fs.c src/util/digest.c
  src/util/lazylib.c src/util/json.c src/util/units.c)
declare -A srcs=(
  [ref]="src/image/ref.c"
  [template]="src/util/template.c src/util/template_parse.c src/util/template_exec.c src/util/tabwriter.c"
  [layer]="src/image/layer.c src/image/layer_split.c src/util/ahash.c src/util/lazyarchive.c"
  [dockerfile]="src/build/dockerfile.c src/build/dockerfile_dump.c src/build/dockerfile_heredoc.c src/build/dockerfile_instr.c"
  [shell]="src/build/shell.c src/build/shell_glob.c"
  [dockerignore]="src/build/dockerignore.c"
  [copy_match]="src/build/copy_match.c"
  [compose]="src/compose/node.c src/compose/yaml.c src/compose/template.c src/compose/dotenv.c src/compose/spec.c src/compose/norm_util.c src/compose/normalize.c src/compose/merge.c src/compose/shellsplit.c"
)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ref template layer dockerfile dockerignore shell copy_match compose)
n=0 rc=0
for t in "${targets[@]}"; do
  n=$((n + 1))
  # shellcheck disable=SC2086
  if ! clang "${CFLAGS[@]}" -o "$OUT/fuzz_$t" "tests/fuzz/fuzz_$t.c" "${common[@]}" ${srcs[$t]} \
    -larchive -ljansson -lcrypto -lyaml -lpthread -ldl >"$OUT/build-$t.log" 2>&1; then
    echo "not ok $n - fuzz_$t: build failed (see $OUT/build-$t.log)"
    sed 's/^/# /' "$OUT/build-$t.log" | head -20
    rc=1
    continue
  fi
  mkdir -p "$OUT/corpus-$t"
  # The shared conformance corpora seed the Dockerfile fuzzers too (read only; libFuzzer walks
  # directories recursively and writes new inputs to the first one only).
  seeds=()
  case $t in
    dockerfile) seeds=(../shared/conformance/buildkit-parser) ;;
    dockerignore) seeds=(../shared/conformance/dockerignore/ignorefile) ;;
    compose) seeds=(../shared/conformance/compose/full-example ../shared/conformance/compose/loader-testdata) ;;
  esac
  for i in "${!seeds[@]}"; do [ -d "${seeds[$i]}" ] || unset "seeds[$i]"; done
  if "$OUT/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=1024 \
    -artifact_prefix="$OUT/crash-$t-" "$OUT/corpus-$t" "tests/fuzz/corpus/$t" ${seeds[@]+"${seeds[@]}"} \
    >"$OUT/run-$t.log" 2>&1; then
    execs=$(grep -oE 'Done [0-9]+ runs' "$OUT/run-$t.log" | grep -oE '[0-9]+' | tail -1)
    echo "ok $n - fuzz_$t: ${execs:-?} runs in ${SECS}s, no crash"
  else
    echo "not ok $n - fuzz_$t: crash or leak (log: $OUT/run-$t.log, input: $OUT/crash-$t-*)"
    grep -E 'ERROR|SUMMARY|runtime error' "$OUT/run-$t.log" | head -5 | sed 's/^/# /'
    rc=1
  fi
done
exit $rc
