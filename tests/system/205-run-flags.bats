#!/usr/bin/env bats
# More run flags: namespaces, devices, sysctls, groups, OOM score, logging, healthchecks.

load helpers

setup() {
  berth_setup
  load_busybox
}

@test "--pid host, --ipc host, --uts host" {
  run_berth run --rm --pid host busybox sh -c 'test -d /proc/1 && cat /proc/1/comm'
  assert_success
  [[ $output == "$(cat /proc/1/comm)" ]]
  run_berth run --rm --ipc host busybox readlink /proc/self/ns/ipc
  assert_output "$(readlink /proc/self/ns/ipc)"
  run_berth run --rm busybox readlink /proc/self/ns/ipc
  [[ $output != "$(readlink /proc/self/ns/ipc)" ]]
  run_berth run --rm --uts host busybox hostname
  assert_output "$(hostname)"
}

@test "--pid container:X and --network container:X share the namespaces" {
  run_berth run -d --name ns1 busybox sleep 1000
  run_berth run --rm --pid container:ns1 busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "'
  assert_output "sleep 1000 "
  run_berth run --rm --network container:ns1 busybox readlink /proc/self/ns/net
  local want
  want=$(berth exec ns1 readlink /proc/self/ns/net)
  assert_output "$want"
  run_berth rm -f ns1
}

@test "--device, --device-cgroup-rule, --sysctl, --group-add, --oom-score-adj" {
  run_berth run --rm --device /dev/fuse busybox ls -l /dev/fuse
  assert_success
  assert_output_contains "10,"
  run_berth run --rm --sysctl kernel.shmmax=1048576 busybox cat /proc/sys/kernel/shmmax
  assert_output "1048576"
  run_berth run --rm --sysctl kernel.hostname=x busybox true
  assert_failure 125
  run_berth run --rm --group-add 10 --group-add nogroup -u berth busybox testhelper id
  assert_output_contains "uid=1000 gid=1000 groups="
  [[ $output == *,65534* || $output == *=65534* ]]
  [[ $output == *10,* || $output == *,10 ]]
  run_berth run --rm --oom-score-adj 500 busybox cat /proc/self/oom_score_adj
  assert_output "500"
}

@test "--log-driver none, --cidfile, --stop-signal" {
  run_berth run --name nolog --log-driver none busybox echo quiet
  assert_output "quiet"
  run_berth logs nolog
  assert_failure
  assert_output_contains "does not support reading"
  run_berth rm nolog
  run_berth run -d --cidfile "$BATS_TEST_TMPDIR/cid" --name cf busybox sleep 1000
  [[ $(cat "$BATS_TEST_TMPDIR/cid") == $(berth inspect -f '{{.Id}}' cf) ]]
  run_berth run -d --cidfile "$BATS_TEST_TMPDIR/cid" busybox true
  assert_failure 125
  run_berth rm -f cf
  run_berth run -d --name ss --stop-signal USR1 busybox testhelper trap
  sleep 0.3
  run_berth stop -t 1 ss
  run_berth logs ss
  assert_output_contains "got SIGUSR1"
  run_berth rm ss
}

@test "HEALTHCHECK: the monitor runs it; ps and inspect show the health" {
  run_berth run -d --name hc --health-cmd 'test -e /tmp/ok' --health-interval 200ms \
    --health-retries 1 busybox sleep 1000
  assert_success
  run_berth inspect -f '{{.State.Health.Status}}' hc
  [[ $output == starting || $output == unhealthy ]]
  for _ in $(seq 50); do
    [[ $(berth inspect -f '{{.State.Health.Status}}' hc) == unhealthy ]] && break
    sleep 0.1
  done
  run_berth inspect -f '{{.State.Health.Status}}' hc
  assert_output "unhealthy"
  run_berth exec hc touch /tmp/ok
  for _ in $(seq 50); do
    [[ $(berth inspect -f '{{.State.Health.Status}}' hc) == healthy ]] && break
    sleep 0.1
  done
  run_berth ps --format '{{.Status}}'
  assert_output_contains "(healthy)"
  run_berth ps --filter health=healthy -q
  [[ -n $output ]]
  run_berth rm -f hc
}

@test "--ipc shareable and container:X share IPC and /dev/shm; private refuses to be joined" {
  run_berth run -d --name donor --ipc shareable busybox sh -c 'echo shared >/dev/shm/x; sleep 1000'
  assert_success
  sleep 0.3
  run_berth run --rm --ipc container:donor busybox sh -c 'cat /dev/shm/x; readlink /proc/self/ns/ipc'
  assert_line "shared"
  local want
  want=$(berth exec donor readlink /proc/self/ns/ipc)
  assert_line "$want"
  run_berth run -d --name priv --ipc private busybox sleep 1000
  run_berth run --rm --ipc container:priv busybox true
  assert_failure 125
  assert_output_contains "non-shareable IPC"
  run_berth rm -f donor priv
}
