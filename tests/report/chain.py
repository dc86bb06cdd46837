#!/usr/bin/env python3
"""Writes a hash-chained decision log from lines without `seq`/`prev`, as
`warden serve` chains them, for the cases here: `chain.py IN.jsonl OUT.jsonl`.
A line whose object already has `seq` or `prev` keeps them (to make a break)."""
import hashlib
import json
import sys

prev = "sha256:" + "0" * 64
out = []
for number, text in enumerate(open(sys.argv[1]).read().splitlines(), 1):
    record = json.loads(text)
    record.setdefault("seq", number)
    record.setdefault("prev", prev)
    line = json.dumps(record, separators=(",", ":"))
    prev = "sha256:" + hashlib.sha256(line.encode()).hexdigest()
    out.append(line)
open(sys.argv[2], "w").write("\n".join(out) + "\n")
