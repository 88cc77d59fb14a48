#!/bin/bash
# bench/images.sh: time `berth images` on a store holding 1,000 images, and `berth --version`
# (the floor: process start-up), against docker and podman when they can run here.
#
#   bench/images.sh          (root; see bench/lib.sh for BERTH, BENCH_* variables)
#   BENCH_IMAGES=1000        number of images
#
# Set-up is one `load` of one archive (cached in $BENCH_CACHE): 1,000 images, each with its
# own tag, config and one-file layer.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init
BENCH_IMAGES=${BENCH_IMAGES:-1000}

# make_images_archive OUT N: N images, each with its own one-file layer (shared layers would
# measure a corner case: podman 4.3 takes minutes to list 1,000 images on one layer).
# Written fast: one tar per layer, no jq per image.
make_images_archive() {
  local out=$1 n=$2 g=$BENCH_WORK/gen-images
  local a=$g/archive i hex name
  mkdir -p "$g/src" "$g/layers" "$g/cfg" "$a/blobs/sha256"
  bench_note "generating $out ($n images)"
  for ((i = 0; i < n; i++)); do
    printf 'berth images benchmark, image %d\n' "$i" >"$g/src/bench.txt"
    tar --create --file="$g/layers/$i" --mtime="@$LA_EPOCH" --owner=0 --group=0 \
      --numeric-owner --format=posix \
      --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
      -C "$g/src" bench.txt
  done
  local -a lhex=()
  while read -r hex name; do
    lhex[name]=$hex
    mv "$g/layers/$name" "$a/blobs/sha256/$hex"
  done < <(cd "$g/layers" && sha256sum -- *)

  for ((i = 0; i < n; i++)); do
    printf '{"architecture":"amd64","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bench"],"Labels":{"berth.bench.index":"%d"}},"created":"%s","history":[{"created":"%s","created_by":"bench layer %d"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
      "$i" "$LA_CREATED" "$LA_CREATED" "$i" "${lhex[i]}" >"$g/cfg/$i"
  done

  local first=1
  {
    printf '['
    while read -r hex name; do
      mv "$g/cfg/$name" "$a/blobs/sha256/$hex"
      [[ $first == 1 ]] || printf ','
      first=0
      printf '{"Config":"blobs/sha256/%s","RepoTags":["berth-bench/img%04d:latest"],"Layers":["blobs/sha256/%s"]}' \
        "$hex" "$name" "${lhex[name]}"
    done < <(cd "$g/cfg" && sha256sum -- * | sort -k2,2n)
    printf ']'
  } >"$a/manifest.json"
  la_tar_dir "$a" "$out.partial" --owner=0 --group=0 --mode=u=rwX,go=rX
  mv -f "$out.partial" "$out"
  rm -rf "$g"
}

ARCHIVE=$BENCH_CACHE/images-$BENCH_IMAGES.tar
KEY=$(sed -n '/^make_images_archive()/,/^}/p' "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
if [[ ! -f $ARCHIVE || $(cat "$ARCHIVE.key" 2>/dev/null) != "$KEY" ]]; then
  make_images_archive "$ARCHIVE" "$BENCH_IMAGES"
  echo "$KEY" >"$ARCHIVE.key"
fi

bench_start_peers

ROOT=$BENCH_WORK/berth-root
RUNROOT=$BENCH_WORK/berth-run
BERTH_CMD=("$BERTH" --root "$ROOT" --runroot "$RUNROOT")

# Set-up, not measured: load the same archive everywhere and check the count.
count_images() {
  local n
  n=$("$@" images -q --no-trunc 2>/dev/null | sort -u | wc -l)
  echo "$n"
}
SECONDS=0
"${BERTH_CMD[@]}" load -i "$ARCHIVE" >/dev/null
bench_note "berth: loaded $ARCHIVE in ${SECONDS}s; $(count_images "${BERTH_CMD[@]}") image ids"
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  SECONDS=0
  if "${DOCKER[@]}" load -i "$ARCHIVE" >/dev/null; then
    bench_note "docker: loaded in ${SECONDS}s; $(count_images "${DOCKER[@]}") image ids"
  else
    DOCKER=()
    bench_skip docker "docker load of the 1,000-image archive failed"
  fi
fi
if [[ ${#PODMAN[@]} -gt 0 ]]; then
  SECONDS=0
  if "${PODMAN[@]}" load -i "$ARCHIVE" >/dev/null; then
    bench_note "podman: loaded in ${SECONDS}s; $(count_images "${PODMAN[@]}") image ids"
  else
    PODMAN=()
    bench_skip podman "podman load of the 1,000-image archive failed"
  fi
fi

images_cmds=("$(bench_quote "${BERTH_CMD[@]}" images)")
version_cmds=("$(bench_quote "$BERTH" --version)")
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  images_cmds+=("$(bench_quote "${DOCKER[@]}" images)")
  version_cmds+=("$(bench_quote docker --version)")
fi
if [[ ${#PODMAN[@]} -gt 0 ]]; then
  images_cmds+=("$(bench_quote "${PODMAN[@]}" images)")
  version_cmds+=("$(bench_quote podman --version)")
fi

# -N: no intermediate shell, these are plain argv and some take a few milliseconds.
bench_hyperfine images "images: listing $BENCH_IMAGES images" -N --warmup 3 --min-runs 5 \
  "${images_cmds[@]}"
bench_hyperfine version "--version: process start-up" -N --warmup 5 "${version_cmds[@]}"
