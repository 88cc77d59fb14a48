#!/usr/bin/env bats
# Registry authentication and configuration: htpasswd basic auth, Bearer tokens from the test
# token server (tests/registry/tokenserver.py; tokens cached per scope), login/logout writing
# Docker's config file in a private $DOCKER_CONFIG, credential helpers (credsStore,
# credHelpers) with a fake docker-credential-bertest, and TLS with a test CA through a certs.d
# directory ("registry-certs-dir" in berth's config).

load helpers
load ../registry/lib

setup() { reg_setup; }
teardown() { reg_teardown; }

# auths_key KEY: the "auth" stored for KEY in $DOCKER_CONFIG/config.json, decoded ("" if none).
auths_of() {
  python3 - "$DOCKER_CONFIG/config.json" "$1" <<'PY'
import base64, json, os, sys
p, k = sys.argv[1:]
c = json.load(open(p)) if os.path.exists(p) else {}
a = c.get("auths", {}).get(k, {}).get("auth")
print(base64.b64decode(a).decode() if a else "")
PY
}

# fake_helper: docker-credential-bertest on PATH, keeping its store in $BATS_TEST_TMPDIR/helper.json
# and logging its calls to helper.log.
fake_helper() {
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  cat >"$BATS_TEST_TMPDIR/bin/docker-credential-bertest" <<PY
#!/usr/bin/env python3
import json, os, sys
store = "$BATS_TEST_TMPDIR/helper.json"
db = json.load(open(store)) if os.path.exists(store) else {}
op = sys.argv[1]
data = sys.stdin.read()
open("$BATS_TEST_TMPDIR/helper.log", "a").write(op + " " + (data.strip() if op != "store" else json.loads(data)["ServerURL"]) + "\n")
if op == "get":
    if data.strip() not in db:
        print("credentials not found in native keychain"); sys.exit(1)
    u, s = db[data.strip()]
    print(json.dumps({"ServerURL": data.strip(), "Username": u, "Secret": s}))
elif op == "store":
    o = json.loads(data); db[o["ServerURL"]] = [o["Username"], o["Secret"]]
elif op == "erase":
    if data.strip() not in db:
        print("credentials not found in native keychain"); sys.exit(1)
    del db[data.strip()]
json.dump(db, open(store, "w"))
PY
  chmod +x "$BATS_TEST_TMPDIR/bin/docker-credential-bertest"
  export PATH=$BATS_TEST_TMPDIR/bin:$PATH
}

@test "htpasswd: anonymous pull refused; login, pull, push, logout; Docker's messages" {
  start_registry htpasswd
  push_fixture test/busybox:latest
  run_berth pull "$REG/test/busybox:latest"
  assert_failure
  assert_output_matches "no basic auth credentials|unauthorized|authentication required"
  run_berth login -u alice -p wrong "$REG"
  assert_failure
  assert_output_matches "unauthorized|incorrect username or password|authentication required"
  [[ ! -s $DOCKER_CONFIG/config.json || -z $(auths_of "$REG") ]] || fail "a failed login stored credentials"
  run_berth login -u alice -p alice-pw "$REG"
  assert_success
  assert_output_contains "WARNING! Using --password via the CLI is insecure. Use --password-stdin."
  assert_line -n -1 "Login Succeeded"
  assert_equal "$(auths_of "$REG")" "alice:alice-pw"
  assert_equal "$(stat -c %a "$DOCKER_CONFIG/config.json")" 600
  run_berth pull "$REG/test/busybox:latest"
  assert_success
  berth tag "$REG/test/busybox:latest" "$REG/test/pushed:1"
  run_berth push "$REG/test/pushed:1"
  assert_success
  skopeo inspect --tls-verify=false --creds alice:alice-pw "docker://$REG/test/pushed:1" >/dev/null ||
    fail "the push did not land"
  run_berth logout "$REG"
  assert_success
  assert_output "Removing login credentials for $REG"
  assert_equal "$(auths_of "$REG")" ""
  berth rmi "$REG/test/busybox:latest" >/dev/null
  run_berth pull "$REG/test/busybox:latest"
  assert_failure
  run_berth logout "$REG"
  assert_success
  assert_output_contains "Not logged in to $REG"
}

