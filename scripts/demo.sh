#!/bin/bash
# `make demo`: berth's main job, offline, on the bundled demo image.
# Builds a busybox image from Debian's busybox-static, loads it, and shows what berth knows.
# The demo uses its own store (.demo/root) so it never touches /var/lib/berth.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BERTH:-./build/berth}
DEMO=.demo
mkdir -p "$DEMO"
ROOT=$PWD/$DEMO/root RUNROOT=$PWD/$DEMO/run
b() { echo; echo "\$ berth $*"; "$B" --root "$ROOT" --runroot "$RUNROOT" "$@"; }

echo "== building the demo image offline (tests/fixtures/mkimages)"
tests/fixtures/mkimages "$DEMO/images" >/dev/null
ls -l "$DEMO/images/busybox.tar"

b --version
b load -i "$DEMO/images/busybox.tar"
b images
b image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} layers={{len .RootFS.Layers}} cmd={{json .Config.Cmd}}' busybox
b history busybox
b tag busybox demo/busybox:v1
b images --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}'
b save -o "$DEMO/busybox-saved.tar" demo/busybox:v1
echo "saved $(stat -c %s "$DEMO/busybox-saved.tar") bytes to $DEMO/busybox-saved.tar (docker load / skopeo read it)"
b rmi demo/busybox:v1

echo; echo "== containers"
b run --rm busybox echo "hello from a container"
b run --rm --memory 64m --cpus 0.5 busybox sh -c 'cat /proc/self/status | grep -E "^(CapEff|Seccomp):"'
b run -d --name demo-web -v demo-data:/srv busybox sh -c 'echo started; exec sleep 1000'
b ps
b exec demo-web sh -c 'echo hi >/srv/note; ls -l /srv'
b logs demo-web
b top demo-web
b stop -t 1 demo-web
b ps -a --format 'table {{.Names}}\t{{.Status}}'
b rm demo-web
b volume ls
b volume rm demo-data

echo; echo "== networks"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
b run -d --name demo-httpd -p "127.0.0.1:$port:80" busybox sh -c 'mkdir -p /www && echo "hello through a published port" >/www/index.html && exec httpd -f -p 80 -h /www'
b port demo-httpd
for _ in $(seq 50); do
  out=$(busybox wget -q -O- "http://127.0.0.1:$port/" 2>/dev/null) && break
  sleep 0.1
done
echo "\$ wget http://127.0.0.1:$port/  ->  ${out:-(no answer)}"
b network create demo-net
b run -d --name demo-db --network demo-net --network-alias database busybox sleep 1000
b run --rm --network demo-net busybox sh -c 'grep -E "demo-db|database" /etc/hosts; ping -c1 -W2 database | head -2'
b rm -f demo-httpd demo-db
b network rm demo-net

echo; echo "== build"
mkdir -p "$DEMO/app"
echo "hello from a Dockerfile" >"$DEMO/app/hello.txt"
cat >"$DEMO/app/Dockerfile" <<'EOF'
from busybox
ARG GREETING=hi
WORKDIR /app
COPY hello.txt .
RUN echo "$GREETING, built at build time" > built.txt
CMD ["sh", "-c", "cat /app/hello.txt /app/built.txt"]
EOF
b build --progress plain -t demo/app:v1 "$DEMO/app"
b run --rm demo/app:v1
b build --progress plain --build-arg GREETING=bonjour -t demo/app:v1 "$DEMO/app"
b run --rm demo/app:v1
b history demo/app:v1
b run --name demo-ctr busybox sh -c 'echo changed >/tmp/x; rm /bin/true'
b diff demo-ctr
b commit -m "from the demo" demo-ctr demo/snap:1
b rm demo-ctr
b rmi demo/app:v1 demo/snap:1

echo; echo "== registry (Debian's docker-registry on 127.0.0.1, offline)"
regport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$DEMO/registry"
cat >"$DEMO/registry/config.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $PWD/$DEMO/registry/data}}
http: {addr: 127.0.0.1:$regport}
EOF
docker-registry serve "$DEMO/registry/config.yml" >"$DEMO/registry/log" 2>&1 &
regpid=$!
trap 'kill $regpid 2>/dev/null || true' EXIT
for _ in $(seq 50); do busybox wget -q -O- "http://127.0.0.1:$regport/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
b tag busybox "127.0.0.1:$regport/demo/busybox:v1"
b push "127.0.0.1:$regport/demo/busybox:v1"
b rmi "127.0.0.1:$regport/demo/busybox:v1"
b pull "127.0.0.1:$regport/demo/busybox:v1"
b run --rm "127.0.0.1:$regport/demo/busybox:v1" echo "pulled back and running"

echo; echo "== compose"
mkdir -p "$DEMO/compose"
cat >"$DEMO/compose/compose.yaml" <<'EOF'
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo web up; exec sleep 1000"]
    depends_on: [cache]
  cache:
    image: busybox
    command: ["sh", "-c", "echo cache up; exec sleep 1000"]
    volumes: [cachedata:/data]
volumes:
  cachedata:
EOF
b compose --project-directory "$DEMO/compose" -p demo up -d
b compose -p demo ps
b compose -p demo exec -T web ping -c1 -W2 cache
b compose -p demo logs
b compose -p demo down -v
kill $regpid 2>/dev/null || true
b image prune -f
b system df
echo
echo "Demo store: $ROOT — try: $B --root $ROOT images"
