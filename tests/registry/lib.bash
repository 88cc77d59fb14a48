# shellcheck shell=bash disable=SC2034,SC2154
# tests/registry/lib.bash: registries for the tests, all on 127.0.0.1 (sourced after helpers.bash).
#
#   start_registry MODE [DIR]   MODE: plain | tls | htpasswd | token | token-tls
#       Debian's docker-registry on a free port with a generated config under DIR (default
#       $BATS_TEST_TMPDIR/registry). Sets REG (127.0.0.1:PORT), REG_PORT, REG_DIR, REG_PID;
#       htpasswd/token: REG_USER/REG_PASS (alice/alice-pw; also bob/bob-pw with pull only);
#       token: TOKEN_PORT, TOKEN_PID, TOKEN_LOG (one "TOKEN user scopes" line per token issued);
#       tls: REG_CA (the test CA), REG_TLS_NAME (a non-localhost name of 127.0.0.1 from
#       /etc/hosts, or empty: with it the client must verify the certificate), REG_CERTS_DIR (certs.d layout, set as berth's
#       "registry-certs-dir" in $BERTH_CONFIG). Several registries: call it again with another
#       DIR after saving the variables.
#   stop_registry [DIR]         kills the registry (and token server) started for DIR.
#   push_fixture [REF] [ARCHIVE]   skopeo copy of $FIXTURES/busybox.tar (default) into
#       $REG/REF (default test/busybox:latest), using the mode's credentials and CA.
#   start_faultserver FAULT [ARGS...]   tests/registry/faultserver.py; sets FAULT (127.0.0.1:PORT),
#       FAULT_PID, FAULT_LOG, FAULT_LOGSRV (127.0.0.2:PORT of the log server), FAULT_LOGSRV_LOG.
#   stop_faultserver
#   reg_config_set KEY JSON    sets a key in this test's $BERTH_CONFIG.
#   reg_docker_login HOST USER PASS   writes auths[HOST] in $DOCKER_CONFIG/config.json.
#   reg_setup / reg_teardown   berth_setup/berth_teardown plus a private $DOCKER_CONFIG and the
#       killing of every server started here.

REGLIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REG_SERVER_PIDS=()

# _free_port: a TCP port free on 127.0.0.1 right now.
_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# _wait_port_file FILE: the port a server wrote (it binds port 0 itself: no race).
_wait_port_file() {
  local i
  for i in $(seq 1 100); do
    [[ -s $1 ]] && { cat "$1"; return 0; }
    sleep 0.05
  done
  echo "-- no port file $1 --" >&2
  return 1
}

reg_config_set() {
  python3 - "$BERTH_CONFIG" "$1" "$2" <<'EOF'
import json, sys
p, k, v = sys.argv[1:]
try:
    c = json.load(open(p))
except FileNotFoundError:
    c = {}
c[k] = json.loads(v)
json.dump(c, open(p, "w"))
EOF
}

reg_docker_login() {
  mkdir -p "$DOCKER_CONFIG"
  python3 - "$DOCKER_CONFIG/config.json" "$1" "$2" "$3" <<'EOF'
import base64, json, os, sys
p, host, user, pw = sys.argv[1:]
c = json.load(open(p)) if os.path.exists(p) else {}
c.setdefault("auths", {})[host] = {"auth": base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}
json.dump(c, open(p, "w"), indent=1)
EOF
}

# _loopback_alias: a host name other than localhost that /etc/hosts maps to 127.0.0.0/8 (e.g. the
# machine's own name), or nothing. Docker (and berth) treat localhost and 127.0.0.0/8 as insecure
# registries (TLS not verified), so only such a name makes the client verify certificates.
_loopback_alias() {
  awk '$1 ~ /^127\./ { for (i = 2; i <= NF; i++) if ($i !~ /^localhost/ && $i ~ /^[a-z][a-z0-9-]*$/) { print $i; exit } }' \
    /etc/hosts 2>/dev/null
}

# _mk_tls DIR: a test CA, a server certificate for 127.0.0.1, localhost and the loopback alias
# signed by it.
_mk_tls() {
  local d=$1 alias
  alias=$(_loopback_alias)
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
    -subj "/CN=berth test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || return 1
  openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
    -subj "/CN=127.0.0.1" 2>/dev/null || return 1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    "${alias:+,DNS:$alias}" >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/server.crt" -days 2 -extfile "$d/server.ext" 2>/dev/null
}

