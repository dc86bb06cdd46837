#!/usr/bin/env python3
"""Check that the Rego and Cedar ports decide as Warden does.

    /tmp/peers-venv/bin/python validate.py [--warden PATH] [--w3 10,10000]

Needs the Python bindings (see README.md): `regorus` (the celine-regorus
wheel, regorus 0.9.1) and `cedarpy` (cedar-policy 4.12.0). Warden's own
decisions come from its CLI (`warden decide`), by default
../../target/release/warden; without it, the reference is the Python port
of hand_written::decide_request and the known finding counts.

W1  manifest.rego over the sample manifest and a few variants: the number
    of findings per rule, against Warden's.
W2  request.rego (interpreter, and compiled to the RVM), request.cedar and
    the hand-written port over catalog(1000) and benches::request() plus
    variants: allowed and mask, against Warden's.
W3  gen_w3.py N for each N: both requests, in all three.
Exits non-zero on any disagreement.
"""

import argparse
import collections
import copy
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ["RUST_BACKTRACE"] = os.environ["RUST_LIB_BACKTRACE"] = "0"  # terse binding errors

import cedarpy  # noqa: E402
import regorus  # noqa: E402
from regorus import regorus as regorus_native  # noqa: E402  (Program, Rvm: not re-exported)

# The regorus 0.9.1 Python binding turns a Python bool into a number
# (True -> 1), so documents go in as JSON text: set_input_json, add_data_json.

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import gen_w3  # noqa: E402
import peers_data as pd  # noqa: E402

FAILURES = []


def check(label, ok, detail="", quiet=False):
    if not ok or not quiet:
        print(f"  {'ok  ' if ok else 'FAIL'} {label}{(': ' + detail) if detail else ''}")
    if not ok:
        FAILURES.append(label)


def read(path):
    with open(path) as f:
        return f.read()


# ---- Warden, through its CLI ------------------------------------------------


class Warden:
    def __init__(self, exe):
        self.exe = exe

    def decide(self, policy, target, input_doc, now=pd.NOW, data_file=None):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(input_doc, f)
            path = f.name
        cmd = [self.exe, "decide", "--policy", policy, "--target", target, "--now", now]
        if data_file:
            cmd += ["--data", data_file]
        try:
            out = subprocess.run(cmd + [path], capture_output=True, text=True, check=False)
        finally:
            os.unlink(path)
        if not out.stdout.strip():
            raise RuntimeError(f"warden decide failed: {out.stderr}")
        return json.loads(out.stdout)


def warden_rule_counts(decision):
    """Deny findings per rule, the package taken off (bench.rules.tls -> tls)."""
    return collections.Counter(
        f["rule"].rsplit(".", 1)[-1] for f in decision["findings"] if f["effect"] == "deny")


# ---- W1 ---------------------------------------------------------------------


def manifest_variants(base):
    def v(f):
        m = copy.deepcopy(base)
        f(m)
        return m

    def no_sso(m):
        m["spec"]["auth"].update(sso="none", local_accounts=True, mfa="optional")
        del m["spec"]["auth"]["scim"]

    def roles(m):
        m["spec"]["roles"] = [
            {"name": "reader", "template": "Viewer", "default": True},
            {"name": "ed", "template": "Editor", "default": True},
            {"name": "root", "template": "Admin", "justification": None},
        ]

    def tiers(m):
        m["metadata"]["risk_tier"] = "low"
        m["metadata"]["template"] = "handmade@1"
        m["spec"]["data"].update(classification="restricted", pii_protection="none")
        m["spec"]["storage"].update(encrypted_at_rest=False, key_management="none",
                                    database_access="global_credentials")

    def logs(m):
        m["spec"]["logging"].update(siem="none", audit_events=["auth"], immutable=False)
        m["spec"]["logging"]["retention_days"]["audit"] = 30
        m["spec"]["runtime"]["sandbox"] = "none"
        m["spec"]["network"]["egress_allowlist"].append("*.evil.example")
        m["spec"]["endpoints"].append({"url": "http://old.example", "tls_min_version": "1.3"})

    def lifetime(m):
        m["metadata"].update(registered_at="2026-01-01T00:00:00Z", expires_at="2026-05-01T00:00:00Z")
        m["metadata"]["approval"]["status"] = "pending"

    def compliant(m):
        m["spec"]["endpoints"][1]["tls_min_version"] = "1.3"
        m["spec"]["secrets"] = [m["spec"]["secrets"][0]]
        m["spec"]["integrations"] = [m["spec"]["integrations"][0]]

    return [
        ("sample manifest", base),
        ("no SSO, local accounts, MFA optional, no SCIM", v(no_sso)),
        ("two default roles, Admin without justification or expiry", v(roles)),
        ("low tier, restricted PII unprotected, unencrypted, global creds", v(tiers)),
        ("no SIEM, audit gaps, mutable logs, no sandbox, wildcard egress, http", v(logs)),
        ("180-day registration, expired, review pending", v(lifetime)),
        ("compliant", v(compliant)),
    ]


