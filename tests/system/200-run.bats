#!/usr/bin/env bats
# berth run: image semantics, flags, exit codes — compared with what docker does.

load helpers

setup() {
  berth_setup
  load_busybox
}

@test "run: output, exit status, --rm leaves nothing" {
  run_berth run --rm busybox echo hello
  assert_success
  assert_output "hello"
  run_berth run --rm busybox sh -c 'exit 3'
  assert_failure 3
  run_berth ps -aq
  assert_output ""
}

@test "run: the image's Cmd, Env and PATH" {
  run_berth run --rm busybox sh -c 'echo $PATH; echo $HOSTNAME | wc -c'
  assert_success
  assert_line -n 0 "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  assert_line -n 1 "13"
  run_berth run --rm -e FOO=bar -e EMPTY= busybox testhelper echo-env FOO EMPTY
  assert_success
  assert_output_contains "FOO=bar"
  assert_output_contains "EMPTY="
}

@test "run: not found is 127, not executable is 126, engine errors are 125" {
  run_berth run --rm busybox nope
  assert_failure 127
  assert_output_contains 'exec: "nope": executable file not found in $PATH'
  run_berth run --rm busybox /etc
  assert_failure 126
  assert_output_contains "permission denied"
  run_berth run --rm --bogus busybox true
  assert_failure 125
  run_berth run --rm nosuchimage true
  assert_failure 125
  assert_output_contains "Unable to find image 'nosuchimage:latest' locally"
  run_berth ps -aq
  assert_output ""
}

@test "run: -w creates the directory, -u resolves names from the image" {
  run_berth run --rm -w /new/dir busybox pwd
  assert_success
  assert_output "/new/dir"
  run_berth run --rm -u berth busybox testhelper id
  assert_success
  assert_output_contains "uid=1000 gid=1000"
  run_berth run --rm -u 1000:10 busybox testhelper id
  assert_output_contains "uid=1000 gid=10"
  run_berth run --rm -u nope busybox true
  assert_failure
  assert_output_contains "unable to find user nope"
}

@test "run: --entrypoint and arguments" {
  run_berth run --rm --entrypoint /bin/echo busybox a b
  assert_success
  assert_output "a b"
  run_berth run --rm --entrypoint testhelper busybox echo x
  assert_output "x"
}

@test "run: --hostname, --name and duplicate names" {
  run_berth run --rm --hostname box1 busybox hostname
  assert_output "box1"
  run_berth run --name same busybox true
  assert_success
  run_berth run --name same busybox true
  assert_failure 125
  assert_output_contains 'The container name "/same" is already in use'
  run_berth rm same
  assert_success
}

@test "run -d: detached, logs, wait, exit code recorded" {
  run_berth run -d --name d1 busybox sh -c 'echo out; echo err >&2; exit 7'
  assert_success
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  run_berth wait d1
  assert_output "7"
  run_berth logs d1
  assert_line "out"
  assert_line "err"
  run_berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' d1
  assert_output "exited 7"
  run_berth rm d1
  assert_success
}

@test "run -i: stdin reaches the container, EOF ends it" {
  run bash -c "printf 'one\ntwo\n' | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' run --rm -i busybox cat"
  [[ $status -eq 0 ]]
  [[ $output == $'one\ntwo' ]]
  # without -i the container's stdin is empty
  run bash -c "echo nope | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' run --rm busybox cat"
  [[ $status -eq 0 ]]
  [[ -z $output ]]
}

@test "run -t: a real pty, the exit code comes back" {
  command -v script >/dev/null || skip "script(1) not installed"
  run script -qec "'$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' run --rm -t busybox testhelper isatty" /dev/null
  [[ $status -eq 0 ]]
  [[ $output == *"stdin=tty stdout=tty stderr=tty"* ]]
  run script -qec "'$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' run --rm -it busybox sh -c 'exit 5'" /dev/null
  [[ $status -eq 5 ]]
}

@test "run: signals are forwarded to a foreground container (--sig-proxy)" {
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --rm --name sig busybox testhelper trap \
    >"$BATS_TEST_TMPDIR/trap.out" 2>&1 &
  local pid=$!
  for _ in $(seq 50); do
    grep -q ready "$BATS_TEST_TMPDIR/trap.out" 2>/dev/null && break
    sleep 0.1
  done
  kill -TERM $pid
  wait $pid || true
  grep -q "TERM" "$BATS_TEST_TMPDIR/trap.out"
}

@test "run: --init runs docker-init as pid 1" {
  command -v docker-init >/dev/null || command -v tini-static >/dev/null || skip "no docker-init"
  run_berth run --rm --init busybox cat /proc/1/cmdline
  assert_success
  assert_output_contains "docker-init"
}

@test "run: --read-only, --tmpfs and /dev/shm size" {
  run_berth run --rm --read-only busybox touch /x
  assert_failure
  assert_output_contains "Read-only file system"
  run_berth run --rm --read-only --tmpfs /run busybox touch /run/x
  assert_success
  run_berth run --rm --shm-size 16m busybox df -k /dev/shm
  assert_output_contains "16384"
}

@test "run: --ulimit and the default nofile limits" {
  # Docker's default 1024:524288, within the host's hard limit when it cannot be raised
  local hard=524288 host
  host=$(ulimit -Hn)
  if [[ $host != unlimited && $host -lt $hard ]] && ! capsh --has-b=cap_sys_resource 2>/dev/null; then
    hard=$host
  fi
  run_berth run --rm busybox testhelper rlimits
  assert_output_contains "nofile=1024:$hard"
  run_berth run --rm --ulimit nofile=100:200 busybox testhelper rlimits
  assert_output_contains "nofile=100:200"
}

@test "run: --network host and none" {
  run_berth run --rm --network none busybox cat /proc/net/dev
  assert_success
  refute_output_contains "eth0"
  run_berth run --rm --network host busybox hostname
  assert_output "$(hostname)"
}

@test "run: --restart on-failure restarts, then gives up" {
  run_berth run -d --name r1 --restart on-failure:2 busybox sh -c 'exit 1'
  assert_success
  for _ in $(seq 100); do
    run_berth inspect -f '{{.RestartCount}} {{.State.Status}}' r1
    [[ $output == "2 exited" ]] && break
    sleep 0.1
  done
  assert_output "2 exited"
}

@test "run: --rm with -d removes the container when it exits" {
  run_berth run -d --rm --name gone busybox true
  assert_success
  for _ in $(seq 50); do
    run_berth ps -aq
    [[ -z $output ]] && break
    sleep 0.1
  done
  assert_output ""
}

@test "run --runtime runc: the same spec through an external OCI runtime" {
  command -v runc >/dev/null || skip "runc not installed"
  run_berth run --rm --runtime runc busybox sh -c 'grep CapEff /proc/self/status; exit 3'
  assert_failure 3
  assert_output_contains "00000000a80425fb"
  run_berth run -d --name ext --runtime runc busybox sleep 1000
  assert_success
  run_berth exec ext echo exec-ok
  assert_output "exec-ok"
  run_berth stop -t 1 ext
  run_berth inspect -f '{{.State.Status}}' ext
  assert_output "exited"
  run_berth rm ext
  run_berth run --rm --runtime /no/such/runtime busybox true
  assert_failure 125
  assert_output_contains "/no/such/runtime"
}
