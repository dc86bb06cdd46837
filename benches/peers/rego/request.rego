# W2 for regorus: the gateway policy of benches/policies/request/gateway.warden,
# in Rego v1.
#
#   input              the request, as benches::request() builds it.
#   data.catalog.apps  the catalog, exactly as benches::catalog(n) builds it
#                      (engine.add_data(catalog(n)) adds it unchanged).
#   data.now           the evaluation time, RFC 3339 ("2026-06-01T00:00:00Z"
#                      in the bench); time.now_ns() only when it is absent.
#
# Semantics, as Warden's `target request … default deny`: the request is
# allowed when some allow clause holds (`permitted`) and no deny clause does
# (`deny_reasons` is empty). `mask` is the obligation of the Viewer-read allow:
# the app's pii_fields, sorted and without duplicates, present only when the
# request is allowed through that clause.
#
# Entry points: `allow` (bool), `deny_reasons` (set of strings), `mask`
# (array, or undefined), and `decision`, all three in one object, for a bench
# that wants one evaluation per request.
package bench.gateway

import rego.v1

default allow := false

now_ns := time.parse_rfc3339_ns(data.now) if {
	data.now
} else := time.now_ns()

app_id := input.resource.app_id

# The catalog entry; undefined when the app is not registered.
app := data.catalog.apps[app_id]

# The principal's role template on the app; undefined when unbound.
role := app.bindings[input.principal.id]

user if input.principal.type == "user"

public_app if app.classification == "public"

# REQ-1 registered: only registered, active, unexpired apps are reachable.
deny_reasons contains msg if {
	not app
	msg := sprintf("app %s is not in the catalog", [app_id])
}

deny_reasons contains msg if {
	app.status != "active"
	msg := sprintf("app %s is %s", [app_id, app.status])
}

deny_reasons contains msg if {
	time.parse_rfc3339_ns(app.expires_at) < now_ns
	msg := sprintf("registration of %s expired on %s", [app_id, app.expires_at])
}

# REQ-3 sso_and_mfa: users sign in through SSO, with MFA above public.
deny_reasons contains msg if {
	user
	input.principal.authenticated_via != "sso"
	msg := sprintf("%s did not sign in through SSO", [input.principal.id])
}

deny_reasons contains msg if {
	user
	not input.principal.mfa == true
	not public_app # an unknown app is not public either
	msg := sprintf("%s needs MFA for %s", [input.principal.id, app_id])
}

# REQ-8 bulk_reads: bulk reads need Editor or above.
deny_reasons contains msg if {
	input.action == "read"
	records := object.get(input.context, "records_requested", 0)
	records > 1000
	role == "Viewer"
	msg := sprintf("%s asked for %d records; bulk reads need Editor", [input.principal.id, records])
}

# REQ-4 role_templates: role templates grant actions; Viewers see PII masked.
grants(template, action) if {
	template == "Viewer"
	action == "read"
}

grants("Editor", action) if action in {"read", "write"}

grants("Admin", _) := true

viewer_read if {
	input.action == "read"
	role == "Viewer"
}

permitted if viewer_read

permitted if {
	input.action in {"read", "write", "delete", "admin"}
	role != "Viewer"
	grants(role, input.action)
}

# REQ-7 egress: only to hosts on the app's allow-list.
permitted if {
	input.action == "egress"
	object.get(input.context, "destination_host", "") in app.egress_allowlist
}

allow if {
	permitted
	count(deny_reasons) == 0
}

# (A comprehension written in the head itself trips regorus 0.9.1's scheduler:
# "statements not scheduled"; as its own rule it is fine.)
pii_fields := {f | some f in app.pii_fields}

mask := sort(pii_fields) if {
	allow
	viewer_read
}

obligations := {"mask": mask} if {
	mask
} else := {}

decision := {"allow": allow, "deny_reasons": deny_reasons, "obligations": obligations}