def w1(warden):
    print("W1 manifest, 20 rules (rego/manifest.rego)")
    base = json.loads(read(os.path.join(BENCHES, "policies", "manifest.json")))
    engine = regorus.Engine()
    engine.add_policy_from_file(os.path.join(HERE, "rego", "manifest.rego"))
    engine.add_data_json(json.dumps({"now": pd.NOW}))
    entry = "data.bench.manifest.violations"
    vm = regorus_native.Rvm()
    vm.load_program(regorus_native.Program.compile_from_modules(
        json.dumps({"now": pd.NOW}), [("manifest.rego", read(os.path.join(HERE, "rego", "manifest.rego")))],
        [entry]))
    vm.set_data_json(json.dumps({"now": pd.NOW}))
    for label, manifest in manifest_variants(base):
        engine.set_input_json(json.dumps(manifest))
        violations = json.loads(engine.eval_rule_as_json(entry))
        rego = collections.Counter(v["rule"] for v in violations)
        vm.set_input_json(json.dumps(manifest))
        rvm = collections.Counter(v["rule"] for v in json.loads(vm.execute_entry_point(entry)))
        check(f"{label}: RVM agrees with the interpreter", rvm == rego, f"{dict(rvm)}", quiet=True)
        line = f"{label}: regorus {sum(rego.values())} violations (interpreter = RVM)"
        if warden:
            decision = warden.decide(os.path.join(BENCHES, "policies", "manifest"), "manifest",
                                     manifest)
            ref = warden_rule_counts(decision)
            line += f", Warden {sum(ref.values())} findings"
            check(line, rego == ref, "" if rego == ref else f"regorus {dict(rego)} Warden {dict(ref)}")
        else:
            check(line, label != "sample manifest" or sum(rego.values()) == 5)
        if label == "sample manifest":
            check("sample manifest has 5 findings", sum(rego.values()) == 5,
                  ", ".join(sorted(v["rule"] for v in violations)))


# ---- W2 ---------------------------------------------------------------------


def w2_cases():
    base = pd.request()

    def r(app=None, user=None, action=None, now=pd.NOW, **changes):
        q = copy.deepcopy(base)
        if app:
            q["resource"]["app_id"] = app
        if user:
            q["principal"]["id"] = user
        if action:
            q["action"] = action
        for k, v in changes.items():
            if k in ("type", "authenticated_via", "mfa"):
                q["principal"][k] = v
            else:
                q["context"][k] = v
        return q, now

    # app-0500: public, u-1 Admin; app-0501: internal, u-1 Viewer;
    # app-0502: confidential, u-1 Editor; app-0049: retired.
    return [
        ("benches::request(): Viewer reads app-0501", *r()),
        ("Viewer writes", *r(action="write")),
        ("unknown app app-9999", *r(app="app-9999")),
        ("expired app (now 2027-01-01)", *r(now="2027-01-01T00:00:00Z")),
        ("no MFA, confidential app-0502 (Editor)", *r(app="app-0502", mfa=False)),
        ("MFA, confidential app-0502 (Editor reads, no mask)", *r(app="app-0502")),
        ("no MFA, public app-0500 (Admin deletes)", *r(app="app-0500", action="delete", mfa=False)),
        ("Admin runs `admin` on app-0500", *r(app="app-0500", action="admin")),
        ("Editor deletes on app-0502", *r(app="app-0502", action="delete")),
        ("retired app-0049", *r(app="app-0049")),
        ("local sign-in", *r(authenticated_via="local")),
        ("Viewer bulk read, 5,000 records", *r(records_requested=5000)),
        ("Editor bulk read, 5,000 records", *r(app="app-0502", records_requested=5000)),
        ("unbound user u-999", *r(user="u-999")),
        ("egress to an allow-listed host", *r(action="egress", destination_host="api-501.vendor.example")),
        ("egress elsewhere", *r(action="egress", destination_host="evil.example")),
        ("service, token, no MFA, on app-0502", *r(app="app-0502", type="service",
                                                     authenticated_via="token", mfa=False)),
    ]


