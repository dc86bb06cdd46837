"""Deciding releases the GIL: another Python thread runs while a decision
is inside the engine. The check is not a speed: it is whether the other
thread made any progress strictly inside a long decision."""
import sys
import threading
import time

import warden

POLICY = """package heavy

type Item = { size: int, tags: [string] }

target input: { items: [Item] } default allow

/// Some item is as big as the number of items with a tag the first has.
rule pairs on input as i {
  deny when any a in i.items: count([b for b in i.items if b.size == a.size]) > 1000000
}
"""


def test_deciding_releases_the_gil(tmp_path):
    (tmp_path / "p.warden").write_text(POLICY)
    engine = warden.Engine.from_folder(tmp_path)
    # A decision long enough to see inside (doubled until it takes 0.3 s).
    size, budget = 200, 10**12
    while True:
        items = [{"size": n % 7, "tags": []} for n in range(size)]
        started = time.monotonic()
        decision = engine.decide("input", {"items": items}, budget=budget)
        if time.monotonic() - started >= 0.3 or size >= 100_000:
            break
        size *= 2
    assert decision["decision"] == "allow", decision  # decided whole, not cut by the budget
    sys.setswitchinterval(0.001)
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.monotonic())

    other = threading.Thread(target=spin)
    other.start()
    try:
        time.sleep(0.05)
        inside = []
        for _ in range(3):
            before = time.monotonic()
            engine.decide("input", {"items": items}, budget=budget)
            after = time.monotonic()
            # Ticks well inside the call: none while the engine held the GIL.
            margin = 0.02
            inside.append(sum(1 for t in ticks if before + margin < t < after - margin))
    finally:
        stop.set()
        other.join()
    assert all(n > 0 for n in inside), inside


def test_threads_share_one_engine(tmp_path, root):
    import json

    engine = warden.Engine.from_folder(
        root / "stdlib-policies", data_files=[f"catalog={root / 'stdlib-policies/examples/catalog.json'}"]
    )
    requests = [json.loads(p.read_text()) for p in sorted((root / "stdlib-policies/examples/requests").glob("*.json"))]
    expected = [engine.decide("request", r, now="2026-05-20T00:00:00Z")["decision"] for r in requests]
    results = {}

    def work(n):
        results[n] = [engine.decide("request", r, now="2026-05-20T00:00:00Z")["decision"] for r in requests]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[n] == expected for n in range(8))