@test "htpasswd: --password-stdin; a login written by Docker (auths) is used; other keys kept" {
  start_registry htpasswd
  push_fixture test/busybox:latest
  printf '{"auths": {"other.example:5000": {"auth": "eDp5"}}, "psFormat": "keep-me"}\n' \
    >"$DOCKER_CONFIG/config.json"
  run bash -c "printf 'alice-pw\n' | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' login -u alice --password-stdin '$REG'"
  echo "$output"
  assert_success
  assert_line -n -1 "Login Succeeded"
  refute_output_contains "WARNING! Using --password"
  assert_equal "$(auths_of "$REG")" "alice:alice-pw"
  assert_equal "$(auths_of other.example:5000)" "x:y"
  grep -q '"psFormat": *"keep-me"' "$DOCKER_CONFIG/config.json" || fail "another key was lost"
  # Docker's own format, written by hand: berth uses it
  rm "$DOCKER_CONFIG/config.json"
  reg_docker_login "$REG" bob bob-pw
  run_berth pull "$REG/test/busybox:latest"
  assert_success
}

@test "credsStore and credHelpers: docker-credential-<name> get/store/erase" {
  start_registry htpasswd
  push_fixture test/busybox:latest
  fake_helper
  echo '{"credsStore": "bertest"}' >"$DOCKER_CONFIG/config.json"
  run_berth login -u alice -p alice-pw "$REG"
  assert_success
  assert_line -n -1 "Login Succeeded"
  grep -q "^store $REG\$" "$BATS_TEST_TMPDIR/helper.log" || fail "the helper was not asked to store"
  grep -q "alice-pw" "$DOCKER_CONFIG/config.json" && fail "the password went into config.json"
  grep -q "YWxpY2U6YWxpY2UtcHc" "$DOCKER_CONFIG/config.json" && fail "the auth went into config.json"
  run_berth pull "$REG/test/busybox:latest"
  assert_success
  grep -q "^get $REG\$" "$BATS_TEST_TMPDIR/helper.log" || fail "the helper was not asked to get"
  run_berth logout "$REG"
  assert_success
  grep -q "^erase $REG\$" "$BATS_TEST_TMPDIR/helper.log" || fail "the helper was not asked to erase"
  # credHelpers for this registry only wins over credsStore
  : >"$BATS_TEST_TMPDIR/helper.log"
  printf '{"%s": ["alice", "alice-pw"]}' "$REG" >"$BATS_TEST_TMPDIR/helper.json"
  printf '{"credsStore": "missing-helper", "credHelpers": {"%s": "bertest"}}' "$REG" \
    >"$DOCKER_CONFIG/config.json"
  berth rmi "$REG/test/busybox:latest" >/dev/null
  run_berth pull "$REG/test/busybox:latest"
  assert_success
  grep -q "^get $REG\$" "$BATS_TEST_TMPDIR/helper.log" || fail "credHelpers was not used"
}

