#!/usr/bin/env bats
# berth build: the seed's examples, every instruction, the cache, output and failures — each
# expectation taken from Docker's legacy builder (DOCKER_BUILDKIT=0 docker build, 20.10) run on
# the same Dockerfiles.

load helpers

setup() {
  berth_setup
  load_busybox
  CTX=$BATS_TEST_TMPDIR/ctx
  mkdir -p "$CTX"
}

# df TEXT: write $CTX/Dockerfile
df() { printf '%s\n' "$@" >"$CTX/Dockerfile"; }

@test "build: the seed's hello example (lowercase from, COPY, RUN cat), Docker's output" {
  echo hello >"$CTX/hello.txt"
  df 'from busybox' 'COPY hello.txt /' 'RUN cat hello.txt'
  run_berth build -t hello:v1 "$CTX"
  assert_success
  assert_output_contains "Sending build context to Docker daemon"
  assert_line -n 1 "Step 1/3 : from busybox"
  assert_output_contains "Step 2/3 : COPY hello.txt /"
  assert_output_contains "Step 3/3 : RUN cat hello.txt"
  assert_output_matches " ---> Running in [0-9a-f]{12}"
  assert_output_matches "Removing intermediate container [0-9a-f]{12}"
  assert_line "hello"
  assert_output_matches "Successfully built [0-9a-f]{12}"
  assert_output_contains "Successfully tagged hello:v1"
  run_berth run --rm hello:v1 cat /hello.txt
  assert_success
  assert_output "hello"
  # no intermediate container is left
  run_berth ps -aq
  assert_output ""
}

@test "build: -f with another context, --no-cache, and the cache across invocations" {
  mkdir -p "$BATS_TEST_TMPDIR/dockerfiles" "$CTX/context"
  echo data >"$CTX/context/f.txt"
  printf 'FROM busybox\nCOPY f.txt /f.txt\nRUN cat /f.txt > /g.txt\n' \
    >"$BATS_TEST_TMPDIR/dockerfiles/Dockerfile"
  cd "$BATS_TEST_TMPDIR"
  run_berth build -f dockerfiles/Dockerfile -t t1 "$CTX/context"
  assert_success
  refute_output_contains "Using cache"
  run_berth build -f dockerfiles/Dockerfile -t t1 "$CTX/context"
  assert_success
  assert_output_contains " ---> Using cache"
  refute_output_contains "Running in"
  run_berth build --no-cache -f dockerfiles/Dockerfile -t t1 "$CTX/context"
  assert_success
  refute_output_contains "Using cache"
  assert_output_contains "Running in"
  run_berth run --rm t1 cat /g.txt
  assert_output "data"
}

@test "build: a changed source re-runs exactly the steps from the first that uses it" {
  echo a >"$CTX/a.txt"
  echo b >"$CTX/b.txt"
  df 'FROM busybox' 'RUN echo one > /one' 'COPY a.txt /' 'RUN echo two > /two' 'COPY b.txt /' \
    'RUN cat /a.txt /b.txt > /ab'
  run_berth build -t c "$CTX"
  assert_success
  echo B >"$CTX/b.txt"
  run_berth build -t c "$CTX"
  assert_success
  # steps 2..4 cached, 5 and 6 re-run
  [[ $(grep -c "Using cache" <<<"$output") -eq 3 ]] || fail "expected 3 cache hits"
  run_berth run --rm c cat /ab
  assert_output $'a\nB'
  # touching a file (mtime only) keeps the cache
  touch -d '2001-01-01' "$CTX/a.txt"
  run_berth build -t c "$CTX"
  [[ $(grep -c "Using cache" <<<"$output") -eq 5 ]] || fail "mtime must not bust the cache"
  # mode change busts it
  chmod 600 "$CTX/a.txt"
  run_berth build -t c "$CTX"
  [[ $(grep -c "Using cache" <<<"$output") -eq 1 ]] || fail "mode must bust the cache"
}

