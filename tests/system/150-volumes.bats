#!/usr/bin/env bats
# berth volume create / ls / inspect / rm / prune.
# (A volume in use by a container is refused by rm and kept by prune: covered with containers
# in the run tests, and at the store level in tests/unit/test_volume.c.)

load helpers

@test "volume create prints the name; inspect shows Docker's fields" {
  run_berth volume create v1
  assert_success
  assert_output "v1"
  [ -d "$TEST_ROOT/volumes/v1/_data" ]
  # Creating it again is not an error and keeps the volume.
  touch "$TEST_ROOT/volumes/v1/_data/keep"
  run_berth volume create v1
  assert_success
  assert_output "v1"
  [ -f "$TEST_ROOT/volumes/v1/_data/keep" ]

  run_berth volume inspect v1
  assert_success
  assert_line '        "Driver": "local",'
  assert_line '        "Labels": null,'
  assert_line "        \"Mountpoint\": \"$TEST_ROOT/volumes/v1/_data\","
  assert_line '        "Name": "v1",'
  assert_line '        "Options": null,'
  assert_line '        "Scope": "local"'
  assert_output_matches '"CreatedAt": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})"'

  run_berth volume create --label team=db --label solo -o type=tmpfs -o device=tmpfs \
    -o o=size=10m,uid=1000 v2
  assert_success
  run_berth volume inspect -f '{{.Labels.team}} {{json .Labels}} {{.Options.type}} {{.Options.o}}' v2
  assert_success
  assert_output 'db {"solo":"","team":"db"} tmpfs size=10m,uid=1000'

  run_berth volume inspect --format '{{.Name}}' v1 v2
  assert_output $'v1\nv2'
}

@test "volume create without a name makes an anonymous volume" {
  run_berth volume create
  assert_success
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  local name=$output
  run_berth volume inspect -f '{{json .Labels}}' "$name"
  assert_output '{"com.docker.volume.anonymous":""}'
}

@test "volume names, options and drivers are checked" {
  run_berth volume create x/y
  assert_failure 1
  assert_output 'Error: create x/y: "x/y" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'
  run_berth volume create a
  assert_failure 1
  assert_output 'Error: create a: volume name is too short, names should be at least two alphanumeric characters'
  run_berth volume create -o foo=bar v3
  assert_failure 1
  assert_output 'Error: create v3: invalid option key: "foo"'
  run_berth volume create -o type=tmpfs v3
  assert_failure 1
  assert_output 'Error: create v3: missing required option: "device"'
  run_berth volume create -d nfsplugin v3
  assert_failure 1
  assert_output 'Error: create v3: error looking up volume plugin nfsplugin: plugin "nfsplugin" not found'
  run_berth volume create one two
  assert_failure 1
  assert_output_contains 'requires at most 1 argument'
  run_berth volume ls -q
  assert_output ""
  [ -z "$(ls -A "$TEST_ROOT/volumes")" ]
}

@test "volume ls: columns, natural order, quiet, format and filters" {
  run_berth volume ls
  assert_success
  assert_output "DRIVER    VOLUME NAME"
  for v in v10 v2 data; do berth volume create "$v" >/dev/null; done
  berth volume create --label env=prod --label tier=web web >/dev/null
  run_berth volume ls
  assert_success
  assert_output $'DRIVER    VOLUME NAME\nlocal     data\nlocal     v2\nlocal     v10\nlocal     web'
  run_berth volume ls -q
  assert_output $'data\nv2\nv10\nweb'
  run_berth volume list --format '{{.Name}}:{{.Driver}}:{{.Scope}}:{{.Labels}}'
  assert_line 'web:local:local:env=prod,tier=web'
  assert_line 'v2:local:local:'
  run_berth volume ls --format 'table {{.Name}}\t{{.Mountpoint}}'
  assert_line --index 0 --partial 'VOLUME NAME'
  assert_line --partial "$TEST_ROOT/volumes/data/_data"
  run_berth volume ls --format json
  assert_line --partial '"Name":"data"'
  run_berth volume ls -q -f name=v1
  assert_output "v10"
  run_berth volume ls -q -f 'name=^v'
  assert_output $'v2\nv10'
  run_berth volume ls -q -f label=env=prod
  assert_output "web"
  run_berth volume ls -q -f label=tier -f label=env=dev
  assert_output ""
  run_berth volume ls -q -f driver=local -f dangling=true
  assert_output $'data\nv2\nv10\nweb'
  run_berth volume ls -q -f dangling=false
  assert_output ""
  run_berth volume ls -f dangling=maybe
  assert_failure 1
  assert_output "Error: invalid filter 'dangling=[maybe]'"
  run_berth volume ls -f color=red
  assert_failure 1
  assert_output "Error: invalid filter 'color'"
}

