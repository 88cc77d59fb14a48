# shellcheck shell=bash disable=SC2034,SC2154
# net-helpers.bash: for the networking tests (load after helpers).
#
# Traffic goes only to 127.0.0.0/8, to containers on this test's own bridges, and to a "LAN
# peer": a network namespace of the test's own joined to the host by a veth (lan_peer_up).

TH=/usr/bin/testhelper

# wait_for CMD...: retry a command for up to 10 s.
wait_for() {
  local i
  for i in $(seq 1 100); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  "$@"
}

# host_connect HOST PORT: connect from the host with the static helper; prints what it got.
host_connect() {
  timeout 10 "$FIXTURES/testhelper" connect-tcp "$1" "$2" </dev/null
}

# ctr_ip NAME: the container's address on its primary network.
ctr_ip() {
  berth inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1" | head -1
}

# lan_peer_up: netns $LAN_NS with address $LAN_PEER_IP, reached from the host at $LAN_HOST_IP
# through the veth $LAN_IF. Removed by lan_peer_down (call it in teardown).
lan_peer_up() {
  local r=$((RANDOM % 200 + 20))
  LAN_NS=berthlan$$$r
  LAN_IF=bl$$$r
  LAN_HOST_IP=10.252.$r.1
  LAN_PEER_IP=10.252.$r.2
  ip netns add "$LAN_NS"
  ip link add "$LAN_IF" type veth peer name eth0 netns "$LAN_NS"
  ip addr add "$LAN_HOST_IP/24" dev "$LAN_IF"
  ip link set "$LAN_IF" up
  ip -n "$LAN_NS" addr add "$LAN_PEER_IP/24" dev eth0
  ip -n "$LAN_NS" link set eth0 up
  ip -n "$LAN_NS" link set lo up
  ip -n "$LAN_NS" route add default via "$LAN_HOST_IP"
  export LAN_NS LAN_IF LAN_HOST_IP LAN_PEER_IP
}

lan_peer_down() {
  [[ -n ${LAN_NS:-} ]] || return 0
  ip netns pids "$LAN_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$LAN_NS" 2>/dev/null || true
  ip link del "$LAN_IF" 2>/dev/null || true
  LAN_NS=
}

# peer_connect HOST PORT: connect from the LAN peer.
peer_connect() {
  timeout 10 ip netns exec "$LAN_NS" "$FIXTURES/testhelper" connect-tcp "$1" "$2" </dev/null
}

# nft_table: berth's table for this test (empty output when it does not exist).
nft_table() {
  nft list table ip "$TEST_NFT_TABLE" 2>/dev/null || true
}

# free_port: a TCP port nothing listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# refute_output_matches ERE: the output must not match.
refute_output_matches() {
  if [[ $output =~ $1 ]]; then
    echo "-- output matches, but must not: $1 --" >&2
    _assert_show_output
    return 1
  fi
}