start_registry() {
  local mode=$1 dir=${2:-$BATS_TEST_TMPDIR/registry}
  mkdir -p "$dir/data"
  REG_DIR=$dir
  REG_USER=
  REG_PASS=
  REG_CA=
  REG_TLS_NAME=
  local auth='' tls='' scheme=http
  case $mode in
    plain) ;;
    tls)
      _mk_tls "$dir" || fail "openssl failed"
      tls="  tls: {certificate: $dir/server.crt, key: $dir/server.key}"
      scheme=https
      REG_CA=$dir/ca.crt
      ;;
    htpasswd)
      REG_USER=alice REG_PASS=alice-pw
      { htpasswd -Bbn alice alice-pw; htpasswd -Bbn bob bob-pw; } | grep -v '^$' >"$dir/htpasswd"
      auth="auth: {htpasswd: {realm: berth-test, path: $dir/htpasswd}}"
      ;;
    token | token-tls)
      # token-tls: the realm is https (test CA in the certs.d directory), the way a client may
      # send a password to a realm on another host:port
      REG_USER=alice REG_PASS=alice-pw
      local -a tlsargs=()
      if [[ $mode == token-tls ]]; then
        _mk_tls "$dir" || fail "openssl failed"
        tlsargs=(--tls-cert "$dir/server.crt" --tls-key "$dir/server.key")
      fi
      openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/token.key" -out "$dir/token.crt" \
        -days 2 -subj "/CN=berth test token issuer" 2>/dev/null || fail "openssl failed"
      cat >"$dir/users.json" <<'EOF'
{"users": {"alice": {"password": "alice-pw", "grant": {"*": ["pull", "push"]}},
           "bob": {"password": "bob-pw", "grant": {"*": ["pull"]}}},
 "anonymous": {"public/*": ["pull"]}}
EOF
      TOKEN_LOG=$dir/token.log
      rm -f "$dir/token.port"
      python3 "$REGLIB_DIR/tokenserver.py" --key "$dir/token.key" --cert "$dir/token.crt" \
        --users "$dir/users.json" --log "$TOKEN_LOG" --port-file "$dir/token.port" "${tlsargs[@]}" \
        </dev/null >"$dir/token.out" 2>&1 &
      TOKEN_PID=$!
      REG_SERVER_PIDS+=("$TOKEN_PID")
      echo "$TOKEN_PID" >"$dir/token.pid"
      TOKEN_PORT=$(_wait_port_file "$dir/token.port") || return 1
      local rs=http
      [[ $mode == token ]] || rs=https
      auth="auth: {token: {realm: \"$rs://127.0.0.1:$TOKEN_PORT/token\", service: berth-test-registry, issuer: berth-test-issuer, rootcertbundle: $dir/token.crt}}"
      ;;
    *) fail "start_registry: unknown mode $mode"; return 1 ;;
  esac
  local try
  for try in 1 2 3 4 5; do
    REG_PORT=$(_free_port)
    {
      echo "version: 0.1"
      echo "log: {level: error, accesslog: {disabled: false}}"
      echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
      echo "http:"
      echo "  addr: 127.0.0.1:$REG_PORT"
      [[ -z $tls ]] || echo "$tls"
      [[ -z $auth ]] || echo "$auth"
    } >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" </dev/null >"$dir/registry.log" 2>&1 &
    REG_PID=$!
    local i up=0
    for i in $(seq 1 100); do
      kill -0 "$REG_PID" 2>/dev/null || break
      if curl -s -o /dev/null ${REG_CA:+--cacert "$REG_CA"} "$scheme://127.0.0.1:$REG_PORT/v2/"; then
        up=1
        break
      fi
      sleep 0.05
    done
    if [[ $up == 1 ]]; then
      REG_SERVER_PIDS+=("$REG_PID")
      echo "$REG_PID" >"$dir/registry.pid"
      break
    fi
    kill "$REG_PID" 2>/dev/null
    wait "$REG_PID" 2>/dev/null
  done
  [[ $up == 1 ]] || { cat "$dir/registry.log" >&2; fail "docker-registry did not start"; return 1; }
  REG=127.0.0.1:$REG_PORT
  REG_SCHEME=$scheme
  if [[ $mode == token-tls ]]; then
    REG_CERTS_DIR=$dir/certs.d
    # the CA under the realm's host and under the registry's (Docker's token requests use the
    # registry's TLS settings)
    mkdir -p "$REG_CERTS_DIR/127.0.0.1:$TOKEN_PORT" "$REG_CERTS_DIR/$REG"
    cp "$dir/ca.crt" "$REG_CERTS_DIR/127.0.0.1:$TOKEN_PORT/ca.crt"
    cp "$dir/ca.crt" "$REG_CERTS_DIR/$REG/ca.crt"
    reg_config_set registry-certs-dir "\"$REG_CERTS_DIR\""
  fi
  if [[ $mode == tls ]]; then
    REG_CERTS_DIR=$dir/certs.d
    REG_TLS_NAME=$(_loopback_alias)
    local h
    for h in "$REG" "localhost:$REG_PORT" ${REG_TLS_NAME:+"$REG_TLS_NAME:$REG_PORT"}; do
      mkdir -p "$REG_CERTS_DIR/$h"
      cp "$REG_CA" "$REG_CERTS_DIR/$h/ca.crt"
    done
    reg_config_set registry-certs-dir "\"$REG_CERTS_DIR\""
  fi
  export REG REG_PORT REG_DIR REG_USER REG_PASS REG_CA REG_SCHEME REG_TLS_NAME
}

