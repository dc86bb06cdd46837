#!/usr/bin/env python3
"""W4 in `warden serve`: start time and memory (RSS) with a 100,000-app catalog.

Usage: benches/serve_memory.py [APPS] (default 100000); run from anywhere.
Builds nothing: expects target/release/warden and target/release/gen-catalog
(`cargo build --release -p warden-cli -p warden-benches --bins`).

Serves the checklist (stdlib-policies) with `--data catalog=FILE` (a catalog
in the checklist's shape from gen-catalog, about 600 bytes of JSON per app)
and measures, from /proc/PID/status:
  - start: from exec to the first answer of GET /health;
  - rss: resident memory once serving; start_peak: its high-water mark;
  - a reload with the data file unchanged (POST /v1/reload): its time and
    peak (the high-water mark is reset first: /proc/PID/clear_refs);
  - a reload after the file changed (one byte appended): its time and peak.
Writes target/peers/serve.json and prints it.
"""
import json, os, pathlib, socket, subprocess, sys, tempfile, time, urllib.request

root = pathlib.Path(__file__).resolve().parent.parent
# A relative CARGO_TARGET_DIR is taken from the workspace's root, as the benches take it.
target = root / (os.environ.get("CARGO_TARGET_DIR") or "target")
apps = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
warden, gen = target / "release" / "warden", target / "release" / "gen-catalog"
for binary in (warden, gen):
    if not binary.exists():
        sys.exit(f"{binary} is missing: cargo build --release -p warden-cli -p warden-benches --bins")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def status(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise KeyError(field)

def reset_peak(pid):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")

with tempfile.TemporaryDirectory() as tmp:
    catalog = pathlib.Path(tmp) / "catalog.json"
    subprocess.run([gen, str(apps), catalog], check=True)
    size = catalog.stat().st_size
    errors = open(pathlib.Path(tmp) / "warden.err", "w+")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    server = subprocess.Popen(
        [warden, "serve", "--policy", root / "stdlib-policies", "--data", f"catalog={catalog}",
         "--addr", f"127.0.0.1:{port}", "--admin-token", "bench", "--no-watch"],
        stdout=subprocess.DEVNULL, stderr=errors)
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/health", timeout=0.5).read()
                break
            except OSError:
                if server.poll() is not None:
                    errors.seek(0)
                    sys.exit(errors.read())
                time.sleep(0.01)
        start = time.monotonic() - t0
        time.sleep(0.5)
        rss, start_peak = status(server.pid, "VmRSS:"), status(server.pid, "VmHWM:")
        reload = urllib.request.Request(base + "/v1/reload", method="POST",
                                        headers={"Authorization": "Bearer bench"})

        def reload_measured():
            reset_peak(server.pid)
            t = time.monotonic()
            urllib.request.urlopen(reload, timeout=300).read()
            seconds = time.monotonic() - t
            time.sleep(0.5)
            return seconds, status(server.pid, "VmHWM:"), status(server.pid, "VmRSS:")

        same_s, same_peak, same_rss = reload_measured()
        with open(catalog, "a") as f:
            f.write("\n")
        changed_s, changed_peak, changed_rss = reload_measured()
    finally:
        server.terminate()
        server.wait()
        errors.close()

result = {
    "apps": apps, "json_bytes": size, "start_seconds": round(start, 3),
    "rss_bytes": rss, "start_peak_bytes": start_peak,
    "rss_over_json": round(rss / size, 2),
    "reload_same_seconds": round(same_s, 3), "reload_same_peak_bytes": same_peak,
    "reload_same_peak_over_rss": round(same_peak / rss, 2), "rss_after_reload_same": same_rss,
    "reload_changed_seconds": round(changed_s, 3), "reload_changed_peak_bytes": changed_peak,
    "reload_changed_peak_over_rss": round(changed_peak / rss, 2), "rss_after_reload_changed": changed_rss,
}
out = target / "peers" / "serve.json"
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(json.dumps(result, indent=1) + "\n")
print(json.dumps(result, indent=1))
print(f"wrote {out}")
