"""What the bench scripts share about wrk's output."""


def ms(text):
    """A wrk latency (`812.00us`, `1.36ms`, `2.01s`) in milliseconds."""
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit) and not (unit == "s" and text.endswith(("us", "ms"))):
            return float(text[: -len(unit)]) * factor
    return float(text)
