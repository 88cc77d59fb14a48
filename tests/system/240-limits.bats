#!/usr/bin/env bats
# Resource limits: the catalog's D1–D5.

load helpers

setup() {
  berth_setup
  load_busybox
}

@test "D1: --pids-limit stops a fork bomb; stop still works" {
  run_berth run --rm --pids-limit 64 busybox testhelper forkbomb 200
  assert_failure
  assert_output_contains "failed: EAGAIN"
  assert_output_contains "started 63 of 200"
  run_berth run -d --name fb --pids-limit 32 busybox sh -c 'testhelper forkbomb 100 1000; sleep 1000'
  run_berth stop -t 2 fb
  assert_success
  run_berth rm fb
}

@test "D2: out of memory is exit 137 with OOMKilled true" {
  run_berth run --name oom -m 32m --memory-swap 32m busybox testhelper memhog 128
  assert_failure 137
  run_berth inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' oom
  assert_output "true 137"
  run_berth rm oom
}

@test "D3: --ulimit nofile is enforced; above the host's hard limit needs CAP_SYS_RESOURCE" {
  run_berth run --rm --ulimit nofile=100:100 busybox sh -c 'ulimit -n; ulimit -Hn'
  assert_output $'100\n100'
  local hard
  hard=$(ulimit -Hn)
  if [[ $hard != unlimited ]] && ! grep -q 'CapBnd:.*' /proc/self/status; then
    skip "cannot read the bounding set"
  fi
  if ! capsh --has-b=cap_sys_resource 2>/dev/null; then
    run_berth run --rm --ulimit "nofile=$((hard * 2)):$((hard * 2))" busybox true
    assert_failure
    assert_output_contains "CAP_SYS_RESOURCE"
  fi
}

@test "D4: /dev/shm is 64 MiB by default; --cpus sets the CFS quota" {
  run_berth run --rm busybox sh -c 'dd if=/dev/zero of=/dev/shm/f bs=1M count=100 2>&1; echo rc=$?'
  assert_output_contains "No space left on device"
  run_berth run -d --name q1 --cpus 0.5 busybox sleep 1000
  local id
  id=$(berth inspect -f "{{.Id}}" q1)
  local f
  f=$(find /sys/fs/cgroup -path "*$id*" -name cpu.cfs_quota_us 2>/dev/null | head -1)
  if [[ -n $f ]]; then
    [[ $(cat "$f") == 50000 ]]
    [[ $(cat "$(dirname "$f")/cpu.cfs_period_us") == 100000 ]]
  else
    f=$(find /sys/fs/cgroup -path "*$id*" -name cpu.max | head -1)
    [[ $(cat "$f") == "50000 100000" ]]
  fi
  run_berth rm -f q1
}

@test "D5: a container writing a lot of output: bounded log with rotation" {
  run_berth run --name big --log-opt max-size=1m --log-opt max-file=2 busybox \
    sh -c 'yes 0123456789012345678901234567890123456789 | head -c 20000000'
  assert_success
  local dir=$TEST_ROOT/containers/$(berth inspect -f '{{.Id}}' big)
  local total
  total=$(du -cb "$dir"/*-json.log* | tail -1 | cut -f1)
  [[ $total -lt 3000000 ]] || fail "logs use $total bytes"
  run_berth logs --tail 1 big
  assert_output_contains "0123456789"
  run_berth rm big
}
