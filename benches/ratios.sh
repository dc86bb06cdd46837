#!/usr/bin/env bash
# Runs the decision benchmarks and prints each Warden time as a ratio to its
# baseline measured in the same run (hand-written Rust; for the checklist,
# parsing the manifest's YAML) (the machine is shared and noisy;
# only same-run ratios mean anything).
#
# Then the peer benchmarks: the same workloads in regorus and cedar-policy
# beside Warden and the hand-written baseline (`--bench peers`), and W4, the
# memory to compile the checklist and load a 100,000-app catalog
# (`--bench memory`); their tables go into docs/performance.md, between
# `<!-- peers:begin -->` and `<!-- peers:end -->`.
#
#   benches/ratios.sh                       # everything (criterion defaults; peers ~3 min)
#   benches/ratios.sh --measurement-time 3  # criterion arguments go to `--bench decide`
#   PEERS_QUICK=1 benches/ratios.sh         # peers and memory as a smoke run: printed, docs left alone
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p warden-benches --bench decide -- "$@"
python3 - <<'PY'
import json, pathlib
import os
target = os.environ.get("CARGO_TARGET_DIR") or "target"
root = pathlib.Path(target) / "criterion"
for group, base in [("manifest_20_rules", "hand_written"), ("request_1000_app_catalog", "hand_written"), ("checklist_manifest", "yaml_parse")]:
    est = {}
    for side in ["warden", base]:
        f = root / group / side / "new" / "estimates.json"
        est[side] = json.loads(f.read_text())["median"]["point_estimate"]
    print(f"{group}: warden {est['warden']/1000:.2f} µs, {base} {est[base]/1000:.2f} µs, ratio {est['warden']/est[base]:.2f}x")
PY

cargo bench -p warden-benches --bench peers
cargo bench -p warden-benches --bench memory
if [ -z "${PEERS_QUICK:-}" ] || [ "${PEERS_QUICK}" = 0 ]; then
  cargo build --release -q -p warden-cli -p warden-benches --bins
  python3 benches/serve_memory.py
fi
python3 benches/render_tables.py