@test "build: --build-arg, ARG defaults, ARG per stage, ARG before FROM, unused warning" {
  df 'ARG BASE=busybox' 'FROM $BASE AS one' 'ARG USER=nobody' 'RUN echo "user=$USER" > /u' \
    'FROM ${BASE}' 'ARG USER' 'ARG BASE' 'COPY --from=one /u /u' 'RUN echo "again=$USER base=$BASE" >> /u'
  run_berth build -t args "$CTX"
  assert_success
  run_berth run --rm args cat /u
  assert_output $'user=nobody\nagain= base=busybox'
  run_berth build --build-arg USER=alice --build-arg UNUSED=1 -t args "$CTX"
  assert_success
  assert_output_contains "[Warning] One or more build-args [UNUSED] were not consumed"
  run_berth run --rm args cat /u
  assert_output $'user=alice\nagain=alice base=busybox'
  # the RUN's history records the args in scope
  run_berth history --no-trunc --format '{{.CreatedBy}}' args
  assert_output_contains "|2 BASE=busybox USER=alice /bin/sh -c echo \"again=\$USER base=\$BASE\" >> /u"
  # ARG values are not in the image's environment
  run_berth image inspect -f '{{json .Config.Env}}' args
  refute_output_contains "USER"
}

@test "build: ENV, LABEL, EXPOSE, CMD, ENTRYPOINT, USER, WORKDIR, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, MAINTAINER" {
  df 'FROM busybox' 'MAINTAINER Jane <j@example.com>' 'ENV A=1 B="two words"' 'ENV C 3' \
    'ENV D=$A-$C' 'LABEL x=y "with space"="v w"' 'EXPOSE 80 53/udp 8000-8001' \
    'WORKDIR /app' 'WORKDIR sub' 'USER 1000:1000' 'VOLUME ["/data"]' 'VOLUME /v1 /v2' \
    'STOPSIGNAL SIGQUIT' 'HEALTHCHECK --interval=5s --retries=2 CMD true' \
    'SHELL ["/bin/sh", "-ec"]' 'ENTRYPOINT ["/bin/echo"]' 'CMD hi'
  run_berth build -t meta "$CTX"
  assert_success
  run_berth image inspect -f '{{json .Config.Env}}|{{json .Config.Labels}}|{{.Config.WorkingDir}}|{{.Config.User}}|{{.Config.StopSignal}}|{{.Author}}' meta
  assert_output_contains '"A=1","B=two words","C=3","D=1-3"'
  assert_output_contains '"with space":"v w"'
  assert_output_contains '"x":"y"'
  assert_output_contains "|/app/sub|1000:1000|SIGQUIT|Jane <j@example.com>"
  run_berth image inspect -f '{{json .Config.ExposedPorts}}{{json .Config.Volumes}}' meta
  assert_output_contains '"53/udp":{}'
  assert_output_contains '"80/tcp":{}'
  assert_output_contains '"8001/tcp":{}'
  assert_output_contains '"/data":{}'
  assert_output_contains '"/v2":{}'
  run_berth image inspect -f '{{json .Config.Healthcheck}}|{{json .Config.Shell}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}' meta
  assert_output_contains '"Test":["CMD-SHELL","true"]'
  assert_output_contains '"Interval":5000000000'
  assert_output_contains '"Retries":2'
  assert_output_contains '["/bin/sh","-ec"]|["/bin/echo"]|["/bin/sh","-ec","hi"]'
  run_berth run --rm --user 0 meta
  assert_success
  assert_output "/bin/sh -ec hi"
  # metadata steps are empty layers in the history; WORKDIR made one
  run_berth history --format '{{.CreatedBy}}|{{.Size}}' --no-trunc meta
  assert_output_contains '/bin/sh -c #(nop)  ENV A=1 B=two words|0B'
  assert_output_contains '/bin/sh -c #(nop) WORKDIR /app|'
}

