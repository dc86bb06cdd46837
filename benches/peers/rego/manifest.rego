# W1 for regorus: the 20 manifest rules of benches/policies/manifest/rules.warden,
# in Rego v1.
#
#   input      the manifest itself (benches/policies/manifest.json), the same
#              serde_json::Value Warden and hand_written::check_manifest get.
#   data.now   the evaluation time as an RFC 3339 string; the bench passes
#              "2026-06-01T00:00:00Z" (benches::now()), as Warden's
#              decide(…, now) gets it, so the result is deterministic. Only
#              when data.now is absent does the policy read the wall clock
#              (time.now_ns()).
#
# Result: data.bench.manifest.violations, a set of {"rule", "message"}
# objects, one per Warden finding (for the sample manifest, 5). Rule names
# are Warden's rule names without the package (hand_written::Finding.rule).
#
# One difference of kind: a set holds each object once, so two findings with
# the same rule and the same message (e.g. two roles with the same name)
# count once here but twice in Warden. No manifest of the bench does that.
package bench.manifest

import rego.v1

# The `approved_templates` data document's default in schema.warden.
approved_templates := {"approved/crud-basic@2", "approved/dashboard@1", "approved/form-intake@3"}

now_ns := time.parse_rfc3339_ns(data.now) if {
	data.now
} else := time.now_ns()

day_ns := (24 * 60) * (60 * 1000000000)

meta := input.metadata

spec := input.spec

tier := input.metadata.risk_tier

class := input.spec.data.classification

# GOV-2 approved_template
violations contains {"rule": "approved_template", "message": msg} if {
	not meta.template in approved_templates
	msg := sprintf("%s is built from %s, which is not an approved template", [meta.name, meta.template])
}

# GOV-3 tier_fits_data
violations contains {"rule": "tier_fits_data", "message": "confidential data needs at least a medium risk tier"} if {
	class == "confidential"
	tier == "low"
}

violations contains {"rule": "tier_fits_data", "message": "restricted or unprotected PII data needs the high risk tier"} if {
	needs_high_tier
	tier != "high"
}

needs_high_tier if class == "restricted"

needs_high_tier if unprotected_pii

unprotected_pii if {
	spec.data.pii == true
	spec.data.pii_protection == "none"
}

# GOV-4 reviewed
violations contains {"rule": "reviewed", "message": msg} if {
	tier != "low"
	not approved
	msg := sprintf("%s needs an approved security review", [meta.name])
}

approved if meta.approval.status == "approved"

# IAM-1 sso
violations contains {"rule": "sso", "message": msg} if {
	spec.auth.sso == "none"
	msg := sprintf("%s must use corporate SSO", [meta.name])
}

violations contains {"rule": "sso", "message": msg} if {
	spec.auth.local_accounts == true
	msg := sprintf("%s has local accounts", [meta.name])
}

# IAM-2 mfa
violations contains {"rule": "mfa", "message": msg} if {
	class != "public"
	spec.auth.mfa != "required"
	msg := sprintf("MFA must be required for %s data", [class])
}

# IAM-3 scim (absent or null counts as off, as `scim ?? false` does)
violations contains {"rule": "scim", "message": "SCIM provisioning must be on"} if {
	not spec.auth.scim == true
}

# IAM-4 default_role
default_roles := [r | some r in spec.roles; r["default"] == true]

violations contains {"rule": "default_role", "message": msg} if {
	count(default_roles) != 1
	msg := sprintf("exactly one default role is required, found %d", [count(default_roles)])
}

violations contains {"rule": "default_role", "message": msg} if {
	some r in default_roles
	r.template != "Viewer"
	msg := sprintf("the default role %s must be a Viewer", [r.name])
}

# IAM-5 elevated_roles
violations contains {"rule": "elevated_roles", "message": msg} if {
	some r in spec.roles
	r.template != "Viewer"
	not justified(r)
	msg := sprintf("role %s grants %s without a justification", [r.name, r.template])
}

justified(r) if r.justification != null

violations contains {"rule": "elevated_roles", "message": msg} if {
	some r in spec.roles
	r.template != "Viewer"
	not expires_within_30_days(r)
	msg := sprintf("role %s grants %s for more than 30 days", [r.name, r.template])
}

