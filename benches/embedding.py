#!/usr/bin/env python3
"""The cost of one decision through each way of embedding Warden, measured
in one run on one machine: the Rust library (`profile-decide serve`), the
Python package, the WebAssembly package under Node, and `warden serve`'s
`POST /v1/decide` over a kept-alive HTTP connection. Every way decides the
same checklist gateway request against the same catalog.

    cargo build --release -p warden-benches --bin profile-decide
    cargo build --release -p warden-cli
    pip install ./bindings/python && sh bindings/wasm/build.sh
    python3 benches/embedding.py [N]

Prints microseconds per decision and the ratio to the Rust library
(ratios, not absolute times, are what compare across machines).
"""

import http.client
import json
import pathlib
import socket
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
N = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
CATALOG = ROOT / "tests/server/catalog.json"
REQUEST = {
    "principal": {"id": "u-123", "type": "user", "authenticated_via": "sso", "mfa": True},
    "action": "read",
    "resource": {"type": "record", "app_id": "crm-lite", "id": "r-1"},
    "context": {"ip": "10.1.2.3", "request_id": "req-1"},
}
NOW = "2026-06-01T00:00:00Z"


def rust():
    binary = ROOT / "target/release/profile-decide"

    def run(n):
        started = time.perf_counter()
        subprocess.run([binary, "serve", str(n)], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    setup = min(run(0) for _ in range(3))
    return (run(N) - setup) / N


def python():
    import warden

    engine = warden.Engine.from_folder(ROOT / "stdlib-policies", data_files=[f"catalog={CATALOG}"])
    assert engine.decide("request", REQUEST, now=NOW)["decision"] == "allow"
    started = time.perf_counter()
    for _ in range(N):
        engine.decide("request", REQUEST, now=NOW)
    return (time.perf_counter() - started) / N


NODE = """
const fs = require('fs'), path = require('path');
const { Engine } = require(%(package)s);
const root = %(root)s, n = %(n)d;
function below(dir, base = dir, out = {}) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'examples' && e.name !== 'tests') below(full, base, out); }
    else if (e.name.endsWith('.warden') || e.name.endsWith('.json')) out[path.relative(base, full)] = fs.readFileSync(full, 'utf8');
  }
  return out;
}
const engine = Engine.compile(below(path.join(root, 'stdlib-policies')),
  { catalog: JSON.parse(fs.readFileSync(%(catalog)s, 'utf8')) });
const request = %(request)s;
if (engine.decide('request', request, { now: %(now)s }).decision !== 'allow') throw new Error('not allowed');
const started = process.hrtime.bigint();
for (let i = 0; i < n; i++) engine.decide('request', request, { now: %(now)s });
console.log(Number(process.hrtime.bigint() - started) / 1e9 / n);
"""


def wasm():
    script = NODE % {
        "package": json.dumps(str(ROOT / "bindings/wasm")),
        "root": json.dumps(str(ROOT)),
        "n": N,
        "catalog": json.dumps(str(CATALOG)),
        "request": json.dumps(REQUEST),
        "now": json.dumps(NOW),
    }
    out = subprocess.run(["node", "-e", script], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def over_http():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [ROOT / "target/release/warden", "serve", "--policy", ROOT / "stdlib-policies",
         "--data", f"catalog={CATALOG}", "--addr", f"127.0.0.1:{port}", "--no-watch"],
        stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/ready")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        body = json.dumps({"target": "request", "input": REQUEST, "now": NOW})
        headers = {"Content-Type": "application/json"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = max(N // 10, 1000)
        started = time.perf_counter()
        for _ in range(n):
            connection.request("POST", "/v1/decide", body, headers)
            connection.getresponse().read()
        return (time.perf_counter() - started) / n
    finally:
        server.terminate()
        server.wait(timeout=20)


def main():
    results = [("Rust library", rust()), ("Python package", python()),
               ("WebAssembly (Node)", wasm()), ("HTTP /v1/decide", over_http())]
    base = results[0][1]
    print(f"{'way':<22}{'µs/decision':>14}{'× Rust':>9}")
    for name, seconds in results:
        print(f"{name:<22}{seconds * 1e6:>14.1f}{seconds / base:>9.1f}")


if __name__ == "__main__":
    main()
