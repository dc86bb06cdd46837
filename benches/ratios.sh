#!/usr/bin/env bash
# Runs the decision benchmarks and prints each Warden time as a ratio to its
# baseline measured in the same run (hand-written Rust; for the checklist,
# parsing the manifest's YAML) (the machine is shared and noisy;
# only same-run ratios mean anything).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p warden-benches --bench decide -- "$@"
python3 - <<'PY'
import json, pathlib
root = pathlib.Path("target/criterion")
for group, base in [("manifest_20_rules", "hand_written"), ("request_1000_app_catalog", "hand_written"), ("checklist_manifest", "yaml_parse")]:
    est = {}
    for side in ["warden", base]:
        f = root / group / side / "new" / "estimates.json"
        est[side] = json.loads(f.read_text())["median"]["point_estimate"]
    print(f"{group}: warden {est['warden']/1000:.2f} µs, {base} {est[base]/1000:.2f} µs, ratio {est['warden']/est[base]:.2f}x")
PY
