#!/usr/bin/env bash
# What running as a fleet replica costs one `warden serve` (release build,
# the checklist with tests/server/catalog.json), each figure beside the plain
# server measured in the same run, POST /v1/decide driven by wrk:
#   plain               --policy/--data, no decision log
#   logged              + --decision-log (group commit, durability write)
#   shipped             + --ship-http to an nginx sink answering 204
#   bundle              the same policies and data from a signed bundle,
#                       polled every second from nginx, logged and shipped
# After each shipped run: how far the sink is behind (queue depth, lag).
# Usage: benches/fleet.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y --no-install-recommends wrk"; exit 2; }
command -v nginx >/dev/null || { echo "install nginx: apt-get install -y --no-install-recommends nginx"; exit 2; }
command -v curl >/dev/null || { echo "install curl: apt-get install -y --no-install-recommends curl"; exit 2; }
cargo build --release -q -p warden-cli
W=target/release/warden
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# nginx: the log sink (takes any POST, answers 204) and the bundle source.
NGINX_PORT=$(free_port)
mkdir -p "$DIR/tmp" "$DIR/www"
chmod 755 "$DIR" "$DIR/www"   # nginx's workers read the bundle as another user
cat > "$DIR/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $DIR/tmp;
  proxy_temp_path $DIR/tmp;
  fastcgi_temp_path $DIR/tmp;
  uwsgi_temp_path $DIR/tmp;
  scgi_temp_path $DIR/tmp;
  client_max_body_size 16m;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $DIR/www;
    location = /ingest { return 204; }
  }
}
EOF
nginx -c "$DIR/nginx.conf" -p "$DIR/" & PIDS+=($!)
$W keygen -o "$DIR/release" >/dev/null
$W build --policy stdlib-policies --data catalog=tests/server/catalog.json \
  -o "$DIR/www/bundle.tar.gz" --sign-key "$DIR/release.pem" >/dev/null
chmod 644 "$DIR/www/bundle.tar.gz"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/bundle.tar.gz" && break; sleep 0.1; done

start() { # name, then serve arguments; sets ADDR and SERVER
  local name=$1; shift
  WARDEN_LOG=error $W serve --addr 127.0.0.1:0 --no-watch "$@" 2>"$DIR/$name.err" &
  SERVER=$!
  for _ in $(seq 200); do grep -q "listening on" "$DIR/$name.err" && break; sleep 0.1; done
  ADDR=$(grep "listening on" "$DIR/$name.err" | grep -o '127.0.0.1:[0-9]*' | head -1)
  [ -n "$ADDR" ] || { echo "warden serve ($name) did not start:"; cat "$DIR/$name.err"; exit 1; }
}

run() { # name, then serve arguments; prints "name rps p50 p99 [queue lag]"
  local name=$1; shift
  start "$name" "$@"
  local out; out=$(wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" --latency -s benches/server/decide.lua "http://$ADDR/v1/decide")
  local shipping=""
  if grep -q -- --ship-http <<<"$*"; then
    local status; status=$(curl -s --max-time 10 "http://$ADDR/v1/status")
    shipping=$(python3 -c 'import json,sys; s=json.loads(sys.argv[1])["shipping"][0]; print(s["queue_depth"], s["lag_seconds"])' "$status") \
      || { echo "($name: no status: $status)" >&2; cat "$DIR/$name.err" >&2; }
  fi
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  local errors; errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
  [ -n "$errors" ] && echo "  ($name: $errors)" >&2
  echo "$name $(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out") $shipping"
}

SET=(--policy stdlib-policies --data catalog=tests/server/catalog.json)
{
  run plain "${SET[@]}"
  run logged "${SET[@]}" --decision-log "$DIR/logged.jsonl"
  run shipped "${SET[@]}" --decision-log "$DIR/shipped.jsonl" --ship-http "http://127.0.0.1:$NGINX_PORT/ingest"
  run bundle --bundle "http://127.0.0.1:$NGINX_PORT/bundle.tar.gz" --verify-key "$DIR/release.pub.pem" --poll 1s \
    --decision-log "$DIR/bundle.jsonl" --ship-http "http://127.0.0.1:$NGINX_PORT/ingest"
} > "$DIR/results"

python3 - "$DIR/results" <<'PY'
import sys
sys.path.insert(0, "benches")
from wrk import ms
rows = {}
for line in open(sys.argv[1]):
    name, rps, p50, p99, *ship = line.split()
    rows[name] = (float(rps), ms(p50), ms(p99), ship)
base = rows["plain"]
print("| server | req/s | p50 | p99 | × plain req/s | × plain p99 | sink behind at the end |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
for name, (rps, p50, p99, ship) in rows.items():
    behind = f"{ship[0]} lines, {float(ship[1]):.2f} s" if ship else "—"
    print(f"| {name} | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {rps / base[0]:.2f}× | {p99 / base[2]:.2f}× | {behind} |")
PY
