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

@test "dl: /dev/shm is 64m by default, --shm-size sets it (m, g, bytes)" {
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
  # a container of its own has another IPC namespace
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

# The examples need python:3.11-slim and PyPI, neither of which exists offline. They are built
# here on a stand-in base tagged python:3.11-slim: busybox whose `pip` and `apt-get` only print
# their arguments, the requirements file they were given, and whether their cache directory
# still holds the file the previous build left there. What this verifies is berth's side: every
# instruction of the examples parses and runs, the RUN --mount=type=cache directories survive
# from one build to the next and stay out of the image, and the layer order makes a code edit
# skip the pip step. Not verified: that pip and apt really install those packages.
make_standin_python() {
  local d=$BATS_TEST_TMPDIR/standin
  mkdir -p "$d"
  cat >"$d/stub" <<'STUB'
#!/bin/sh
tool=$(basename "$0")
case $tool in pip) cache=/root/.cache/pip ;; *) cache=/var/cache/apt ;; esac
if [ -f "$cache/stand-in-marker" ]; then echo "$tool-cache: warm"; else echo "$tool-cache: cold"; fi
echo "$tool $*"
for a in "$@"; do [ -f "$a" ] && sed 's/^/  req: /' "$a"; done
mkdir -p "$cache" && echo downloaded >"$cache/stand-in-marker"
STUB
  printf '%s\n' 'FROM busybox' 'COPY stub /usr/local/bin/pip' 'COPY stub /usr/bin/apt-get' \
    'RUN chmod 755 /usr/local/bin/pip /usr/bin/apt-get && mkdir -p /etc/apt/apt.conf.d && touch /etc/apt/apt.conf.d/docker-clean' \
    >"$d/Dockerfile"
  run_berth build -q -t python:3.11-slim "$d"
  assert_success
}

@test "dl: examples/deep-learning builds (stand-in base): cache mounts kept across builds, not in the image" {
  make_standin_python
  local ctx=$BATS_TEST_TMPDIR/dl
  cp -r "$BERTH_REPO/examples/deep-learning" "$ctx"
  run_berth build -t dl:1 "$ctx"
  assert_success
  assert_line "pip-cache: cold"
  assert_line "pip install -r requirements.txt"
  assert_line "  req: torch==2.3.1"
  assert_line "apt-get install -y --no-install-recommends git libgomp1"
  # a new requirement: pip runs again and finds the previous build's downloads
  echo "einops" >>"$ctx/requirements.txt"
  run_berth build -t dl:2 "$ctx"
  assert_success
  assert_line "pip-cache: warm"
  assert_line "  req: einops"
  refute_line "apt-get update"
  # a code edit: only the last COPY runs, pip is not called
  echo "# edited" >>"$ctx/train.py"
  run_berth build -t dl:3 "$ctx"
  assert_success
  refute_line "pip install -r requirements.txt"
  assert_output_contains "Step 7/8 : COPY train.py ."
  run_berth run --rm dl:3 sh -c 'ls -A /root/.cache/pip /var/cache/apt 2>&1; tail -1 train.py; pwd'
  assert_success
  refute_output_contains "stand-in-marker"
  assert_line "# edited"
  assert_line "/workspace"
  run_berth inspect -f '{{json .Config.Cmd}} {{.Config.WorkingDir}}' dl:3
  assert_output '["python","train.py"] /workspace'
}

@test "dl: examples/jupyter builds (stand-in base): port, command, a HOME any --user can write" {
  make_standin_python
  run_berth build -t nb:1 "$BERTH_REPO/examples/jupyter"
  assert_success
  assert_line "pip install notebook==7.2.1 ipykernel matplotlib"
  run_berth inspect -f '{{json .Config.ExposedPorts}} {{json .Config.Cmd}} {{.Config.WorkingDir}}' nb:1
  assert_output '{"8888/tcp":{}} ["jupyter","notebook","--ip","0.0.0.0","--no-browser"] /work'
  mkdir -p "$BATS_TEST_TMPDIR/proj"
  chown 4321:4321 "$BATS_TEST_TMPDIR/proj"
  run_berth run --rm -v "$BATS_TEST_TMPDIR/proj:/work" -w /work --user 4321:4321 nb:1 \
    sh -c 'mkdir -p "$HOME/.local" && touch notebook.ipynb && id -u && echo "$HOME"'
  assert_success
  assert_line "4321"
  assert_line "/tmp/home"
  [[ $(stat -c %u:%g "$BATS_TEST_TMPDIR/proj/notebook.ipynb") == 4321:4321 ]]
}
