#!/usr/bin/env bats
# Crash consistency (E3): kill -9 of the CLI and of the monitor; the next command reconciles.

load helpers

setup() {
  berth_setup
  load_busybox
}

@test "E3: monitor killed: the container shows exited and its resources are released" {
  run_berth run -d --name m1 busybox sleep 1000
  local mpid
  mpid=$(pgrep -f "berth-monitor.*$(berth inspect -f '{{.Id}}' m1)" | head -1)
  [[ -n $mpid ]]
  kill -9 "$mpid"
  sleep 0.2
  run_berth ps -a --format '{{.Names}} {{.State}}'
  assert_output "m1 exited"
  run_berth inspect -f '{{.State.ExitCode}}' m1
  [[ $output == 255 || $output == 137 ]]
  run_berth rm m1
  assert_success
}

@test "E3: foreground CLI killed: the next command reconciles" {
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --name f1 busybox sleep 1000 &
  local pid=$!
  for _ in $(seq 50); do
    [[ $(berth inspect -f '{{.State.Status}}' f1 2>/dev/null) == running ]] && break
    sleep 0.1
  done
  kill -9 $pid
  wait $pid || true
  run_berth ps -a --format '{{.Names}} {{.State}}'
  assert_output "f1 exited"
  run_berth start f1
  assert_success
  run_berth rm -f f1
  assert_success
}

@test "E3: kill -9 during rm and create leaves a usable store" {
  local i
  for i in 1 2 3 4 5; do
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run -d --name k$i busybox sleep 1000 >/dev/null &
    local p=$!
    sleep 0.0$((RANDOM % 9))
    kill -9 $p 2>/dev/null || true
    wait $p || true
  done
  run_berth ps -a -q
  assert_success
  if [[ -n $output ]]; then
    run_berth rm -f $output
    assert_success
  fi
  run_berth run --rm busybox true
  assert_success
}
