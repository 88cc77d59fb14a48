#!/usr/bin/env bats
# berth cp / container cp: Docker's SRC/DEST rules both ways, "-" for tar on stdin/stdout,
# -a, -L, -q and the summary line, volumes and read-only mounts, stopped and running
# containers, and the escapes (a container's symlink to "/" or "../.." is never followed out
# of it; tar entries with ".." are refused). tests/unit/test_cp.c covers the same core with a
# directory as the rootfs, and the RENAME_EXCHANGE race.

load helpers

setup() {
  berth_setup
  load_busybox
  H=$BATS_TEST_TMPDIR/h
  mkdir -p "$H"
}

@test "cp: which side is the container" {
  run_berth cp "$H/a" "$H/b"
  assert_failure 1
  assert_output "Error: must specify at least one container source"
  run_berth cp c1:/a c2:/b
  assert_failure 1
  assert_output "Error: copying between containers is not supported"
  run_berth cp "" c1:/b
  assert_failure 1
  assert_output "Error: source can not be empty"
  run_berth cp c1:/a
  assert_failure 1
  assert_output_contains '"berth cp" requires exactly 2 arguments.'
  run_berth cp nope:/etc/passwd "$H"
  assert_failure 1
  assert_output "Error response from daemon: No such container: nope"
  # "./a:b" and "/a:b" are local paths.
  run_berth cp ./a:b "$H/x"
  assert_output "Error: must specify at least one container source"
  run_berth container cp --help
  assert_success
  assert_output_contains "Copy files/folders between a container and the local filesystem"
}

@test "cp out of a created container: file, directory, /., renames, errors" {
  run_berth create --name c1 busybox true
  assert_success
  run_berth cp c1:/etc/passwd "$H/"
  assert_success
  assert_output ""
  grep -q '^berth:x:1000:1000:' "$H/passwd"
  run_berth cp c1:etc/group "$H/grp"
  assert_success
  grep -q '^wheel:x:10:berth' "$H/grp"
  # Into an existing file: replaced.
  echo old >"$H/exists"
  run_berth cp c1:/etc/passwd "$H/exists"
  assert_success
  cmp "$H/passwd" "$H/exists"
  # A directory: into an existing directory under its name, or as a new name.
  mkdir "$H/into"
  run_berth cp c1:/etc "$H/into"
  assert_success
  [ -f "$H/into/etc/passwd" ]
  run_berth cp c1:/etc "$H/etc2"
  assert_success
  [ -f "$H/etc2/group" ]
  # "/." copies the contents.
  mkdir "$H/dot"
  touch "$H/dot/keep"
  run_berth cp c1:/etc/. "$H/dot"
  assert_success
  [ -f "$H/dot/passwd" ] && [ -f "$H/dot/keep" ] && [ ! -e "$H/dot/etc" ]
  # Modes survive.
  run stat -c %a "$H/into/etc/passwd"
  assert_output "644"

  run_berth cp c1:/nope "$H"
  assert_failure 1
  assert_output "Error response from daemon: Could not find the file /nope in container c1"
  run_berth cp c1:/etc "$H/exists"
  assert_failure 1
  assert_output "Error: cannot copy directory"
  run_berth cp c1:/etc/passwd "$H/newdir/"
  assert_failure 1
  assert_output "Error: no such directory"
  run_berth cp c1:/etc/passwd "$H/missing/x"
  assert_failure 1
  assert_output "Error: invalid output path: directory \"$H/missing\" does not exist"
  # The stopped container's rootfs is not left mounted.
  run findmnt -rn -o TARGET
  refute_output_contains "$TEST_ROOT/containers/"
}

@test "cp into a stopped container; the container sees it when it starts" {
  echo hi >"$H/f"
  mkdir -p "$H/d/sub"
  echo x >"$H/d/sub/x"
  run_berth create --name c1 busybox cat /tmp/f /tmp/renamed /opt/sub/x /opt/new/sub/x /tmp/m/x
  assert_success
  run_berth cp "$H/f" c1:/tmp/
  assert_success
  run_berth cp "$H/f" c1:/tmp/renamed
  assert_success
  # /opt is not in the image: the directory is created under that name (so /opt/sub/x).
  run_berth cp "$H/d" c1:/opt
  assert_success
  run_berth cp "$H/d" c1:/opt/new
  assert_success
  # "/." of a directory into a new name: the new directory gets its contents.
  run_berth cp "$H/d/sub/." c1:/tmp/m
  assert_success
  run_berth cp "$H/f" c1:/tmp/nodir/
  assert_failure 1
  assert_output "Error: no such directory"
  run_berth cp "$H/d" c1:/tmp/renamed
  assert_failure 1
  assert_output "Error: cannot copy directory"
  run_berth cp "$H/f" c1:/nope/x
  assert_failure 1
  assert_output "Error response from daemon: Could not find the file /nope in container c1"
  run_berth cp "$H/nope" c1:/tmp
  assert_failure 1
  assert_output_contains "lstat $H/nope"
  run_berth start -a c1
  assert_success
  assert_output $'hi\nhi\nx\nx\nx'
}