# token_pull_push MODE: anonymous and authenticated pulls, one token per scope, push scopes.
token_pull_push() {
  start_registry "$1"
  push_fixture public/busybox:latest
  push_fixture test/multi:latest "$FIXTURES/multi.tar"
  : >"$TOKEN_LOG"
  run_berth pull "$REG/public/busybox:latest"
  assert_success
  run cat "$TOKEN_LOG"
  assert_output "TOKEN - repository:public/busybox:pull"
  run_berth pull "$REG/test/multi:latest"
  assert_failure
  assert_output_matches "denied|unauthorized|authentication required"
  run_berth login -u alice -p alice-pw "$REG"
  assert_success
  assert_line -n -1 "Login Succeeded"
  : >"$TOKEN_LOG"
  # 3 layers and a config fetched (in parallel) with one token
  run_berth pull "$REG/test/multi:latest"
  assert_success
  run grep -c '^TOKEN alice repository:test/multi:pull$' "$TOKEN_LOG"
  assert_output 1
  run grep -vc '^TOKEN alice repository:test/multi:pull$' "$TOKEN_LOG"
  assert_output 0
  # push: one token for pull,push on the target (plus at most one for a mount source)
  : >"$TOKEN_LOG"
  berth tag "$REG/test/multi:latest" "$REG/test/copy:latest"
  run_berth push "$REG/test/copy:latest"
  assert_success
  grep -q '^TOKEN alice repository:test/copy:pull,push' "$TOKEN_LOG" ||
    grep -q '^TOKEN alice .*repository:test/copy:push,pull' "$TOKEN_LOG" || fail "no push token: $(cat "$TOKEN_LOG")"
  # one token per scope set (a mount from another repository asks for that one's pull too)
  [[ -z $(sort "$TOKEN_LOG" | uniq -d) ]] || fail "a token asked for twice: $(cat "$TOKEN_LOG")"
  [[ $(wc -l <"$TOKEN_LOG") -le 4 ]] || fail "tokens not cached: $(cat "$TOKEN_LOG")"
}

@test "token (realm on another port, plain http, as docker-compose setups have it): pulls, cache" {
  token_pull_push token
}

@test "token (realm over https): anonymous and authenticated pulls, tokens cached per scope" {
  token_pull_push token-tls
}

# token_rights MODE: a pull-only user cannot push; a wrong password is refused at login.
token_rights() {
  start_registry "$1"
  push_fixture test/busybox:latest
  run_berth login -u bob -p wrong "$REG"
  assert_failure
  assert_output_matches "unauthorized|incorrect username or password|invalid"
  grep -q '^DENY bob' "$TOKEN_LOG" || fail "the token server did not see the wrong password"
  run_berth login -u bob -p bob-pw "$REG"
  assert_success
  run_berth pull "$REG/test/busybox:latest"
  assert_success
  berth tag "$REG/test/busybox:latest" "$REG/test/bobs:1"
  run_berth push "$REG/test/bobs:1"
  assert_failure
  assert_output_matches "denied|unauthorized|authentication required"
  run skopeo inspect --tls-verify=false --creds alice:alice-pw "docker://$REG/test/bobs:1"
  assert_failure
}

@test "token (realm on another port, plain http): a wrong password fails login; pull-only user" {
  token_rights token
}

@test "token (realm over https): a wrong password fails login; a pull-only user cannot push" {
  token_rights token-tls
}

@test "TLS: a registry with a test CA in the certs.d directory; an unknown CA is refused" {
  start_registry tls
  push_fixture test/busybox:latest
  run_berth pull "$REG/test/busybox:latest"
  assert_success
  assert_line "Status: Downloaded newer image for $REG/test/busybox:latest"
  # it really was TLS: the registry has no plain-HTTP port, and its log saw the pull
  [[ $(reg_access_count '"GET /v2/test/busybox/manifests/latest') -ge 1 ]] || fail "no GET seen over TLS"
  berth tag "$REG/test/busybox:latest" "localhost:$REG_PORT/test/viahost:1"
  run_berth push "localhost:$REG_PORT/test/viahost:1"
  assert_success
  # 127.0.0.1 and localhost are insecure registries (as in Docker: TLS not verified); a name
  # of 127.0.0.1 that is not localhost is verified against certs.d
  [[ -n $REG_TLS_NAME ]] || skip "no non-localhost name for 127.0.0.1 in /etc/hosts"
  local named=$REG_TLS_NAME:$REG_PORT/test/busybox:latest
  run_berth pull "$named"
  assert_success
  assert_line "Status: Downloaded newer image for $named"
  # the same registry with a certs dir that does not know the CA
  mkdir -p "$BATS_TEST_TMPDIR/empty-certs"
  reg_config_set registry-certs-dir "\"$BATS_TEST_TMPDIR/empty-certs\""
  berth rmi "$named" >/dev/null
  run_berth pull "$named"
  assert_failure
  assert_output_matches "certificate|x509|SSL|TLS"
  run_berth image inspect "$named"
  assert_failure
}
