#!/usr/bin/env python3
"""W3, per-app rules: write N per-app rules for Warden, Rego and Cedar.

    python3 gen_w3.py N OUTDIR

App i (id app-0000 … ; rule name app_0000 …) lets three users do a few
actions on its own resources:

    users    u-{100 + (i*7 + j) % 500} for j = 0, 1, 2 (the first three users
             catalog(n) binds to app i besides u-1)
    actions  ["read"], ["read", "write"] or ["read", "write", "delete"], by i % 3

and nothing else. The three policy sets are default deny and say the same
thing: a request is allowed when its app's rule holds, and only that rule can
hold (every rule tests the app id). OUTDIR gets:

    warden/schema.warden          package bench.w3: the Request type and target
    warden/apps_NNN.warden        the rules, 1,000 a file, package bench.w3
    rego/w3.rego                  package bench.w3: `default allow := false`
    rego/apps_NNN.rego            `allow`, one body per app, 1,000 a file
    cedar/w3.cedar                one permit per app, resource == App::"app-…"
    cedar/w3.cedarschema          User, App, the five actions
    request_allow.json            matches exactly one rule (app N/2, its first user, read)
    request_deny.json             matches none (app N/2, u-1, whom no rule names)
    expected.json                 the rule each request should match

The requests have the gateway's Request shape (benches::request()), so the
Warden input type is the gateway's. Cedar needs no entities for W3
(Entities::empty()): principal, action and resource are compared by uid.
"""

import json
import os
import sys

ACTION_SETS = [["read"], ["read", "write"], ["read", "write", "delete"]]
FILE_CHUNK = 1000


def app_spec(i, width):
    return {
        "app_id": f"app-{i:0{width}d}",
        "rule": f"app_{i:0{width}d}",
        "users": [f"u-{100 + (i * 7 + j) % 500}" for j in range(3)],
        "actions": ACTION_SETS[i % 3],
    }


def q(s):
    return json.dumps(s)


WARDEN_SCHEMA = """\
package bench.w3

type Request = {
  principal: { id: string, type: "user" | "service", authenticated_via: "sso" | "local" | "token", mfa: bool },
  action: "read" | "write" | "delete" | "admin" | "egress",
  resource: { type: string, app_id: string, id?: string },
  context: { ip?: string, request_id?: string, destination_host?: string, records_requested?: int },
}

/// W3: one rule per app; a request is allowed only by its app's rule.
target request: Request default deny
"""


def warden_rule(a):
    users = ", ".join(q(u) for u in a["users"])
    if len(a["actions"]) == 1:
        action = f"req.action == {q(a['actions'][0])}"
    else:
        action = "req.action in [" + ", ".join(q(x) for x in a["actions"]) + "]"
    return (
        f"rule {a['rule']} on request as req {{\n"
        f"  allow when req.resource.app_id == {q(a['app_id'])}"
        f" and req.principal.id in [{users}]"
        f" and {action}\n"
        f"}}\n"
    )


def rego_body(a):
    users = ", ".join(q(u) for u in a["users"])
    if len(a["actions"]) == 1:
        action = f"input.action == {q(a['actions'][0])}"
    else:
        action = "input.action in {" + ", ".join(q(x) for x in a["actions"]) + "}"
    return (
        f"# {a['rule']}\n"
        f"allow if {{\n"
        f"\tinput.resource.app_id == {q(a['app_id'])}\n"
        f"\tinput.principal.id in {{{users}}}\n"
        f"\t{action}\n"
        f"}}\n"
    )


def cedar_permit(a):
    users = ", ".join(f"User::{q(u)}" for u in a["users"])
    if len(a["actions"]) == 1:
        action = f"action == Action::{q(a['actions'][0])}"
    else:
        action = "action in [" + ", ".join(f"Action::{q(x)}" for x in a["actions"]) + "]"
    return (
        f"@id({q(a['rule'])})\n"
        f"permit (principal, {action}, resource == App::{q(a['app_id'])})\n"
        f"when {{ principal in [{users}] }};\n"
    )


CEDAR_SCHEMA = """\
// W3: principals and apps are compared by uid only; no attributes.
entity User;
entity App;
action read, write, delete, admin, egress appliesTo {
  principal: [User],
  resource: [App],
};
"""


def request(app_id, user, action):
    return {
        "principal": {"id": user, "type": "user", "authenticated_via": "sso", "mfa": True},
        "action": action,
        "resource": {"type": "record", "app_id": app_id, "id": "r-9"},
        "context": {"ip": "10.1.2.3", "request_id": "req-1", "records_requested": 20},
    }


def generate(n, outdir):
    width = max(4, len(str(n - 1)))
    apps = [app_spec(i, width) for i in range(n)]
    for sub in ("warden", "rego", "cedar"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)

    with open(os.path.join(outdir, "warden", "schema.warden"), "w") as f:
        f.write(WARDEN_SCHEMA)
    for start in range(0, n, FILE_CHUNK):
        path = os.path.join(outdir, "warden", f"apps_{start // FILE_CHUNK:03d}.warden")
        with open(path, "w") as f:
            f.write("package bench.w3\n")
            for a in apps[start:start + FILE_CHUNK]:
                f.write("\n" + warden_rule(a))

    # One module per 1,000 rules too: regorus refuses a policy file over 1 MiB
    # by default (Engine::set_policy_length_config), and 10,000 bodies are 1.7 MB.
    with open(os.path.join(outdir, "rego", "w3.rego"), "w") as f:
        f.write(f"# W3: {n} per-app rules, in rego/apps_*.rego. Generated by benches/peers/gen_w3.py.\n")
        f.write("package bench.w3\n\nimport rego.v1\n\ndefault allow := false\n")
    for start in range(0, n, FILE_CHUNK):
        path = os.path.join(outdir, "rego", f"apps_{start // FILE_CHUNK:03d}.rego")
        with open(path, "w") as f:
            f.write("package bench.w3\n\nimport rego.v1\n")
            for a in apps[start:start + FILE_CHUNK]:
                f.write("\n" + rego_body(a))

    with open(os.path.join(outdir, "cedar", "w3.cedar"), "w") as f:
        f.write(f"// W3: {n} per-app permits. Generated by benches/peers/gen_w3.py.\n")
        for a in apps:
            f.write("\n" + cedar_permit(a))
    with open(os.path.join(outdir, "cedar", "w3.cedarschema"), "w") as f:
        f.write(CEDAR_SCHEMA)

    target = apps[n // 2]
    allow = request(target["app_id"], target["users"][0], "read")
    deny = request(target["app_id"], "u-1", "read")
    with open(os.path.join(outdir, "request_allow.json"), "w") as f:
        json.dump(allow, f, indent=2)
    with open(os.path.join(outdir, "request_deny.json"), "w") as f:
        json.dump(deny, f, indent=2)
    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump({
            "n": n,
            "request_allow": {"allow": True, "rule": target["rule"]},
            "request_deny": {"allow": False, "rule": None},
        }, f, indent=2)
    return apps


def main(argv):
    if len(argv) != 3 or not argv[1].isdigit() or int(argv[1]) < 1:
        sys.exit("usage: gen_w3.py N OUTDIR")
    n, outdir = int(argv[1]), argv[2]
    generate(n, outdir)
    print(f"wrote {n} per-app rules for Warden, Rego and Cedar to {outdir}")


if __name__ == "__main__":
    main(sys.argv)
