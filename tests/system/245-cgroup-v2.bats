#!/usr/bin/env bats
# The cgroup v2 driver end to end. These machines are hybrid, so the test points berth's
# "cgroup-root" at a private cgroup2 mount of its own: the unified hierarchy, where only the
# controllers not bound to v1 (hugetlb here) exist. What needs memory/cpu/pids on v2 cannot be
# verified here; that such limits fail with a clear error is.

load helpers

setup() {
  berth_setup
  load_busybox
  CG2=$(mktemp -d /tmp/berth-cg2.XXXXXX)
  mount -t cgroup2 none "$CG2" || skip "cannot mount cgroup2"
  printf '{"cgroup-root": "%s", "cgroup-parent": "%s"}\n' "$CG2" "$TEST_CGROUP_PARENT" \
    >"$BATS_TEST_TMPDIR/cfg.json"
  export BERTH_CONFIG=$BATS_TEST_TMPDIR/cfg.json
}

teardown() {
  berth_teardown
  rmdir "$CG2/$TEST_CGROUP_PARENT" 2>/dev/null || true
  umount "$CG2" && rmdir "$CG2"
}

@test "cgroup v2: containers are cloned into their group; pause, kill, cleanup" {
  run_berth run --rm busybox cat /proc/self/cgroup
  assert_success
  assert_line -p "0::/$TEST_CGROUP_PARENT/"
  run_berth run -d --name v2 busybox sleep 1000
  local id
  id=$(berth inspect -f '{{.Id}}' v2)
  [[ -d $CG2/$TEST_CGROUP_PARENT/$id ]]
  grep -q . "$CG2/$TEST_CGROUP_PARENT/$id/cgroup.procs"
  run_berth pause v2
  assert_success
  [[ $(cat "$CG2/$TEST_CGROUP_PARENT/$id/cgroup.freeze") == 1 ]]
  run_berth unpause v2
  run_berth rm -f v2
  assert_success
  [[ ! -e $CG2/$TEST_CGROUP_PARENT/$id ]]
}

@test "cgroup v2: a limit whose controller is not available fails clearly and leaves nothing" {
  run_berth run --rm --pids-limit 10 busybox true
  assert_failure 125
  assert_output_contains 'needs the cgroup v2 "pids" controller'
  run_berth ps -aq
  assert_output ""
}
