#!/usr/bin/env bats
# berth build from every kind of context, end to end: git repositories over git:// (git daemon)
# and dumb http, tarballs and plain Dockerfiles over http (python3 -m http.server), tar
# archives as files and on stdin in each compression, Dockerfiles on stdin, -f outside the
# context, <Dockerfile>.dockerignore, and the failures (nothing left behind). The servers
# listen on 127.0.0.1 only and are stopped in teardown_file.

load helpers

# wait_port PORT: until something accepts on 127.0.0.1:PORT (10 s).
wait_port() {
  for _ in $(seq 1 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" \
      "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_repo DIR: a bare repository DIR/repo.git whose history has
#   commit 1 (tag v1):  Dockerfile COPYing marker ("v1"), sub/Dockerfile + sub/marker ("sub-v1")
#   commit 2 (main):    marker "main"
#   branch feat:        marker "feat"
# and $DIR/sha1: commit 1's sha.
make_repo() {
  local w=$1/work
  mkdir -p "$w/sub"
  git -C "$w" init -q -b main
  printf 'FROM busybox\nCOPY marker /marker\n' >"$w/Dockerfile"
  printf 'FROM busybox\nCOPY marker /marker\n' >"$w/sub/Dockerfile"
  echo v1 >"$w/marker"
  echo sub-v1 >"$w/sub/marker"
  git -C "$w" add -A
  git -C "$w" -c user.name=t -c user.email=t@t commit -q -m one
  git -C "$w" tag v1
  git -C "$w" rev-parse HEAD >"$1/sha1"
  echo main >"$w/marker"
  git -C "$w" -c user.name=t -c user.email=t@t commit -q -am two
  git -C "$w" checkout -q -b feat
  echo feat >"$w/marker"
  git -C "$w" -c user.name=t -c user.email=t@t commit -q -am feat
  git -C "$w" checkout -q main
  git clone -q --bare "$w" "$1/repo.git"
  git -C "$1/repo.git" update-server-info
  rm -rf "$w"
}

setup_file() {
  berth_setup_file
  SRV=$(mktemp -d /tmp/berth-ctxsrv.XXXXXX)
  export SRV GIT_PORT="" HTTP_PORT=""
  make_repo "$SRV" >/dev/null 2>&1 || return 0
  # a tarball and a plain Dockerfile for the http tests
  mkdir -p "$SRV/tarctx"
  printf 'FROM busybox\nCOPY marker /marker\n' >"$SRV/tarctx/Dockerfile"
  echo from-http-tar >"$SRV/tarctx/marker"
  tar -C "$SRV/tarctx" -czf "$SRV/ctx.tar.gz" .
  printf 'FROM busybox\nRUN echo from-http-dockerfile > /marker\n' >"$SRV/Dockerfile.remote"
  if command -v git >/dev/null; then
    GIT_PORT=$(free_port)
    git daemon --listen=127.0.0.1 --port="$GIT_PORT" --export-all --reuseaddr \
      --base-path="$SRV" "$SRV" >"$SRV/git-daemon.log" 2>&1 3>&- &
    echo $! >"$SRV/git-daemon.pid"
    wait_port "$GIT_PORT" || GIT_PORT=""
  fi
  HTTP_PORT=$(free_port)
  python3 -m http.server --bind 127.0.0.1 --directory "$SRV" "$HTTP_PORT" \
    >"$SRV/http.log" 2>&1 3>&- &
  echo $! >"$SRV/http.pid"
  wait_port "$HTTP_PORT" || HTTP_PORT=""
}

teardown_file() {
  local f pid
  for f in "$SRV/git-daemon.pid" "$SRV/http.pid"; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$SRV"
}

setup() {
  berth_setup
  load_busybox
  CTX=$BATS_TEST_TMPDIR/ctx
  mkdir -p "$CTX"
}

require_git_daemon() { [[ -n $GIT_PORT ]] || skip "git daemon did not start"; }
require_http() { [[ -n $HTTP_PORT ]] || skip "the http server did not start"; }

# built_marker IMAGE WANT: the image's /marker holds WANT.
built_marker() {
  run_berth run --rm --network none "$1" cat /marker
  assert_success
  assert_output "$2"
}

# nothing_left: after a failed build, no image but busybox, no container, an empty staging area.
nothing_left() {
  run_berth images -aq
  assert_equal "$(wc -l <<<"$output")" 1
  run_berth ps -aq
  assert_output ""
  if [[ -d $TEST_ROOT/tmp ]]; then
    run find "$TEST_ROOT/tmp" -mindepth 1
    assert_output ""
  fi
}

# berth_stdin FILE ARGS...: berth ARGS... with FILE on stdin, through bats' run.
berth_stdin() {
  local in=$1
  shift
  run timeout 120 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@" <"$in"
  echo "$output"
}

@test "build context: git:// repository, default branch" {
  require_git_daemon
  run_berth build -t g "git://127.0.0.1:$GIT_PORT/repo.git"
  assert_success
  built_marker g main
}

@test "build context: git:// #branch, #tag:subdir and a commit sha" {
  require_git_daemon
  run_berth build -t g1 "git://127.0.0.1:$GIT_PORT/repo.git#feat"
  assert_success
  built_marker g1 feat
  run_berth build -t g2 "git://127.0.0.1:$GIT_PORT/repo.git#v1:sub"
  assert_success
  built_marker g2 sub-v1
  run_berth build -t g3 "git://127.0.0.1:$GIT_PORT/repo.git#$(cat "$SRV/sha1")"
  assert_success
  built_marker g3 v1
}

@test "build context: a dumb-http git repository" {
  require_http
  run_berth build -t dumb "http://127.0.0.1:$HTTP_PORT/repo.git#feat"
  assert_success
  built_marker dumb feat
  run_berth build -t dumb2 "http://127.0.0.1:$HTTP_PORT/repo.git"
  assert_success
  built_marker dumb2 main
}

@test "build context: a tarball and a plain Dockerfile over http" {
  require_http
  run_berth build -t ht "http://127.0.0.1:$HTTP_PORT/ctx.tar.gz"
  assert_success
  built_marker ht from-http-tar
  run_berth build -t hd "http://127.0.0.1:$HTTP_PORT/Dockerfile.remote"
  assert_success
  built_marker hd from-http-dockerfile
}

@test "build context: tar archives as files and on stdin, in each compression" {
  echo tarred >"$CTX/marker"
  printf 'FROM busybox\nCOPY marker /marker\n' >"$CTX/Dockerfile"
  local z ext tool
  for z in none:tar:cat gz:tar.gz:gzip bz2:tar.bz2:bzip2 xz:tar.xz:xz zst:tar.zst:zstd; do
    IFS=: read -r _ ext tool <<<"$z"
    command -v "$tool" >/dev/null || { echo "# no $tool" >&3; continue; }
    tar -C "$CTX" -cf - . | "$tool" >"$BATS_TEST_TMPDIR/ctx.$ext"
    run_berth build -t "f-${ext//./-}" "$BATS_TEST_TMPDIR/ctx.$ext"
    assert_success
    built_marker "f-${ext//./-}" tarred
    berth_stdin "$BATS_TEST_TMPDIR/ctx.$ext" build -t "s-${ext//./-}" -
    assert_success
    built_marker "s-${ext//./-}" tarred
  done
}

@test "build context: Dockerfile on stdin, with a directory context (-f -) and alone (build -)" {
  echo dir-ctx >"$CTX/marker"
  printf 'FROM busybox\nCOPY marker /marker\n' >"$BATS_TEST_TMPDIR/df"
  berth_stdin "$BATS_TEST_TMPDIR/df" build -t fdash -f - "$CTX"
  assert_success
  built_marker fdash dir-ctx
  printf 'FROM busybox\nRUN echo alone > /marker\n' >"$BATS_TEST_TMPDIR/df2"
  berth_stdin "$BATS_TEST_TMPDIR/df2" build -t dash -
  assert_success
  built_marker dash alone
  # with no context, COPY has nothing to copy
  berth_stdin "$BATS_TEST_TMPDIR/df" build -t dash2 -
  assert_failure
}

@test "build context: -f outside the context" {
  echo outside-df >"$CTX/marker"
  mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
  printf 'FROM busybox\nCOPY marker /marker\n' >"$BATS_TEST_TMPDIR/elsewhere/my.Dockerfile"
  run_berth build -t out -f "$BATS_TEST_TMPDIR/elsewhere/my.Dockerfile" "$CTX"
  assert_success
  built_marker out outside-df
  # relative to the current directory, as the docker CLI
  cd "$BATS_TEST_TMPDIR"
  run_berth build -t out2 -f elsewhere/my.Dockerfile ctx
  assert_success
  built_marker out2 outside-df
}

@test "build context: <Dockerfile>.dockerignore takes precedence over .dockerignore" {
  echo a >"$CTX/a"
  echo b >"$CTX/b"
  echo c >"$CTX/c"
  mkdir -p "$CTX/df"
  printf 'FROM busybox\nCOPY . /c/\nRUN ls -A /c > /marker\n' >"$CTX/df/build.Dockerfile"
  echo a >"$CTX/.dockerignore"
  printf 'b\ndf\n' >"$CTX/df/build.Dockerfile.dockerignore"
  run_berth build -t ign -f "$CTX/df/build.Dockerfile" "$CTX"
  assert_success
  # only the Dockerfile's own ignore file applies: a is in, b and df are out
  built_marker ign $'.dockerignore\na\nc'
  # without it, .dockerignore applies
  rm "$CTX/df/build.Dockerfile.dockerignore"
  run_berth build -t ign2 -f "$CTX/df/build.Dockerfile" "$CTX"
  assert_success
  built_marker ign2 $'.dockerignore\nb\nc\ndf'
}

@test "build context: errors — missing context, missing Dockerfile, 404 URL — leave nothing" {
  run_berth build -t e1 "$BATS_TEST_TMPDIR/nope"
  assert_failure
  assert_output_contains "unable to prepare context"
  assert_output_contains "nope"
  nothing_left
  run_berth build -t e2 "$CTX"
  assert_failure
  assert_output_contains "Dockerfile"
  nothing_left
  run_berth build -t e3 -f "$BATS_TEST_TMPDIR/none.Dockerfile" "$CTX"
  assert_failure
  nothing_left
  if [[ -n $HTTP_PORT ]]; then
    run_berth build -t e4 "http://127.0.0.1:$HTTP_PORT/missing.tar.gz"
    assert_failure
    assert_output_contains "404"
    nothing_left
  fi
  if [[ -n $GIT_PORT ]]; then
    run_berth build -t e5 "git://127.0.0.1:$GIT_PORT/nosuch.git"
    assert_failure
    nothing_left
    run_berth build -t e6 "git://127.0.0.1:$GIT_PORT/repo.git#nosuchbranch"
    assert_failure
    nothing_left
  fi
  # a corrupt archive
  head -c 100 /dev/urandom >"$BATS_TEST_TMPDIR/bad.tar.gz"
  run_berth build -t e7 "$BATS_TEST_TMPDIR/bad.tar.gz"
  assert_failure
  nothing_left
}
