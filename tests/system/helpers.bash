# shellcheck shell=bash disable=SC2034,SC2154
# (SC2034: variables for the .bats files; SC2154: $status/$output/$lines come from bats' run)
# helpers.bash: shared by every tests/system/*.bats file.
#
#   load helpers
#
# gives each test a private store (--root under $BATS_TEST_TMPDIR, a short --runroot under /tmp),
# the offline fixture images (built once by tests/fixtures/mkimages, under a lock), a `berth`
# function bound to that store, `run_berth` with a timeout, tiny assertions (bats-assert is not
# installed), and a leak check run after every test.
#
# Environment:
#   BERTH            binary under test            (default: $REPO/build/berth)
#   BERTH_FIXTURES   fixture directory            (default: $REPO/tests/fixtures/out)
#   BERTH_TIMEOUT    seconds per berth command    (default: 120)
#   BERTH_SKIP_LEAK_CHECK=1   skip check_no_leaks in teardown (debugging only)
#
# The default setup/teardown/setup_file below call berth_setup, berth_teardown and
# berth_setup_file. A .bats file that needs its own must call them:
#   setup() { berth_setup; ...; }   teardown() { ...; berth_teardown; }

BERTH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BERTH=${BERTH:-$BERTH_REPO/build/berth}
FIXTURES=${BERTH_FIXTURES:-$BERTH_REPO/tests/fixtures/out}
BERTH_TIMEOUT=${BERTH_TIMEOUT:-120}
BUSYBOX=busybox:latest
MULTI=multi:latest

# mkarchive and la_* (tests/fixtures/lib-archive.sh): wrap hand-made layers into archives.
# shellcheck source=../fixtures/lib-archive.sh
source "$BERTH_REPO/tests/fixtures/lib-archive.sh"

# `run -N` / `run !` need this declaration, else bats warns (BW02).
if declare -F bats_require_minimum_version >/dev/null; then
  bats_require_minimum_version 1.5.0
fi

# ---- fixtures ----------------------------------------------------------------------------------

# ensure_fixtures: build $FIXTURES with mkimages when it is missing or older than the fixture
# sources. Safe under `bats --jobs N` and parallel bats runs: one builder, the others wait on
# the lock, and the directory appears by rename, complete or not at all.
ensure_fixtures() {
  [[ ${BERTH_FIXTURES_READY:-} != "$FIXTURES" ]] || return 0
  local want
  want=$(la_fixture_inputs_digest)
  if [[ ! -f $FIXTURES/busybox.tar || $(cat "$FIXTURES/.inputs" 2>/dev/null) != "$want" ]]; then
    mkdir -p "$(dirname "$FIXTURES")"
    (
      flock -x 9
      if [[ ! -f $FIXTURES/busybox.tar || $(cat "$FIXTURES/.inputs" 2>/dev/null) != "$want" ]]; then
        local new="$FIXTURES.new.$$"
        rm -rf "$new"
        if ! "$BERTH_REPO/tests/fixtures/mkimages" "$new" >"$new.log" 2>&1; then
          echo "# mkimages failed:" >&2
          sed 's/^/#   /' "$new.log" >&2
          rm -rf "$new" "$new.log"
          exit 1
        fi
        rm -f "$new.log"
        rm -rf "$FIXTURES"
        mv "$new" "$FIXTURES"
      fi
    ) 9>"$FIXTURES.lock" || return 1
  fi
  export BERTH_FIXTURES_READY=$FIXTURES
}

# ---- per-test store ----------------------------------------------------------------------------

berth_setup_file() {
  ensure_fixtures
}

