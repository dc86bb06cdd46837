"""The bench's inputs, ported from benches/src/lib.rs, and their Cedar form.

catalog(n) and request() build exactly what the Rust functions of the same
names build (same ids, bindings, statuses, classifications, expiry).
cedar_entities() and cedar_request() are the mapping a Rust caller of
cedar-policy performs (README.md, "Cedar: entities and context").
"""

NOW = "2026-06-01T00:00:00Z"  # benches::now()

TEMPLATES = ["Viewer", "Editor", "Admin"]
CLASSIFICATIONS = ["public", "internal", "confidential", "restricted"]


def catalog(n):
    """benches::catalog(n): {"catalog": {"apps": {"app-0000": {...}, ...}}}."""
    apps = {}
    for i in range(n):
        bindings = {"u-1": TEMPLATES[i % 3]}
        for j in range(8):
            bindings[f"u-{100 + (i * 7 + j) % 500}"] = TEMPLATES[j % 2]
        apps[f"app-{i:04d}"] = {
            "owner": f"owner-{i}@acme.example",
            "status": "retired" if i % 50 == 49 else "active",
            "classification": CLASSIFICATIONS[i % 4],
            "expires_at": "2026-12-31T00:00:00Z",
            "egress_allowlist": ["api.salesforce.com", f"api-{i}.vendor.example"],
            "pii_fields": ["email", "phone"],
            "bindings": bindings,
        }
    return {"catalog": {"apps": apps}}


def request():
    """benches::request(): u-1, a Viewer, reads a record of confidential app-0501."""
    return {
        "principal": {"id": "u-1", "type": "user", "authenticated_via": "sso", "mfa": True},
        "action": "read",
        "resource": {"type": "record", "app_id": "app-0501", "id": "r-9"},
        "context": {"ip": "10.1.2.3", "request_id": "req-1", "records_requested": 20},
    }


# ---- Cedar ----------------------------------------------------------------


def _datetime(s):
    return {"__extn": {"fn": "datetime", "arg": s}}


def _uid(ty, id_):
    return {"type": ty, "id": id_}


def role_uid(app_id, template):
    return _uid("Role", f"{app_id}/{template}")


def cedar_entities(data):
    """The entity store for request.cedar, built once from catalog(n).

    - App::"<app id>" per app: its attributes, expires_at as a datetime, and
      viewers/editors/admins pointing at its three Role groups.
    - Role::"<app id>/<template>" per app and template (no attributes).
    - User::"<user id>" per user bound anywhere, its parents the Role groups
      its bindings name: "u-1": "Viewer" on app-0501 -> Role::"app-0501/Viewer".
    """
    apps = data["catalog"]["apps"]
    entities = []
    parents = {}
    for app_id, app in apps.items():
        entities.append({
            "uid": _uid("App", app_id),
            "attrs": {
                "owner": app["owner"],
                "status": app["status"],
                "classification": app["classification"],
                "expires_at": _datetime(app["expires_at"]),
                "egress_allowlist": app["egress_allowlist"],
                "pii_fields": app["pii_fields"],
                "viewers": {"__entity": role_uid(app_id, "Viewer")},
                "editors": {"__entity": role_uid(app_id, "Editor")},
                "admins": {"__entity": role_uid(app_id, "Admin")},
            },
            "parents": [],
        })
        for template in TEMPLATES:
            entities.append({"uid": role_uid(app_id, template), "attrs": {}, "parents": []})
        for user, template in app["bindings"].items():
            parents.setdefault(user, []).append(role_uid(app_id, template))
    for user, roles in parents.items():
        entities.append({"uid": _uid("User", user), "attrs": {}, "parents": roles})
    return entities


def cedar_context(req, now=NOW):
    """The context record: the request's sign-in facts and context, plus `now`.

    Optional fields of the request's context are copied only when present and
    not null (Cedar has no null).
    """
    p = req["principal"]
    ctx = {
        "now": _datetime(now),
        "principal_type": p["type"],
        "authenticated_via": p["authenticated_via"],
        "mfa": p["mfa"],
    }
    for key in ("ip", "request_id", "destination_host", "records_requested"):
        value = req.get("context", {}).get(key)
        if value is not None:
            ctx[key] = value
    return ctx


def cedar_request(req, now=NOW):
    """principal User::"<id>", action Action::"<action>", resource App::"<app id>"."""
    return {
        "principal": f'User::"{req["principal"]["id"]}"',
        "action": f'Action::"{req["action"]}"',
        "resource": f'App::"{req["resource"]["app_id"]}"',
        "context": cedar_context(req, now),
    }


def cedar_mask(allowed, reasons_annotations, app):
    """The caller's side of the mask obligation: the resource attribute that
    an allowing policy's @mask annotation names, sorted and deduplicated."""
    if not allowed or app is None:
        return []
    mask = set()
    for annotations in reasons_annotations:
        attr = annotations.get("mask")
        if attr:
            mask.update(app.get(attr, []))
    return sorted(mask)


# ---- the reference: hand_written::decide_request, ported -------------------


def _grants(role, action):
    return ((role == "Viewer" and action == "read")
            or (role == "Editor" and action in ("read", "write"))
            or role == "Admin")


def hand_written_decide(req, data, now=NOW):
    """benches/src/hand_written.rs decide_request, line for line.

    Returns (allowed, mask, number of deny findings). Times compare as
    RFC 3339 strings in UTC with the same layout, which orders them as time.
    """
    apps = data["catalog"]["apps"]
    findings = 0
    app_id = req["resource"]["app_id"]
    p = req["principal"]
    action = req["action"]
    entry = apps.get(app_id)
    if entry is None:
        findings += 1
    else:
        findings += entry["status"] != "active"
        findings += entry["expires_at"] < now
    is_user = p["type"] == "user"
    findings += is_user and p["authenticated_via"] != "sso"
    findings += is_user and not p["mfa"] and (entry is None or entry["classification"] != "public")
    role = entry["bindings"].get(p["id"]) if entry else None
    allowed_by_rule = False
    mask = []
    if action == "read" and role == "Viewer":
        allowed_by_rule = True
        mask = list(entry["pii_fields"])
    if action in ("read", "write", "delete", "admin") and role is not None and role != "Viewer" \
            and _grants(role, action):
        allowed_by_rule = True
    host = req.get("context", {}).get("destination_host") or ""
    if action == "egress" and entry is not None and host in entry["egress_allowlist"]:
        allowed_by_rule = True
    records = req.get("context", {}).get("records_requested") or 0
    findings += action == "read" and records > 1000 and role == "Viewer"
    allowed = findings == 0 and allowed_by_rule
    return allowed, (sorted(set(mask)) if allowed else []), int(findings)
