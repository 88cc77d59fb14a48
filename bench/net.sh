#!/bin/bash
# bench/net.sh: networking, berth side by side with docker (and podman for start-up).
#
#   run --rm busybox true on the default bridge               (target: median <= 20 ms)
#   1 GB through a published port, host loopback -> container  (target: >= docker, aim 2x)
#   connection set-up through a published port                 (target: no worse than docker)
#   1 GB container -> container on a user network, against a raw veth pair between two network
#   namespaces                                                 (target: within 10 %)
#
# docker needs its bridge and iptables here (the other benchmarks run a dockerd without them):
# this script starts its own dockerd with a private bridge subnet, saves the host's iptables
# rules before and restores them after, so the host is left as it was.
#
# Environment as in bench/lib.sh; BENCH_NET_BYTES (default 1000000000).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init

BYTES=${BENCH_NET_BYTES:-1000000000}
FIXTURE=$BENCH_REPO/tests/fixtures/out/busybox.tar
if [[ ! -f $FIXTURE ]]; then
  "$BENCH_REPO/tests/fixtures/mkimages" "$BENCH_REPO/tests/fixtures/out" >&2
fi
TH=$BENCH_REPO/tests/fixtures/out/testhelper

ROOT=$BENCH_WORK/berth-root
RUNROOT=$(mktemp -d /tmp/berth-bench-net.XXXXXX)
CONF=$RUNROOT.json
# A bridge, subnet and table of the benchmark's own.
printf '{"bridge-name":"bbench0","bridge-subnet":"10.231.0.0/24","network-pool":"10.232.0.0/16","nft-table":"berth_bench"}\n' >"$CONF"
BERTH_CMD=("$BERTH" --config "$CONF" --root "$ROOT" --runroot "$RUNROOT")
IPT_SAVE=$BENCH_WORK/iptables.save
FWD_SAVE=$(cat /proc/sys/net/ipv4/ip_forward)
NS_A=bnetA$$
NS_B=bnetB$$

