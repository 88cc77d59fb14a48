#!/usr/bin/env bats
# The deep-learning workflow's container settings, as Docker 20.10 has them: /dev/shm sized by
# --shm-size (PyTorch DataLoader workers and NCCL live in it), --ipc host|shareable|container:|none,
# and the ulimits NVIDIA recommends (--ulimit memlock=-1 --ulimit stack=67108864), including the
# error when the host does not allow a limit (simulated with prlimit on berth and a bounding set
# without CAP_SYS_RESOURCE, so the test means the same as root or not).

load helpers

setup() {
  berth_setup
  load_busybox
}

teardown() {
  [[ -z ${HOST_SHM_FILE:-} ]] || rm -f "$HOST_SHM_FILE"
  berth_teardown
}

# df -k's 1K-blocks column for /dev/shm, as the container sees it
shm_kb='df -k /dev/shm | awk "NR==2{print \$2}"'

@test "dl: /dev/shm is 64m by default, --shm-size sets it (k, m, g, bytes)" {
  run_berth run --rm busybox sh -c "$shm_kb"
  assert_success
  assert_output "65536"
  run_berth run --rm --shm-size 1g busybox sh -c "$shm_kb"
  assert_output "1048576"
  run_berth run --rm --shm-size 300m busybox sh -c "$shm_kb; grep ' /dev/shm ' /proc/mounts"
  assert_line "307200"
  assert_output_matches '/dev/shm tmpfs rw,nosuid,nodev,noexec'
  run_berth run --rm --shm-size 2097152 busybox sh -c "$shm_kb"
  assert_output "2048"
  # a DataLoader-sized write that the default 64m refuses fits in a larger /dev/shm
  run_berth run --rm --shm-size 128m busybox sh -c \
    'dd if=/dev/zero of=/dev/shm/batch bs=1M count=100 2>/dev/null && echo wrote'
  assert_output "wrote"
  run_berth run --rm busybox sh -c \
    'dd if=/dev/zero of=/dev/shm/batch bs=1M count=100 2>/dev/null && echo wrote || echo full'
  assert_output "full"
}

@test "dl: --shm-size errors are docker's, exit 125, nothing created" {
  run_berth run --rm --shm-size abc busybox true
  assert_failure 125
  assert_output_contains "invalid argument \"abc\" for \"--shm-size\" flag: invalid size: 'abc'"
  run_berth run --rm --shm-size -1 busybox true
  assert_failure 125
  run_berth ps -aq
  assert_output ""
}

@test "dl: --ipc shareable and container:NAME share /dev/shm (with its size) and the IPC namespace" {
  run_berth run -d --name trainer --ipc shareable --shm-size 32m busybox sh -c \
    'echo tensor-from-trainer >/dev/shm/batch0; sleep 1000'
  assert_success
  wait_until 10 berth exec trainer test -f /dev/shm/batch0
  run_berth run --rm --ipc container:trainer busybox sh -c \
    "cat /dev/shm/batch0; $shm_kb; readlink /proc/self/ns/ipc; echo from-worker >/dev/shm/back"
  assert_success
  assert_line "tensor-from-trainer"
  assert_line "32768"
  assert_line "$(berth exec trainer readlink /proc/self/ns/ipc)"
  # and the other way round: the donor sees what the joiner wrote
  run_berth exec trainer cat /dev/shm/back
  assert_output "from-worker"
  # a SysV segment made in one is visible in the other (same IPC namespace)
  run_berth exec trainer readlink /proc/self/ns/ipc
  local ns=$output
  run_berth run --rm busybox readlink /proc/self/ns/ipc
  [[ $output != "$ns" ]]
  run_berth rm -f trainer
  assert_success
}

@test "dl: --ipc container: of a private, stopped or missing container is refused as docker does" {
  run_berth run -d --name priv busybox sleep 1000
  run_berth run --rm --ipc container:priv busybox true
  assert_failure 125
  assert_output_contains "non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
  run_berth create --name stopped --ipc shareable busybox true
  run_berth run --rm --ipc container:stopped busybox true
  assert_failure 125
  assert_output_contains "non running container: stopped"
  run_berth run --rm --ipc container:nope busybox true
  assert_failure 125
  assert_output_contains "No such container: nope"
  run_berth run --rm --ipc bogus busybox true
  assert_failure 125
  assert_output_contains "invalid IPC mode: bogus"
  run_berth rm -f priv stopped
  run_berth ps -aq
  assert_output ""
}

@test "dl: --ipc host shares the host's /dev/shm and IPC namespace; --ipc none has no /dev/shm" {
  [[ -d /dev/shm ]] || skip "the host has no /dev/shm"
  HOST_SHM_FILE=$(mktemp /dev/shm/berth-710.XXXXXX)
  echo from-host >"$HOST_SHM_FILE"
  local name host_kb
  name=$(basename "$HOST_SHM_FILE")
  host_kb=$(df -k /dev/shm | awk 'NR==2{print $2}')
  run_berth run --rm --ipc host busybox sh -c \
    "cat /dev/shm/$name; $shm_kb; readlink /proc/self/ns/ipc; echo from-container >/dev/shm/$name"
  assert_success
  assert_line "from-host"
  assert_line "$host_kb"
  assert_line "$(readlink /proc/self/ns/ipc)"
  [[ $(cat "$HOST_SHM_FILE") == from-container ]]
  run_berth run --rm --ipc none busybox sh -c \
    'grep -c " /dev/shm " /proc/mounts; test -e /dev/shm && echo exists || echo absent'
  assert_line "0"
  assert_line "absent"
}