expires_within_30_days(r) if {
	is_string(r.expires_at)
	time.parse_rfc3339_ns(r.expires_at) - now_ns <= 30 * day_ns
}

# DATA-1 tls
violations contains {"rule": "tls", "message": msg} if {
	some ep in spec.endpoints
	not startswith(ep.url, "https://")
	msg := sprintf("endpoint %s is not https", [ep.url])
}

violations contains {"rule": "tls", "message": msg} if {
	some ep in spec.endpoints
	ep.tls_min_version != "1.3"
	msg := sprintf("endpoint %s accepts TLS %s", [ep.url, ep.tls_min_version])
}

# DATA-2 encryption
violations contains {"rule": "encryption", "message": "data must be encrypted at rest"} if {
	not spec.storage.encrypted_at_rest == true
}

violations contains {"rule": "encryption", "message": "high-tier or restricted data needs customer-managed keys"} if {
	needs_customer_keys
	spec.storage.key_management != "customer_managed"
}

needs_customer_keys if tier == "high"

needs_customer_keys if class == "restricted"

# DATA-3 pii_protected
violations contains {"rule": "pii_protected", "message": "PII must be tokenized, masked or field-encrypted"} if {
	unprotected_pii
}

# DATA-4 db_credentials
violations contains {"rule": "db_credentials", "message": "global database credentials are not allowed"} if {
	spec.storage.database_access == "global_credentials"
}

# SEC-2 managed_secrets
violations contains {"rule": "managed_secrets", "message": msg} if {
	some s in spec.secrets
	s.source in {"inline", "env_file"}
	msg := sprintf("secret %s comes from %s; use a managed store", [s.name, s.source])
}

# SEC-3 rotation
violations contains {"rule": "rotation", "message": msg} if {
	some s in spec.secrets
	s.rotation_days > 90
	msg := sprintf("secret %s rotates every %d days; at most 90", [s.name, s.rotation_days])
}

# SEC-4 oauth_scopes (one finding per integration, however many scopes match)
violations contains {"rule": "oauth_scopes", "message": msg} if {
	some i in spec.integrations
	full_permission(i)
	msg := sprintf("integration %s asks for a full-permission scope", [i.name])
}

full_permission(i) if {
	some s in i.oauth.scopes
	s in {"*", "admin", "full_access"}
}

# LOG-1 audit_to_siem
violations contains {"rule": "audit_to_siem", "message": "audit events must be shipped to a SIEM"} if {
	spec.logging.siem == "none"
}

required_audit_events := {"auth", "data_access", "config_change"}

violations contains {"rule": "audit_to_siem", "message": "audit events must cover auth, data access and config changes"} if {
	missing := required_audit_events - {e | some e in spec.logging.audit_events}
	count(missing) > 0
}

# LOG-2 retention
violations contains {"rule": "retention", "message": "audit logs must be immutable"} if {
	not spec.logging.immutable == true
}

violations contains {"rule": "retention", "message": "retention must be at least 90 days operational and 365 audit"} if {
	short_retention
}

short_retention if spec.logging.retention_days.operational < 90

short_retention if spec.logging.retention_days.audit < 365

# RUN-1 sandboxed
violations contains {"rule": "sandboxed", "message": "the app must run in a container or serverless sandbox"} if {
	spec.runtime.sandbox == "none"
}

# RUN-2 egress
violations contains {"rule": "egress", "message": msg} if {
	some h in spec.network.egress_allowlist
	contains(h, "*")
	msg := sprintf("egress host %s is a wildcard", [h])
}

violations contains {"rule": "egress", "message": msg} if {
	some i in spec.integrations
	not i.host in spec.network.egress_allowlist
	msg := sprintf("integration host %s is not on the egress allow-list", [i.host])
}

# LIFE-2 lifetime
registered_ns := time.parse_rfc3339_ns(meta.registered_at)

expires_ns := time.parse_rfc3339_ns(meta.expires_at)

violations contains {"rule": "lifetime", "message": "registration lasts more than 90 days"} if {
	expires_ns - registered_ns > 90 * day_ns
}

violations contains {"rule": "lifetime", "message": msg} if {
	expires_ns < now_ns
	msg := sprintf("%s expired on %s", [meta.name, meta.expires_at])
}
