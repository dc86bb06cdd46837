#!/usr/bin/env python3
"""Renders the peer, memory and serve results (target/peers/*.json, written by
`cargo bench -p warden-benches --bench peers`, `--bench memory` and
`benches/serve_memory.py`) into docs/performance.md, between
`<!-- peers:begin -->` and `<!-- peers:end -->`, and prints them.
`PEERS_QUICK=1`: renders the quick results, prints only.
"""
import datetime, json, os, pathlib, re

quick = os.environ.get("PEERS_QUICK", "") not in ("", "0")
# Run from the workspace's root; a relative CARGO_TARGET_DIR is taken from there.
os.chdir(pathlib.Path(__file__).resolve().parent.parent)
target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or "target")
suffix = "-quick" if quick else ""
peers = json.loads((target / "peers" / f"results{suffix}.json").read_text())
memory = json.loads((target / "peers" / f"memory{suffix}.json").read_text())

def lock_version(name):
    text = pathlib.Path("Cargo.lock").read_text()
    m = re.search(r'\[\[package\]\]\nname = "' + re.escape(name) + r'"\nversion = "([^"]+)"', text)
    return m.group(1) if m else "?"

def us(ns):
    if ns is None:
        return "n/a"
    if ns < 10_000:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns / 1e3:.1f} µs" if ns < 1_000_000 else f"{ns / 1e3:,.0f} µs"

def per_sec(x):
    return "n/a" if x is None else f"{x:,.0f}"

def ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.2f}×"

def mb(b):
    return f"{b / 1e6:,.1f} MB"

command = ("`benches/ratios.sh` (all of it, about 10 minutes), or just these tables: "
           "`cargo bench -p warden-benches --bench peers && cargo bench -p warden-benches --bench memory && "
           "cargo build --release -p warden-cli -p warden-benches --bins && python3 benches/serve_memory.py && "
           "python3 benches/render_tables.py`")
lines = [
    f"Measured {datetime.date.today().isoformat()} with regorus {lock_version('regorus')} and "
    f"cedar-policy {lock_version('cedar-policy')} (default features), by `benches/ratios.sh`; "
    "every engine decides each workload's checks alike before it is timed. "
    "Median and p99 of the samples, decisions per second over the time measured, "
    "and the median as a multiple of the hand-written code's and of Warden's. "
    "A sample is one decision, or for decisions under 2 µs the mean of a batch of them "
    "(`target/peers/results.json` says how many).",
    "",
]
workloads = []
for r in peers:
    if r["workload"] not in workloads:
        workloads.append(r["workload"])
for w in workloads:
    rows = [r for r in peers if r["workload"] == w]
    median = {r["engine"]: r["median_ns"] for r in rows}
    hand, warden = median.get("hand-written"), median.get("Warden")
    lines += [f"**{w}**", "",
              "| engine | median | p99 | decisions/s | × hand-written | × Warden |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['engine']} | {us(r['median_ns'])} | {us(r['p99_ns'])} | {per_sec(r['per_sec'])} "
                     f"| {ratio(r['median_ns'], hand)} | {ratio(r['median_ns'], warden)} |")
    lines.append("")
    lines += [f"- {r['engine']}: {r['note']}" for r in rows]
    lines.append("")
lines += ["**W4: compiling the checklist and loading a catalog (library)**", "",
          "| what | engine | time | peak | held |",
          "| --- | --- | ---: | ---: | ---: |"]
for r in memory:
    lines.append(f"| {r['what']} | {r['engine']} | {r['seconds']:.2f} s | {mb(r['peak_bytes'])} | {mb(r['held_bytes'])} |")
lines.append("")
lines += [f"- {r['what']}, {r['engine']}: {r['note']}" for r in memory]
lines += ["",
          "Memory here is what the allocator was asked for (live bytes, counted by a wrapping global "
          "allocator), not RSS: `peak` is the most a step added at once, `held` what it keeps once done."]
serve_file = target / "peers" / "serve.json"
if not quick and serve_file.exists():
    s = json.loads(serve_file.read_text())
    lines += ["", f"**W4 in `warden serve`**: the checklist with `--data catalog=FILE`, "
              f"{s['apps']:,} apps, {mb(s['json_bytes'])} of JSON (`benches/serve_memory.py`; RSS from `/proc`)", "",
              "| what | time | memory | ratio | RSS after |",
              "| --- | ---: | ---: | ---: | ---: |",
              f"| start (exec to the first `/health` answer) | {s['start_seconds']:.2f} s | RSS {mb(s['rss_bytes'])} "
              f"(peak {mb(s['start_peak_bytes'])}) | RSS {s['rss_over_json']:.2f}× the JSON | |",
              f"| reload, data file unchanged | {s['reload_same_seconds']:.2f} s | peak {mb(s['reload_same_peak_bytes'])} "
              f"| {s['reload_same_peak_over_rss']:.2f}× steady RSS | {mb(s['rss_after_reload_same'])} |",
              f"| reload, data file changed | {s['reload_changed_seconds']:.2f} s | peak {mb(s['reload_changed_peak_bytes'])} "
              f"| {s['reload_changed_peak_over_rss']:.2f}× steady RSS | {mb(s['rss_after_reload_changed'])} |"]
lines += ["", f"Reproduce: {command}."]
body = "\n".join(lines)
print("\n" + body)

if quick:
    print("\n(PEERS_QUICK: a smoke run; docs/performance.md left as it is)")
else:
    doc = pathlib.Path("docs/performance.md")
    text = doc.read_text()
    begin, end = "<!-- peers:begin -->", "<!-- peers:end -->"
    if begin not in text:
        section = (
            "## Beside other engines\n\n"
            "The bench's workloads written the way a user of "
            "[regorus](https://github.com/microsoft/regorus) (Rego) or "
            "[cedar-policy](https://github.com/cedar-policy/cedar) (Cedar) would write them "
            "(`benches/peers/`), timed beside Warden and the hand-written baseline in one run "
            "(`benches/benches/peers.rs`), and W4, the time and memory to compile the checklist and "
            "load a 100,000-app catalog (`benches/benches/memory.rs`). `benches/ratios.sh` writes "
            "what follows.\n\n"
            f"{begin}\n{end}\n\n"
        )
        at = text.find("\n## ")
        text = text + "\n" + section if at < 0 else text[:at + 1] + section + text[at + 1:]
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{begin}\n{body}\n{end}{tail}")
    print(f"\nwrote the tables into {doc}")
