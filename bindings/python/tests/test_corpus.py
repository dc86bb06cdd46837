"""The decision corpus (`tests/decisions`) decided through Python: each
case must be decided exactly as its `.decision` file says, the file the
Rust library's runner (crates/warden/tests/decisions.rs) holds it to."""
import json
import pathlib

import pytest

import warden

ROOT = pathlib.Path(__file__).resolve().parents[3]
CASES = sorted((ROOT / "tests/decisions").glob("*/cases/*.json"))


def project(decision):
    for volatile in ("decision_id", "policy_revision", "data_revision"):
        decision.pop(volatile, None)
    return decision


@pytest.mark.parametrize("case_path", CASES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_the_case_is_decided_as_the_library_decides_it(case_path):
    case = json.loads(case_path.read_text())
    suite = case_path.parent.parent
    engine = warden.Engine.from_folder(
        suite / "policy",
        data=case.get("data"),
        data_files=[str(suite / f) for f in case.get("data_files", [])],
    )
    expected = case_path.with_suffix(".decision").read_text()
    try:
        actual = project(engine.decide(case["target"], case["input"], now=case["now"],
                                       explain=case.get("explain", False)))
    except warden.WardenError as error:
        assert expected == f"error {error.code}\n{error.message}\n"
        return
    assert not expected.startswith("error "), f"expected {expected.splitlines()[0]}"
    assert actual == json.loads(expected)


def test_the_corpus_is_all_there():
    assert len(CASES) >= 80
