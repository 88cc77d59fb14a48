#!/usr/bin/env bats
# The default bridge network: addresses, routes, /etc files, NetworkSettings, published ports
# in every form, and the security rules of C11 (research catalog).

load helpers
load net-helpers

setup() {
  berth_setup
  load_busybox
}

teardown() {
  lan_peer_down
  berth_teardown
}

@test "bridge: the default network gives eth0 an address, a default route and /etc files" {
  run_berth run --rm --name web1 $BUSYBOX sh -c 'ip -4 addr show eth0; ip route; cat /etc/hosts; cat /etc/resolv.conf; ip link show lo'
  assert_success
  assert_output_matches "inet 10\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+"
  assert_output_contains "default via"
  assert_output_contains "127.0.0.1	localhost"
  assert_output_matches "LOOPBACK,UP"
  # The container's own address with its host name.
  local ip
  ip=$(printf '%s\n' "$output" | sed -n 's/.*inet \(10\.[0-9.]*\)\/.*/\1/p' | head -1)
  assert_output_matches "$ip	[0-9a-f]{12}"
  # Loopback name servers of the host never reach the container.
  refute_output_matches "nameserver 127\."
}

@test "bridge: the network, its bridge and the nft table exist; network ls shows the predefined ones" {
  run_berth run --rm $BUSYBOX true
  assert_success
  ip link show "$TEST_BRIDGE" >/dev/null
  run_berth network ls
  assert_success
  assert_output_matches "bridge +bridge +local"
  assert_output_matches "host +host +local"
  assert_output_matches "none +null +local"
  [[ -n $(nft_table) ]] || fail "no nft table $TEST_NFT_TABLE"
}

@test "bridge: inspect shows NetworkSettings while running and clears them after" {
  run_berth run -d --name n1 $BUSYBOX sleep 60
  assert_success
  run_berth inspect -f '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Networks.bridge.IPPrefixLen}} {{.NetworkSettings.Networks.bridge.MacAddress}} {{.HostConfig.NetworkMode}}' n1
  assert_success
  assert_output_matches "^(10\.[0-9.]+) (10\.[0-9.]+\.1) \1 [0-9]+ 02:42:[0-9a-f:]{11} bridge$"
  local ip=${output%% *}
  # The address really is the container's: the host reaches it over the bridge.
  run_berth exec n1 ip -4 addr show eth0
  assert_output_contains "inet $ip/"
  busybox ping -c1 -W2 "$ip" >/dev/null
  run_berth stop -t 1 n1
  run_berth inspect -f '[{{.NetworkSettings.IPAddress}}] [{{.NetworkSettings.Networks.bridge.IPAddress}}]' n1
  assert_output "[] []"
}

@test "bridge: containers get distinct addresses; an address comes back when its container stops" {
  run_berth run -d --name a1 $BUSYBOX sleep 60
  run_berth run -d --name a2 $BUSYBOX sleep 60
  local ip1 ip2
  ip1=$(ctr_ip a1)
  ip2=$(ctr_ip a2)
  [[ -n $ip1 && -n $ip2 && $ip1 != "$ip2" ]] || fail "addresses: '$ip1' '$ip2'"
  # Containers on the default bridge reach each other by address.
  run_berth exec a1 ping -c1 -W2 "$ip2"
  assert_success
  run_berth rm -f a1
  run_berth run -d --name a3 $BUSYBOX sleep 60
  [[ $(ctr_ip a3) == "$ip1" ]] || fail "a3 got $(ctr_ip a3), expected the freed $ip1"
}