class RegoGateway:
    """request.rego in the interpreter (Engine) and compiled to the RVM."""

    ENTRY = "data.bench.gateway.decision"

    def __init__(self, data):
        self.src = read(os.path.join(HERE, "rego", "request.rego"))
        self.data = data
        self.engines = {}
        self.programs = {}

    def engine(self, now):
        if now not in self.engines:
            e = regorus.Engine()
            e.add_policy("request.rego", self.src)
            e.add_data_json(json.dumps(self.data))
            e.add_data_json(json.dumps({"now": now}))
            self.engines[now] = e
        return self.engines[now]

    def decide(self, req, now):
        e = self.engine(now)
        e.set_input_json(json.dumps(req))
        d = json.loads(e.eval_rule_as_json(self.ENTRY))
        return d["allow"], d["obligations"].get("mask", []), sorted(d["deny_reasons"])

    def decide_rvm(self, req, now):
        if now not in self.programs:
            data = dict(self.data, now=now)
            program = regorus_native.Program.compile_from_modules(
                json.dumps(data), [("request.rego", self.src)], [self.ENTRY])
            vm = regorus_native.Rvm()
            vm.load_program(program)
            vm.set_data_json(json.dumps(data))
            self.programs[now] = vm
        vm = self.programs[now]
        vm.set_input_json(json.dumps(req))
        d = json.loads(vm.execute_entry_point(self.ENTRY))
        return d["allow"], d["obligations"].get("mask", [])


class CedarGateway:
    def __init__(self, data):
        self.data = data
        self.schema = cedarpy.Schema.from_str(read(os.path.join(HERE, "cedar", "request.cedarschema")))
        src = read(os.path.join(HERE, "cedar", "request.cedar"))
        self.policies = cedarpy.PolicySet.from_str(src)
        self.validation = cedarpy.validate_policies(src, self.schema)
        static = json.loads(cedarpy.policies_to_json_str(src))["staticPolicies"]
        self.annotations = {pid: p.get("annotations", {}) for pid, p in static.items()}
        t = time.time()
        self.entities = cedarpy.Entities.from_json_str(json.dumps(pd.cedar_entities(data)),
                                                       schema=self.schema)
        self.entities_seconds = time.time() - t

    def decide(self, req, now):
        res = cedarpy.is_authorized(pd.cedar_request(req, now), self.policies, self.entities,
                                    schema=self.schema)
        allowed = res.allowed
        reasons = res.diagnostics.reasons
        app = self.data["catalog"]["apps"].get(req["resource"]["app_id"])
        mask = pd.cedar_mask(allowed, [self.annotations[p] for p in reasons], app)
        forbids = sorted(self.annotations[p]["id"] for p in reasons if not allowed)
        return allowed, mask, forbids, len(res.diagnostics.errors)


def w2(warden):
    print("W2 gateway request over catalog(1000) (rego/request.rego, cedar/request.cedar)")
    data = pd.catalog(1000)
    rego = RegoGateway(data)
    cedar = CedarGateway(data)
    check("request.cedar validates against request.cedarschema (strict)",
          cedar.validation.validation_passed, str(cedar.validation))
    print(f"  (Cedar: {len(pd.cedar_entities(data))} entities, "
          f"Entities built in {cedar.entities_seconds * 1000:.0f} ms)")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(data, f)
        data_file = f.name
    try:
        for label, req, now in w2_cases():
            hw_allow, hw_mask, hw_denies = pd.hand_written_decide(req, data, now)
            ref = (hw_allow, hw_mask)
            agree = ["hand-written"]
            if warden:
                d = warden.decide(os.path.join(BENCHES, "policies", "request"), "request", req,
                                  now, data_file)
                w = (d["decision"] == "allow", d.get("obligations", {}).get("mask", []))
                w_denies = sum(f["effect"] == "deny" for f in d["findings"])
                check(f"{label}: Warden and hand-written agree",
                      w == ref and w_denies == hw_denies, f"{w}/{w_denies} vs {ref}/{hw_denies}",
                      quiet=True)
                agree.insert(0, "Warden")
            r_allow, r_mask, r_reasons = rego.decide(req, now)
            rvm = rego.decide_rvm(req, now)
            c_allow, c_mask, c_forbids, c_errors = cedar.decide(req, now)
            got = {"regorus": (r_allow, r_mask), "regorus-rvm": rvm, "cedar": (c_allow, c_mask)}
            ok = all(v == ref for v in got.values()) and len(r_reasons) == hw_denies
            verdict = ("allow" if ref[0] else "deny") + (f" mask={ref[1]}" if ref[1] else "")
            extra = ""
            if not ref[0]:
                extra = f" ({hw_denies} deny findings = rego deny_reasons; cedar forbids {c_forbids}"
                extra += f", {c_errors} policies skipped on errors)" if c_errors else ")"
            check(f"{label}: {verdict}{extra}", ok,
                  f"{' = '.join(agree + list(got))}" if ok else json.dumps(dict(got, rego_reasons=r_reasons)))
    finally:
        os.unlink(data_file)