@test "build: ENTRYPOINT resets an inherited CMD, not one of the same stage" {
  df 'FROM busybox' 'ENTRYPOINT ["echo"]'
  run_berth build -t ep1 "$CTX"
  assert_success
  run_berth image inspect -f '{{json .Config.Cmd}}' ep1
  assert_output "null"
  df 'FROM busybox' 'CMD ["x"]' 'ENTRYPOINT ["echo"]'
  run_berth build -t ep2 "$CTX"
  run_berth image inspect -f '{{json .Config.Cmd}}' ep2
  assert_output '["x"]'
}

@test "build: a failing RUN prints Docker's message, exits 1, leaves tags alone" {
  df 'FROM busybox' 'RUN echo ok > /ok'
  run_berth build -t keep:v1 "$CTX"
  assert_success
  run_berth image inspect -f '{{.Id}}' keep:v1
  old=$output
  df 'FROM busybox' 'RUN echo out; false'
  run_berth build -t keep:v1 "$CTX"
  assert_failure 1
  assert_output_contains "out"
  assert_output_contains "The command '/bin/sh -c echo out; false' returned a non-zero code: 1"
  refute_output_contains "Successfully"
  run_berth image inspect -f '{{.Id}}' keep:v1
  assert_output "$old"
  df 'FROM busybox' 'RUN ["sh", "-c", "exit 3"]'
  run_berth build "$CTX"
  assert_failure 1
  assert_output_contains "The command 'sh -c exit 3' returned a non-zero code: 3"
  # Docker keeps the failed intermediate container unless --force-rm
  run_berth ps -aq
  [[ -n $output ]] || fail "the failed container should be kept"
  berth rm -f $(berth ps -aq) >/dev/null
  run_berth build --force-rm "$CTX"
  assert_failure 1
  run_berth ps -aq
  assert_output ""
}

@test "build: bad Dockerfiles: unknown instruction, bad JSON, no FROM, unterminated heredoc, COPY ../x" {
  df 'FROM busybox' 'FOO bar'
  run_berth build -t bad "$CTX"
  assert_failure
  assert_output_contains "Dockerfile:2"
  assert_output_contains "unknown instruction: FOO"
  df 'RUN true'
  run_berth build -t bad "$CTX"
  assert_failure
  assert_output_contains "no build stage in current context"
  df 'FROM busybox' 'RUN <<EOF' 'echo hi'
  run_berth build -t bad "$CTX"
  assert_failure
  assert_output_contains "Dockerfile"
  df 'FROM busybox' 'COPY ../x /'
  run_berth build -t bad "$CTX"
  assert_failure
  assert_output_contains "Dockerfile:2"
  df 'FROM busybox' 'COPY nothere /'
  run_berth build -t bad "$CTX"
  assert_failure
  assert_output_contains "nothere"
  df 'FROM busybox' 'HEALTHCHECK --interval=nope CMD true'
  run_berth build -t bad "$CTX"
  assert_failure
  df 'FROM busybox' 'RUN --bogus=1 true'
  run_berth build -t bad "$CTX"
  assert_failure
  assert_output_contains "unknown flag: --bogus"
  df 'FROM nosuchimage:1'
  run_berth build -t bad "$CTX"
  assert_failure
  assert_output_contains "nosuchimage"
  run_berth images -q bad
  assert_output ""
  run_berth ps -aq
  assert_output ""
}

@test "build: multi-stage, --target, COPY --from stage and image, unused stages skipped" {
  df 'FROM busybox AS base' 'RUN echo base > /base' \
    'FROM busybox AS unused' 'RUN echo should-not-run; exit 9' \
    'FROM base AS mid' 'RUN echo mid > /mid' \
    'FROM busybox' 'COPY --from=mid /base /mid /out/' 'COPY --from=0 /base /zero' \
    'COPY --from=busybox:latest /bin/busybox /bb'
  run_berth build -t ms "$CTX"
  assert_success
  refute_output_contains "should-not-run"
  run_berth run --rm ms sh -c 'cat /out/base /out/mid /zero; test -x /bb && echo bb'
  assert_output $'base\nmid\nbase\nbb'
  run_berth build --target mid -t ms-mid "$CTX"
  assert_success
  run_berth run --rm ms-mid cat /mid
  assert_output "mid"
  run_berth build --target nope "$CTX"
  assert_failure
  assert_output_contains "failed to reach build target nope"
}

