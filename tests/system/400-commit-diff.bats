#!/usr/bin/env bats
# berth diff / commit (and the `container diff|commit` forms): Docker's A/C/D listing in path
# order; the engine's mount stubs (/etc/hosts, hostname, resolv.conf, /proc, /sys, /dev, when the
# image lacks them) are neither listed nor committed, while volume, tmpfs and bind targets are
# changes, as in Docker; the committed image runs
# with the changes (deletions too), takes -c/-m/-a, saves with a layer whose sha256 is its
# diff_id and loads elsewhere; a running container is paused while it is read; a stub replaced
# by a symlink out of the container is committed as a symlink, never followed or removed.
# tests/unit/test_commit.c covers the same core directly, and the build's rename path.

load helpers

setup() {
  berth_setup
  load_busybox
  H=$BATS_TEST_TMPDIR/h
  mkdir -p "$H"
}

# layer_of IMAGE N: save IMAGE (to $H/save.tar, extracted under $H/save); LAYER is the path of
# its layer tar number N (0-based; -1 = the last), LAYER_DIFF_ID the config's diff_id for it.
layer_of() {
  rm -rf "$H/save" "$H/save.tar"
  berth save -o "$H/save.tar" "$1"
  mkdir -p "$H/save"
  tar -C "$H/save" -xf "$H/save.tar"
  local cfg layer
  cfg=$(jq -r '.[0].Config' "$H/save/manifest.json")
  layer=$(jq -r ".[0].Layers[$2]" "$H/save/manifest.json")
  LAYER_DIFF_ID=$(jq -r ".rootfs.diff_ids[$2]" "$H/save/$cfg")
  LAYER=$H/save/$layer
}

@test "diff: added, changed, deleted, in path order; errors" {
  run_berth run --name c1 busybox sh -c 'echo hi >/tmp/x; echo more >>/etc/group
    rm /etc/passwd; mkdir -p /newd/sub; touch /newd/sub/f /newd-b'
  assert_success
  run_berth diff c1
  assert_success
  assert_output "C /etc
C /etc/group
D /etc/passwd
A /newd
A /newd/sub
A /newd/sub/f
A /newd-b
C /tmp
A /tmp/x"
  run_berth container diff c1
  assert_success
  assert_line "D /etc/passwd"
  # A created container has no changes.
  run_berth create --name c2 busybox true
  assert_success
  run_berth diff c2
  assert_success
  assert_output ""
  run_berth diff nope
  assert_failure 1
  assert_output "Error response from daemon: No such container: nope"
  run_berth diff
  assert_failure 1
  assert_output_contains '"berth diff" requires exactly 1 argument.'
}

@test "diff/commit: the engine's mount stubs are not changes; volume, tmpfs and bind targets are (as Docker)" {
  mkdir -p "$H/bsrc"
  run_berth run --name c1 -v /data/sub --tmpfs /tt -v "$H/bsrc:/bind/x" \
    busybox sh -c 'echo y >/tmp/y; ls -d /data/sub /tt /bind/x /etc/hosts /etc/resolv.conf'
  assert_success
  # docker 20.10 prints exactly this for the same run
  run_berth diff c1
  assert_success
  assert_output "A /bind
A /bind/x
A /data
A /data/sub
C /tmp
A /tmp/y
A /tt"
  run_berth commit c1 stubs:1
  assert_success
  layer_of stubs:1 -1
  run tar -tf "$LAYER"
  assert_success
  assert_output "bind/
bind/x/
data/
data/sub/
tmp/
tmp/y
tt/"
  run_berth run --rm stubs:1 sh -c 'cat /tmp/y; ls -d /tt /bind/x 2>&1; ls /etc/hosts; true'
  assert_success
  assert_line "y"
  assert_line "/tt"
  assert_line "/bind/x"
  # As Docker: the -v volume stays declared in the image's config.
  run_berth image inspect -f '{{json .Config.Volumes}}' stubs:1
  assert_output '{"/data/sub":{}}'
  # The engine's /etc files never show, even when the image lacks them.
  run_berth create --name c2 -v /vol busybox true
  assert_success
  run_berth start c2
  assert_success
  run_berth diff c2
  assert_output "A /vol"
}

@test "commit: the image runs with the changes, deletions stay deleted, -c -m -a" {
  run_berth run --name c1 busybox sh -c 'echo hi >/tmp/x; rm /etc/passwd; mkdir /newd'
  assert_success
  run_berth commit -m "my message" -a "Some One <s@o>" -c 'ENV FOO=bar' \
    -c 'CMD ["cat", "/tmp/x"]' c1 mine:v1
  assert_success
  assert_output_matches '^sha256:[0-9a-f]{64}$'
  local id=$output
  run_berth run --rm mine:v1
  assert_success
  assert_output "hi"
  run_berth run --rm mine:v1 sh -c 'echo $FOO; ls -d /newd; ls /etc/passwd 2>&1; true'
  assert_line "bar"
  assert_line "/newd"
  assert_line "ls: /etc/passwd: No such file or directory"
  run_berth image inspect -f '{{.Id}}|{{.Author}}|{{json .Config.Cmd}}|{{.Parent}}' mine:v1
  assert_success
  local parent
  parent=$(berth image inspect -f '{{.Id}}' busybox)
  assert_output "$id|Some One <s@o>|[\"cat\",\"/tmp/x\"]|$parent"
  run_berth history --no-trunc --format '{{.CreatedBy}}|{{.Comment}}' mine:v1
  assert_success
  assert_line -n 0 "sh -c echo hi >/tmp/x; rm /etc/passwd; mkdir /newd|my message"
  # Without -c the container's own config; the name gets ":latest"; `container commit`.
  run_berth container commit c1 mine
  assert_success
  run_berth image inspect -f '{{index .Config.Cmd 2}}' mine:latest
  assert_output 'echo hi >/tmp/x; rm /etc/passwd; mkdir /newd'
  # Untagged.
  run_berth commit c1
  assert_success
  assert_output_matches '^sha256:[0-9a-f]{64}$'
}

