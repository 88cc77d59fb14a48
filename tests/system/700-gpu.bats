#!/usr/bin/env bats
# GPUs without a GPU: --device vendor/class=name through a CDI spec pointing at a fake device
# node (major 195: opening it gives ENXIO, never EPERM, so the device-cgroup rule is there), and
# --gpus through a fake NVIDIA driver root (tests/fixtures/fake-nvidia.sh: nodes, libraries in
# an ld.so.cache, nvidia-smi) when no spec names nvidia.com/gpu. Nothing GPU-related appears
# without the flags, whatever the image's environment says.

load helpers

setup() {
  berth_setup
  load_busybox
  G=$BATS_TEST_TMPDIR/gpu
  mkdir -p "$G/cdi" "$G/dev"
  mknod -m 666 "$G/dev/fake0" c 195 0
  echo libdata >"$G/libfake.so.1"
  cat >"$G/cdi/fake.yaml" <<SPEC
cdiVersion: "0.5.0"
kind: example.com/gpu
devices:
  - name: "0"
    containerEdits:
      deviceNodes:
        - path: /dev/nvidia0
          hostPath: $G/dev/fake0
      env: ["FAKE_DEV=0"]
containerEdits:
  env: ["FAKE_GPU=1"]
  mounts:
    - hostPath: $G/libfake.so.1
      containerPath: /usr/lib/libfake.so.1
      options: [ro, nosuid, nodev, bind]
SPEC
  # the test's own CDI directory and NVIDIA driver root, in the test's config file
  python3 - "$BERTH_CONFIG" "$G" <<'PY'
import json, sys
p, g = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["cdi-spec-dirs"] = [g + "/cdi"]
c["nvidia-driver-root"] = g + "/nv"
json.dump(c, open(p, "w"))
PY
}

@test "gpu: --device vendor/class=name applies the CDI spec (node with its cgroup rule, mount, env)" {
  run_berth run --rm --network none --device example.com/gpu=0 busybox sh -c \
    'ls -l /dev/nvidia0; cat /usr/lib/libfake.so.1; echo "$FAKE_GPU $FAKE_DEV"; cat /dev/nvidia0 2>&1; true'
  assert_success
  assert_output_matches 'crw-rw-rw- +1 root +root +195, +0 .* /dev/nvidia0'
  assert_line "libdata"
  assert_line "1 0"
  assert_output_contains "No such device or address"
  refute_output_contains "Operation not permitted"
}

@test "gpu: an unknown CDI device is an error naming it, nothing started" {
  run_berth run --rm --network none --name g1 --device example.com/gpu=9 busybox true
  assert_failure 125
  assert_output_contains "unresolvable CDI devices example.com/gpu=9"
  run_berth ps -aq
  assert_output ""
}

@test "gpu: --gpus without a driver: docker's message, exit 125" {
  run_berth run --rm --network none --gpus all busybox true
  assert_failure 125
  assert_output_contains 'could not select device driver "" with capabilities: [[gpu]]'
}

@test "gpu: --gpus all / 1 / device=1 through the fake NVIDIA driver (no spec): nodes, libraries, nvidia-smi" {
  require_tool cc
  require_tool ldconfig
  sh "$BERTH_REPO/tests/fixtures/fake-nvidia.sh" "$G/nv" >/dev/null
  run_berth run --rm --network none --gpus all busybox sh -c \
    'ls /dev/nvidia0 /dev/nvidia1 /dev/nvidiactl /dev/nvidia-uvm; nvidia-smi -L; ls /usr/lib/x86_64-linux-gnu; echo "NVD=$NVIDIA_VISIBLE_DEVICES"'
  assert_success
  assert_line "/dev/nvidia1"
  assert_line "/dev/nvidiactl"
  assert_output_contains "GPU 1: Fake GPU"
  assert_line "libcuda.so.1"
  assert_line "NVD=void"
  run_berth run --rm --network none --gpus 1 busybox sh -c 'ls /dev/nvidia0 /dev/nvidia1 2>&1; true'
  assert_line "/dev/nvidia0"
  assert_output_contains "/dev/nvidia1: No such file or directory"
  run_berth run --rm --network none --gpus '"device=1"' busybox sh -c 'ls /dev/nvidia0 /dev/nvidia1 2>&1; true'
  assert_line "/dev/nvidia1"
  assert_output_contains "/dev/nvidia0: No such file or directory"
  run_berth run --rm --network none --gpus device=7 busybox true
  assert_failure 125
  # unquoted, "1" is a count beside device 0: docker's CLI takes it, its daemon refuses it
  run_berth run --rm --network none --gpus device=0,1 busybox true
  assert_failure 125
  assert_output_contains "cannot set both Count and DeviceIDs on device request"
  # the flag's own errors (one parser: src/gpu/gpus.c)
  run_berth run --rm --network none --gpus count=x busybox true
  assert_failure 125
  assert_output_contains 'invalid argument "count=x" for "--gpus" flag: invalid count (x): value must be either "all" or an integer: invalid syntax'
  run_berth run --rm --network none --gpus all,mode=x busybox true
  assert_failure 125
  assert_output_contains "invalid argument \"all,mode=x\" for \"--gpus\" flag: unexpected key 'mode' in 'mode=x'"
  run_berth ps -aq
  assert_output ""
}

@test "gpu: nothing GPU-related without the flags, whatever NVIDIA_VISIBLE_DEVICES says" {
  require_tool cc
  sh "$BERTH_REPO/tests/fixtures/fake-nvidia.sh" "$G/nv" >/dev/null
  run_berth run --rm --network none -e NVIDIA_VISIBLE_DEVICES=all busybox sh -c \
    'ls /dev/nvidia* 2>&1; ls /usr/lib/x86_64-linux-gnu 2>&1; which nvidia-smi || echo no-smi'
  assert_success
  assert_output_contains "/dev/nvidia*: No such file or directory"
  assert_line "no-smi"
  refute_output_contains "libcuda"
}

@test "gpu: info lists the CDI spec directories and the devices they name" {
  run_berth info
  assert_success
  assert_output_contains " CDI spec directories:"
  assert_line "  $G/cdi"
  assert_line "  cdi: example.com/gpu=0"
  run_berth info --format '{{json .DiscoveredDevices}}'
  assert_output '[{"Source":"cdi","ID":"example.com/gpu=0"}]'
}