_kill_wait() {
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    local i
    for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}

stop_registry() {
  local dir=${1:-${REG_DIR:-}} pids=()
  [[ -n $dir ]] || return 0
  [[ -f $dir/registry.pid ]] && pids+=("$(cat "$dir/registry.pid")")
  [[ -f $dir/token.pid ]] && pids+=("$(cat "$dir/token.pid")")
  _kill_wait "${pids[@]}"
  rm -f "$dir/registry.pid" "$dir/token.pid"
}

# push_fixture [REF] [ARCHIVE]: an image into $REG with skopeo (not berth: the harness must not
# depend on the code under test).
push_fixture() {
  local ref=${1:-test/busybox:latest} archive=${2:-$FIXTURES/busybox.tar}
  local -a opts=(--dest-tls-verify=false)
  [[ -z $REG_CA ]] || opts=(--dest-cert-dir "$REG_CERTS_DIR/$REG")
  [[ -z $REG_USER ]] || opts+=(--dest-creds "$REG_USER:$REG_PASS")
  local src=docker-archive:$archive
  [[ $archive != *oci* ]] || src=oci-archive:$archive
  skopeo copy -q "${opts[@]}" "$src" "docker://$REG/$ref" >&2 ||
    fail "skopeo copy $archive -> $REG/$ref failed"
}

# reg_manifest_digest REF: the registry's digest for $REG/REF (skopeo inspect).
reg_manifest_digest() {
  local -a opts=(--tls-verify=false)
  [[ -z $REG_CA ]] || opts=(--cert-dir "$REG_CERTS_DIR/$REG")
  [[ -z $REG_USER ]] || opts+=(--creds "$REG_USER:$REG_PASS")
  skopeo inspect "${opts[@]}" --format '{{.Digest}}' "docker://$REG/$1"
}

start_faultserver() {
  local fault=$1
  shift
  local dir=$BATS_TEST_TMPDIR/fault.$RANDOM
  mkdir -p "$dir"
  FAULT_LOG=$dir/requests.log
  FAULT_LOGSRV_LOG=$dir/logserver.log
  python3 "$REGLIB_DIR/faultserver.py" --fault "$fault" --image "$FIXTURES/busybox.tar" \
    --log "$FAULT_LOG" --logsrv-log "$FAULT_LOGSRV_LOG" --port-file "$dir/port" "$@" \
    </dev/null >"$dir/out" 2>&1 &
  FAULT_PID=$!
  REG_SERVER_PIDS+=("$FAULT_PID")
  local ports
  ports=$(_wait_port_file "$dir/port") || { cat "$dir/out" >&2; return 1; }
  FAULT=127.0.0.1:${ports%% *}
  FAULT_LOGSRV=127.0.0.2:${ports##* }
  FAULT_DIR=$dir
  export FAULT FAULT_LOG FAULT_LOGSRV FAULT_LOGSRV_LOG FAULT_DIR
}

stop_faultserver() {
  [[ -n ${FAULT_PID:-} ]] && _kill_wait "$FAULT_PID"
  FAULT_PID=
}

# fault_blob_gets DIGEST: how many GETs of that blob the fault server served.
fault_blob_gets() {
  grep -c "^GET .*/blobs/$1" "$FAULT_LOG" || true
}

# fault_digests: "config layer..." digests of the fault server's image (from its info file).
fault_info() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
  "$FAULT_DIR/info.json" "$1"; }

reg_setup() {
  berth_setup
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker-config
  mkdir -p "$DOCKER_CONFIG"
  REG_SERVER_PIDS=()
  REG_DIR=
  REG_CA=
  REG_TLS_NAME=
  REG_USER=
  REG_PASS=
}

reg_teardown() {
  local rc=0
  _kill_wait "${REG_SERVER_PIDS[@]}"
  REG_SERVER_PIDS=()
  berth_teardown || rc=1
  return $rc
}

# store_tmp_empty: fail when berth left files in its store's tmp directory.
store_tmp_empty() {
  local left
  left=$(find "$TEST_ROOT/tmp" -mindepth 1 2>/dev/null | head -n 20)
  [[ -z $left ]] || fail "left in $TEST_ROOT/tmp:" "$left"
}

# images_snapshot: the repository:tag list of this test's store, sorted.
images_snapshot() {
  berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}' 2>&1 | sort
}

# reg_access_count ERE: access-log lines of the registry ($REG_DIR/registry.log) matching ERE,
# e.g. '"GET /v2/test/busybox/manifests/latest '.
reg_access_count() {
  grep -cE "$1" "$REG_DIR/registry.log" || true
}

# busybox_ids: the fixture's config digest (= image ID) and its one diff_id.
BUSYBOX_ID=sha256:c49a1a6e3dcb9358ded9a3e098d7f57409c5b2bf47943e20af7cd8f22f65fedf
