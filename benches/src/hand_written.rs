//! The same checks as `policies/`, written by hand in Rust: the baseline.

use rustc_hash::FxHashMap;
use serde_json::Value as Json;

/// A finding: rule and message, as the engine reports them.
#[derive(Debug, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub message: String,
}

fn s<'a>(v: &'a Json, path: &[&str]) -> &'a str {
    get(v, path).as_str().unwrap_or_default()
}

fn get<'a>(v: &'a Json, path: &[&str]) -> &'a Json {
    path.iter().fold(v, |acc, k| &acc[*k])
}

fn time(v: &Json) -> Option<jiff::Timestamp> {
    v.as_str()?.parse().ok()
}

const DAY: i64 = 86_400;

/// The 20 manifest rules of `policies/manifest/rules.warden`.
pub fn check_manifest(
    app: &Json,
    now: jiff::Timestamp,
    approved_templates: &[&str],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut deny = |rule: &'static str, message: String| out.push(Finding { rule, message });
    let name = s(app, &["metadata", "name"]);
    let tier = s(app, &["metadata", "risk_tier"]);
    let class = s(app, &["spec", "data", "classification"]);
    let pii = get(app, &["spec", "data", "pii"])
        .as_bool()
        .unwrap_or(false);
    let protection = s(app, &["spec", "data", "pii_protection"]);
    let template = s(app, &["metadata", "template"]);
    if !approved_templates.contains(&template) {
        deny(
            "approved_template",
            format!("{name} is built from {template}, which is not an approved template"),
        );
    }
    if class == "confidential" && tier == "low" {
        deny(
            "tier_fits_data",
            "confidential data needs at least a medium risk tier".into(),
        );
    }
    if (class == "restricted" || (pii && protection == "none")) && tier != "high" {
        deny(
            "tier_fits_data",
            "restricted or unprotected PII data needs the high risk tier".into(),
        );
    }
    let approval = get(app, &["metadata", "approval"]);
    if tier != "low" && (approval.is_null() || approval["status"] != "approved") {
        deny(
            "reviewed",
            format!("{name} needs an approved security review"),
        );
    }
    let auth = get(app, &["spec", "auth"]);
    if auth["sso"] == "none" {
        deny("sso", format!("{name} must use corporate SSO"));
    }
    if auth["local_accounts"].as_bool().unwrap_or(false) {
        deny("sso", format!("{name} has local accounts"));
    }
    if class != "public" && auth["mfa"] != "required" {
        deny("mfa", format!("MFA must be required for {class} data"));
    }
    if !auth["scim"].as_bool().unwrap_or(false) {
        deny("scim", "SCIM provisioning must be on".into());
    }
    let roles = get(app, &["spec", "roles"])
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let defaults: Vec<&Json> = roles
        .iter()
        .filter(|r| r["default"].as_bool().unwrap_or(false))
        .collect();
    if defaults.len() != 1 {
        deny(
            "default_role",
            format!(
                "exactly one default role is required, found {}",
                defaults.len()
            ),
        );
    }
    for r in &defaults {
        if r["template"] != "Viewer" {
            deny(
                "default_role",
                format!(
                    "the default role {} must be a Viewer",
                    r["name"].as_str().unwrap_or_default()
                ),
            );
        }
    }
    for r in roles {
        if r["template"] != "Viewer" && r.get("justification").is_none_or(Json::is_null) {
            deny(
                "elevated_roles",
                format!(
                    "role {} grants {} without a justification",
                    s(r, &["name"]),
                    s(r, &["template"])
                ),
            );
        }
    }
    for r in roles {
        let too_long = match time(&r["expires_at"]) {
            None => true,
            Some(t) => t.as_second() - now.as_second() > 30 * DAY,
        };
        if r["template"] != "Viewer" && too_long {
            deny(
                "elevated_roles",
                format!(
                    "role {} grants {} for more than 30 days",
                    s(r, &["name"]),
                    s(r, &["template"])
                ),
            );
        }
    }
    let endpoints = get(app, &["spec", "endpoints"])
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for ep in endpoints {
        if !s(ep, &["url"]).starts_with("https://") {
            deny("tls", format!("endpoint {} is not https", s(ep, &["url"])));
        }
    }
    for ep in endpoints {
        if ep["tls_min_version"] != "1.3" {
            deny(
                "tls",
                format!(
                    "endpoint {} accepts TLS {}",
                    s(ep, &["url"]),
                    s(ep, &["tls_min_version"])
                ),
            );
        }
    }
    let storage = get(app, &["spec", "storage"]);
    if !storage["encrypted_at_rest"].as_bool().unwrap_or(false) {
        deny("encryption", "data must be encrypted at rest".into());
    }
    if (tier == "high" || class == "restricted") && storage["key_management"] != "customer_managed"
    {
        deny(
            "encryption",
            "high-tier or restricted data needs customer-managed keys".into(),
        );
    }
    if pii && protection == "none" {
        deny(
            "pii_protected",
            "PII must be tokenized, masked or field-encrypted".into(),
        );
    }
    if storage["database_access"] == "global_credentials" {
        deny(
            "db_credentials",
            "global database credentials are not allowed".into(),
        );
    }
    let secrets = get(app, &["spec", "secrets"])
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for sec in secrets {
        let source = s(sec, &["source"]);
        if source == "inline" || source == "env_file" {
            deny(
                "managed_secrets",
                format!(
                    "secret {} comes from {source}; use a managed store",
                    s(sec, &["name"])
                ),
            );
        }
    }
    for sec in secrets {
        let days = sec["rotation_days"].as_i64().unwrap_or(0);
        if days > 90 {
            deny(
                "rotation",
                format!(
                    "secret {} rotates every {days} days; at most 90",
                    s(sec, &["name"])
                ),
            );
        }
    }
    let integrations = get(app, &["spec", "integrations"])
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for i in integrations {
        let scopes = i["oauth"]["scopes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if scopes
            .iter()
            .any(|sc| matches!(sc.as_str(), Some("*" | "admin" | "full_access")))
        {
            deny(
                "oauth_scopes",
                format!(
                    "integration {} asks for a full-permission scope",
                    s(i, &["name"])
                ),
            );
        }
    }
    let logging = get(app, &["spec", "logging"]);
    if logging["siem"] == "none" {
        deny(
            "audit_to_siem",
            "audit events must be shipped to a SIEM".into(),
        );
    }
    let events = logging["audit_events"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !["auth", "data_access", "config_change"]
        .iter()
        .all(|e| events.iter().any(|x| x == e))
    {
        deny(
            "audit_to_siem",
            "audit events must cover auth, data access and config changes".into(),
        );
    }
    if !logging["immutable"].as_bool().unwrap_or(false) {
        deny("retention", "audit logs must be immutable".into());
    }
    let retention = &logging["retention_days"];
    if retention["operational"].as_i64().unwrap_or(0) < 90
        || retention["audit"].as_i64().unwrap_or(0) < 365
    {
        deny(
            "retention",
            "retention must be at least 90 days operational and 365 audit".into(),
        );
    }
    if get(app, &["spec", "runtime", "sandbox"]) == "none" {
        deny(
            "sandboxed",
            "the app must run in a container or serverless sandbox".into(),
        );
    }
    let allowlist = get(app, &["spec", "network", "egress_allowlist"])
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for h in allowlist {
        if h.as_str().unwrap_or_default().contains('*') {
            deny(
                "egress",
                format!(
                    "egress host {} is a wildcard",
                    h.as_str().unwrap_or_default()
                ),
            );
        }
    }
    for i in integrations {
        if !allowlist.iter().any(|h| *h == i["host"]) {
            deny(
                "egress",
                format!(
                    "integration host {} is not on the egress allow-list",
                    s(i, &["host"])
                ),
            );
        }
    }
    let registered = time(get(app, &["metadata", "registered_at"]));
    let expires = time(get(app, &["metadata", "expires_at"]));
    if let (Some(r), Some(e)) = (registered, expires) {
        if e.as_second() - r.as_second() > 90 * DAY {
            deny("lifetime", "registration lasts more than 90 days".into());
        }
        if e < now {
            deny("lifetime", format!("{name} expired on {e}"));
        }
    }
    out.sort_by(|a, b| a.rule.cmp(b.rule));
    out
}

/// One catalog entry, loaded once.
pub struct App {
    pub status: String,
    pub classification: String,
    pub expires_at: jiff::Timestamp,
    pub egress_allowlist: Vec<String>,
    pub pii_fields: Vec<String>,
    pub bindings: FxHashMap<String, String>,
}

/// A JSON list of strings as a `Vec`; anything else is empty.
pub fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|xs| {
            xs.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn load_catalog(data: &Json) -> FxHashMap<String, App> {
    data["catalog"]["apps"]
        .as_object()
        .expect("apps")
        .iter()
        .map(|(id, a)| {
            let app = App {
                status: a["status"].as_str().unwrap_or_default().into(),
                classification: a["classification"].as_str().unwrap_or_default().into(),
                expires_at: time(&a["expires_at"]).expect("expires_at"),
                egress_allowlist: strings(&a["egress_allowlist"]),
                pii_fields: strings(&a["pii_fields"]),
                bindings: a["bindings"]
                    .as_object()
                    .map(|b| {
                        b.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            (id.clone(), app)
        })
        .collect()
}

/// The decision the gateway policy makes.
#[derive(Debug, PartialEq)]
pub struct RequestDecision {
    pub allowed: bool,
    pub findings: Vec<Finding>,
    pub mask: Vec<String>,
}

fn grants(role: &str, action: &str) -> bool {
    (role == "Viewer" && action == "read")
        || (role == "Editor" && (action == "read" || action == "write"))
        || role == "Admin"
}

/// The five gateway rules of `policies/request/gateway.warden`.
pub fn decide_request(
    req: &Json,
    catalog: &FxHashMap<String, App>,
    now: jiff::Timestamp,
) -> RequestDecision {
    let mut findings = Vec::new();
    let app_id = s(req, &["resource", "app_id"]);
    let principal = &req["principal"];
    let id = s(principal, &["id"]);
    let action = s(req, &["action"]);
    let entry = catalog.get(app_id);
    match entry {
        None => findings.push(Finding {
            rule: "registered",
            message: format!("app {app_id} is not in the catalog"),
        }),
        Some(e) => {
            if e.status != "active" {
                findings.push(Finding {
                    rule: "registered",
                    message: format!("app {app_id} is {}", e.status),
                });
            }
            if e.expires_at < now {
                findings.push(Finding {
                    rule: "registered",
                    message: format!("registration of {app_id} expired on {}", e.expires_at),
                });
            }
        }
    }
    let is_user = principal["type"] == "user";
    if is_user && principal["authenticated_via"] != "sso" {
        findings.push(Finding {
            rule: "sso_and_mfa",
            message: format!("{id} did not sign in through SSO"),
        });
    }
    if is_user
        && !principal["mfa"].as_bool().unwrap_or(false)
        && entry.is_none_or(|e| e.classification != "public")
    {
        findings.push(Finding {
            rule: "sso_and_mfa",
            message: format!("{id} needs MFA for {app_id}"),
        });
    }
    let role = entry.and_then(|e| e.bindings.get(id)).map(String::as_str);
    let mut allowed_by_rule = false;
    let mut mask = Vec::new();
    if action == "read" && role == Some("Viewer") {
        allowed_by_rule = true;
        mask.extend(entry.map(|e| e.pii_fields.clone()).unwrap_or_default());
    }
    if matches!(action, "read" | "write" | "delete" | "admin")
        && role.is_some_and(|r| r != "Viewer" && grants(r, action))
    {
        allowed_by_rule = true;
    }
    let host = req["context"]["destination_host"]
        .as_str()
        .unwrap_or_default();
    if action == "egress" && entry.is_some_and(|e| e.egress_allowlist.iter().any(|h| h == host)) {
        allowed_by_rule = true;
    }
    let records = req["context"]["records_requested"].as_i64().unwrap_or(0);
    if action == "read" && records > 1000 && role == Some("Viewer") {
        findings.push(Finding {
            rule: "bulk_reads",
            message: format!("{id} asked for {records} records; bulk reads need Editor"),
        });
    }
    let allowed = findings.is_empty() && allowed_by_rule;
    if !allowed {
        mask.clear();
    }
    mask.sort();
    mask.dedup();
    RequestDecision {
        allowed,
        findings,
        mask,
    }
}
