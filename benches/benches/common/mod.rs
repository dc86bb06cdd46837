//! What `peers.rs` and `memory.rs` share: the Rego and Cedar ports of the
//! bench's workloads (`benches/peers/`), set up the way a regorus or
//! cedar-policy user would, and W3's generator (`peers/gen_w3.py`, ported so
//! no Python runs at bench time).
//!
//! (A folder with `mod.rs`, not `common.rs`: Cargo would take a file directly
//! in `benches/benches/` for a bench target of its own.)

#![allow(dead_code)] // each bench uses part of it

use cedar_policy as cedar;
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::RegoVM;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeSet;
use std::time::SystemTime;

/// `benches::now()`, as text: Rego reads it from `data.now`, Cedar from the context.
pub const NOW: &str = "2026-06-01T00:00:00Z";

pub const MANIFEST_REGO: &str = include_str!("../../peers/rego/manifest.rego");
pub const REQUEST_REGO: &str = include_str!("../../peers/rego/request.rego");
pub const REQUEST_CEDAR: &str = include_str!("../../peers/cedar/request.cedar");
pub const REQUEST_CEDARSCHEMA: &str = include_str!("../../peers/cedar/request.cedarschema");

pub const MANIFEST_ENTRY: &str = "data.bench.manifest.violations";
pub const GATEWAY_ENTRY: &str = "data.bench.gateway.decision";
pub const W3_ENTRY: &str = "data.bench.w3.allow";

/// The `approved_templates` default of `policies/manifest/schema.warden`.
pub const TEMPLATES: [&str; 3] = [
    "approved/crud-basic@2",
    "approved/dashboard@1",
    "approved/form-intake@3",
];

pub fn timestamp(rfc3339: &str) -> jiff::Timestamp {
    rfc3339.parse().expect("an RFC 3339 time")
}

pub fn system_time(rfc3339: &str) -> SystemTime {
    timestamp(rfc3339).into()
}

/// Writes `json` to `target/peers/{name}.json` (`{name}-quick.json` for a
/// quick run), or under `$CARGO_TARGET_DIR` (a relative one taken from the
/// workspace's root, as `ratios.sh` and `serve_memory.py` take it).
pub fn write_results(name: &str, quick: bool, json: &Json) {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|p| !p.is_empty())
        .map_or_else(|| root.join("target"), |p| root.join(p))
        .join("peers");
    std::fs::create_dir_all(&dir).expect("the output folder");
    let file = dir.join(if quick {
        format!("{name}-quick.json")
    } else {
        format!("{name}.json")
    });
    std::fs::write(
        &file,
        serde_json::to_string_pretty(json).expect("JSON") + "\n",
    )
    .expect("writes the results");
    println!("\nwrote {}", file.display());
}

/// `{"catalog": doc}`, moving `doc` in (`json!` would copy it).
pub fn wrap(name: &str, doc: Json) -> Json {
    let mut data = Map::new();
    data.insert(name.into(), doc);
    Json::Object(data)
}

// ---- regorus ----------------------------------------------------------------

/// A document as a regorus user gets it: parsed from JSON text by regorus.
pub fn rego_value(json: &Json) -> regorus::Value {
    regorus::Value::from_json_str(&serde_json::to_string(json).expect("JSON serialises"))
        .expect("regorus parses JSON")
}

/// `{"now": …}`: the clock the Rego policies read.
pub fn rego_now(now: &str) -> regorus::Value {
    regorus::Value::from(json!({ "now": now }))
}

/// An interpreter with `modules` (path, text) and each of `data` merged in.
pub fn rego_engine(modules: &[(&str, &str)], data: &[regorus::Value]) -> regorus::Engine {
    let mut engine = regorus::Engine::new(); // Rego v1
    for (path, text) in modules {
        engine
            .add_policy(path.to_string(), text.to_string())
            .unwrap_or_else(|e| panic!("{path} parses: {e}"));
    }
    for d in data {
        engine.add_data(d.clone()).expect("data merges");
    }
    engine
}

