# shellcheck shell=bash
# bench/reglib.bash: loopback registries for bench/pull.sh and bench/push.sh (sourced after lib.sh).
#
#   bench_reg_start NAME     docker-registry on 127.0.0.1:<free port>, storage under
#                            $BENCH_WORK/NAME; sets REG_<NAME> (host:port) and REGDATA_<NAME>.
#   bench_reg_image REG REF  the 300 MB, 4-layer image (bench/mkregimage, cached in
#                            $BENCH_CACHE) pushed with skopeo to REG/REF (gzip layers).
# Registries are killed by bench_reg_cleanup, chained into lib.sh's EXIT trap.
# docker treats 127.0.0.0/8 as an insecure registry by default (plain HTTP), as berth does; podman
# and skopeo are given --tls-verify=false.

BENCH_REG_PIDS=()

bench_reg_cleanup() {
  local p
  for p in "${BENCH_REG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BENCH_REG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

bench_reg_start() {
  local name=$1 port dir=$BENCH_WORK/registry-$1 _
  command -v docker-registry >/dev/null || bench_die "docker-registry is not installed (apt-get install docker-registry)"
  mkdir -p "$dir/data"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$dir/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YML
  docker-registry serve "$dir/config.yml" </dev/null >"$dir/registry.log" 2>&1 &
  BENCH_REG_PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break
    sleep 0.05
  done
  curl -sf -o /dev/null "http://127.0.0.1:$port/v2/" || bench_die "docker-registry did not start: $(cat "$dir/registry.log")"
  printf -v "REG_$name" '%s' "127.0.0.1:$port"
  printf -v "REGDATA_$name" '%s' "$dir/data"
}

bench_reg_image() {
  local reg=$1 ref=$2 archive=$BENCH_CACHE/reg-300m-4layers.tar key
  key=$(sha256sum <"$BENCH_DIR/mkregimage" | cut -c1-16)
  if [[ ! -f $archive || $(cat "$archive.key" 2>/dev/null) != "$key" ]]; then
    bench_note "generating $archive (300 MB, 4 layers)"
    BENCH_TMPDIR=$BENCH_TMPDIR "$BENCH_DIR/mkregimage" "$archive"
    echo "$key" >"$archive.key"
  fi
  bench_note "pushing the image to $reg/$ref with skopeo"
  skopeo copy -q --dest-tls-verify=false "docker-archive:$archive" "docker://$reg/$ref" >&2
}
