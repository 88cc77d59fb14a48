#!/usr/bin/env bats
# User-defined networks: name resolution (names, aliases, links), isolation, --internal,
# --ip, connect/disconnect.

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

@test "user network: containers resolve each other by name and alias; names stay current" {
  run_berth network create appnet
  assert_success
  run_berth run -d --name db --network appnet --network-alias database $BUSYBOX $TH listen-tcp 5432
  assert_success
  run_berth run -d --name app --network appnet $BUSYBOX sleep 60
  local dbip
  dbip=$(ctr_ip db)
  run_berth exec app $TH resolve db
  assert_output_contains "$dbip"
  run_berth exec app $TH resolve database
  assert_output_contains "$dbip"
  run_berth exec app $TH connect-tcp database 5432
  assert_output_contains "hello from"
  # A container started later is seen by those already running…
  run_berth run -d --name late --network appnet $BUSYBOX sleep 60
  local lip
  lip=$(ctr_ip late)
  run_berth exec app $TH resolve late
  assert_output_contains "$lip"
  run_berth exec late $TH resolve app
  assert_output_contains "$(ctr_ip app)"
  # …and is gone from them once it stops.
  run_berth stop -t 1 late
  run_berth exec app $TH resolve late
  refute_output_contains "$lip"
  run_berth inspect -f '{{json .NetworkSettings.Networks.appnet.DNSNames}}' db
  assert_output_contains '"db"'
  assert_output_contains '"database"'
}

@test "user network: --link name:alias resolves, on a user network and on the default bridge" {
  run_berth network create linknet
  run_berth run -d --name target --network linknet $BUSYBOX sleep 60
  run_berth run --rm --network linknet --link target:tgt $BUSYBOX $TH resolve tgt
  assert_success
  assert_output_contains "$(ctr_ip target)"
  run_berth run -d --name legacy $BUSYBOX sleep 60
  run_berth run --rm --link legacy:old $BUSYBOX sh -c 'cat /etc/hosts'
  assert_success
  assert_output_matches "$(ctr_ip legacy)	old legacy"
  # The default bridge has no name resolution without links.
  run_berth run --rm $BUSYBOX $TH resolve legacy
  refute_output_contains "$(ctr_ip legacy)"
  run_berth -125 run --rm --link nosuch:x $BUSYBOX true
}

@test "user network: different networks are isolated; a container on both reaches both" {
  run_berth network create neta
  run_berth network create netb
  run_berth run -d --name sa --network neta $BUSYBOX $TH listen-tcp 7000
  run_berth run -d --name sb --network netb $BUSYBOX $TH listen-tcp 7000
  local ipa ipb
  ipa=$(ctr_ip sa)
  ipb=$(ctr_ip sb)
  sleep 0.3
  run_berth exec sa $TH connect-tcp "$ipb" 7000
  refute_output_contains "hello from"
  run_berth exec sa ping -c1 -W1 "$ipb"
  assert_failure
  # Names of the other network do not resolve.
  run_berth exec sa $TH resolve sb
  refute_output_contains "$ipb"
  # Connected to both, a third container reaches both by name.
  run_berth run -d --name both --network neta $BUSYBOX sleep 60
  run_berth network connect netb both
  assert_success
  run_berth exec both sh -c 'ls /sys/class/net'
  assert_output_contains "eth1"
  run_berth exec both $TH connect-tcp sb 7000
  assert_output_contains "hello from"
  run_berth exec both $TH connect-tcp sa 7000
  assert_output_contains "hello from"
  run_berth network disconnect netb both
  assert_success
  run_berth exec both sh -c 'ls /sys/class/net'
  refute_output_contains "eth1"
  run_berth -1 network disconnect netb both
  assert_output_contains "is not connected to network netb"
}

@test "user network: --internal has no egress; a normal one has" {
  lan_peer_up
  ip netns exec "$LAN_NS" timeout 20 "$FIXTURES/testhelper" listen-tcp 7100 2 >/dev/null &
  sleep 0.3
  run_berth network create --internal inner
  run_berth network create outer
  run_berth run --rm --network outer $BUSYBOX $TH connect-tcp "$LAN_PEER_IP" 7100
  assert_output_contains "hello from"
  run_berth run --rm --network inner $BUSYBOX $TH connect-tcp "$LAN_PEER_IP" 7100
  refute_output_contains "hello from"
  # Nothing is published from an internal network, over IPv4 or the IPv6 relay.
  local p
  p=$(free_port)
  run_berth run -d --name ipub --network inner -p "$p:7000" $BUSYBOX $TH listen-tcp 7000
  sleep 0.3
  run host_connect 127.0.0.1 "$p"
  refute_output_contains "hello from"
  run host_connect ::1 "$p"
  refute_output_contains "hello from"
  # Inside an internal network containers still talk.
  run_berth run -d --name i1 --network inner $BUSYBOX $TH listen-tcp 7000
  sleep 0.3
  run_berth run --rm --network inner $BUSYBOX $TH connect-tcp i1 7000
  assert_output_contains "hello from"
  kill %1 2>/dev/null || true
}

@test "user network: --subnet/--gateway/--ip-range and --ip are honoured" {
  run_berth network create --subnet 10.123.45.0/24 --gateway 10.123.45.254 --ip-range 10.123.45.128/25 ranged
  assert_success
  run_berth run --rm --network ranged $BUSYBOX sh -c 'ip -4 addr show eth0; ip route'
  assert_output_contains "inet 10.123.45.128/24"
  assert_output_contains "default via 10.123.45.254"
  run_berth run --rm --network ranged --ip 10.123.45.7 $BUSYBOX ip -4 addr show eth0
  assert_output_contains "inet 10.123.45.7/24"
  run_berth -125 run --rm --network ranged --ip 10.9.9.9 $BUSYBOX true
  assert_output_contains "no configured subnet or ip-range contain the IP address 10.9.9.9"
  run_berth run -d --name fixed --network ranged --ip 10.123.45.9 $BUSYBOX sleep 60
  run_berth ! run --rm --network ranged --ip 10.123.45.9 $BUSYBOX true
  assert_output_contains "Address already in use"
}

@test "user network: rm refuses while containers run on it, and removes the bridge after" {
  run_berth network create busy
  local br
  br=$(berth network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' busy)
  [[ -z $br || $br == "<no value>" ]] && br=br-$(berth network inspect -f '{{.Id}}' busy | cut -c1-12)
  run_berth run -d --name user1 --network busy $BUSYBOX sleep 60
  ip link show "$br" >/dev/null || fail "bridge $br missing"
  run_berth -1 network rm busy
  assert_output_contains "has active endpoints"
  run_berth rm -f user1
  run_berth network rm busy
  assert_success
  if ip link show "$br" >/dev/null 2>&1; then fail "bridge $br left"; fi
  run_berth -125 run --rm --network busy $BUSYBOX true
  assert_output_contains "network busy not found"
}

@test "user network: connect --alias and --ip on a running container; restart keeps networks" {
  run_berth network create cn --subnet 10.124.0.0/24
  run_berth run -d --name cc $BUSYBOX sleep 60
  run_berth network connect --alias svc --ip 10.124.0.50 cn cc
  assert_success
  run_berth run --rm --network cn $BUSYBOX $TH resolve svc
  assert_output_contains "10.124.0.50"
  run_berth restart -t 1 cc
  run_berth exec cc ip -4 addr
  assert_output_contains "10.124.0.50"
  run_berth -1 network connect cn cc
  assert_output_contains "already exists in network cn"
}
