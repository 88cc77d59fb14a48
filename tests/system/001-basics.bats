#!/usr/bin/env bats
# Global behaviour: version, help, flags, errors, info.

load helpers

@test "--version is one docker-style line" {
  run "$BERTH" --version
  assert_success
  assert_output_matches '^berth version [0-9]+\.[0-9]+\.[0-9]+, build [0-9a-f]+'
  run "$BERTH" -v
  assert_success
}

@test "version prints client details and takes --format" {
  run_berth version
  assert_success
  assert_output_contains "Version:"
  run_berth version --format '{{.Client.Version}}'
  assert_success
  assert_output_matches '^[0-9]+\.[0-9]+\.[0-9]+$'
}

@test "help lists commands; every verb has --help with docker's flag names" {
  run "$BERTH" --help
  assert_success
  assert_output_contains "Usage:  berth [OPTIONS] COMMAND"
  assert_output_contains "images"
  run_berth images --help
  assert_success
  assert_output_contains "Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]"
  assert_output_contains "--digests"
  assert_output_contains "--no-trunc"
  run_berth help load
  assert_success
  assert_output_contains "--input"
  for verb in load save import tag rmi history inspect "image prune" "image inspect" "system df" info; do
    # shellcheck disable=SC2086
    run_berth $verb --help
    assert_success
    assert_output_contains "Usage:  berth"
  done
}

@test "unknown command, unknown flag, missing flag value, wrong argument count" {
  run_berth -1 frobnicate
  assert_output_contains "'frobnicate' is not a berth command"
  run_berth -125 images --frob
  assert_output_contains "unknown flag: --frob"
  assert_output_contains "See 'berth images --help'."
  run_berth -125 images -Z
  assert_output_contains "unknown shorthand flag: 'Z' in -Z"
  run_berth -125 images --format
  assert_output_contains "flag needs an argument: --format"
  run_berth -1 tag onlyone
  assert_output_contains '"berth tag" requires exactly 2 arguments.'
  run -125 "$BERTH" --nope images
  assert_output_contains "unknown flag: --nope"
}

@test "info reports root dirs, storage driver, cgroup mode and kernel" {
  run_berth info
  assert_success
  assert_output_contains "Storage Driver: overlay"
  assert_output_contains "Berth Root Dir: $TEST_ROOT"
  assert_output_contains "Kernel Version: $(uname -r)"
  assert_output_matches "Cgroup Mode: (v1|v2|hybrid)"
  assert_output_contains "Images: 0"
  # The detected mode must agree with the host's /sys/fs/cgroup.
  local fstype want
  fstype=$(stat -f -c %T /sys/fs/cgroup)
  if [[ $fstype == cgroup2fs ]]; then want=v2
  elif [[ $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then want=hybrid
  else want=v1; fi
  run_berth info --format '{{.CgroupMode}} {{.Images}} {{.DockerRootDir}}'
  assert_success
  assert_output "$want 0 $TEST_ROOT"
}

@test "BERTH_ROOT and the config file choose the store; flags win" {
  local alt=$BATS_TEST_TMPDIR/alt cfgroot=$BATS_TEST_TMPDIR/cfgroot
  BERTH_ROOT=$alt run "$BERTH" --runroot "$TEST_RUNROOT" info --format '{{.DockerRootDir}}'
  assert_success
  assert_output "$alt"
  [ -f "$alt/berth.db" ]
  echo "{\"root\": \"$cfgroot\"}" >"$BATS_TEST_TMPDIR/berth.json"
  run "$BERTH" --config "$BATS_TEST_TMPDIR/berth.json" --runroot "$TEST_RUNROOT" info --format '{{.DockerRootDir}}'
  assert_output "$cfgroot"
  run "$BERTH" --config "$BATS_TEST_TMPDIR/berth.json" --root "$alt" --runroot "$TEST_RUNROOT" info --format '{{.DockerRootDir}}'
  assert_output "$alt"
  echo "{not json" >"$BATS_TEST_TMPDIR/bad.json"
  run "$BERTH" --config "$BATS_TEST_TMPDIR/bad.json" images
  assert_failure 1
  assert_output_contains "bad.json"
  run "$BERTH" --config "$BATS_TEST_TMPDIR/missing.json" images
  assert_failure 1
}

@test "--log-level debug logs to stderr; a bad level is rejected" {
  run_berth --log-level nonsense images
  assert_failure 125
  run_berth -D images
  assert_success
}

@test "an empty store lists nothing but the header" {
  run_berth images
  assert_success
  assert_output_matches '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$'
  run_berth images -q
  assert_success
  assert_output ""
}