/// `entry` of `engine`'s policies compiled to the RVM, with the engine's data
/// document (compiled from a clone: the interpreter is left as it was).
/// `Err` when the program does not compile (W3 beyond ~3,000 rules: RVM
/// programs hold at most 65,535 instructions).
pub fn rvm(engine: &regorus::Engine, entry: &str) -> Result<RegoVM, String> {
    let rule: regorus::Rc<str> = entry.into();
    let compiled = engine
        .clone()
        .compile_with_entrypoint(&rule)
        .map_err(|e| e.to_string())?;
    let program = Compiler::compile_from_policy(&compiled, &[entry]).map_err(|e| e.to_string())?;
    let mut vm = RegoVM::new();
    vm.load_program(program);
    // The default (25,000 executed instructions) is a guard against runaway
    // policies; raised so that a limit never decides a benchmark's request.
    vm.set_max_instructions(10_000_000);
    vm.set_data(engine.get_data()).map_err(|e| e.to_string())?;
    Ok(vm)
}

/// A regorus value as JSON (sets become lists), for comparing results.
pub fn rego_json(v: &regorus::Value) -> Json {
    serde_json::to_value(v).expect("a regorus value serialises")
}

// ---- Cedar --------------------------------------------------------------------

/// The entity types the requests name.
pub struct Uids {
    user: cedar::EntityTypeName,
    action: cedar::EntityTypeName,
    app: cedar::EntityTypeName,
}

impl Uids {
    pub fn new() -> Uids {
        let ty = |s: &str| s.parse::<cedar::EntityTypeName>().expect("a type name");
        Uids {
            user: ty("User"),
            action: ty("Action"),
            app: ty("App"),
        }
    }

    fn uid(ty: &cedar::EntityTypeName, id: &Json) -> cedar::EntityUid {
        cedar::EntityUid::from_type_name_and_id(
            ty.clone(),
            cedar::EntityId::new(id.as_str().unwrap_or_default()),
        )
    }

    /// `User::"<principal.id>"`, `Action::"<action>"`, `App::"<resource.app_id>"`.
    pub fn of(&self, req: &Json) -> (cedar::EntityUid, cedar::EntityUid, cedar::EntityUid) {
        (
            Self::uid(&self.user, &req["principal"]["id"]),
            Self::uid(&self.action, &req["action"]),
            Self::uid(&self.app, &req["resource"]["app_id"]),
        )
    }
}

fn datetime(rfc3339: &str) -> Json {
    json!({ "__extn": { "fn": "datetime", "arg": rfc3339 } })
}

fn role_uid(app_id: &str, template: &str) -> Json {
    json!({ "type": "Role", "id": format!("{app_id}/{template}") })
}

/// The entity store for `request.cedar`, as `peers/README.md` describes it
/// (and `peers_data.cedar_entities` builds it): per app an `App` with its
/// attributes and three `Role` groups; per bound user a `User` whose parents
/// are the groups its bindings name. `data` is `catalog(n)`'s shape.
pub fn cedar_entities(data: &Json) -> Json {
    let apps = data["catalog"]["apps"].as_object().expect("catalog.apps");
    let mut entities = Vec::with_capacity(apps.len() * 4 + 1000);
    let mut parents: FxHashMap<&str, Vec<Json>> = FxHashMap::default();
    for (id, app) in apps {
        entities.push(json!({
            "uid": { "type": "App", "id": id },
            "attrs": {
                "owner": app["owner"],
                "status": app["status"],
                "classification": app["classification"],
                "expires_at": datetime(app["expires_at"].as_str().unwrap_or_default()),
                "egress_allowlist": app["egress_allowlist"],
                "pii_fields": app["pii_fields"],
                "viewers": { "__entity": role_uid(id, "Viewer") },
                "editors": { "__entity": role_uid(id, "Editor") },
                "admins": { "__entity": role_uid(id, "Admin") },
            },
            "parents": [],
        }));
        for template in ["Viewer", "Editor", "Admin"] {
            entities.push(json!({ "uid": role_uid(id, template), "attrs": {}, "parents": [] }));
        }
        if let Some(bindings) = app["bindings"].as_object() {
            for (user, template) in bindings {
                parents
                    .entry(user.as_str())
                    .or_default()
                    .push(role_uid(id, template.as_str().unwrap_or_default()));
            }
        }
    }
    let mut users: Vec<_> = parents.into_iter().collect();
    users.sort_by(|a, b| a.0.cmp(b.0));
    for (user, roles) in users {
        entities
            .push(json!({ "uid": { "type": "User", "id": user }, "attrs": {}, "parents": roles }));
    }
    Json::Array(entities)
}