berth_setup() {
  ensure_fixtures
  if [[ ! -x $BERTH ]]; then
    echo "# $BERTH is not built (meson setup build && ninja -C build), or set \$BERTH" >&2
    return 1
  fi
  # The root is left for berth to create. The runroot is short on purpose: unix sockets under
  # <runroot>/<64-hex id>/ must stay below the 108-byte sun_path limit.
  TEST_ROOT=$BATS_TEST_TMPDIR/root
  TEST_RUNROOT=$(mktemp -d /tmp/berth-rr.XXXXXX)
  # Containers' cgroups go under a parent of the test's own, removed (and checked) at teardown.
  TEST_CGROUP_PARENT=berth-test-${TEST_RUNROOT##*.}
  # Networks of the test's own: the default bridge's name, subnet and nft table, and a pool for
  # user networks (/26s of a /23), in 10.220.0.0-10.249.255.255; removed at teardown.
  NET_SFX=${TEST_RUNROOT##*.}
  TEST_BRIDGE=bt$NET_SFX
  TEST_NFT_TABLE=berth_$NET_SFX
  local x=$((220 + RANDOM % 30)) y=$((RANDOM % 64 * 4))
  TEST_BRIDGE_SUBNET=10.$x.$y.0/24
  TEST_POOL=10.$x.$((y + 2)).0/23
  printf '{"cgroup-parent": "%s", "bridge-name": "%s", "bridge-subnet": "%s", "network-pool": "%s", "network-pool-prefix": 26, "nft-table": "%s"}\n' \
    "$TEST_CGROUP_PARENT" "$TEST_BRIDGE" "$TEST_BRIDGE_SUBNET" "$TEST_POOL" "$TEST_NFT_TABLE" \
    >"$TEST_RUNROOT.json"
  export BERTH_CONFIG=$TEST_RUNROOT.json
  export TEST_ROOT TEST_RUNROOT TEST_CGROUP_PARENT NET_SFX TEST_BRIDGE TEST_NFT_TABLE
  export TEST_BRIDGE_SUBNET TEST_POOL
}

# _net_teardown: user networks through berth (network prune), then a leak check of the test's
# bridges (a veth still attached once its container is gone is a leak), then the default bridge
# and the nft table, which berth keeps (as docker keeps docker0).
_net_teardown() {
  local rc=0 ids id br i
  ids=$(timeout 60 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" network ls -q \
    --no-trunc -f type=custom 2>/dev/null) || ids=
  timeout 60 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" network prune -f \
    >/dev/null 2>&1 || true
  for id in $ids; do
    br=br-${id:0:12}
    if ip link show "$br" >/dev/null 2>&1; then
      echo "-- leak: bridge $br of a removed network" >&2
      rc=1
      ip link del "$br" 2>/dev/null || true
    fi
  done
  if [[ -d /sys/class/net/$TEST_BRIDGE ]]; then
    # The kernel removes a container's veth with its namespace, asynchronously.
    for i in $(seq 1 50); do
      [[ -z $(ls "/sys/class/net/$TEST_BRIDGE/brif" 2>/dev/null) ]] && break
      sleep 0.1
    done
    if [[ -n $(ls "/sys/class/net/$TEST_BRIDGE/brif" 2>/dev/null) ]]; then
      echo "-- leak: veths on $TEST_BRIDGE: $(ls "/sys/class/net/$TEST_BRIDGE/brif" | tr '\n' ' ')" >&2
      rc=1
    fi
    ip link del "$TEST_BRIDGE" 2>/dev/null || true
  fi
  nft delete table ip "$TEST_NFT_TABLE" 2>/dev/null || true
  return $rc
}

berth_teardown() {
  [[ -n ${TEST_RUNROOT:-} ]] || return 0
  local rc=0
  # Remove containers through berth first: only what berth itself fails to clean is a leak.
  if [[ -d $TEST_ROOT ]]; then
    local ids
    ids=$(timeout 60 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" ps -aq 2>/dev/null) || ids=
    if [[ -n $ids ]]; then
      # shellcheck disable=SC2086
      timeout 60 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" rm -f $ids \
        >/dev/null 2>&1 || true
    fi
  fi
  if [[ ${BERTH_SKIP_LEAK_CHECK:-0} != 1 ]]; then
    check_no_leaks || rc=1
  fi
  _net_teardown || rc=1
  force_cleanup
  # The test's cgroup parent: empty by now (else a leak, reported above) — remove it.
  local d
  for d in /sys/fs/cgroup/*/"$TEST_CGROUP_PARENT" /sys/fs/cgroup/"$TEST_CGROUP_PARENT"; do
    [[ -d $d ]] && { rmdir "$d" 2>/dev/null || { echo "-- cgroup parent not empty: $d" >&2; rc=1; }; }
  done
  rm -rf "$TEST_RUNROOT" "$TEST_RUNROOT.json"
  return $rc
}

setup_file() { berth_setup_file; }
setup() { berth_setup; }
teardown() { berth_teardown; }

# berth ARGS...: the binary under test, bound to this test's store.
berth() {
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@"
}

# _berth_captured ARGS...: berth under a timeout, its stdout (and stderr, unless bats already
# redirected it) through a file, not bats' pipe: a process berth leaks with our stdout must not
# hang the test; check_no_leaks reports it instead.
_berth_captured() {
  local out rc=0
  out=$(mktemp "$BATS_TEST_TMPDIR/berth-out.XXXXXX")
  if [[ -t 2 || ! -p /dev/stderr ]]; then
    timeout --kill-after=10 "$BERTH_TIMEOUT" \
      "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@" >"$out" || rc=$?
  else
    timeout --kill-after=10 "$BERTH_TIMEOUT" \
      "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@" >"$out" 2>&1 || rc=$?
  fi
  cat "$out"
  rm -f "$out"
  return $rc
}

# run_berth [-N|!|--separate-stderr|--keep-empty-lines]... ARGS...
# bats' `run` on berth with this test's store and a timeout ($BERTH_TIMEOUT); sets $status,
# $output, $lines. -N asserts the exit status N, ! any failure (bats >= 1.5). The command and
# its output are echoed, so a failing test shows them.
run_berth() {
  local -a runopts=()
  while [[ $# -gt 0 ]]; do
    case $1 in
      -[0-9]* | ! | --separate-stderr | --keep-empty-lines) runopts+=("$1"); shift ;;
      *) break ;;
    esac
  done
  echo "\$ berth $*"
  # `|| rc=` keeps a -N/! mismatch from failing the test before the output is shown.
  local rc=0 start=$SECONDS
  run "${runopts[@]}" _berth_captured "$@" || rc=$?
  [[ -z $output ]] || echo "$output"
  [[ $status -eq 0 ]] || echo "[exit $status]"
  # 124/137 alone could be the container's own status (137: OOM kill); the clock decides.
  if [[ ($status -eq 124 || $status -eq 137) && $((SECONDS - start)) -ge $BERTH_TIMEOUT ]]; then
    echo "# berth $* timed out after ${BERTH_TIMEOUT}s" >&2
    return 1
  fi
  if [[ $rc -ne 0 ]]; then
    echo "# berth $*: unexpected exit status ${BATS_ERROR_SUFFIX#, }" >&2
    return 1
  fi
}

# load_fixture NAME: berth load -i $FIXTURES/NAME (e.g. multi.tar) into this test's store.
load_fixture() {
  run_berth load -i "$FIXTURES/$1"
  assert_success
}

# load_busybox: busybox:latest (with /usr/bin/testhelper) into this test's store.
load_busybox() {
  load_fixture busybox.tar
}

# ---- assertions --------------------------------------------------------------------------------

# fail MESSAGE...: fail the test with a message.
fail() {
  printf '%s\n' "$@" >&2
  return 1
}

_assert_show_output() {
  printf '  status: %s\n  output:\n%s\n' "$status" "$(printf '%s\n' "$output" | sed 's/^/    /')" >&2
}

# assert_success: the last run exited 0.
assert_success() {
  if [[ $status -ne 0 ]]; then
    echo "-- expected success, got exit status $status --" >&2
    _assert_show_output
    return 1
  fi
}

# assert_failure [N]: the last run failed (with status N when given).
assert_failure() {
  if [[ $# -gt 0 ]]; then
    if [[ $status -ne $1 ]]; then
      echo "-- expected exit status $1, got $status --" >&2
      _assert_show_output
      return 1
    fi
  elif [[ $status -eq 0 ]]; then
    echo "-- expected failure, got exit status 0 --" >&2
    _assert_show_output
    return 1
  fi
}

# assert_output EXPECTED: the whole output equals EXPECTED.
assert_output() {
  if [[ $output != "$1" ]]; then
    printf -- '-- output differs --\n  expected:\n%s\n' "$(printf '%s\n' "$1" | sed 's/^/    /')" >&2
    _assert_show_output
    return 1
  fi
}

# assert_output_contains STRING / refute_output_contains STRING
assert_output_contains() {
  if [[ $output != *"$1"* ]]; then
    echo "-- output does not contain: $1 --" >&2
    _assert_show_output
    return 1
  fi
}

refute_output_contains() {
  if [[ $output == *"$1"* ]]; then
    echo "-- output contains, but must not: $1 --" >&2
    _assert_show_output
    return 1
  fi
}

# assert_output_matches ERE: the output matches a bash extended regular expression.
assert_output_matches() {
  if ! [[ $output =~ $1 ]]; then
    echo "-- output does not match: $1 --" >&2
    _assert_show_output
    return 1
  fi
}

# assert_line [-n INDEX] [--partial] LINE: some line (or line INDEX, 0-based) of the output
# equals LINE (contains it, with --partial). refute_line [--partial] LINE: no line does.
assert_line() {
  local index='' partial=0
  while [[ $# -gt 1 ]]; do
    case $1 in
      -n | --index) index=$2; shift 2 ;;
      -p | --partial) partial=1; shift ;;
      *) break ;;
    esac
  done
  local want=$1 l
  if [[ -n $index ]]; then
    l=${lines[$index]-}
    if [[ $l == "$want" || ($partial -eq 1 && $l == *"$want"*) ]]; then
      return 0
    fi
    echo "-- line $index is not: $want --" >&2
    _assert_show_output
    return 1
  fi
  for l in "${lines[@]}"; do
    if [[ $l == "$want" || ($partial -eq 1 && $l == *"$want"*) ]]; then
      return 0
    fi
  done
  echo "-- no line is: $want --" >&2
  _assert_show_output
  return 1
}

refute_line() {
  local partial=0
  if [[ $1 == -p || $1 == --partial ]]; then
    partial=1
    shift
  fi
  local l
  for l in "${lines[@]}"; do
    if [[ $l == "$1" || ($partial -eq 1 && $l == *"$1"*) ]]; then
      echo "-- a line is, but must not be: $1 --" >&2
      _assert_show_output
      return 1
    fi
  done
}

# assert_equal ACTUAL EXPECTED
assert_equal() {
  if [[ $1 != "$2" ]]; then
    printf -- '-- not equal --\n  actual:   %s\n  expected: %s\n' "$1" "$2" >&2
    return 1
  fi
}

# ---- misc --------------------------------------------------------------------------------------

# require_tool NAME...: skip the test unless every NAME is on PATH.
require_tool() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || skip "$t is not installed"
  done
}

# wait_until SECONDS COMMAND...: poll COMMAND (every 0.1 s) until it succeeds; fail on timeout.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "-- timed out waiting for: $* --" >&2
      return 1
    fi
    sleep 0.1
  done
}

# ---- leak check --------------------------------------------------------------------------------

# _test_container_ids: container ids this test's store knows about (directory names).
_test_container_ids() {
  local d
  for d in "$TEST_ROOT"/containers/* "$TEST_RUNROOT"/*; do
    [[ -d $d ]] || continue
    d=${d##*/}
    [[ $d =~ ^[0-9a-f]{12,64}$ ]] && echo "$d"
  done | sort -u
}

# _leaked_mounts: mount points under this test's root or runroot, deepest first.
# (Builtins only in the loops: under bats' traps every fork is slow.)
_leaked_mounts() {
  local _id _parent _dev _root mnt _rest
  while read -r _id _parent _dev _root mnt _rest; do
    # mountinfo escapes space, tab, newline and backslash in octal (\040)
    [[ $mnt != *\\* ]] || printf -v mnt '%b' "${mnt//\\/\\0}"
    case $mnt in
      "$TEST_ROOT" | "$TEST_ROOT"/* | "$TEST_RUNROOT" | "$TEST_RUNROOT"/*) echo "$mnt" ;;
    esac
  done </proc/self/mountinfo | sort -r
}

# _leaked_pids: berth processes working on this test's store, and processes whose pid berth
# recorded under the runroot, still alive.
_leaked_pids() {
  local p pid f
  local -a args
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
    # -ef: same device and inode; /proc/PID/exe resolves to the running binary.
    [[ $p/exe -ef $BERTH || $p/exe -ef $(dirname "$BERTH")/berth-monitor ]] 2>/dev/null || continue
    mapfile -d '' args <"$p/cmdline" 2>/dev/null || continue
    if [[ "${args[*]}" == *"$TEST_ROOT"* || "${args[*]}" == *"$TEST_RUNROOT"* ]]; then
      echo "$pid"
    fi
  done
  while IFS= read -r -d '' f; do
    read -r pid <"$f" 2>/dev/null || true
    pid=${pid//[^0-9]/}
    [[ -n $pid && $pid -gt 1 && -d /proc/$pid ]] && echo "$pid"
  done < <(find "$TEST_RUNROOT" -maxdepth 3 \( -name pid -o -name '*.pid' \) -type f -print0 \
    2>/dev/null)
}

# _leaked_cgroups: cgroup directories named after one of this test's containers.
_leaked_cgroups() {
  local -a ids names=()
  mapfile -t ids < <(_test_container_ids)
  [[ ${#ids[@]} -gt 0 ]] || return 0
  local id
  for id in "${ids[@]}"; do
    names+=(-o -name "*${id:0:12}*")
  done
  find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d \( "${names[@]:1}" \) 2>/dev/null |
    sort -r
}

# check_no_leaks: fail, listing them, if mounts under the test's root/runroot, berth processes
# for this store, recorded container processes or the containers' cgroups remain.
check_no_leaks() {
  local -a mounts pids cgroups
  mapfile -t mounts < <(_leaked_mounts)
  mapfile -t pids < <(_leaked_pids | sort -un)
  mapfile -t cgroups < <(_leaked_cgroups)
  if [[ ${#mounts[@]} -eq 0 && ${#pids[@]} -eq 0 && ${#cgroups[@]} -eq 0 ]]; then
    return 0
  fi
  echo "-- leaks after the test --" >&2
  local m p
  for m in "${mounts[@]}"; do echo "  mount:   $m" >&2; done
  for p in "${pids[@]}"; do
    echo "  process: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
  done
  for m in "${cgroups[@]}"; do echo "  cgroup:  $m" >&2; done
  return 1
}

# force_cleanup: kill leaked processes, detach leaked mounts, remove leaked cgroups, so a
# leak fails one test instead of the rest of the suite, and bats' removal of $BATS_TEST_TMPDIR
# never walks into a mounted host directory.
force_cleanup() {
  local -a pids mounts cgroups
  mapfile -t pids < <(_leaked_pids | sort -un)
  local p m
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  mapfile -t cgroups < <(_leaked_cgroups)
  for m in "${cgroups[@]}"; do
    if [[ -f $m/cgroup.procs ]]; then
      while read -r p; do kill -9 "$p" 2>/dev/null || true; done <"$m/cgroup.procs"
    fi
  done
  mapfile -t mounts < <(_leaked_mounts)
  for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null || true; done
  for m in "${cgroups[@]}"; do rmdir "$m" 2>/dev/null || true; done
}