@test "build: ONBUILD template and derived image: triggers before the derived RUN, then cleared" {
  echo trig >"$CTX/o.txt"
  df 'FROM busybox' 'ONBUILD COPY o.txt /o.txt' 'ONBUILD RUN echo trigger-ran > /t'
  run_berth build -t tmpl "$CTX"
  assert_success
  run_berth image inspect -f '{{json .Config.OnBuild}}' tmpl
  assert_output '["COPY o.txt /o.txt","RUN echo trigger-ran > /t"]'
  df 'FROM tmpl' 'RUN cat /o.txt /t'
  run_berth build -t derived "$CTX"
  assert_success
  assert_output_contains "# Executing 2 build triggers"
  assert_output_contains $'trig\ntrigger-ran'
  run_berth image inspect -f '{{json .Config.OnBuild}}' derived
  assert_output "null"
}

@test "build: COPY rules: directories, wildcards, trailing slash, --chown, --chmod, .dockerignore" {
  mkdir -p "$CTX/dir/sub" "$CTX/skip"
  echo 1 >"$CTX/dir/one.txt"
  echo 2 >"$CTX/dir/sub/two.txt"
  echo a >"$CTX/a.go"
  echo b >"$CTX/b.go"
  echo s >"$CTX/skip/s"
  echo secret >"$CTX/secret.key"
  printf 'skip\n*.key\n' >"$CTX/.dockerignore"
  df 'FROM busybox' 'COPY dir /d' 'COPY *.go /go/' 'COPY dir/one.txt /file' \
    'COPY --chown=1234:5678 --chmod=640 a.go /owned' 'COPY . /all/'
  run_berth build -t cp "$CTX"
  assert_success
  run_berth run --rm cp sh -c 'cat /d/one.txt /d/sub/two.txt /go/a.go /go/b.go /file; stat -c "%u:%g %a" /owned; ls /all; ls -a /all | grep -c secret || true'
  assert_output_contains $'1\n2\na\nb\n1\n1234:5678 640'
  refute_output_contains "skip"
  assert_line "0"
  df 'FROM busybox' 'COPY a.go b.go /notadir'
  run_berth build "$CTX"
  assert_failure
  assert_output_contains "When using COPY with more than one source file, the destination must be a directory and end with a /"
}

@test "build: COPY copies a symlink to /etc/passwd as a link, never the host file" {
  ln -s /etc/passwd "$CTX/link"
  df 'FROM busybox' 'COPY link /copied'
  run_berth build -t lnk "$CTX"
  assert_success
  run_berth run --rm lnk readlink /copied
  assert_output "/etc/passwd"
}

@test "build: heredocs in RUN and COPY, SHELL, exec form" {
  df 'FROM busybox' 'ENV NAME=world' 'RUN <<EOF' 'echo "script $NAME" > /s' 'EOF' \
    'COPY <<EOT /greeting' 'hello $NAME' 'EOT' "COPY <<'EOT' /raw" 'raw $NAME' 'EOT' \
    'RUN cat > /c <<EOF' 'cat $NAME' 'EOF' 'RUN ["sh", "-c", "echo exec > /e"]'
  run_berth build -t hd "$CTX"
  assert_success
  run_berth run --rm hd cat /s /greeting /raw /c /e
  assert_output $'script world\nhello world\nraw $NAME\ncat world\nexec'
}