@test "cp with a running container" {
  run_berth run -d --name r1 busybox sh -c 'echo from-inside >/tmp/inside; sleep 1000'
  assert_success
  wait_until 10 berth cp r1:/tmp/inside "$H/inside"
  run cat "$H/inside"
  assert_output "from-inside"
  echo hello >"$H/in"
  run_berth cp "$H/in" r1:/root/
  assert_success
  run_berth cp r1:/root/in "$H/back"
  assert_success
  cmp "$H/in" "$H/back"
  run_berth ps --format '{{.Names}} {{.State}}'
  assert_output "r1 running"
  run_berth rm -f r1
}

@test "cp - streams a tar out and in" {
  run_berth create --name c1 busybox cat /tmp/t/x
  run tar -tf <(berth cp c1:/etc -)
  assert_success
  assert_line "etc/"
  assert_line "etc/passwd"
  run tar -tf <(berth cp c1:/etc/. -)
  assert_line "./"
  assert_line "./group"
  run tar -tf <(berth cp c1:/etc/passwd -)
  assert_output "passwd"
  # No summary line when stdout is the tar, even with --quiet=false.
  berth cp --quiet=false c1:/etc/passwd - >/dev/null 2>"$H/err"
  [ ! -s "$H/err" ]

  mkdir -p "$H/t"
  echo X >"$H/t/x"
  tar -C "$H" -cf "$H/t.tar" t
  run_berth cp - c1:/tmp <"$H/t.tar"
  assert_success
  gzip -c "$H/t.tar" >"$H/t.tar.gz"
  run_berth cp - c1:/root <"$H/t.tar.gz"
  assert_success
  run_berth cp - c1:/etc/passwd <"$H/t.tar"
  assert_failure 1
  assert_output 'Error: destination "c1:/etc/passwd" must be a directory'
  run_berth cp - c1:/nope <"$H/t.tar"
  assert_failure 1
  assert_output 'Error: destination "c1:/nope" must be a directory'
  run_berth start -a c1
  assert_output "X"
}

@test "cp -a keeps uid/gid; without it files belong to root in the container and to the caller on the host" {
  [[ $EUID -eq 0 ]] || skip "needs root for chown"
  echo o >"$H/o1"
  echo o >"$H/o2"
  chown 1234:5678 "$H/o1" "$H/o2"
  run_berth create --name c1 busybox stat -c '%n %u:%g' /tmp/o1 /tmp/o2 /home/berth
  run_berth cp "$H/o1" c1:/tmp/
  assert_success
  run_berth cp -a "$H/o2" c1:/tmp/
  assert_success
  run_berth start -a c1
  assert_output $'/tmp/o1 0:0\n/tmp/o2 1234:5678\n/home/berth 1000:1000'
  # Out of the container: the caller's, or the container's with -a.
  run_berth cp c1:/home/berth "$H/plain"
  run_berth cp -a c1:/home/berth "$H/arch"
  run stat -c '%u:%g' "$H/plain" "$H/arch"
  assert_output $'0:0\n1000:1000'
}

@test "cp -L follows a symlink in SRC_PATH" {
  run_berth create --name c1 busybox true
  run_berth cp c1:/bin/sh "$H/"
  assert_success
  [ -L "$H/sh" ]
  [ "$(readlink "$H/sh")" = busybox ]
  run_berth cp -L c1:/bin/sh "$H/sh2"
  assert_success
  [ -f "$H/sh2" ] && [ ! -L "$H/sh2" ]
  run_berth cp c1:/bin/busybox "$H/bb"
  cmp "$H/sh2" "$H/bb"
  mkdir "$H/ldir"
  run_berth cp --follow-link c1:/bin/sh "$H/ldir"
  assert_success
  [ -f "$H/ldir/sh" ] && [ ! -L "$H/ldir/sh" ]
  # On the host side, -L follows the source link too.
  ln -s "$H/sh2" "$H/hostlink"
  run_berth cp -L "$H/hostlink" c1:/tmp/
  assert_success
  run_berth cp c1:/tmp/hostlink "$H/back"
  [ -f "$H/back" ] && [ ! -L "$H/back" ]
}