@test "bridge: --network none has loopback only; host shares the host's interfaces" {
  run_berth run --rm --network none $BUSYBOX sh -c 'ls /sys/class/net; ip link show lo'
  assert_success
  assert_output_contains "lo"
  refute_output_contains "eth0"
  assert_output_matches "LOOPBACK,UP"
  run_berth run --rm --network host $BUSYBOX ls /sys/class/net
  assert_success
  for i in /sys/class/net/*; do
    assert_output_contains "$(basename "$i")"
  done
}

@test "bridge: --network container:X shares X's interfaces and address" {
  run_berth run -d --name shr $BUSYBOX sleep 60
  local ip
  ip=$(ctr_ip shr)
  run_berth run --rm --network container:shr $BUSYBOX sh -c 'ip -4 addr show eth0; cat /etc/hosts'
  assert_success
  assert_output_contains "inet $ip/"
  # X's /etc/hosts, as Docker shares it.
  assert_output_contains "$ip	$(berth inspect -f '{{.Config.Hostname}}' shr)"
  # While a joiner keeps the namespace alive, X's stop must still take its veth off the
  # bridge: its address is given back and could go to the next container.
  run_berth run -d --name joiner --network container:shr $BUSYBOX sleep 60
  local id
  id=$(berth inspect -f '{{.Id}}' shr)
  ip link show "vb${id:0:11}0" >/dev/null || fail "no veth vb${id:0:11}0"
  run_berth stop -t 1 shr
  if ip link show "vb${id:0:11}0" >/dev/null 2>&1; then fail "veth of a stopped container still there"; fi
}

@test "bridge: --dns, --dns-search, --dns-option, --add-host, --hostname, --domainname" {
  run_berth run --rm --dns 10.9.9.9 --dns-search example.test --dns-option ndots:2 \
    --add-host db.test:10.1.2.3 --add-host gw.test:host-gateway --hostname h1 --domainname d.test \
    $BUSYBOX sh -c 'cat /etc/resolv.conf /etc/hosts; hostname; ip -4 addr show eth0'
  assert_success
  assert_output_contains "nameserver 10.9.9.9"
  assert_output_contains "search example.test"
  assert_output_contains "options ndots:2"
  assert_output_contains "10.1.2.3	db.test"
  local gw
  gw=$(berth network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' bridge)
  assert_output_contains "$gw	gw.test"
  assert_output_matches "10\.[0-9.]+	h1\.d\.test h1"
}

@test "bridge: --mac-address is used; --ip is refused on the default bridge" {
  run_berth run --rm --mac-address 02:42:de:ad:be:ef $BUSYBOX cat /sys/class/net/eth0/address
  assert_success
  assert_output "02:42:de:ad:be:ef"
  run_berth -125 run --rm --ip 10.210.0.50 $BUSYBOX true
  assert_output_contains "user specified IP address is supported on user defined networks only"
}

@test "bridge: egress is masqueraded to the host's address" {
  lan_peer_up
  ip netns exec "$LAN_NS" timeout 20 "$FIXTURES/testhelper" listen-tcp 7001 1 >"$BATS_TEST_TMPDIR/peer.out" &
  sleep 0.3
  run_berth run --rm $BUSYBOX $TH connect-tcp "$LAN_PEER_IP" 7001
  assert_success
  assert_output_contains "hello from"
  wait
  grep -q "accepted from $LAN_HOST_IP" "$BATS_TEST_TMPDIR/peer.out" ||
    fail "peer saw: $(cat "$BATS_TEST_TMPDIR/peer.out")"
}

@test "ports: -p HOST:CTR answers on 127.0.0.1 (curl to busybox httpd); port and ps show it" {
  local p
  p=$(free_port)
  run_berth run -d --name web -p "$p:80" $BUSYBOX sh -c 'mkdir -p /www && echo berth-ok > /www/index.html && exec httpd -f -p 80 -h /www'
  assert_success
  wait_for curl -sf --max-time 2 "http://127.0.0.1:$p/"
  run curl -sf --max-time 5 "http://127.0.0.1:$p/"
  assert_output "berth-ok"
  run_berth port web
  assert_output_contains "80/tcp -> 0.0.0.0:$p"
  run_berth port web 80
  assert_output_matches "^0\.0\.0\.0:$p(
\[::\]:$p)?$"
  run_berth -1 port web 81/tcp
  assert_output_contains "No public port '81/tcp' published for web"
  run_berth ps --format '{{.Names}} {{.Ports}}'
  assert_output_contains "web 0.0.0.0:$p->80/tcp"
  run_berth inspect -f '{{json .NetworkSettings.Ports}}' web
  assert_output_contains "{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"$p\"}"
}

@test "ports: every form: ip:port, udp, a free port, a range, -P, IPv6 host address" {
  local p1 p2 p3
  p1=$(free_port)
  p2=$(free_port)
  p3=$((30000 + RANDOM % 20000))
  run_berth run -d --name f1 -p "127.0.0.1:$p1:7000" -p "$p2:7001/udp" -p 7002 \
    -p "$p3-$((p3 + 2)):7003-7005" --expose 7006 -P -p "[::1]:$p1:7007" $BUSYBOX sleep 60
  assert_success
  run_berth port f1
  assert_output_contains "7000/tcp -> 127.0.0.1:$p1"
  assert_output_contains "7001/udp -> 0.0.0.0:$p2"
  assert_output_matches "7002/tcp -> 0\.0\.0\.0:[0-9]+"
  assert_output_contains "7003/tcp -> 0.0.0.0:$p3"
  assert_output_contains "7005/tcp -> 0.0.0.0:$((p3 + 2))"
  assert_output_matches "7006/tcp -> 0\.0\.0\.0:[0-9]+"
  assert_output_contains "7007/tcp -> [::1]:$p1"
  # Each reaches the container (server started per port).
  berth exec -d f1 $TH listen-tcp 7000 1
  berth exec -d f1 $TH listen-tcp 7004 1
  local dyn
  dyn=$(berth port f1 7002 | head -1 | sed 's/.*://')
  berth exec -d f1 $TH listen-tcp 7002 1
  sleep 0.3
  run host_connect 127.0.0.1 "$p1"
  assert_output_contains "hello from"
  run host_connect 127.0.0.1 "$((p3 + 1))"
  assert_output_contains "hello from"
  run host_connect 127.0.0.1 "$dyn"
  assert_output_contains "hello from"
  # IPv6 host addresses are relayed by the monitor: [::1] explicitly, and [::] for "all".
  berth exec -d f1 $TH listen-tcp 7007 1
  sleep 0.3
  run host_connect ::1 "$p1"
  assert_output_contains "hello from"
  if berth port f1 7006 | grep -q '\[::\]'; then
    berth exec -d f1 $TH listen-tcp 7006 1
    sleep 0.3
    run host_connect ::1 "$(berth port f1 7006 | head -1 | sed 's/.*://')"
    assert_output_contains "hello from"
  fi
  # UDP: a datagram to the published port arrives in the container.
  berth exec -d f1 sh -c "$TH listen-udp 7001 > /tmp/udp.out"
  sleep 0.3
  "$FIXTURES/testhelper" send-udp 127.0.0.1 "$p2" udp-ok
  sleep 0.3
  run_berth exec f1 cat /tmp/udp.out
  assert_output_contains "udp-ok"
}

@test "ports: a host port in use fails the start with Docker's message and starts nothing" {
  local p
  p=$(free_port)
  python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', $p)); s.listen(); time.sleep(30)" &
  local holder=$!
  sleep 0.5
  run_berth -125 run --rm --name busy -p "$p:80" $BUSYBOX true
  kill $holder
  assert_output_contains "Bind for 0.0.0.0:$p failed: port is already allocated"
  run_berth ps -a --format '{{.Names}} {{.Status}}'
  refute_output_contains "Up"
  # A port held by another container: the same.
  run_berth run -d --name first -p "$p:80" $BUSYBOX sleep 60
  assert_success
  run_berth -125 run -d --name second -p "$p:80" $BUSYBOX sleep 60
  assert_output_contains "port is already allocated"
  run_berth inspect -f '{{.State.Status}}' second
  assert_output "created"
}

@test "ports: rules go when the container stops or is removed" {
  local p
  p=$(free_port)
  run_berth run -d --name r1 -p "$p:80" $BUSYBOX sleep 60
  nft_table | grep -q "dport $p " || fail "no rule for $p: $(nft_table)"
  run_berth stop -t 1 r1
  if nft_table | grep -q "dport $p "; then fail "rule for $p left after stop"; fi
  run_berth start r1
  nft_table | grep -q "dport $p " || fail "no rule after restart"
  run_berth rm -f r1
  if nft_table | grep -q "dport $p "; then fail "rule for $p left after rm"; fi
}

@test "ports C11: 127.0.0.1-bound ports and container addresses are not reachable from a LAN peer" {
  lan_peer_up
  local p1 p2
  p1=$(free_port)
  p2=$(free_port)
  run_berth run -d --name c11 -p "127.0.0.1:$p1:7000" -p "$p2:7001" $BUSYBOX sh -c "$TH listen-tcp 7000 & $TH listen-tcp 7001 & $TH listen-tcp 7002 & wait"
  assert_success
  local cip
  cip=$(ctr_ip c11)
  wait_for host_connect 127.0.0.1 "$p1"
  # From the host: both published ports answer.
  run host_connect 127.0.0.1 "$p1"
  assert_output_contains "hello from"
  # From the LAN peer: the 0.0.0.0 port answers on the host's LAN address…
  run peer_connect "$LAN_HOST_IP" "$p2"
  assert_output_contains "hello from"
  # …the 127.0.0.1 one does not, neither directly on 127.0.0.1 through the host…
  run peer_connect "$LAN_HOST_IP" "$p1"
  refute_output_contains "hello from"
  ip -n "$LAN_NS" route add 127.0.0.0/8 via "$LAN_HOST_IP" 2>/dev/null || true
  run peer_connect 127.0.0.1 "$p1"
  refute_output_contains "hello from"
  # …and the container's own address is not reachable from the LAN, even with a route.
  ip -n "$LAN_NS" route add "$cip/32" via "$LAN_HOST_IP"
  run peer_connect "$cip" 7002
  refute_output_contains "hello from"
  run peer_connect "$cip" 7001
  refute_output_contains "hello from"
}

@test "ports F4: 20 racing runs of -p P:80 give exactly one winner and clear errors" {
  local p i
  p=$(free_port)
  for i in $(seq 1 20); do
    ("$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run -d --name race$i -p "$p:80" \
      $BUSYBOX sleep 60 >"$BATS_TEST_TMPDIR/race$i.out" 2>&1
      echo $? >"$BATS_TEST_TMPDIR/race$i.rc") &
  done
  wait
  local wins=0 fails=0
  for i in $(seq 1 20); do
    if [[ $(cat "$BATS_TEST_TMPDIR/race$i.rc") == 0 ]]; then
      wins=$((wins + 1))
    else
      fails=$((fails + 1))
      grep -q "port is already allocated" "$BATS_TEST_TMPDIR/race$i.out" ||
        fail "race$i: $(cat "$BATS_TEST_TMPDIR/race$i.out")"
    fi
  done
  [[ $wins == 1 && $fails == 19 ]] || fail "wins=$wins fails=$fails"
  [[ $(nft_table | grep -c "dport $p ") -ge 1 ]] || fail "no rule for the winner"
  run_berth rm -f $(berth ps -aq)
  if nft_table | grep -q "dport $p "; then fail "stale rule for $p"; fi
}

@test "bridge F1: 20 parallel starts get 20 distinct addresses" {
  local i
  for i in $(seq 1 20); do
    ("$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --rm $BUSYBOX \
      sh -c 'ip -4 addr show eth0 | sed -n "s/.*inet \([0-9.]*\).*/\1/p"; sleep 1' \
      >"$BATS_TEST_TMPDIR/par$i.out" 2>&1
      echo $? >"$BATS_TEST_TMPDIR/par$i.rc") &
  done
  wait
  for i in $(seq 1 20); do
    [[ $(cat "$BATS_TEST_TMPDIR/par$i.rc") == 0 ]] || fail "par$i: $(cat "$BATS_TEST_TMPDIR/par$i.out")"
  done
  local uniq
  uniq=$(cat "$BATS_TEST_TMPDIR"/par*.out | sort -u | grep -c '^10\.')
  [[ $uniq == 20 ]] || fail "distinct addresses: $uniq: $(cat "$BATS_TEST_TMPDIR"/par*.out)"
}