@test "dl: --ulimit memlock/stack reach the process (ulimit -l -s, testhelper rlimits)" {
  local hl
  hl=$(ulimit -Hl)
  # a memlock within the host's hard limit, soft below hard
  local soft=$((64 * 1024)) hard=$((128 * 1024))
  if [[ $hl != unlimited ]] && ((hl * 1024 < hard)); then
    soft=$((hl * 512)) hard=$((hl * 1024))
  fi
  run_berth run --rm --ulimit "memlock=$soft:$hard" --ulimit stack=67108864 busybox sh -c \
    'ulimit -l; ulimit -Hl; ulimit -s; ulimit -Hs; testhelper rlimits'
  assert_success
  assert_line "$((soft / 1024))"
  assert_line "$((hard / 1024))"
  assert_line "65536"
  assert_line "memlock=$soft:$hard"
  assert_line "stack=67108864:67108864"
}

@test "dl: NVIDIA's --ulimit memlock=-1 --ulimit stack=67108864 works where the host allows it, else says why" {
  run_berth run --rm --ulimit memlock=-1 --ulimit stack=67108864 busybox sh -c \
    'ulimit -l; ulimit -s; testhelper rlimits'
  if [[ $(ulimit -Hl) == unlimited ]] || capsh --has-b=cap_sys_resource 2>/dev/null; then
    assert_success
    assert_line "unlimited"
    assert_line "65536"
    assert_line "memlock=unlimited:unlimited"
  else
    assert_failure 125
    assert_output_contains "setrlimit RLIMIT_MEMLOCK (soft unlimited, hard unlimited)"
    assert_output_contains "above the current $(($(ulimit -Hl) * 1024)) needs CAP_SYS_RESOURCE"
  fi
  run_berth ps -aq
  assert_output ""
}

@test "dl: an ulimit above berth's own hard limit without CAP_SYS_RESOURCE: error naming it, 125, nothing left" {
  require_tool prlimit
  require_tool setpriv
  # berth's own memlock hard limit 64 KiB, no CAP_SYS_RESOURCE: the container cannot get more
  run timeout 60 prlimit --memlock=65536:65536 setpriv --bounding-set=-sys_resource \
    --inh-caps=-sys_resource "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
    run --rm --name over --ulimit memlock=-1 busybox true
  [[ $status -eq 125 ]] || fail "status $status, want 125: $output"
  assert_output_contains "setrlimit RLIMIT_MEMLOCK (soft unlimited, hard unlimited): a hard limit above the current 65536 needs CAP_SYS_RESOURCE, which is missing"
  run timeout 60 prlimit --stack=8388608:8388608 setpriv --bounding-set=-sys_resource \
    --inh-caps=-sys_resource "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
    run --rm --ulimit stack=67108864 busybox true
  [[ $status -eq 125 ]] || fail "status $status, want 125: $output"
  assert_output_contains "setrlimit RLIMIT_STACK (soft 67108864, hard 67108864): a hard limit above the current 8388608"
  # within the limit it runs under the same restrictions
  run timeout 60 prlimit --memlock=65536:65536 setpriv --bounding-set=-sys_resource \
    --inh-caps=-sys_resource "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
    run --rm --ulimit memlock=32768:65536 busybox sh -c 'ulimit -l'
  [[ $status -eq 0 ]] || fail "status $status: $output"
  assert_output "32"
  run_berth ps -aq
  assert_output ""
}

@test "dl: --ulimit parse errors are docker's, exit 125, nothing created" {
  local -a cases=(
    "memlock|invalid argument \"memlock\" for \"--ulimit\" flag: invalid ulimit argument: memlock"
    "gpu=1|invalid argument \"gpu=1\" for \"--ulimit\" flag: invalid ulimit type: gpu"
    "stack=1:2:3|invalid argument \"stack=1:2:3\" for \"--ulimit\" flag: too many limit value arguments - 1:2:3, can only have up to two, \`soft[:hard]\`"
    "memlock=x|invalid argument \"memlock=x\" for \"--ulimit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"
    "memlock=1:y|invalid argument \"memlock=1:y\" for \"--ulimit\" flag: strconv.ParseInt: parsing \"y\": invalid syntax"
    "stack=200:100|invalid argument \"stack=200:100\" for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard limit: 200 > 100"
    "memlock=-1:100|invalid argument \"memlock=-1:100\" for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 100"
  )
  local c
  for c in "${cases[@]}"; do
    run_berth run --rm --ulimit "${c%%|*}" busybox true
    assert_failure 125
    assert_output_contains "${c#*|}"
  done
  run_berth ps -aq
  assert_output ""
}