@test "build: RUN --mount=type=cache persists, type=tmpfs, type=bind from a stage, --network=none" {
  df 'FROM busybox AS src' 'RUN echo from-stage > /f' \
    'FROM busybox' 'RUN --mount=type=cache,target=/cache echo x >> /cache/log; wc -l < /cache/log > /count' \
    'RUN --mount=type=tmpfs,target=/scratch touch /scratch/t && ls /scratch > /tmpfs-seen' \
    'RUN --mount=type=bind,from=src,target=/s cat /s/f > /bound' \
    'RUN --network=none cat /proc/net/dev | grep -c : > /ifs'
  run_berth build -t mnt "$CTX"
  assert_success
  run_berth run --rm mnt sh -c 'cat /count /tmpfs-seen /bound /ifs; ls /cache /scratch /s 2>&1 | grep -c "No such"'
  assert_output $'1\nt\nfrom-stage\n1\n3'
  run_berth build --no-cache -t mnt "$CTX"
  assert_success
  run_berth run --rm mnt cat /count
  assert_output "2"
}

@test "build: RUN --mount=type=secret is readable in the step and stored nowhere" {
  echo TOPSECRET >"$BATS_TEST_TMPDIR/s.txt"
  df 'FROM busybox' 'RUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c > /len'
  run_berth build --secret id=tok,src="$BATS_TEST_TMPDIR/s.txt" -t sec "$CTX"
  assert_success
  run_berth run --rm sec sh -c 'cat /len; ls /run/secrets 2>&1'
  assert_line -n 0 "10"
  run_berth save -o "$BATS_TEST_TMPDIR/sec.tar" sec
  assert_success
  ! grep -a -q TOPSECRET "$BATS_TEST_TMPDIR/sec.tar" || fail "the secret is in the image"
  run_berth history --no-trunc sec
  refute_output_contains TOPSECRET
}

@test "build: -q, --iidfile, --label, several -t, Dockerfile on stdin" {
  df 'FROM busybox' 'RUN true'
  run_berth build -q --iidfile "$BATS_TEST_TMPDIR/iid" --label a=b -t one -t two:x "$CTX"
  assert_success
  assert_output_matches '^sha256:[0-9a-f]{64}$'
  [[ $(cat "$BATS_TEST_TMPDIR/iid") == "$output" ]] || fail "iidfile differs"
  id=$output
  run_berth image inspect -f '{{.Id}} {{.Config.Labels.a}}' one two:x
  assert_output $"$id b"$'\n'"$id b"
  run bash -c "printf 'FROM busybox\nRUN echo from-stdin > /x\n' | $BERTH --root $TEST_ROOT --runroot $TEST_RUNROOT build -t stdin -"
  [[ $status -eq 0 ]] || fail "$output"
  run_berth run --rm stdin cat /x
  assert_output "from-stdin"
}

@test "build: a tar context on stdin and as a file (gzip)" {
  echo tarred >"$CTX/t.txt"
  df 'FROM busybox' 'COPY t.txt /t.txt'
  tar -C "$CTX" -czf "$BATS_TEST_TMPDIR/ctx.tgz" .
  run_berth build -t tarctx "$BATS_TEST_TMPDIR/ctx.tgz"
  assert_success
  run_berth run --rm tarctx cat /t.txt
  assert_output "tarred"
  run bash -c "$BERTH --root $TEST_ROOT --runroot $TEST_RUNROOT build -t tarctx2 - < $BATS_TEST_TMPDIR/ctx.tgz"
  [[ $status -eq 0 ]] || fail "$output"
  run_berth run --rm tarctx2 cat /t.txt
  assert_output "tarred"
}

@test "build: SOURCE_DATE_EPOCH gives the same image ID for the same inputs" {
  echo x >"$CTX/x"
  df 'FROM busybox' 'COPY x /x' 'RUN echo fixed > /y' 'ENV Z=1'
  run_berth build --no-cache --build-arg SOURCE_DATE_EPOCH=1700000000 -q "$CTX"
  assert_success
  first=$output
  run_berth build --no-cache --build-arg SOURCE_DATE_EPOCH=1700000000 -q "$CTX"
  assert_success
  assert_output "$first"
  run_berth image inspect -f '{{.Created}}' "$first"
  assert_output_contains "2023-11-14T22:13:20"
}