@test "ports E3: kill -9 of the monitor leaves no stale rule after the next command" {
  local p
  p=$(free_port)
  run_berth run -d --name crash -p "$p:80" $BUSYBOX sleep 60
  nft_table | grep -q "dport $p " || fail "no rule"
  local mon
  mon=$(berth inspect -f '{{.State.Pid}}' crash)
  mon=$(ps -o ppid= -p "$mon" | tr -d ' ')
  kill -9 "$mon"
  sleep 0.2
  run_berth ps -a
  if nft_table | grep -q "dport $p "; then fail "stale rule after reconciliation: $(nft_table)"; fi
  # And the port can be published again.
  run_berth run -d --name again -p "$p:80" $BUSYBOX sleep 60
  assert_success
}

@test "bridge: an external runtime (runc) gets the same network through a createRuntime hook" {
  require_tool runc
  local p
  p=$(free_port)
  run_berth run -d --name ext --runtime runc -p "$p:7000" $BUSYBOX $TH listen-tcp 7000
  assert_success
  run_berth exec ext ip -4 addr show eth0
  assert_output_matches "inet 10\.[0-9.]+/"
  wait_for host_connect 127.0.0.1 "$p"
  run host_connect 127.0.0.1 "$p"
  assert_output_contains "hello from"
}
