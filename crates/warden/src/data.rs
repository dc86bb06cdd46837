//! Data documents: `--data` files merged into `data`, validated against their
//! declarations, and the waivers a data file may carry (`data.waivers`).

use crate::{EngineError, PathError};
use serde_json::Value as Json;
use warden_eval::{DataWaiver, WaiverRef};
use warden_ir::{DataId, Program, Value};

/// Documents by id, and the waivers the data carried.
pub(crate) type LoadedData = (Vec<(DataId, Value)>, Vec<DataWaiver>);

/// Converts the top-level entries of a data object into values of their
/// declared types, and collects its waivers.
pub(crate) fn load(program: &Program, json: &Json) -> Result<LoadedData, EngineError> {
    let Json::Object(entries) = json else {
        return Err(EngineError::DataMismatch {
            name: "data".into(),
            errors: vec![PathError {
                path: "$".into(),
                expected: "an object of data documents".into(),
                found: kind(json).into(),
            }],
        });
    };
    let mut values = Vec::new();
    let mut waivers = Vec::new();
    for (name, doc) in entries {
        if name == "waivers" && program.data_by_name("waivers").is_none() {
            waivers = load_waivers(program, doc)?;
            continue;
        }
        let Some(id) = program.data_by_name(name) else {
            let known: Vec<String> = program
                .data
                .iter()
                .map(|d| format!("`{}`", d.name))
                .collect();
            return Err(EngineError::UnknownData {
                name: name.clone(),
                known: (!known.is_empty()).then(|| known.join(", ")),
            });
        };
        let decl = &program.data[id.index()];
        let value = warden_ir::json_to_value(&program.types, &decl.ty, doc).map_err(|errors| {
            EngineError::DataMismatch {
                name: name.clone(),
                errors: errors
                    .into_iter()
                    .map(|e| PathError {
                        path: format!("$.{name}{}", &e.path[1..]),
                        expected: e.expected,
                        found: e.found,
                    })
                    .collect(),
            }
        })?;
        values.push((id, value));
    }
    Ok((values, waivers))
}

fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// `[{ "name", "rule", "subject"?, "until", "reason", "approved_by" }]`.
fn load_waivers(program: &Program, doc: &Json) -> Result<Vec<DataWaiver>, EngineError> {
    let Json::Array(items) = doc else {
        return Err(EngineError::BadWaiver {
            index: 0,
            message: "`waivers` must be a list".into(),
        });
    };
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let bad = |message: String| EngineError::BadWaiver { index, message };
        // A misspelt key (`subjet`) must not silently widen a waiver to every subject.
        if let Some(object) = item.as_object() {
            const KEYS: [&str; 6] = ["name", "rule", "subject", "until", "reason", "approved_by"];
            if let Some(unknown) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
                return Err(bad(format!(
                    "unknown key `{unknown}`; a waiver has {}",
                    KEYS.join(", ")
                )));
            }
        }
        let field = |key: &str| -> Result<String, EngineError> {
            item.get(key)
                .and_then(Json::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("`{key}` must be a string")))
        };
        let name = field("name")?;
        let rule_name = field("rule")?;
        let rule = program
            .rule_by_name(&rule_name)
            .ok_or_else(|| bad(format!("no rule `{rule_name}` in the policy set")))?;
        let until_text = field("until")?;
        let until = warden_ir::parse_time(&until_text)
            .ok_or_else(|| bad(format!("`until` is not a date or time: `{until_text}`")))?;
        let subject = match item.get("subject") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("`subject` must be a string".into())),
        };
        let target = program.target(program.rule(rule).target);
        if subject.is_some() && target.subject.is_none() {
            return Err(bad(format!(
                "`subject` cannot match: target `{}` names no subject (declare `@subject(\"…\")` on it)",
                target.name
            )));
        }
        out.push(DataWaiver {
            waiver: WaiverRef {
                name,
                rule,
                reason: field("reason")?,
                approved_by: field("approved_by")?,
                until,
            },
            subject,
        });
    }
    Ok(out)
}