@test "volume rm removes, reports missing ones, -f ignores them" {
  berth volume create v1 >/dev/null
  berth volume create v2 >/dev/null
  echo data >"$TEST_ROOT/volumes/v1/_data/file"
  run_berth volume rm v1
  assert_success
  assert_output "v1"
  [ ! -e "$TEST_ROOT/volumes/v1" ]
  run_berth volume rm nope
  assert_failure 1
  assert_output "Error: get nope: no such volume"
  run_berth volume rm -f nope
  assert_success
  assert_output "nope"
  run_berth volume remove nope v2
  assert_failure 1
  assert_line "v2"
  assert_line "Error: get nope: no such volume"
  [ ! -e "$TEST_ROOT/volumes/v2" ]
  run_berth volume inspect v2
  assert_failure 1
  assert_line "[]"
  assert_line "Error: get v2: no such volume"
  # Nothing left staged in the store's tmp/ areas.
  [ -z "$(find "$TEST_ROOT/tmp" -mindepth 2 ! -name intents)" ]
}

@test "volume prune removes anonymous volumes; -a all unused; filters; confirmation" {
  berth volume create named >/dev/null
  berth volume create --label keep=yes kept >/dev/null
  run_berth volume create
  local anon=$output
  head -c 1000 /dev/zero >"$TEST_ROOT/volumes/$anon/_data/blob"

  run bash -c "echo n | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' volume prune"
  assert_success
  assert_output_contains "WARNING! This will remove anonymous local volumes not used by at least one container."
  [ -d "$TEST_ROOT/volumes/$anon" ]

  run_berth volume prune -f
  assert_success
  assert_output $'Deleted Volumes:\n'"$anon"$'\n\nTotal reclaimed space: 1kB'
  [ ! -e "$TEST_ROOT/volumes/$anon" ]

  run_berth volume prune -f
  assert_output "Total reclaimed space: 0B"

  run bash -c "echo n | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' volume prune -a"
  assert_output_contains "WARNING! This will remove all local volumes not used by at least one container."

  run_berth volume prune -a -f --filter 'label!=keep'
  assert_success
  assert_line "named"
  refute_line "kept"
  run_berth volume ls -q
  assert_output "kept"
  run_berth volume prune -a -f --filter label=keep=yes
  assert_line "kept"
  run_berth volume ls -q
  assert_output ""
  run_berth volume prune -f --filter until=1h
  assert_failure 1
  assert_output "Error: invalid filter 'until'"
}

@test "volume prune clears directories a crash left without a row" {
  mkdir -p "$TEST_ROOT/volumes/ghost/_data"
  run_berth volume ls -q
  assert_output ""
  run_berth volume prune -f
  assert_success
  [ ! -e "$TEST_ROOT/volumes/ghost" ]
}

@test "volume group help and unknown subcommands" {
  run_berth volume
  assert_success
  assert_line --partial "create    Create a volume"
  assert_line --partial "prune     Remove unused local volumes"
  run_berth volume frob
  assert_failure 1
  assert_output_contains "'volume frob' is not a berth command"
  run_berth --help
  assert_line --partial "volume      Manage volumes"
}