@test "cp never follows a container's symlinks out of it" {
  require_tool python3
  mkdir -p "$H/sentinel"
  echo HOST-SECRET >"$H/sentinel/secret"
  local rel=${H#/}
  # The container gets symlinks to "/", to "../../..", and to the sentinel's host path.
  mkdir -p "$H/ctx"
  ln -s / "$H/ctx/esc"
  ln -s ../../../../../../../../.. "$H/ctx/up"
  ln -s "$H/sentinel" "$H/ctx/abs"
  run_berth create --name c1 busybox true
  tar -C "$H/ctx" -cf - esc up abs | berth cp - c1:/
  for p in "/esc/$rel/sentinel/secret" "/up/$rel/sentinel/secret" "/abs/secret"; do
    run_berth cp "c1:$p" "$H/got"
    assert_failure 1
    assert_output "Error response from daemon: Could not find the file $p in container c1"
  done
  [ ! -e "$H/got" ]
  echo pwned >"$H/pwn"
  run_berth cp "$H/pwn" c1:/abs/
  assert_failure 1
  run_berth cp "$H/pwn" "c1:/esc/$rel/sentinel/"
  assert_failure 1
  # A tar whose entries climb out is refused.
  python3 - "$H/evil.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for name in ("ok", "../../../../../../../../../tmp/berth-cp-evil", "/berth-cp-abs"):
        data = b"evil\n"
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
EOF
  run_berth cp - c1:/tmp <"$H/evil.tar"
  assert_failure 1
  assert_output_contains "outside of"
  [ ! -e /tmp/berth-cp-evil ] && [ ! -e /berth-cp-abs ]
  # The links themselves come out as links.
  run_berth cp c1:/esc "$H/esc-copy"
  assert_success
  [ "$(readlink "$H/esc-copy")" = / ]
  run ls "$H/sentinel"
  assert_output "secret"
  run cat "$H/sentinel/secret"
  assert_output "HOST-SECRET"
}

@test "cp into and out of volumes; read-only mounts and rootfs refuse writes" {
  mkdir -p "$H/hostdir"
  echo host >"$H/hostdir/h"
  run_berth run -d --name v1 -v vol1:/data -v "$H/hostdir:/hd:ro" busybox sleep 1000
  assert_success
  echo in >"$H/f"
  run_berth cp "$H/f" v1:/data/
  assert_success
  run cat "$TEST_ROOT/volumes/vol1/_data/f"
  assert_output "in"
  run_berth cp v1:/hd/h "$H/h-out"
  assert_success
  run cat "$H/h-out"
  assert_output "host"
  run_berth cp "$H/f" v1:/hd/
  assert_failure 1
  assert_output "Error response from daemon: mounted volume is marked read-only"
  [ ! -e "$H/hostdir/f" ]
  run_berth rm -f v1

  run_berth create --name ro1 --read-only -v vol2:/data busybox true
  assert_success
  run_berth cp "$H/f" ro1:/tmp/
  assert_failure 1
  assert_output "Error response from daemon: container rootfs is marked read-only"
  run_berth cp "$H/f" ro1:/data/
  assert_success
}

@test "cp prints Docker's summary on a terminal or with --quiet=false, never with -q" {
  printf 'abc' >"$H/f"
  run_berth create --name c1 busybox true
  run_berth cp "$H/f" c1:/tmp/
  assert_success
  assert_output ""
  run_berth cp --quiet=false "$H/f" c1:/tmp/
  assert_success
  assert_output "Successfully copied 2.05kB to c1:/tmp/"
  run_berth cp --quiet=false c1:/tmp/f "$H/g"
  assert_success
  assert_output "Successfully copied 2.05kB to $H/g"
  run_berth cp -q "$H/f" c1:/tmp/
  assert_success
  assert_output ""
  if command -v script >/dev/null; then
    run script -qec "$BERTH --root $TEST_ROOT --runroot $TEST_RUNROOT cp $H/f c1:/tmp/x" /dev/null
    assert_output_contains "Successfully copied 2.05kB to c1:/tmp/x"
    run script -qec "$BERTH --root $TEST_ROOT --runroot $TEST_RUNROOT cp -q $H/f c1:/tmp/y" /dev/null
    refute_output_contains "Successfully copied"
  fi
}
