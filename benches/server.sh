#!/usr/bin/env bash
# Load benchmark of `warden serve` with wrk (Debian's), each figure beside a
# no-op handler on the same stack measured in the same run:
#   /v1/decide (the checklist's request rules)  vs  GET /health (axum, no decision)
#   nginx auth_request -> warden -> upstream    vs  nginx auth_request -> warden /health -> upstream
# Usage: benches/server.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y --no-install-recommends wrk"; exit 2; }
command -v nginx >/dev/null || { echo "install nginx: apt-get install -y --no-install-recommends nginx"; exit 2; }
command -v curl >/dev/null || { echo "install curl: apt-get install -y --no-install-recommends curl"; exit 2; }
cargo build --release -q -p warden-cli
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WARDEN_LOG=error target/release/warden serve --policy stdlib-policies \
  --data catalog=tests/server/catalog.json --addr 127.0.0.1:0 --no-watch 2>"$DIR/warden.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q "listening on" "$DIR/warden.err" && break; sleep 0.1; done
WARDEN=$(grep -o '127.0.0.1:[0-9]*' "$DIR/warden.err" | head -1)
[ -n "$WARDEN" ] || { echo "warden serve did not start:"; cat "$DIR/warden.err"; exit 1; }

PORT=$(free_port); UPSTREAM_PORT=$(free_port)
mkdir -p "$DIR/tmp"
sed -e "s|\$DIR|$DIR|g" -e "s|\$PORT|$PORT|g" -e "s|\$UPSTREAM_PORT|$UPSTREAM_PORT|g" -e "s|\$WARDEN|$WARDEN|g" \
  benches/server/nginx.conf > "$DIR/nginx.conf"
nginx -c "$DIR/nginx.conf" -p "$DIR/" & PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/noop/" && break; sleep 0.1; done

run() { # name, then wrk arguments; prints "name rps p50 p99"
  local name=$1; shift
  local out; out=$(wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" --latency "$@")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  local errors; errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
  [ -n "$errors" ] && echo "  ($name: $errors)" >&2
  echo "$name $rps $p50 $p99"
}

ID=(-H "X-Auth-Request-User: u-123" -H "X-Auth-Request-Mfa: true")
{
  run noop_handler "http://$WARDEN/health"
  run decide -s benches/server/decide.lua "http://$WARDEN/v1/decide"
  run nginx_noop "${ID[@]}" "http://127.0.0.1:$PORT/noop/"
  run nginx_decide "${ID[@]}" "http://127.0.0.1:$PORT/crm-lite/records/1"
} > "$DIR/results"

python3 - "$DIR/results" <<'PY'
import sys
sys.path.insert(0, "benches")
from wrk import ms
rows = {}
for line in open(sys.argv[1]):
    name, rps, p50, p99 = line.split()
    rows[name] = (float(rps), ms(p50), ms(p99))
print(f"{'path':<14}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
for name, (rps, p50, p99) in rows.items():
    print(f"{name:<14}{rps:>10.0f}{p50:>9.3f}{p99:>9.3f}")
for path, base in (("decide", "noop_handler"), ("nginx_decide", "nginx_noop")):
    a, b = rows[path], rows[base]
    print(f"{path} / {base}: throughput {a[0]/b[0]:.2f}x, p50 {a[1]/b[1]:.2f}x, p99 {a[2]/b[2]:.2f}x")
PY
