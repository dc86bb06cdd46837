"""The package as a Python user calls it."""
import datetime
import json

import pytest

import warden

NOW = "2026-05-20T00:00:00Z"


@pytest.fixture
def checklist(root):
    return warden.Engine.from_folder(
        root / "stdlib-policies",
        data_files=[f"catalog={root / 'stdlib-policies/examples/catalog.json'}"],
    )


def test_a_request_is_decided_as_the_example_names_it(checklist, root):
    for path in sorted((root / "stdlib-policies/examples/requests").glob("*.json")):
        decision = checklist.decide("request", json.loads(path.read_text()), now=NOW)
        expected = path.name.split("--")[0]
        assert decision["decision"] == expected, path.name
        if expected == "deny":
            control = path.name.split("--")[1]
            assert control in [f.get("control") for f in decision["findings"]], path.name
        assert decision["policy_revision"] == checklist.revision


def test_a_manifest_is_checked_as_warden_check_does(checklist, root):
    manifests = root / "stdlib-policies/examples/manifests"
    assert checklist.check(manifests / "compliant.yaml", now=NOW)["decision"] == "allow"
    failing = checklist.check(manifests / "failing/IAM-1-local-accounts.yaml", now=NOW)
    assert failing["decision"] == "deny"
    assert {f["control"] for f in failing["findings"]} == {"IAM-1"}


def test_now_may_be_an_aware_datetime(checklist, root):
    request = json.loads((root / "stdlib-policies/examples/requests/allow--editor-writes.json").read_text())
    at = datetime.datetime(2026, 5, 20, tzinfo=datetime.timezone.utc)
    assert checklist.decide("request", request, now=at)["evaluated_at"] == "2026-05-20T00:00:00Z"
    with pytest.raises(ValueError):
        checklist.decide("request", request, now=datetime.datetime(2026, 5, 20))


def test_data_may_be_given_as_a_dict(root):
    catalog = json.loads((root / "stdlib-policies/examples/catalog.json").read_text())
    engine = warden.Engine.from_folder(root / "stdlib-policies", data={"catalog": catalog})
    request = json.loads((root / "stdlib-policies/examples/requests/deny--REQ-1--disabled-app.json").read_text())
    assert engine.decide("request", request, now=NOW)["decision"] == "deny"


def test_the_policy_tests_run(root):
    run = warden.Engine.from_folder(root / "stdlib-policies").run_tests()
    assert run["summary"]["failed"] == 0 and run["summary"]["errors"] == 0
    assert run["summary"]["passed"] == run["summary"]["total"] > 100


def test_a_policy_that_does_not_compile_raises_its_coded_diagnostics(tmp_path):
    (tmp_path / "p.warden").write_text(
        "package p\n\ntarget request: { user: string } default allow\n\n"
        "rule r on request as r {\n  deny when r.usr == \"x\"\n}\n"
    )
    with pytest.raises(warden.CompileError) as raised:
        warden.Engine.from_folder(tmp_path)
    error = raised.value
    assert error.code == "E0102"
    first = error.diagnostics[0]
    assert (first["code"], first["line"]) == ("E0102", 6)
    assert first["file"].endswith("p.warden")
    assert "usr" in first["message"]
    assert isinstance(error, warden.WardenError)


def test_decision_errors_carry_their_codes(checklist):
    with pytest.raises(warden.WardenError) as raised:
        checklist.decide("no_such_target", {}, now=NOW)
    assert raised.value.code == "E0404"
    assert not isinstance(raised.value, warden.CompileError)
    with pytest.raises(warden.WardenError) as raised:
        checklist.decide("request", {"principal": 7}, now=NOW)
    assert raised.value.code == "E0401"
    with pytest.raises(warden.WardenError):
        checklist.decide("request", {}, now="yesterday")


def test_the_engine_describes_itself(checklist):
    assert {"name": "request", "default_allow": False} in checklist.targets()
    assert any(r["control"] == "IAM-1" for r in checklist.rules())
    assert checklist.revision.startswith("sha256:")
    assert warden.__version__


def test_values_that_are_no_json_or_no_time_are_refused_clearly(checklist, root, tmp_path):
    request = json.loads((root / "stdlib-policies/examples/requests/allow--editor-writes.json").read_text())
    with pytest.raises(ValueError, match="not a JSON value"):
        checklist.decide("request", {**request, "x": float("nan")}, now=NOW)

    class NoOffset(datetime.tzinfo):
        def utcoffset(self, dt):
            return None

    with pytest.raises(ValueError, match="aware"):
        checklist.decide("request", request, now=datetime.datetime(2026, 5, 20, tzinfo=NoOffset()))
    for budget in (True, -1, 1.5):
        with pytest.raises(ValueError, match="budget"):
            checklist.decide("request", request, now=NOW, budget=budget)
    with pytest.raises(ValueError, match="path"):
        warden.Engine.from_folder([])
    # One data file may be given as a string, not only as a list.
    engine = warden.Engine.from_folder(
        root / "stdlib-policies", data_files=f"catalog={root / 'stdlib-policies/examples/catalog.json'}")
    assert engine.decide("request", request, now=NOW)["decision"] == "allow"


def test_warnings_and_skipped_files_are_told(tmp_path):
    import os

    (tmp_path / "p.warden").write_text(
        "package p\n\ntarget input: { x: int } default allow\n\n"
        "rule r on input as i {\n  let unused = 1\n  deny when i.x > 0\n}\n"
    )
    os.mkfifo(tmp_path / "pipe.warden")
    engine = warden.Engine.from_folder(tmp_path)
    codes = [w["code"] for w in engine.warnings]
    assert "W0001" in codes, engine.warnings
    skipped = [w for w in engine.warnings if w["code"] == "W0006"]
    assert len(skipped) == 1 and skipped[0]["file"].endswith("pipe.warden"), skipped
