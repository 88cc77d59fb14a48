#!/usr/bin/env bats
# Runtime security: the catalog's C1–C8 (../shared/research/security-reliability.md §5).

load helpers

setup() {
  berth_setup
  load_busybox
}

@test "C1: a #!/proc/self/exe payload never gets a writable berth binary (CVE-2019-5736)" {
  local d=$BATS_TEST_TMPDIR/evil
  mkdir -p "$d"
  printf '#!/proc/self/exe\n' >"$d/evil"
  chmod 755 "$d/evil"
  local before before_mon
  before=$(sha256sum <"$BERTH")
  before_mon=$(sha256sum <"$(dirname "$BERTH")/berth-monitor")
  # As the container's own command (run) ...
  run_berth run --rm -v "$d:/x" --entrypoint /x/evil busybox
  # ... and through exec, while a process in the container keeps trying to open every
  # process's exe for writing.
  run_berth run -d --name c1 -v "$d:/x" busybox sh -c \
    'while :; do for p in /proc/[0-9]*; do testhelper write-file $p/exe pwned >/dev/null 2>&1; done; done'
  assert_success
  for _ in 1 2 3 4 5; do
    run_berth exec c1 /x/evil
  done
  run_berth exec c1 sh -c 'for p in /proc/[0-9]*; do readlink $p/exe; done'
  refute_output_contains "berth"
  run_berth rm -f c1
  [[ $(sha256sum <"$BERTH") == "$before" ]]
  [[ $(sha256sum <"$(dirname "$BERTH")/berth-monitor") == "$before_mon" ]]
}

@test "C2: a working directory through a leaked fd cannot reach the host (CVE-2024-21626)" {
  local n
  for n in 3 4 5 6 7 8 9 10; do
    run_berth run --rm -w "/proc/self/fd/$n" busybox sh -c "test -e ../../../..$BERTH_REPO && echo LEAK; true"
    refute_output_contains "LEAK"
  done
  run_berth run -d --name c2 busybox sleep 1000
  for n in 3 4 5 6 7 8; do
    run_berth exec -w "/proc/self/fd/$n" c2 sh -c "test -e ../../../..$BERTH_REPO && echo LEAK; true"
    refute_output_contains "LEAK"
  done
  run_berth rm -f c2
}

@test "C3: only fds 0, 1, 2 reach the container and exec'ed processes" {
  run_berth run --rm busybox testhelper fds
  assert_success
  local fds
  fds=$(awk '{print $1}' <<<"$output" | sort -n | tr '\n' ' ')
  [[ $fds == "0 1 2 " ]] || fail "fds: $fds"
  run_berth run -d --name c3 busybox sleep 1000
  run_berth exec c3 testhelper fds
  fds=$(awk '{print $1}' <<<"$output" | sort -n | tr '\n' ' ')
  [[ $fds == "0 1 2 " ]] || fail "exec fds: $fds"
  run_berth rm -f c3
}

@test "C4: capability sets as Docker's" {
  run_berth run --rm busybox testhelper caps
  assert_line "CapInh:	0000000000000000"
  assert_line "CapPrm:	00000000a80425fb"
  assert_line "CapEff:	00000000a80425fb"
  assert_line "CapBnd:	00000000a80425fb"
  assert_line "CapAmb:	0000000000000000"
  run_berth run --rm -u 1000 busybox testhelper caps
  assert_line "CapEff:	0000000000000000"
  assert_line "CapBnd:	00000000a80425fb"
  run_berth run --rm --cap-drop ALL busybox testhelper caps
  assert_line "CapEff:	0000000000000000"
  assert_line "CapBnd:	0000000000000000"
  run_berth run --rm --cap-add SYS_ADMIN busybox testhelper caps
  assert_line "CapEff:	00000000a82425fb"
  run_berth run --rm --cap-drop CHOWN --cap-drop NET_RAW busybox testhelper caps
  assert_line "CapEff:	00000000a80405fa"
  run_berth run --rm --cap-add NOPE busybox true
  assert_failure 125
  assert_output_contains 'unknown capability: "CAP_NOPE"'
}