cleanup_net() {
  local ids
  ids=$("${BERTH_CMD[@]}" ps -aq 2>/dev/null) || true
  # shellcheck disable=SC2086
  [[ -z $ids ]] || "${BERTH_CMD[@]}" rm -f $ids >/dev/null 2>&1 || true
  "${BERTH_CMD[@]}" network prune -f >/dev/null 2>&1 || true
  ip link del bbench0 2>/dev/null || true
  nft delete table ip berth_bench 2>/dev/null || true
  if [[ ${#DOCKER[@]} -gt 0 ]]; then
    "${DOCKER[@]}" rm -f $("${DOCKER[@]}" ps -aq) >/dev/null 2>&1 || true
  fi
  ip netns pids "$NS_A" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns pids "$NS_B" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
  rm -rf "$RUNROOT" "$CONF"
}

restore_host() {
  if [[ -n $BENCH_DOCKERD_PID ]]; then
    kill "$BENCH_DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$BENCH_DOCKERD_PID" 2>/dev/null || break
      sleep 0.1
    done
    BENCH_DOCKERD_PID=
  fi
  ip link del bdocker0 2>/dev/null || true
  if [[ -f $IPT_SAVE ]]; then
    iptables-restore <"$IPT_SAVE"
    rm -f "$IPT_SAVE"
  fi
  echo "$FWD_SAVE" >/proc/sys/net/ipv4/ip_forward
  if [[ -n ${NF_SAVE:-} ]]; then
    echo "$NF_SAVE" >/proc/sys/net/bridge/bridge-nf-call-iptables
  fi
}
trap 'set +e; cleanup_net; restore_host; bench_cleanup' EXIT

# dockerd with its bridge (bdocker0, made here) and iptables, userland proxy on (its default).
start_docker_net() {
  command -v dockerd >/dev/null || { bench_skip docker "dockerd not installed"; return 1; }
  command -v iptables-save >/dev/null && iptables-save >"$IPT_SAVE"
  ip link add bdocker0 type bridge
  ip addr add 172.31.251.1/24 dev bdocker0
  ip link set bdocker0 up
  local d=$BENCH_WORK/docker
  mkdir -p "$d/data" "$d/exec"
  dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
    --host "unix://$d/docker.sock" --bridge bdocker0 >"$d/dockerd.log" 2>&1 &
  BENCH_DOCKERD_PID=$!
  DOCKER=(docker --host "unix://$d/docker.sock")
  for _ in $(seq 1 300); do
    "${DOCKER[@]}" info >/dev/null 2>&1 && break
    kill -0 "$BENCH_DOCKERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  if ! "${DOCKER[@]}" info >/dev/null 2>&1; then
    DOCKER=()
    bench_skip docker "dockerd did not start: $(tail -n 3 "$d/dockerd.log" | tr '\n' ' ')"
    return 1
  fi
  "${DOCKER[@]}" load -i "$FIXTURE" >/dev/null
  bench_note "docker: private dockerd $("${DOCKER[@]}" version --format '{{.Server.Version}}') with bridge bdocker0"
}

DOCKER=()
case " $BENCH_PEERS " in
  *" docker "*) start_docker_net || true ;;
esac
PODMAN_RUN=()
case " $BENCH_PEERS " in
  *" podman "*)
    if bench_start_podman && "${PODMAN[@]}" load -i "$FIXTURE" >/dev/null 2>&1; then
      PODMAN_RUN=("${PODMAN[@]}" run --runtime runc --ulimit nproc=1024:1024 --ulimit nofile=1024:1024)
      "${PODMAN_RUN[@]}" --rm busybox true >/dev/null 2>&1 || {
        PODMAN_RUN=()
        bench_skip podman "podman run on its default network fails here"
      }
    fi
    ;;
esac

"${BERTH_CMD[@]}" load -i "$FIXTURE" >/dev/null

# ---- run --rm on the default bridge ----
cmds=("$(bench_quote "${BERTH_CMD[@]}" run --rm busybox true)")
[[ ${#DOCKER[@]} -gt 0 ]] && cmds+=("$(bench_quote "${DOCKER[@]}" run --rm busybox true)")
[[ ${#PODMAN_RUN[@]} -gt 0 ]] && cmds+=("$(bench_quote "${PODMAN_RUN[@]}" --rm busybox true)")
bench_hyperfine net-run "run --rm busybox true (default bridge network)" -N --warmup 5 \
  --min-runs 30 "${cmds[@]}"

# ---- published port: throughput and connection set-up ----
# A sink that takes one connection after another.
SINK='testhelper sink-tcp 80'
PB=$((20000 + RANDOM % 10000))
PD=$((PB + 1))
PC=$((PB + 2))
PE=$((PB + 3))
"${BERTH_CMD[@]}" run -d --name sink -p "$PB:80" busybox $SINK >/dev/null
"${BERTH_CMD[@]}" run -d --name greeter -p "$PC:7000" busybox testhelper listen-tcp 7000 >/dev/null
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  "${DOCKER[@]}" run -d --name sink -p "$PD:80" busybox $SINK >/dev/null
  "${DOCKER[@]}" run -d --name greeter -p "$PE:7000" busybox testhelper listen-tcp 7000 >/dev/null
fi
sleep 1
send() { echo "head -c $BYTES /dev/zero | $TH connect-tcp 127.0.0.1 $1 >/dev/null"; }
cmds=("$(send "$PB")")
[[ ${#DOCKER[@]} -gt 0 ]] && cmds+=("$(send "$PD")")
bench_hyperfine net-port-throughput "$BYTES bytes through a published port (127.0.0.1 -> container); first berth, then docker" \
  --warmup 1 --min-runs 5 "${cmds[@]}"
cmds=("$TH connect-tcp 127.0.0.1 $PC </dev/null >/dev/null")
[[ ${#DOCKER[@]} -gt 0 ]] && cmds+=("$TH connect-tcp 127.0.0.1 $PE </dev/null >/dev/null")
bench_hyperfine net-port-connect "connect + greeting + close through a published port; first berth, then docker" \
  --warmup 10 --min-runs 100 "${cmds[@]}"

# ---- container to container on a user network, against a raw veth pair ----
# Without docker: its iptables rules (FORWARD policy DROP, with br_netfilter seeing bridged
# traffic) would drop traffic between containers of any bridge but its own.
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  "${DOCKER[@]}" rm -f sink greeter >/dev/null 2>&1 || true
  DOCKER=()
  restore_host
fi
"${BERTH_CMD[@]}" network create benchnet >/dev/null
"${BERTH_CMD[@]}" run -d --name usink --network benchnet busybox $SINK >/dev/null
"${BERTH_CMD[@]}" run -d --name usrc --network benchnet busybox sleep 100000 >/dev/null
ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add bnva$$ netns "$NS_A" type veth peer name bnvb$$ netns "$NS_B"
ip -n "$NS_A" addr add 10.233.0.1/24 dev bnva$$
ip -n "$NS_B" addr add 10.233.0.2/24 dev bnvb$$
ip -n "$NS_A" link set bnva$$ up
ip -n "$NS_B" link set bnvb$$ up
ip -n "$NS_A" link set lo up
ip -n "$NS_B" link set lo up
ip netns exec "$NS_B" "$TH" sink-tcp 80 &
sleep 1
# The same producer on both sides (busybox dd, 64 KiB blocks) and the same client.
COUNT=$((BYTES / 65536))
DD="dd if=/dev/zero bs=65536 count=$COUNT 2>/dev/null"
cmds=("$(bench_quote "${BERTH_CMD[@]}" exec usrc sh -c "$DD | testhelper connect-tcp usink 80 >/dev/null")")
cmds+=("ip netns exec $NS_A sh -c 'busybox $DD | $TH connect-tcp 10.233.0.2 80 >/dev/null'")
bench_hyperfine net-c2c "$BYTES bytes container -> container on a user network (row 1) and over a raw veth pair between two namespaces (row 2)" \
  --warmup 1 --min-runs 5 "${cmds[@]}"
# br_netfilter (loaded by docker and podman, not by berth) sends every bridged frame through
# the iptables hooks when bridge-nf-call-iptables is 1: the same run without it shows what that
# host setting costs. Restored right after (and by the exit trap).
NF=/proc/sys/net/bridge/bridge-nf-call-iptables
if [[ -f $NF && $(cat "$NF") == 1 ]]; then
  NF_SAVE=1
  echo 0 >"$NF"
  bench_hyperfine net-c2c-nobrnf "the same with bridge-nf-call-iptables=0 (bridged frames not sent through iptables)" \
    --warmup 1 --min-runs 5 "${cmds[@]}"
  echo 1 >"$NF"
  NF_SAVE=
fi
