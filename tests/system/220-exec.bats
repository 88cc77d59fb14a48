#!/usr/bin/env bats
# exec: -i -t -d -e -u -w --privileged, exit codes.

load helpers

setup() {
  berth_setup
  load_busybox
  run_berth run -d --name e1 -e BASE=1 -w /tmp busybox sleep 1000
  assert_success
}

@test "exec: output, exit status, container env and cwd" {
  run_berth exec e1 sh -c 'echo $BASE $(pwd); exit 4'
  assert_failure 4
  assert_output "1 /tmp"
  run_berth exec -e X=y -w /etc e1 sh -c 'echo $X $BASE $(pwd)'
  assert_output "y 1 /etc"
}

@test "exec: same namespaces as the container" {
  local h
  h=$(berth exec e1 hostname)
  run_berth exec e1 testhelper pid
  assert_success
  [[ $output != "pid=1 "* ]]
  run_berth exec e1 sh -c 'cat /proc/1/cmdline | tr "\0" " "'
  assert_output "sleep 1000 "
  run_berth exec e1 hostname
  assert_output "$h"
}

@test "exec: -u, --privileged, capabilities" {
  run_berth exec -u berth e1 testhelper id
  assert_output_contains "uid=1000 gid=1000"
  run_berth exec e1 testhelper caps
  assert_line "CapEff:	00000000a80425fb"
  run_berth exec --privileged e1 testhelper caps
  assert_line "CapEff:	$(awk '/^CapBnd/ {print $2}' /proc/self/status)"
  run_berth exec e1 testhelper security
  assert_line "Seccomp:	2"
}

@test "exec: -i stdin, -d detached, -t pty" {
  run bash -c "echo piped | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' exec -i e1 cat"
  [[ $output == piped ]]
  run_berth exec -d e1 sh -c 'echo done >/tmp/marker'
  assert_success
  assert_output ""
  sleep 0.5
  run_berth exec e1 cat /tmp/marker
  assert_output "done"
  if command -v script >/dev/null; then
    run script -qec "'$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' exec -t e1 testhelper isatty" /dev/null
    [[ $output == *"stdout=tty"* ]]
  fi
}

@test "exec: errors and exit codes as docker's" {
  run_berth exec e1 nope
  assert_failure 126
  assert_output_contains 'executable file not found in $PATH'
  run_berth exec e1 /etc
  assert_failure 126
  run_berth exec nosuch true
  assert_failure 1
  assert_output_contains "No such container: nosuch"
  run_berth stop -t 0 e1
  run_berth exec e1 true
  assert_failure
  assert_output_contains "is not running"
}

@test "exec: a paused container refuses" {
  run_berth pause e1
  run_berth exec e1 true
  assert_failure
  assert_output_contains "is paused"
  run_berth unpause e1
}
