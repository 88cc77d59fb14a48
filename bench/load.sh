#!/bin/bash
# bench/load.sh: time `berth load -i` of a 300 MB, 4-layer docker-archive into a fresh store,
# against `docker load` and `podman load` when they can run here.
#
#   bench/load.sh            (root; see bench/lib.sh for BERTH, BENCH_* variables)
#   BENCH_RUNS=5             runs per command (default 5; each run loads 300 MB)
#
# The archive (generated once, cached in $BENCH_CACHE): two layers of 150 MB pseudo-random
# data (incompressible), one layer of text files (~4 MB), one layer of 3,000 small files.
# Every run starts from an empty store: --prepare wipes berth's --root/--runroot, and removes
# the image (and so its layers) from docker/podman.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init
BENCH_RUNS=${BENCH_RUNS:-5}
TAG=berth-bench/load:latest

# random_bytes SEED SIZE: reproducible incompressible bytes (AES-CTR keystream when openssl is
# there, so the cached archive can be regenerated identically; /dev/urandom otherwise).
random_bytes() {
  if command -v openssl >/dev/null; then
    head -c "$2" /dev/zero |
      openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$1")" -iv "$(printf '%032d' 0)"
  else
    head -c "$2" /dev/urandom
  fi
}

make_load_archive() {
  local out=$1 g=$BENCH_WORK/gen
  mkdir -p "$g"/{l1,l2,l3,l4}
  bench_note "generating $out (300 MB, 4 layers)"

  mkdir -p "$g/l1/data" "$g/l2/data"
  random_bytes 1 $((150 * 1024 * 1024)) >"$g/l1/data/random-1.bin"
  random_bytes 2 $((150 * 1024 * 1024)) >"$g/l2/data/random-2.bin"

  # Text: 8 files of numbered prose lines, ~0.5 MB each.
  mkdir -p "$g/l3/usr/share/doc/bench"
  awk -v dir="$g/l3/usr/share/doc/bench" 'BEGIN {
    for (f = 1; f <= 8; f++) {
      file = sprintf("%s/text-%d.txt", dir, f)
      for (i = 1; i <= 8000; i++)
        printf "%06d the quick brown fox jumps over the lazy dog, file %d\n", i, f > file
      close(file)
    }
  }'

  # 3,000 small files (300 to 1,500 bytes) in 30 directories.
  local d
  for d in $(seq -f '%02g' 0 29); do mkdir -p "$g/l4/srv/files/d$d"; done
  awk -v dir="$g/l4/srv/files" 'BEGIN {
    srand(42)
    for (i = 0; i < 3000; i++) {
      file = sprintf("%s/d%02d/file-%04d.txt", dir, int(i / 100), i)
      n = 300 + int(rand() * 1200)
      s = ""
      while (length(s) < n) s = s sprintf("%d:%08x ", i, int(rand() * 4294967295))
      printf "%s\n", substr(s, 1, n) > file
      close(file)
    }
  }'

  local i
  for i in 1 2 3 4; do
    la_tar_dir "$g/l$i" "$g/layer$i.tar"
  done
  mkarchive --config-json '{"config":{"Cmd":["/bin/true"]}}' "$out.partial" "$TAG" \
    "$g"/layer{1,2,3,4}.tar
  mv -f "$out.partial" "$out"
  rm -rf "$g"
}

ARCHIVE=$BENCH_CACHE/load-300m-4layers.tar
# The generator's source is part of the cache key: change it, and the archive is rebuilt.
KEY=$(sed -n '/^make_load_archive()/,/^}/p' "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
if [[ ! -f $ARCHIVE || $(cat "$ARCHIVE.key" 2>/dev/null) != "$KEY" ]]; then
  make_load_archive "$ARCHIVE"
  echo "$KEY" >"$ARCHIVE.key"
fi
bench_note "archive: $ARCHIVE ($(du -m "$ARCHIVE" | cut -f1) MB)"

bench_start_peers

ROOT=$BENCH_WORK/berth-root
RUNROOT=$BENCH_WORK/berth-run
cmds=("$(bench_quote "$BERTH" --root "$ROOT" --runroot "$RUNROOT" load -i "$ARCHIVE")")
preps=("rm -rf $(bench_quote "$ROOT" "$RUNROOT")")
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  cmds+=("$(bench_quote "${DOCKER[@]}" load -i "$ARCHIVE")")
  preps+=("$(bench_quote "${DOCKER[@]}" rmi -f "$TAG") >/dev/null 2>&1 || true")
fi
if [[ ${#PODMAN[@]} -gt 0 ]]; then
  cmds+=("$(bench_quote "${PODMAN[@]}" load -i "$ARCHIVE")")
  preps+=("$(bench_quote "${PODMAN[@]}" rmi -f "$TAG") >/dev/null 2>&1 || true")
fi

args=(--runs "$BENCH_RUNS" --warmup 1)
for i in "${!cmds[@]}"; do
  args+=(--prepare "${preps[$i]}")
done
bench_hyperfine load "load: 300 MB, 4-layer docker-archive into an empty store" \
  "${args[@]}" "${cmds[@]}"