/// The context record: the request's sign-in facts and its context, plus
/// `now`; optional fields only when present and not null (Cedar has no null).
pub fn cedar_context(req: &Json, now: &str) -> Json {
    let p = &req["principal"];
    let mut ctx = Map::new();
    ctx.insert("now".into(), datetime(now));
    ctx.insert("principal_type".into(), p["type"].clone());
    ctx.insert("authenticated_via".into(), p["authenticated_via"].clone());
    ctx.insert("mfa".into(), p["mfa"].clone());
    for key in ["ip", "request_id", "destination_host", "records_requested"] {
        if let Some(v) = req["context"].get(key).filter(|v| !v.is_null()) {
            ctx.insert(key.into(), v.clone());
        }
    }
    Json::Object(ctx)
}

/// W2 in Cedar: `request.cedar` against its schema, entities built once.
pub struct CedarGateway {
    pub schema: cedar::Schema,
    pub policies: cedar::PolicySet,
    pub entities: cedar::Entities,
    authorizer: cedar::Authorizer,
    uids: Uids,
}

impl CedarGateway {
    /// Schema and policies, checked (strict validation), no entities yet.
    pub fn without_entities() -> CedarGateway {
        let (schema, _warnings) = cedar::Schema::from_cedarschema_str(REQUEST_CEDARSCHEMA)
            .expect("request.cedarschema parses");
        let policies: cedar::PolicySet = REQUEST_CEDAR.parse().expect("request.cedar parses");
        let validation = cedar::Validator::new(schema.clone())
            .validate(&policies, cedar::ValidationMode::Strict);
        assert!(
            validation.validation_passed(),
            "request.cedar does not validate: {validation}"
        );
        CedarGateway {
            schema,
            policies,
            entities: cedar::Entities::empty(),
            authorizer: cedar::Authorizer::new(),
            uids: Uids::new(),
        }
    }

    /// With the entities of `data` (`catalog(n)`'s shape).
    pub fn new(data: &Json) -> CedarGateway {
        let mut gateway = CedarGateway::without_entities();
        gateway.entities = gateway.entities_of(data);
        gateway
    }

    /// The entity store for `data`, checked against the schema.
    pub fn entities_of(&self, data: &Json) -> cedar::Entities {
        cedar::Entities::from_json_value(cedar_entities(data), Some(&self.schema))
            .expect("the entities conform to request.cedarschema")
    }

    /// One decision: the request's uids and context (checked against the
    /// schema), `is_authorized`, and the caller's side of the mask
    /// obligation (the `@mask` attribute of an allowing policy, read off the
    /// app's entity, sorted and deduplicated). Returns (allowed, mask).
    pub fn decide(&self, req: &Json, now: &str) -> (bool, Vec<String>) {
        let (principal, action, resource) = self.uids.of(req);
        let context =
            cedar::Context::from_json_value(cedar_context(req, now), Some((&self.schema, &action)))
                .expect("the context conforms to the schema");
        let request = cedar::Request::new(principal, action, resource, context, Some(&self.schema))
            .expect("the request conforms to the schema");
        let response = self
            .authorizer
            .is_authorized(&request, &self.policies, &self.entities);
        let allowed = response.decision() == cedar::Decision::Allow;
        let mut mask = BTreeSet::new();
        if allowed {
            let app = request.resource().and_then(|uid| self.entities.get(uid));
            for id in response.diagnostics().reason() {
                let (Some(attr), Some(app)) = (self.policies.annotation(id, "mask"), app) else {
                    continue;
                };
                if let Some(Ok(cedar::EvalResult::Set(values))) = app.attr(attr) {
                    for v in values.iter() {
                        if let cedar::EvalResult::String(s) = v {
                            mask.insert(s.clone());
                        }
                    }
                }
            }
        }
        (allowed, mask.into_iter().collect())
    }

    /// The Warden rules behind one decision: the `@id` (up to its first
    /// `.`) of each policy Cedar says decided it, the permits that held on
    /// an allow and the forbids on a deny.
    pub fn deciding_rules(&self, req: &Json, now: &str) -> BTreeSet<String> {
        let (principal, action, resource) = self.uids.of(req);
        let context =
            cedar::Context::from_json_value(cedar_context(req, now), Some((&self.schema, &action)))
                .expect("the context conforms to the schema");
        let request = cedar::Request::new(principal, action, resource, context, Some(&self.schema))
            .expect("the request conforms to the schema");
        let response = self
            .authorizer
            .is_authorized(&request, &self.policies, &self.entities);
        response
            .diagnostics()
            .reason()
            .filter_map(|id| self.policies.annotation(id, "id"))
            .map(|id| id.split('.').next().unwrap_or(id).to_string())
            .collect()
    }
}

