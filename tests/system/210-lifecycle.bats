#!/usr/bin/env bats
# create, start, stop, restart, kill, rm, wait, pause, rename, ps, inspect, logs, prune.

load helpers

setup() {
  berth_setup
  load_busybox
}

@test "create then start -a" {
  run_berth create --name c1 busybox echo hi
  assert_success
  run_berth ps -a --format '{{.Names}} {{.State}} {{.Status}}'
  assert_output "c1 created Created"
  run_berth start -a c1
  assert_success
  assert_output "hi"
  run_berth start -a c1
  assert_output "hi"
  run_berth logs c1
  assert_output $'hi\nhi'
}

@test "stop: SIGTERM, then SIGKILL after -t; stop of a stopped container succeeds" {
  run_berth run -d --name s1 busybox testhelper trap
  run_berth stop -t 5 s1
  assert_success
  assert_output "s1"
  run_berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' s1
  assert_output "exited 0"
  run_berth run -d --name s2 busybox sh -c 'trap "" TERM; sleep 1000'
  local t0=$SECONDS
  run_berth stop -t 1 s2
  assert_success
  [[ $((SECONDS - t0)) -lt 10 ]]
  run_berth inspect -f '{{.State.ExitCode}}' s2
  assert_output "137"
  run_berth stop s2
  assert_success
}

@test "kill -s, restart, ps filters" {
  run_berth run -d --name k1 --label team=a busybox sleep 1000
  run_berth run -d --name k2 busybox testhelper trap
  run_berth ps --format '{{.Names}}' --filter label=team=a
  assert_output "k1"
  sleep 0.3
  run_berth kill -s USR1 k2
  assert_success
  sleep 0.3
  run_berth logs k2
  assert_output_contains "got SIGUSR1"
  run_berth kill k2
  run_berth wait k2
  assert_output "137"
  run_berth ps -a --filter status=exited --format '{{.Names}}'
  assert_output "k2"
  run_berth ps -a --filter exited=137 -q
  [[ ${#lines[@]} -eq 1 ]]
  run_berth restart k1
  assert_output "k1"
  run_berth ps --format '{{.Names}} {{.State}}'
  assert_output "k1 running"
  run_berth kill k2
  assert_failure
  assert_output_contains "is not running"
  run_berth rm -f k1 k2
  assert_success
}

@test "rm: refuses a running container without -f; -v removes anonymous volumes" {
  run_berth run -d --name r1 busybox sleep 1000
  run_berth rm r1
  assert_failure
  assert_output_contains "stop the container before removing or force remove"
  run_berth rm -f r1
  assert_success
  run_berth rm nope
  assert_failure
  assert_output_contains "No such container: nope"
}

@test "pause and unpause" {
  run_berth run -d --name p1 busybox sleep 1000
  run_berth pause p1
  assert_success
  run_berth ps --format '{{.Status}}'
  assert_output_matches "Up .* \(Paused\)"
  run_berth inspect -f '{{.State.Status}} {{.State.Paused}}' p1
  assert_output "paused true"
  run_berth unpause p1
  assert_success
  run_berth inspect -f '{{.State.Status}}' p1
  assert_output "running"
  run_berth rm -f p1
}

@test "rename and lookups by prefix" {
  run_berth create --name old busybox true
  local id=${output:0:12}
  run_berth rename old new
  assert_success
  run_berth inspect -f '{{.Name}}' "$id"
  assert_output "/new"
  run_berth inspect -f '{{.Name}}' new
  assert_output "/new"
}

@test "inspect: Docker's container fields" {
  run_berth run --name i1 -e A=1 -w /tmp busybox true
  run_berth inspect i1
  assert_success
  local j=$output
  [[ $(jq -r '.[0].Config.Env | index("A=1") != null' <<<"$j") == true ]]
  [[ $(jq -r '.[0].Config.WorkingDir' <<<"$j") == /tmp ]]
  [[ $(jq -r '.[0].State.Status' <<<"$j") == exited ]]
  [[ $(jq -r '.[0].Path' <<<"$j") == true ]]
  [[ $(jq -r '.[0].Name' <<<"$j") == /i1 ]]
  [[ $(jq -r '.[0].HostConfig | has("Memory")' <<<"$j") == true ]]
  [[ $(jq -r '.[0].Image' <<<"$j") == sha256:* ]]
  [[ $(jq -r '.[0].State.FinishedAt' <<<"$j") != 0001-* ]]
}

@test "logs: --tail, -t, --since" {
  run_berth run --name l1 busybox sh -c 'for i in 1 2 3 4 5; do echo $i; done'
  run_berth logs --tail 2 l1
  assert_output $'4\n5'
  run_berth logs -t l1
  assert_line -n 0 -p "Z 1"
  run_berth logs --since 1h l1
  [[ ${#lines[@]} -eq 5 ]]
  run_berth logs --until 2000-01-01T00:00:00Z l1
  assert_output ""
}

@test "logs -f follows until the container exits" {
  run_berth run -d --name f1 busybox sh -c 'echo a; sleep 1; echo b'
  run_berth logs -f f1
  assert_success
  assert_output $'a\nb'
}

@test "container prune removes stopped containers only" {
  run_berth run --name x1 busybox true
  run_berth run -d --name x2 busybox sleep 1000
  run_berth container prune -f
  assert_success
  assert_output_contains "Deleted Containers:"
  run_berth ps -a --format '{{.Names}}'
  assert_output "x2"
  run_berth rm -f x2
}

@test "rmi refuses an image a container uses" {
  run_berth create --name u1 busybox true
  run_berth rmi busybox
  assert_failure
  assert_output_contains "container ${output:0:0}"
  assert_output_contains "is using its referenced image"
  run_berth rm u1
  run_berth rmi busybox
  assert_success
}

@test "top and stats" {
  run_berth run -d --name t1 busybox sleep 1000
  run_berth top t1
  assert_success
  assert_output_contains "sleep 1000"
  run_berth stats --no-stream --format '{{.Name}} {{.PIDs}}'
  assert_output "t1 1"
  run_berth rm -f t1
}

@test "update changes a running container's limits" {
  run_berth run -d --name up1 -m 64m busybox sleep 1000
  run_berth update -m 128m --memory-swap 256m up1
  assert_success
  run_berth inspect -f '{{.HostConfig.Memory}}' up1
  assert_output "134217728"
  run_berth rm -f up1
}

@test "attach to a detached container and detach with ctrl-p ctrl-q" {
  command -v script >/dev/null || skip "script(1) not installed"
  run_berth run -dit --name a1 busybox sh
  assert_success
  # keystrokes through script's pty: the text, then ctrl-p ctrl-q
  run bash -c "(printf 'echo attached-ok\n'; sleep 1; printf '\020\021'; sleep 1) |
    timeout 20 script -qec \"'$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' attach a1\" /dev/null"
  [[ $status -eq 0 ]]
  [[ $output == *attached-ok* ]]
  run_berth inspect -f '{{.State.Running}}' a1
  assert_output "true"
  run_berth logs a1
  assert_output_contains "attached-ok"
  run_berth rm -f a1
}