@test "build: the built image saves as a valid archive and loads into a fresh store" {
  echo v >"$CTX/v"
  df 'FROM busybox' 'COPY v /v' 'RUN rm /bin/true && echo gone > /g'
  run_berth build -t valid "$CTX"
  assert_success
  run_berth save -o "$BATS_TEST_TMPDIR/v.tar" valid
  assert_success
  "$BERTH" --root "$BATS_TEST_TMPDIR/r2" --runroot "$TEST_RUNROOT/r2" load -i "$BATS_TEST_TMPDIR/v.tar"
  run "$BERTH" --root "$BATS_TEST_TMPDIR/r2" --runroot "$TEST_RUNROOT/r2" run --rm --network none valid sh -c 'cat /v /g; ls /bin/true 2>&1; true'
  [[ $status -eq 0 ]] || fail "$output"
  [[ $output == *v*gone*"No such file"* ]] || fail "$output"
  rm -rf "$BATS_TEST_TMPDIR/r2"
}

@test "build: RUN leaves no mount stubs and no /etc/hosts in the layer" {
  df 'FROM busybox' 'RUN echo changed > /tmp/c'
  run_berth build -t stubs "$CTX"
  assert_success
  run_berth save -o "$BATS_TEST_TMPDIR/s.tar" stubs
  mkdir "$BATS_TEST_TMPDIR/x"
  tar -C "$BATS_TEST_TMPDIR/x" -xf "$BATS_TEST_TMPDIR/s.tar"
  last=$(python3 -c "import json;print(json.load(open('$BATS_TEST_TMPDIR/x/manifest.json'))[0]['Layers'][-1])")
  run tar -tf "$BATS_TEST_TMPDIR/x/$last"
  echo "$output"
  assert_output_contains "tmp/c"
  refute_output_contains "etc/hosts"
  refute_output_contains "resolv.conf"
  refute_output_contains "proc"
}

@test "build: intermediate images are hidden from images, shown by images -a; builder prune" {
  df 'FROM busybox' 'ENV A=1' 'RUN echo > /x'
  run_berth build -t inter "$CTX"
  assert_success
  run_berth images -q
  [[ $(wc -l <<<"$output") -eq 2 ]] || fail "images should show busybox and inter only"
  run_berth images -aq
  [[ $(wc -l <<<"$output") -ge 3 ]] || fail "images -a should show intermediate images"
  run_berth system df
  assert_output_contains "Build Cache"
  run_berth system df -v
  assert_output_contains "Build cache usage:"
  assert_output_matches "CACHE ID +CACHE TYPE +SIZE +CREATED +LAST USED +USAGE +SHARED"
  assert_output_matches "[0-9a-f]{12} +regular "
  run_berth rmi inter
  assert_success
  run_berth builder prune -f
  assert_success
  run_berth images -aq
  [[ $(wc -l <<<"$output") -eq 1 ]] || fail "only busybox should be left"
}

@test "build: --progress tty shows a live view (framed RUN output, step times); plain has no escapes" {
  require_tool script
  df 'FROM busybox' 'RUN echo to-out; echo to-err >&2'
  run script -qec "$BERTH --root $TEST_ROOT --runroot $TEST_RUNROOT build --progress tty -t live $CTX" /dev/null
  [[ $status -eq 0 ]] || fail "$output"
  [[ $output == *$'│\e[0m to-out'* ]] || fail "no framed stdout: $output"
  [[ $output == *$'\e[31mto-err'* ]] || fail "no red stderr: $output"
  [[ $output =~ \(0\.[0-9][0-9]s\) ]] || fail "no step time: $output"
  run_berth build --no-cache --progress plain -t live "$CTX"
  assert_success
  assert_line "to-out"
  [[ $output != *$'\e['* ]] || fail "escape sequences in plain output"
  run_berth build --progress fancy "$CTX"
  assert_failure
}

