#!/usr/bin/env bash
# What answering only after logging costs: /v1/decide under load (wrk -t2
# -c32), all in one run, for
#   no decision log                                   (the baseline)
#   log, durability = "write" (group commit)          (the default)
#   log, durability = "fsync" (group commit + fdatasync)
#   and, with BASELINE_BIN=path, that build with its log (e.g. the build
#   before group commit, which answered before writing).
# Usage: benches/decision_log.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y --no-install-recommends wrk"; exit 2; }
cargo build --release -q -p warden-cli
DIR=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT

run() { # name, binary, extra serve arguments...; prints "name rps p50 p99"
  local name=$1 bin=$2; shift 2
  rm -f "$DIR/warden.err" "$DIR"/decisions*.jsonl
  WARDEN_LOG=error "$bin" serve --policy stdlib-policies --data catalog=tests/server/catalog.json \
    --addr 127.0.0.1:0 --no-watch "$@" 2>"$DIR/warden.err" &
  PID=$!
  for _ in $(seq 100); do grep -q "listening on" "$DIR/warden.err" && break; sleep 0.1; done
  local addr; addr=$(grep -o '127.0.0.1:[0-9]*' "$DIR/warden.err" | head -1)
  local out; out=$(wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" --latency -s benches/server/decide.lua "http://$addr/v1/decide")
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=
  local lines=0
  [ -f "$DIR/decisions.jsonl" ] && lines=$(wc -l < "$DIR/decisions.jsonl")
  echo "$name $(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out") $lines"
}

printf '[log]\ndurability = "write"\n' > "$DIR/write.toml"
printf '[log]\ndurability = "fsync"\n' > "$DIR/fsync.toml"
{
  run no_log target/release/warden
  run log_write target/release/warden --decision-log "$DIR/decisions.jsonl" --config "$DIR/write.toml"
  run log_fsync target/release/warden --decision-log "$DIR/decisions.jsonl" --config "$DIR/fsync.toml"
  if [ -n "${BASELINE_BIN:-}" ]; then
    run baseline_log "$BASELINE_BIN" --decision-log "$DIR/decisions.jsonl"
    run baseline_no_log "$BASELINE_BIN"
  fi
} > "$DIR/results"

python3 - "$DIR/results" <<'PY'
import sys
sys.path.insert(0, "benches")
from wrk import ms
rows = {}
for line in open(sys.argv[1]):
    name, rps, p50, p99, lines = line.split()
    rows[name] = (float(rps), ms(p50), ms(p99), int(lines))
print(f"{'server':<16}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'lines':>9}")
for name, (rps, p50, p99, lines) in rows.items():
    print(f"{name:<16}{rps:>10.0f}{p50:>9.3f}{p99:>9.3f}{lines:>9}")
base = rows["no_log"]
for name, row in rows.items():
    if name != "no_log":
        print(f"{name} / no_log: throughput {row[0]/base[0]:.2f}x, p50 {row[1]/base[1]:.2f}x, p99 {row[2]/base[2]:.2f}x")
if "baseline_log" in rows:
    a, b = rows["log_write"], rows["baseline_log"]
    print(f"log_write / baseline_log: throughput {a[0]/b[0]:.2f}x, p50 {a[1]/b[1]:.2f}x, p99 {a[2]/b[2]:.2f}x")
PY