@test "commit: errors" {
  run_berth commit nope
  assert_failure 1
  assert_output "Error response from daemon: No such container: nope"
  run_berth create --name c1 busybox true
  assert_success
  run_berth commit c1 'UPPER:x'
  assert_failure 1
  assert_output_contains "invalid reference format"
  run_berth commit -c 'BOGUS x' c1 x
  assert_failure 1
  assert_output_contains 'BOGUS'
  run_berth commit c1 'x@sha256:0000000000000000000000000000000000000000000000000000000000000000'
  assert_failure 1
  run_berth images -q
  assert_equal "$(echo "$output" | wc -l)" 1
}

@test "commit: a running container is paused while read, and keeps running" {
  run_berth run -d --name c1 busybox sh -c 'echo live >/tmp/live; exec sleep 1000'
  assert_success
  wait_until 10 berth exec c1 test -f /tmp/live
  run_berth commit c1 run:1
  assert_success
  run_berth inspect -f '{{.State.Running}} {{.State.Paused}} {{.State.Status}}' c1
  assert_output "true false running"
  run_berth commit --pause=false c1 run:2
  assert_success
  run_berth inspect -f '{{.State.Running}} {{.State.Paused}}' c1
  assert_output "true false"
  # A container the user paused stays paused.
  run_berth pause c1
  assert_success
  run_berth commit c1 run:3
  assert_success
  run_berth inspect -f '{{.State.Paused}}' c1
  assert_output "true"
  run_berth unpause c1
  assert_success
  run_berth run --rm run:1 cat /tmp/live
  assert_success
  assert_output "live"
  run_berth rm -f c1
  assert_success
}

@test "commit: the saved layer's sha256 is its diff_id, and it loads into another store" {
  run_berth run --name c1 busybox sh -c 'echo data >/tmp/d; ln -s /tmp/d /tmp/l
    ln /tmp/d /tmp/hard; mkdir -p /a/b; chmod 700 /a/b; rm -r /usr/bin/testhelper'
  assert_success
  run_berth commit c1 saved:1
  assert_success
  local id=$output
  layer_of saved:1 -1
  assert_equal "sha256:$(sha256sum "$LAYER" | cut -d' ' -f1)" "$LAYER_DIFF_ID"
  run tar -tvf "$LAYER"
  assert_line --partial "usr/bin/.wh.testhelper"
  assert_line --partial "tmp/hard link to tmp/d"
  # Saving again gives the same tar.
  cp "$LAYER" "$H/first.tar"
  layer_of saved:1 -1
  cmp "$LAYER" "$H/first.tar"
  local r2=$BATS_TEST_TMPDIR/root2
  run "$BERTH" --root "$r2" --runroot "$TEST_RUNROOT/r2" load -i "$H/save.tar"
  assert_success
  run "$BERTH" --root "$r2" --runroot "$TEST_RUNROOT/r2" images -q --no-trunc
  assert_output "$id"
  run "$BERTH" --root "$r2" --runroot "$TEST_RUNROOT/r2" run --rm saved:1 \
    sh -c 'cat /tmp/l; stat -c %a /a/b; ls /usr/bin/testhelper 2>&1; true'
  assert_line "data"
  assert_line "700"
  assert_line "ls: /usr/bin/testhelper: No such file or directory"
  run "$BERTH" --root "$r2" --runroot "$TEST_RUNROOT/r2" ps -aq
  assert_output ""
}

@test "commit: a stub replaced by a symlink out of the container is not followed" {
  echo secret >"$H/victim"
  mkdir -p "$H/outside"
  echo keep >"$H/outside/keep"
  run_berth run --name c1 --tmpfs /tt busybox true
  assert_success
  local cid upper
  cid=$(berth inspect -f '{{.Id}}' c1)
  upper=$TEST_ROOT/containers/$cid/upper
  # What a process could have done to the stubs while their mounts were gone.
  [ -d "$upper/tt" ] && [ -f "$upper/etc/hosts" ] && [ ! -s "$upper/etc/hosts" ]
  rmdir "$upper/tt"
  ln -s "$H/outside" "$upper/tt"
  rm "$upper/etc/hosts"
  ln -s "$H/victim" "$upper/etc/hosts"
  run_berth diff c1
  assert_success
  assert_output "C /etc
A /etc/hosts
A /tt"
  run_berth commit c1 evil:1
  assert_success
  layer_of evil:1 -1
  run tar -tvf "$LAYER"
  assert_line --partial "etc/hosts -> $H/victim"
  assert_line --partial "tt -> $H/outside"
  refute_line --partial "keep"
  run_berth rm c1
  assert_success
  [ "$(cat "$H/victim")" = secret ]
  [ "$(cat "$H/outside/keep")" = keep ]
}
