#!/usr/bin/env bats
# berth builder prune and the build cache in system df / system prune (without `berth build`:
# the cache itself is covered by tests/unit/test_store_build.c).

load helpers

@test "builder prune on an empty store" {
  run_berth builder prune -f
  assert_success
  assert_output "Total reclaimed space: 0B"
  run_berth builder prune -a -f --filter until=24h
  assert_success
  assert_output "Total reclaimed space: 0B"
  run_berth builder prune --force --all --filter unused-for=1h30m
  assert_success
}

@test "builder prune asks first, one line, and does nothing on no" {
  run bash -c "echo n | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' builder prune"
  assert_success
  assert_output "WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] "
  run bash -c "echo n | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' builder prune -a"
  assert_success
  assert_output "WARNING! This will remove all build cache. Are you sure you want to continue? [y/N] "
  run bash -c "echo y | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' builder prune"
  assert_success
  assert_output_contains "Total reclaimed space: 0B"
}

@test "builder prune rejects bad filters and arguments" {
  run_berth builder prune -f --filter until=7d
  assert_failure
  assert_output_contains "\"until\" filter expects a duration (e.g., '24h')"
  run_berth builder prune -f --filter until=1h --filter until=2h
  assert_failure
  assert_output_contains "filter expects only one value"
  run_berth builder prune -f --filter until=1h --filter unused-for=2h
  assert_failure
  assert_output_contains 'conflicting filters "until" and "unused-for"'
  run_berth builder prune -f --filter label=a=b
  assert_failure
  assert_output_contains "invalid filter 'label'"
  run_berth builder prune -f --filter nonsense
  assert_failure
  run_berth builder prune -f extra
  assert_failure
  run_berth builder nope
  assert_failure
}

@test "builder group help lists prune" {
  run_berth builder
  assert_success
  assert_output_contains "prune"
  run_berth builder prune --help
  assert_success
  assert_output_contains "Remove all unused build cache, not just dangling ones"
}

@test "system df has the Build Cache row; system prune mentions the build cache" {
  run_berth system df
  assert_success
  assert_output_matches 'Build Cache +0 +0 +0B +0B'
  run_berth system df --format '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}'
  assert_success
  assert_line "Build Cache 0 0 0B 0B"
  run bash -c "echo n | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' system prune"
  assert_success
  assert_output_contains "  - unused build cache"
  run bash -c "echo n | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' system prune -a"
  assert_success
  assert_output_contains "  - all build cache"
  run_berth system prune -f
  assert_success
  assert_output "Total reclaimed space: 0B"
}