@test "C4: --privileged has every capability the host's bounding set has" {
  local host
  host=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
  run_berth run --rm --privileged busybox testhelper caps
  assert_success
  assert_line "CapEff:	$host"
  run_berth run --rm --privileged busybox testhelper security
  assert_line "Seccomp:	0"
}

@test "C5: Docker's seccomp profile: blocked calls get EPERM, clone3 ENOSYS" {
  run_berth run --rm busybox testhelper security
  assert_line "Seccomp:	2"
  local call
  for call in keyctl unshare mount fsopen setns bpf perf_event_open userfaultfd io_uring ioperm syslog; do
    run_berth run --rm busybox testhelper syscall-probe "$call"
    assert_output "$call: EPERM"
  done
  run_berth run --rm busybox testhelper syscall-probe clone3
  assert_output "clone3: ENOSYS"
  run_berth run --rm busybox testhelper syscall-probe personality 0xffffffff
  assert_output_contains ": ok"
  run_berth run --rm --security-opt seccomp=unconfined busybox testhelper security
  assert_line "Seccomp:	0"
  # A profile file in Docker's format
  printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getcwd"],"action":"SCMP_ACT_ERRNO"}]}' \
    >"$BATS_TEST_TMPDIR/p.json"
  run_berth run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/p.json" busybox testhelper pwd
  assert_failure
  assert_output_contains "EPERM"
}

@test "C6: masked and read-only paths" {
  # masked files read empty (where this kernel has them), masked directories are empty
  run_berth run --rm busybox sh -c 'for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats; do
      [ -e $f ] && echo "$f $(cat $f | wc -c)"; done; ls /proc/acpi /proc/scsi /sys/firmware 2>/dev/null | grep -v : | grep -c .; true'
  assert_success
  refute_output_contains "unmasked"
  local l
  for l in "${lines[@]}"; do
    [[ $l == /proc/* ]] && [[ $l != *" 0" ]] && fail "not masked: $l"
  done
  [[ ${lines[-1]} == 0 ]] || fail "masked directories not empty"
  run_berth run --rm busybox testhelper write-file /proc/sys/kernel/domainname x
  assert_failure
  assert_output_contains "EROFS"
  run_berth run --rm busybox testhelper write-file /proc/sysrq-trigger b
  assert_failure
  run_berth run --rm busybox sh -c 'mount -t cgroup none /mnt 2>&1; echo rc=$?'
  assert_output_contains "rc=1"
  run_berth run --rm busybox sh -c 'touch /sys/fs/cgroup/x 2>&1; echo rc=$?'
  assert_output_contains "rc=1"
}

@test "C7: /dev holds the default nodes; mknod works, opening it does not" {
  run_berth run --rm busybox ls /dev
  assert_success
  local want
  for want in null zero full random urandom tty pts shm mqueue ptmx fd stdin stdout stderr; do
    assert_line "$want"
  done
  refute_line "sda"
  refute_line "mem"
  run_berth run --rm busybox sh -c 'mknod /x c 1 1 && echo made; cat /x >/dev/null 2>&1 || echo denied'
  assert_output $'made\ndenied'
}

@test "C8: setuid binaries, with and without no-new-privileges" {
  local d=$BATS_TEST_TMPDIR/suid
  mkdir -p "$d"
  cp "$FIXTURES/testhelper" "$d/th"
  chown 0:0 "$d/th"
  chmod 4755 "$d/th"
  run_berth run --rm -u 1000 -v "$d:/x" busybox /x/th id
  assert_success
  assert_output_contains "euid=0"
  run_berth run --rm -u 1000 -v "$d:/x" --security-opt no-new-privileges busybox /x/th id
  assert_success
  refute_output_contains "euid=0"
  run_berth run --rm --security-opt no-new-privileges busybox testhelper security
  assert_line "NoNewPrivs:	1"
}
