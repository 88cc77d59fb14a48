#!/usr/bin/env bats
# berth network create / ls / inspect / rm / prune, and `berth inspect` on networks.
#
# Every test has a network configuration of its own (bridge name, subnets, nft table) in its
# BERTH_CONFIG, so tests never touch the host's bridges or each other's; teardown deletes the
# bridges and the nft table a test may have left, after the test has checked that berth itself
# removed what it should.

load helpers

setup() {
  berth_setup
  require_tool jq ip
  # helpers.bash gives each test its own bridge (bt<sfx>), nft table, default subnet (a /24)
  # and pool (the /23 after it, cut into /26s).
  TEST_NFT=$TEST_NFT_TABLE
  local base=${TEST_POOL%/23}
  local p3=${base%.*}
  p3=${p3##*.}
  local pre=${base%.*.*}
  POOL_FIRST=$pre.$p3.0/26
  POOL_SECOND=$pre.$p3.64/26
  : >"$BATS_TEST_TMPDIR/netids"
  export TEST_NFT POOL_FIRST POOL_SECOND
}

teardown() {
  local ids id
  ids=$(timeout 60 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" network ls -q \
    --no-trunc -f type=custom 2>/dev/null) || ids=
  local rc=0
  berth_teardown || rc=1
  for id in $ids $(cat "$BATS_TEST_TMPDIR/netids" 2>/dev/null); do
    ip link del "br-${id:0:12}" 2>/dev/null || true
  done
  local l
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    [[ $l == "$TEST_BRIDGE" || $l == "$TEST_BRIDGE"? ]] && ip link del "$l" 2>/dev/null
  done
  if command -v nft >/dev/null; then
    nft delete table inet "$TEST_NFT" 2>/dev/null || true
    nft delete table ip "$TEST_NFT" 2>/dev/null || true
  fi
  return $rc
}

# net_create ARGS...: berth network create, its id remembered for teardown.
net_create() {
  run_berth network create "$@"
  if [[ $status -eq 0 ]]; then
    echo "$output" >>"$BATS_TEST_TMPDIR/netids"
  fi
}

# link_exists NAME
link_exists() {
  ip link show dev "$1" >/dev/null 2>&1
}

@test "network ls lists the predefined networks" {
  run_berth network ls
  assert_success
  assert_line -n 0 "NETWORK ID     NAME      DRIVER    SCOPE"
  [[ ${lines[1]} =~ ^[0-9a-f]{12}\ \ \ bridge\ \ \ \ bridge\ \ \ \ local$ ]]
  [[ ${lines[2]} =~ ^[0-9a-f]{12}\ \ \ host\ \ \ \ \ \ host\ \ \ \ \ \ local$ ]]
  [[ ${lines[3]} =~ ^[0-9a-f]{12}\ \ \ none\ \ \ \ \ \ null\ \ \ \ \ \ local$ ]]
  [ "${#lines[@]}" -eq 4 ]

  # The ids are made once: a second listing shows the same ones.
  run_berth network ls -q
  assert_success
  [ "${#lines[@]}" -eq 3 ]
  local first=$output
  run_berth network ls -q --no-trunc
  for l in "${lines[@]}"; do [[ $l =~ ^[0-9a-f]{64}$ ]]; done
  run_berth network ls -q
  assert_output "$first"

  run_berth network list --format '{{.Name}} {{.Driver}} {{.Scope}} {{.IPv4}} {{.IPv6}} {{.Internal}}'
  assert_output $'bridge bridge local true false false\nhost host local true false false\nnone null local true false false'
}

@test "network inspect bridge shows Docker's default bridge" {
  run_berth network inspect bridge
  assert_success
  local j=$output
  [[ $(jq -r '.[0].Name' <<<"$j") == bridge ]]
  [[ $(jq -r '.[0].Id' <<<"$j") =~ ^[0-9a-f]{64}$ ]]
  [[ $(jq -r '.[0].Driver' <<<"$j") == bridge ]]
  [[ $(jq -r '.[0].Scope' <<<"$j") == local ]]
  [[ $(jq -r '.[0].EnableIPv4' <<<"$j") == true ]]
  [[ $(jq -r '.[0].EnableIPv6' <<<"$j") == false ]]
  [[ $(jq -r '.[0].IPAM.Driver' <<<"$j") == default ]]
  [[ $(jq -r '.[0].IPAM.Config[0].Subnet' <<<"$j") == "$TEST_BRIDGE_SUBNET" ]]
  [[ $(jq -r '.[0].IPAM.Config[0].Gateway' <<<"$j") == "${TEST_BRIDGE_SUBNET%.0/24}.1" ]]
  [[ $(jq -c '.[0].Options' <<<"$j") == "{\"com.docker.network.bridge.default_bridge\":\"true\",\"com.docker.network.bridge.enable_icc\":\"true\",\"com.docker.network.bridge.enable_ip_masquerade\":\"true\",\"com.docker.network.bridge.host_binding_ipv4\":\"0.0.0.0\",\"com.docker.network.bridge.name\":\"$TEST_BRIDGE\",\"com.docker.network.driver.mtu\":\"1500\"}" ]]
  [[ $(jq -c '.[0].Containers' <<<"$j") == '{}' ]]
  [[ $(jq -c '.[0].ConfigFrom' <<<"$j") == '{"Network":""}' ]]
  [[ $(jq -r '.[0] | keys_unsorted | join(",")' <<<"$j") == Name,Id,Created,Scope,Driver,EnableIPv4,EnableIPv6,IPAM,Internal,Attachable,Ingress,ConfigFrom,ConfigOnly,Containers,Options,Labels ]]
  [[ $(jq -r '.[0].Created' <<<"$j") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]]

  run_berth network inspect -f '{{.Name}} {{.Driver}} {{json .IPAM.Config}}' host none
  assert_output $'host host null\nnone null null'
}

@test "network create picks a subnet from the pool and makes its bridge" {
  net_create n1
  assert_success
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  local id=$output
  run_berth network inspect n1
  assert_success
  local j=$output
  [[ $(jq -r '.[0].Id' <<<"$j") == "$id" ]]
  [[ $(jq -r '.[0].Driver' <<<"$j") == bridge ]]
  [[ $(jq -c '.[0].IPAM' <<<"$j") == "{\"Driver\":\"default\",\"Options\":{},\"Config\":[{\"Subnet\":\"$POOL_FIRST\",\"Gateway\":\"${POOL_FIRST%.0/26}.1\"}]}" ]]
  [[ $(jq -c '.[0].Options' <<<"$j") == '{}' ]]
  [[ $(jq -c '.[0].Labels' <<<"$j") == '{}' ]]
  [[ $(jq -r '.[0].Internal, .[0].Attachable, .[0].Ingress, .[0].ConfigOnly' <<<"$j" | tr '\n' ' ') == 'false false false false ' ]]

  # Its bridge is there, up, and carries the gateway.
  local br=br-${id:0:12}
  link_exists "$br"
  [[ $(ip -j link show dev "$br" | jq -r '.[0].flags | index("UP") != null') == true ]]
  [[ $(ip -j addr show dev "$br" | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"') == "${POOL_FIRST%.0/26}.1/26" ]]

  # The next one gets the next piece of the pool.
  net_create n2
  assert_success
  run_berth network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' n2
  assert_output "$POOL_SECOND"

  # Same name again: Docker's message, exit 1, nothing changed.
  run_berth network create n1
  assert_failure 1
  assert_output "Error response from daemon: network with name n1 already exists"
  run_berth network inspect -f '{{.Id}}' n1
  assert_output "$id"
}

@test "network create with subnet, gateway, ip-range, labels and options" {
  local bname=${TEST_BRIDGE}x
  net_create --subnet 10.251.$((RANDOM % 250)).0/24 --label team=db --label solo \
    -o com.docker.network.bridge.name="$bname" -o com.docker.network.driver.mtu=1400 \
    --internal --attachable custom1
  assert_success
  local j
  run_berth network inspect custom1
  j=$output
  local sub
  sub=$(jq -r '.[0].IPAM.Config[0].Subnet' <<<"$j")
  [[ $(jq -r '.[0].IPAM.Config[0].Gateway' <<<"$j") == "${sub%.0/24}.1" ]]
  [[ $(jq -c '.[0].Labels' <<<"$j") == '{"solo":"","team":"db"}' ]]
  [[ $(jq -c '.[0].Options' <<<"$j") == "{\"com.docker.network.bridge.name\":\"$bname\",\"com.docker.network.driver.mtu\":\"1400\"}" ]]
  [[ $(jq -r '.[0].Internal, .[0].Attachable' <<<"$j" | tr '\n' ' ') == 'true true ' ]]
  link_exists "$bname"
  [[ $(ip -j link show dev "$bname" | jq -r '.[0].mtu') == 1400 ]]

  local base=10.252.$((RANDOM % 250))
  net_create --subnet "$base.0/24" --gateway "$base.254" --ip-range "$base.128/25" custom2
  assert_success
  run_berth network inspect -f '{{json .IPAM.Config}}' custom2
  assert_output "[{\"Subnet\":\"$base.0/24\",\"IPRange\":\"$base.128/25\",\"Gateway\":\"$base.254\"}]"
  # --ip-range is masked like Docker's CLI does.
  local base3=10.253.$((RANDOM % 250))
  net_create --subnet "$base3.0/24" --ip-range "$base3.77/26" custom3
  assert_success
  run_berth network inspect -f '{{range .IPAM.Config}}{{.IPRange}}{{end}}' custom3
  assert_output "$base3.64/26"
}

@test "network create refuses what Docker refuses" {
  run_berth network create bridge
  assert_failure 1
  assert_output "Error response from daemon: operation is not permitted on predefined bridge network"
  run_berth network create host
  assert_failure 1
  run_berth network create -d macvlan m1
  assert_failure 1
  assert_output 'Error response from daemon: plugin "macvlan" not found'
  run_berth network create -d host h1
  assert_failure 1
  assert_output 'Error response from daemon: only one instance of "host" network is allowed'
  run_berth network create 'bad name'
  assert_failure 1
  assert_output 'Error response from daemon: invalid network name "bad name": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'
  run_berth network create -- -x
  assert_failure
  run_berth network create --ipv6 v6
  assert_failure 1
  assert_output_contains 'IPv6 is not supported'
  run_berth network create --subnet 10.254.1.7/24 s1
  assert_failure 1
  assert_output $'Error response from daemon: invalid network config:\ninvalid subnet 10.254.1.7/24: it should be 10.254.1.0/24'
  run_berth network create --subnet 10.254.0.0/24 --ip-range 10.254.0.0/16 s1
  assert_failure 1
  assert_output $'Error response from daemon: invalid network config:\ninvalid ip-range 10.254.0.0/16: CIDR block is bigger than its parent subnet 10.254.0.0/24'
  run_berth network create --subnet 10.254.1.0/24 --gateway 10.254.2.1 s1
  assert_failure 1
  assert_output 'Error response from daemon: no matching subnet for gateway 10.254.2.1'
  run_berth network create --subnet 10.254.1.0/24 --ip-range 10.254.2.0/25 s1
  assert_failure 1
  assert_output 'Error response from daemon: no matching subnet for range 10.254.2.0/25'
  run_berth network create --gateway 10.254.1.1 s1
  assert_failure 1
  assert_output 'Error: every ip-range or gateway must have a corresponding subnet'
  run_berth network create --subnet 10.254.1.0/33 s1
  assert_failure 1
  assert_output 'Error response from daemon: invalid CIDR address: 10.254.1.0/33'
  run_berth network create --subnet "$TEST_BRIDGE_SUBNET" s1
  assert_failure 1
  assert_output 'Error response from daemon: invalid pool request: Pool overlaps with other one on this address space'
  run_berth network create -o com.docker.network.driver.mtu=12 s1
  assert_failure 1
  assert_output_contains 'invalid MTU number: 12'
  run_berth network create -o com.docker.network.bridge.name=lo s1
  assert_failure 1
  assert_output 'Error response from daemon: bridge name lo is already in use by an interface on this host'
  run_berth network create
  assert_failure 1
  run_berth network create a b
  assert_failure 1
  # None of these left a network behind.
  run_berth network ls -q -f type=custom
  assert_output ""
}

@test "network ls: natural order, filters, formats" {
  net_create --label env=prod --label tier=web n10
  net_create --label env=dev n2
  net_create -o com.docker.network.bridge.name="${TEST_BRIDGE}x" --internal web
  run_berth network ls --format '{{.Name}}'
  assert_output $'bridge\nhost\nn2\nn10\nnone\nweb'
  run_berth network ls -f type=custom --format '{{.Name}}'
  assert_output $'n2\nn10\nweb'
  run_berth network ls -f type=builtin --format '{{.Name}}'
  assert_output $'bridge\nhost\nnone'
  run_berth network ls -f type=builtin -f type=custom -q
  [ "${#lines[@]}" -eq 6 ]
  run_berth network ls -f driver=null --format '{{.Name}}'
  assert_output none
  run_berth network ls -f name=n --format '{{.Name}}'
  assert_output $'n2\nn10\nnone'
  run_berth network ls -f name='^n[0-9]+$' --format '{{.Name}}'
  assert_output $'n2\nn10'
  run_berth network ls -f label=env --format '{{.Name}}'
  assert_output $'n2\nn10'
  run_berth network ls -f label=env=prod -f label=tier --format '{{.Name}} {{.Labels}}'
  assert_output 'n10 env=prod,tier=web'
  run_berth network ls -f scope=local -q
  [ "${#lines[@]}" -eq 6 ]
  run_berth network ls -f scope=global -q
  assert_output ""
  local id
  id=$(berth network inspect -f '{{.Id}}' web)
  run_berth network ls -f id="${id:0:10}" --format '{{.Name}} {{.Internal}}'
  assert_output 'web true'
  run_berth network ls -f dangling=true --format '{{.Name}}'
  assert_output $'n2\nn10\nweb'
  run_berth network ls -f dangling=false --format '{{.Name}}'
  assert_output $'bridge\nhost\nnone'
  run_berth network ls --no-trunc -f name=web --format '{{.ID}}'
  assert_output "$id"
  run_berth network ls -f name=web --format json
  [[ $(jq -r .Name <<<"$output") == web ]]
  [[ $(jq -r .ID <<<"$output") == "${id:0:12}" ]]
  run_berth network ls -f name=web --format 'table {{.Name}}\t{{.Internal}}'
  assert_output $'NAME      INTERNAL\nweb       true'

  run_berth network ls -f foo=bar
  assert_failure 1
  assert_output "Error response from daemon: invalid filter 'foo'"
  run_berth network ls -f type=other
  assert_failure 1
  assert_output "Error response from daemon: invalid filter: 'type'='other'"
  run_berth network ls -f dangling=maybe
  assert_failure 1
  assert_output "Error response from daemon: invalid value for filter 'dangling', must be \"true\" (or \"1\"), or \"false\" (or \"0\")"
  run_berth network ls -f noequals
  assert_failure 1
}

@test "network inspect: several names, ids, errors; berth inspect finds networks" {
  net_create i1
  local id=$output
  run_berth network inspect -f '{{.Name}}' i1 "$id" "${id:0:8}" bridge
  assert_success
  assert_output $'i1\ni1\ni1\nbridge'

  run_berth network inspect i1 nope
  assert_failure 1
  [[ $(grep -v '^Error' <<<"$output" | jq -r '.[0].Name') == i1 ]]
  assert_line "Error response from daemon: network nope not found"
  run_berth network inspect -f '{{.Name}}' nope
  assert_failure 1
  assert_output "Error response from daemon: network nope not found"

  run_berth inspect -f '{{.Name}} {{.Driver}}' i1
  assert_success
  assert_output "i1 bridge"
  run_berth inspect --type network -f '{{.Id}}' i1
  assert_output "$id"
  run_berth inspect --type volume i1
  assert_failure 1
  # A volume and a network of one name: the network comes first, as in Docker.
  run_berth volume create i1
  run_berth inspect -f '{{.Driver}}' i1
  assert_output "bridge"
}

@test "network rm: several names, Docker's errors, bridge removed" {
  net_create r1
  local id1=$output
  net_create r2
  net_create r3
  local id3=$output
  link_exists "br-${id1:0:12}"
  run_berth network rm r1 nope r2
  assert_failure 1
  assert_line "r1"
  assert_line "r2"
  assert_line "Error response from daemon: network nope not found"
  ! link_exists "br-${id1:0:12}"
  run_berth network rm -f nope
  assert_success
  assert_output ""
  run_berth network remove "${id3:0:12}"
  assert_success
  assert_output "${id3:0:12}"
  ! link_exists "br-${id3:0:12}"
  [ ! -e "$TEST_RUNROOT/networks/$id3.up" ]
  run_berth network rm bridge host none
  assert_failure 1
  assert_output $'Error response from daemon: bridge is a pre-defined network and cannot be removed\nError response from daemon: host is a pre-defined network and cannot be removed\nError response from daemon: none is a pre-defined network and cannot be removed'
  run_berth network ls -q -f type=custom
  assert_output ""
  run_berth network rm
  assert_failure 1
}

@test "network prune: confirmation, only unused custom networks, filters" {
  load_busybox
  net_create --label keep=yes p1
  net_create p2
  net_create used
  local used_id=$output
  run_berth create --name c1 --network used busybox true
  assert_success

  run bash -c "echo n | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' network prune"
  assert_success
  assert_output "WARNING! This will remove all custom networks not used by at least one container.
Are you sure you want to continue? [y/N] "
  run_berth network ls -q -f type=custom
  [ "${#lines[@]}" -eq 3 ]

  run_berth network prune -f --filter 'label!=keep'
  assert_success
  assert_output $'Deleted Networks:\np2'
  run_berth network prune -f --filter until=1h
  assert_success
  assert_output ""
  run_berth network prune -f --filter label=keep=yes
  assert_output $'Deleted Networks:\np1'
  run_berth network prune -f --filter foo=1
  assert_failure 1
  assert_output "Error response from daemon: invalid filter 'foo'"
  # The container's network stays, also by id, until the container goes.
  run_berth network prune -f
  assert_output ""
  run_berth rm c1
  run_berth create --name c2 --network "${used_id}" busybox true
  run_berth network prune -f
  assert_output ""
  run_berth rm c2
  run_berth network prune -f
  assert_output $'Deleted Networks:\nused'
  ! link_exists "br-${used_id:0:12}"
  run_berth network ls --format '{{.Name}}'
  assert_output $'bridge\nhost\nnone'
}

@test "parallel network creates get distinct subnets" {
  local i pids=()
  for i in 1 2 3 4 5 6; do
    berth network create "par$i" >"$BATS_TEST_TMPDIR/par$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  for i in 1 2 3 4 5 6; do
    cat "$BATS_TEST_TMPDIR/par$i.out" >>"$BATS_TEST_TMPDIR/netids"
    [[ $(cat "$BATS_TEST_TMPDIR/par$i.out") =~ ^[0-9a-f]{64}$ ]]
  done
  run_berth network ls -q -f type=custom --no-trunc
  [ "${#lines[@]}" -eq 6 ]
  run_berth network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' par1 par2 par3 par4 par5 par6
  assert_success
  [ "$(sort -u <<<"$output" | wc -l)" -eq 6 ]
  # Same name from several processes at once: one wins.
  for i in 1 2 3 4; do
    berth network create same >"$BATS_TEST_TMPDIR/same$i.out" 2>&1 &
    pids[i]=$!
  done
  for i in 1 2 3 4; do wait "${pids[i]}" || true; done
  [ "$(cat "$BATS_TEST_TMPDIR"/same*.out | grep -cE '^[0-9a-f]{64}$')" -eq 1 ]
  [ "$(cat "$BATS_TEST_TMPDIR"/same*.out | grep -c 'network with name same already exists')" -eq 3 ]
  grep -hE '^[0-9a-f]{64}$' "$BATS_TEST_TMPDIR"/same*.out >>"$BATS_TEST_TMPDIR/netids"
}

@test "a network with a running container cannot be removed" {
  load_busybox
  net_create busy
  local id=$output
  run_berth run -d --name b1 --network busy busybox sleep 1000
  assert_success
  run_berth network rm busy
  assert_failure 1
  assert_output "Error response from daemon: error while removing network: network busy id $id has active endpoints"
  run_berth network inspect -f '{{range $k, $v := .Containers}}{{$v.Name}} {{$v.IPv4Address}}{{end}}' busy
  assert_output "b1 ${POOL_FIRST%.0/26}.2/26"
  run_berth network ls -f dangling=false -f type=custom --format '{{.Name}}'
  assert_output busy
  run_berth rm -f b1
  run_berth network rm busy
  assert_success
  ! link_exists "br-${id:0:12}"
}