// ---- W3: per-app rules (peers/gen_w3.py, ported) ----------------------------

const ACTION_SETS: [&[&str]; 3] = [&["read"], &["read", "write"], &["read", "write", "delete"]];
const FILE_CHUNK: usize = 1000;

/// One app's rule: three users may do a few actions on its resources.
pub struct W3Rule {
    pub app_id: String,
    pub rule: String,
    pub users: Vec<String>,
    pub actions: &'static [&'static str],
}

/// W3 with `n` rules, in every engine's language, and its two requests.
pub struct W3 {
    pub n: usize,
    pub rules: Vec<W3Rule>,
    /// (path, text): `schema.warden`, `apps_000.warden`, …
    pub warden: Vec<(String, String)>,
    /// (path, text): `w3.rego`, `apps_000.rego`, …
    pub rego: Vec<(String, String)>,
    pub cedar: String,
    /// App n/2's first user reads: exactly the rule `allow_rule` holds.
    pub allow: Json,
    pub allow_rule: String,
    /// `u-1`, whom no rule names, reads the same app: nothing holds.
    pub deny: Json,
}

const W3_WARDEN_SCHEMA: &str = "\
package bench.w3

type Request = {
  principal: { id: string, type: \"user\" | \"service\", authenticated_via: \"sso\" | \"local\" | \"token\", mfa: bool },
  action: \"read\" | \"write\" | \"delete\" | \"admin\" | \"egress\",
  resource: { type: string, app_id: string, id?: string },
  context: { ip?: string, request_id?: string, destination_host?: string, records_requested?: int },
}

/// W3: one rule per app; a request is allowed only by its app's rule.
target request: Request default deny
";

pub const W3_CEDARSCHEMA: &str = "\
// W3: principals and apps are compared by uid only; no attributes.
entity User;
entity App;
action read, write, delete, admin, egress appliesTo {
  principal: [User],
  resource: [App],
};
";

fn quoted(items: &[impl AsRef<str>], prefix: &str) -> String {
    items
        .iter()
        .map(|s| format!("{prefix}\"{}\"", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn warden_rule(a: &W3Rule) -> String {
    let action = match a.actions {
        [one] => format!("req.action == \"{one}\""),
        many => format!("req.action in [{}]", quoted(many, "")),
    };
    format!(
        "rule {} on request as req {{\n  allow when req.resource.app_id == \"{}\" and req.principal.id in [{}] and {action}\n}}\n",
        a.rule,
        a.app_id,
        quoted(a.users.as_slice(), "")
    )
}

fn rego_body(a: &W3Rule) -> String {
    let action = match a.actions {
        [one] => format!("input.action == \"{one}\""),
        many => format!("input.action in {{{}}}", quoted(many, "")),
    };
    format!(
        "# {}\nallow if {{\n\tinput.resource.app_id == \"{}\"\n\tinput.principal.id in {{{}}}\n\t{action}\n}}\n",
        a.rule,
        a.app_id,
        quoted(a.users.as_slice(), "")
    )
}

fn cedar_permit(a: &W3Rule) -> String {
    let action = match a.actions {
        [one] => format!("action == Action::\"{one}\""),
        many => format!("action in [{}]", quoted(many, "Action::")),
    };
    format!(
        "@id(\"{}\")\npermit (principal, {action}, resource == App::\"{}\")\nwhen {{ principal in [{}] }};\n",
        a.rule,
        a.app_id,
        quoted(a.users.as_slice(), "User::")
    )
}

fn w3_request(app_id: &str, user: &str, action: &str) -> Json {
    json!({
        "principal": { "id": user, "type": "user", "authenticated_via": "sso", "mfa": true },
        "action": action,
        "resource": { "type": "record", "app_id": app_id, "id": "r-9" },
        "context": { "ip": "10.1.2.3", "request_id": "req-1", "records_requested": 20 }
    })
}

/// `gen_w3.py n`, in memory.
pub fn w3(n: usize) -> W3 {
    assert!(n >= 1);
    let width = (n - 1).to_string().len().max(4);
    let rules: Vec<W3Rule> = (0..n)
        .map(|i| W3Rule {
            app_id: format!("app-{i:0width$}"),
            rule: format!("app_{i:0width$}"),
            users: (0..3)
                .map(|j| format!("u-{}", 100 + (i * 7 + j) % 500))
                .collect(),
            actions: ACTION_SETS[i % 3],
        })
        .collect();

    let mut warden = vec![("schema.warden".to_string(), W3_WARDEN_SCHEMA.to_string())];
    let mut rego = vec![(
        "w3.rego".to_string(),
        format!(
            "# W3: {n} per-app rules, in apps_*.rego.\npackage bench.w3\n\nimport rego.v1\n\ndefault allow := false\n"
        ),
    )];
    // 1,000 rules a file: regorus refuses a policy file over 1 MiB by default.
    for (k, chunk) in rules.chunks(FILE_CHUNK).enumerate() {
        let mut w = String::from("package bench.w3\n");
        let mut r = String::from("package bench.w3\n\nimport rego.v1\n");
        for a in chunk {
            w.push('\n');
            w.push_str(&warden_rule(a));
            r.push('\n');
            r.push_str(&rego_body(a));
        }
        warden.push((format!("apps_{k:03}.warden"), w));
        rego.push((format!("apps_{k:03}.rego"), r));
    }
    let mut cedar = format!("// W3: {n} per-app permits.\n");
    for a in &rules {
        cedar.push('\n');
        cedar.push_str(&cedar_permit(a));
    }

    let target = &rules[n / 2];
    let allow = w3_request(&target.app_id, &target.users[0], "read");
    let deny = w3_request(&target.app_id, "u-1", "read");
    let allow_rule = target.rule.clone();
    W3 {
        n,
        rules,
        warden,
        rego,
        cedar,
        allow,
        allow_rule,
        deny,
    }
}

/// W3 by hand: the app's rule, looked up by app id.
pub struct W3Hand {
    apps: FxHashMap<String, (String, Vec<String>, &'static [&'static str])>,
}

impl W3Hand {
    pub fn new(w3: &W3) -> W3Hand {
        W3Hand {
            apps: w3
                .rules
                .iter()
                .map(|a| {
                    (
                        a.app_id.clone(),
                        (a.rule.clone(), a.users.clone(), a.actions),
                    )
                })
                .collect(),
        }
    }

    /// The rule that allows `req`, if any.
    pub fn decide(&self, req: &Json) -> Option<&str> {
        let (rule, users, actions) = self.apps.get(req["resource"]["app_id"].as_str()?)?;
        let user = req["principal"]["id"].as_str()?;
        let action = req["action"].as_str()?;
        (users.iter().any(|u| u == user) && actions.contains(&action)).then_some(rule.as_str())
    }
}

/// W3 in Cedar: no entities (uids are compared, nothing is read off them).
pub struct CedarW3 {
    schema: cedar::Schema,
    policies: cedar::PolicySet,
    entities: cedar::Entities,
    authorizer: cedar::Authorizer,
    uids: Uids,
}

impl CedarW3 {
    pub fn new(w3: &W3) -> CedarW3 {
        let (schema, _warnings) =
            cedar::Schema::from_cedarschema_str(W3_CEDARSCHEMA).expect("the W3 schema parses");
        let policies: cedar::PolicySet = w3.cedar.parse().expect("the W3 policies parse");
        let validation = cedar::Validator::new(schema.clone())
            .validate(&policies, cedar::ValidationMode::Strict);
        assert!(
            validation.validation_passed(),
            "W3 policies do not validate: {validation}"
        );
        CedarW3 {
            schema,
            policies,
            entities: cedar::Entities::empty(),
            authorizer: cedar::Authorizer::new(),
            uids: Uids::new(),
        }
    }

    /// (allowed, the `@id` of each policy that allowed it).
    pub fn decide(&self, req: &Json) -> (bool, Vec<String>) {
        let (principal, action, resource) = self.uids.of(req);
        let request = cedar::Request::new(
            principal,
            action,
            resource,
            cedar::Context::empty(),
            Some(&self.schema),
        )
        .expect("the request conforms to the W3 schema");
        let response = self
            .authorizer
            .is_authorized(&request, &self.policies, &self.entities);
        let mut rules: Vec<String> = response
            .diagnostics()
            .reason()
            .filter_map(|id| self.policies.annotation(id, "id").map(str::to_string))
            .collect();
        rules.sort();
        (response.decision() == cedar::Decision::Allow, rules)
    }
}
