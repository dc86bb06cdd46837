#!/usr/bin/env bash
# Runs the decision benchmarks and prints each Warden time as a ratio to the
# hand-written baseline measured in the same run (the machine is shared and noisy;
# only same-run ratios mean anything).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p warden-benches --bench decide -- "$@"
python3 - <<'PY'
import json, pathlib
root = pathlib.Path("target/criterion")
for group in ["manifest_20_rules", "request_1000_app_catalog"]:
    est = {}
    for side in ["warden", "hand_written"]:
        f = root / group / side / "new" / "estimates.json"
        est[side] = json.loads(f.read_text())["median"]["point_estimate"]
    print(f"{group}: warden {est['warden']/1000:.2f} µs, hand-written {est['hand_written']/1000:.2f} µs, ratio {est['warden']/est['hand_written']:.2f}x")
PY