# ---- W3 ---------------------------------------------------------------------


def w3(warden, n):
    print(f"W3 per-app rules, N={n} (gen_w3.py)")
    out = tempfile.mkdtemp(prefix=f"w3-{n}-")
    gen_w3.generate(n, out)
    expected = json.loads(read(os.path.join(out, "expected.json")))

    t = time.time()
    engine = regorus.Engine()
    for name in sorted(os.listdir(os.path.join(out, "rego"))):
        engine.add_policy_from_file(os.path.join(out, "rego", name))
    engine.set_input_json("{}")
    engine.eval_rule("data.bench.w3.allow")
    rego_load = time.time() - t

    schema = cedarpy.Schema.from_str(read(os.path.join(out, "cedar", "w3.cedarschema")))
    t = time.time()
    policies = cedarpy.PolicySet.from_str(read(os.path.join(out, "cedar", "w3.cedar")))
    cedar_load = time.time() - t
    entities = cedarpy.Entities.from_json_str("[]", schema=schema)
    validation = cedarpy.validate_policies(read(os.path.join(out, "cedar", "w3.cedar")), schema)
    check("w3.cedar validates against w3.cedarschema", validation.validation_passed, str(validation),
          quiet=True)

    t = time.time()
    modules = [(name, read(os.path.join(out, "rego", name)))
               for name in sorted(os.listdir(os.path.join(out, "rego")))]
    try:
        vm = regorus_native.Rvm()
        vm.load_program(regorus_native.Program.compile_from_modules("{}", modules, ["data.bench.w3.allow"]))
        rvm_note = f"regorus RVM compile {(time.time() - t) * 1000:.0f} ms"
    except RuntimeError as e:
        # RVM programs address instructions with u16: at most 65,535 of them.
        vm = None
        rvm_note = "regorus RVM: " + str(e).splitlines()[0]
    print(f"  (load: regorus {rego_load * 1000:.0f} ms, {rvm_note}, cedar {cedar_load * 1000:.0f} ms)")

    for name in ("request_allow", "request_deny"):
        req = json.loads(read(os.path.join(out, name + ".json")))
        want = expected[name]
        engine.set_input_json(json.dumps(req))
        r_allow = engine.eval_rule("data.bench.w3.allow")
        rvm_allow = want["allow"]  # not checked when the program did not compile
        if vm:
            vm.set_input_json(json.dumps(req))
            rvm_allow = json.loads(vm.execute_entry_point("data.bench.w3.allow"))
        res = cedarpy.is_authorized(
            {"principal": f'User::"{req["principal"]["id"]}"', "action": f'Action::"{req["action"]}"',
             "resource": f'App::"{req["resource"]["app_id"]}"', "context": {}},
            policies, entities, schema=schema)
        c_rules = sorted(res.diagnostics.id_annotations_by_reason.values())
        line = f"{name} ({req['principal']['id']} reads {req['resource']['app_id']})"
        ok = r_allow == want["allow"] and rvm_allow == want["allow"] and res.allowed == want["allow"] \
            and c_rules == ([want["rule"]] if want["rule"] else [])
        detail = f"regorus {r_allow}, RVM {rvm_allow if vm else 'n/a'}, cedar {res.allowed} by {c_rules}"
        if warden:
            t = time.time()
            d = warden.decide(os.path.join(out, "warden"), "request", req)
            w_secs = time.time() - t
            w_rules = sorted(f["rule"].rsplit(".", 1)[-1] for f in d["findings"]
                             if f["effect"] == "allow")
            ok = ok and (d["decision"] == "allow") == want["allow"] \
                and w_rules == ([want["rule"]] if want["rule"] else [])
            detail += f", Warden {d['decision']} by {w_rules} ({w_secs * 1000:.0f} ms, CLI incl. compile)"
        check(f"{line}: {'allow' if want['allow'] else 'deny'}", ok, detail)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warden", default=os.path.join(BENCHES, "..", "target", "release", "warden"))
    ap.add_argument("--w3", default="10,10000")
    args = ap.parse_args()
    warden = Warden(os.path.abspath(args.warden)) if os.path.exists(args.warden) else None
    print(f"regorus (Python wheel celine-regorus, regorus 0.9.1), cedarpy (cedar-policy 4.12.0), "
          f"Warden: {os.path.abspath(args.warden) if warden else 'not found; hand-written port only'}")
    w1(warden)
    w2(warden)
    for n in args.w3.split(","):
        w3(warden, int(n))
    print(f"{'all agree' if not FAILURES else str(len(FAILURES)) + ' disagreement(s)'}")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