@test "build: BuildKit's platform args (FROM --platform=\$BUILDPLATFORM, ARG TARGETARCH), --platform" {
  df 'FROM --platform=$BUILDPLATFORM busybox AS b' 'ARG TARGETARCH' 'ARG TARGETPLATFORM' \
    'RUN echo "$TARGETPLATFORM $TARGETARCH" > /p'
  run_berth build -t plat "$CTX"
  assert_success
  run_berth run --rm plat cat /p
  assert_output_matches '^linux/[a-z0-9]+ [a-z0-9]+$'
  arch=$(uname -m)
  [[ $arch == x86_64 ]] && arch=amd64
  [[ $arch == aarch64 ]] && arch=arm64
  run_berth build --platform "linux/$arch" -t plat "$CTX"
  assert_success
  run_berth build --platform linux/s390x-nope "$CTX"
  assert_failure
  assert_output_contains "only the native platform"
}

@test "build: SIGINT cancels a running RUN: failure, no tag, no container, no mount left" {
  df 'FROM busybox' 'RUN sleep 30'
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" build -t canceled "$CTX" \
    >"$BATS_TEST_TMPDIR/out" 2>&1 &
  pid=$!
  wait_until 20 grep -q "Running in" "$BATS_TEST_TMPDIR/out"
  kill -INT "$pid"
  rc=0
  wait "$pid" || rc=$?
  cat "$BATS_TEST_TMPDIR/out"
  [[ $rc -ne 0 ]] || fail "a canceled build must fail"
  grep -q "canceled" "$BATS_TEST_TMPDIR/out" || fail "no cancel message"
  run_berth images -q canceled
  assert_output ""
  run_berth ps -aq
  assert_output ""
  [[ -z $(_leaked_mounts) ]] || fail "mounts left: $(_leaked_mounts)"
}

@test "build: the cache key holds HEALTHCHECK options, bound context files, --from images; identical steps in two stages share" {
  df 'FROM busybox' 'HEALTHCHECK --interval=5s CMD true'
  run_berth build -t hc "$CTX"
  df 'FROM busybox' 'HEALTHCHECK --interval=30s --retries=7 CMD true'
  run_berth build -t hc "$CTX"
  refute_output_contains "Using cache"
  run_berth image inspect -f '{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}' hc
  assert_output "30000000000 7"
  echo one >"$CTX/data.txt"
  df 'FROM busybox' 'RUN --mount=type=bind,source=data.txt,target=/d cat /d > /copy'
  run_berth build -t bindkey "$CTX"
  echo two >"$CTX/data.txt"
  run_berth build -t bindkey "$CTX"
  refute_output_contains "Using cache"
  run_berth run --rm bindkey cat /copy
  assert_output "two"
  df 'FROM busybox AS a' 'RUN echo same > /s' 'FROM busybox AS b' 'RUN echo same > /s' \
    'FROM busybox' 'COPY --from=a /s /a' 'COPY --from=b /s /b'
  run_berth build -t shared "$CTX"
  assert_success
  [[ $(grep -c "Running in" <<<"$output") -eq 1 ]] || fail "the second stage should reuse the first's RUN"
}

@test "build: COPY --link --chown by name, and Docker's history text for COPY (file:, dir:, multi:, --chown)" {
  mkdir -p "$CTX/d"
  echo x >"$CTX/d/x"
  echo y >"$CTX/y"
  df 'FROM busybox' 'COPY --link --chown=nobody:nogroup y /linked' 'COPY d /dd' 'COPY y d /multi/' \
    'COPY --chown=5:6 y /owned'
  run_berth build -t hist "$CTX"
  assert_success
  run_berth run --rm hist stat -c '%u:%g' /linked
  assert_output "65534:65534"
  run_berth history --no-trunc --format '{{.CreatedBy}}' hist
  assert_output_matches 'COPY --chown=nobody:nogroupfile:[0-9a-f]{64} in /linked '
  assert_output_matches 'COPY dir:[0-9a-f]{64} in /dd '
  assert_output_matches 'COPY multi:[0-9a-f]{64} in /multi/ '
  assert_output_matches 'COPY --chown=5:6file:[0-9a-f]{64} in /owned '
}
