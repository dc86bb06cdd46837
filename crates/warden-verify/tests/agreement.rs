//! The encoding decides as the evaluator does. Every case of the decision
//! corpus (`tests/decisions`) and every example manifest of the bundled
//! checklist, its input pinned, gives the encoded formula the evaluator's
//! decision, and the same rules firing, wherever no abstraction stands in
//! (a rule with an abstracted clause or an uninterpreted built-in is
//! skipped; so is a decision the step budget or the deadline cut short,
//! which verify does not model, and an input with lists longer than the
//! bound).

#[cfg(feature = "solver")]
mod checks {
    use datatest_stable::Utf8Path;
    use serde_json::Value as Json;
    use std::path::Path;
    use std::time::SystemTime;
    use warden::Engine;
    use warden_test_utils::{Case, suite_dir};

    /// The longest list in a document: the bound it is pinned within.
    fn longest_list(json: &Json) -> usize {
        match json {
            Json::Array(items) => items
                .iter()
                .map(longest_list)
                .max()
                .unwrap_or(0)
                .max(items.len()),
            Json::Object(fields) => fields.values().map(longest_list).max().unwrap_or(0),
            _ => 0,
        }
    }

    fn agree(
        engine: &Engine,
        target: &str,
        input: &Json,
        now: SystemTime,
        name: &str,
    ) -> datatest_stable::Result<()> {
        let Ok(decision) = engine.decide(target, input, now) else {
            // Refused before any rule ran (the input does not fit its type).
            return Ok(());
        };
        let cut_short = decision
            .findings
            .iter()
            .any(|f| matches!(f.code.as_deref(), Some("E0501" | "E0505")));
        if cut_short {
            return Ok(());
        }
        let longest = longest_list(input);
        if longest > warden_verify::MOST_ITEMS as usize {
            return Ok(());
        }
        let options = warden_verify::Options {
            max_items: (longest as u32).max(1),
            now,
            ..Default::default()
        };
        let Some(encoded) = warden_verify::encoded_decision(engine, target, input, &options)
            .map_err(|e| format!("{name}: {e}"))?
        else {
            return Ok(());
        };
        let abstracted: Vec<&str> = encoded.abstracted.iter().map(|a| a.rule.as_str()).collect();
        for (rule, fires) in &encoded.fires {
            if abstracted.contains(&rule.as_str()) {
                continue;
            }
            let real = decision
                .findings
                .iter()
                .chain(&decision.warnings)
                .chain(&decision.waived)
                .any(|f| &*f.rule == rule && f.code.is_none());
            if *fires != Some(real) {
                return Err(format!(
                    "{name}: rule {rule}: the encoding says it fires: {fires:?}, the evaluator: {real}"
                )
                .into());
            }
        }
        if abstracted.is_empty() && encoded.allowed != Some(decision.is_allowed()) {
            return Err(format!(
                "{name}: the encoding allows: {:?}, the evaluator: {}",
                encoded.allowed,
                decision.is_allowed()
            )
            .into());
        }
        Ok(())
    }

    pub fn corpus_case(path: &Utf8Path) -> datatest_stable::Result<()> {
        let case_path = path.as_std_path();
        let case = Case::load(case_path);
        let suite = suite_dir(case_path);
        let mut engine = Engine::from_dir(suite.join("policy")).map_err(|e| format!("{e:?}"))?;
        for file in &case.data_files {
            let text = std::fs::read_to_string(suite.join(file))?;
            engine = engine.with_data(&warden::parse_document(file, &text)?)?;
        }
        if let Some(data) = &case.data {
            engine = engine.with_data(data)?;
        }
        let now: SystemTime = case.now.parse::<jiff::Timestamp>()?.into();
        agree(&engine, &case.target, &case.input, now, path.as_str())
    }

    pub fn example_manifest(path: &Utf8Path) -> datatest_stable::Result<()> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-policies");
        let catalog = root.join("examples/catalog.json");
        let engine = Engine::from_dir(&root)?.with_data_arg(
            &format!("catalog={}", catalog.display()),
            &warden::InputLimits::DATA,
        )?;
        let now = warden::parse_now("2026-05-20T00:00:00Z").ok_or("time")?;
        let text = std::fs::read_to_string(path)?;
        let doc = warden::Document::parse(path.as_str(), &text)?;
        agree(&engine, "manifest", &doc.value, now, path.as_str())
    }
}

#[cfg(feature = "solver")]
datatest_stable::harness! {
    { test = checks::corpus_case, root = "../../tests/decisions", pattern = r"cases/[^/]+\.json$" },
    { test = checks::example_manifest, root = "../../stdlib-policies/examples/manifests", pattern = r"\.ya?ml$" },
}

/// Without the solver there is no encoding to check.
#[cfg(not(feature = "solver"))]
fn main() {}
