//! The decision corpus through the library (`Engine`); `warden-cli` runs the
//! same cases through the binary against the same expectations.

use datatest_stable::Utf8Path;
use std::time::SystemTime;
use warden::{DecideOptions, Engine};
use warden_test_utils::{Case, expectation_path, project_decision, project_error, suite_dir};

fn run_case(path: &Utf8Path) -> datatest_stable::Result<()> {
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
    let options = DecideOptions {
        explain: case.explain,
        ..DecideOptions::default()
    };
    let actual = match engine.decide_with(&case.target, &case.input, now, &options) {
        Ok(decision) => project_decision(serde_json::to_value(&decision)?),
        Err(e) => project_error(e.code().as_str(), &e.to_string()),
    };
    expect_test::expect_file![expectation_path(case_path)].assert_eq(&actual);
    forms_agree(&engine, &case, now)?;
    Ok(())
}

/// How a decision is run: each must decide alike, at the same cost.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// The compiled form over the input built as far as the rules read it.
    Compiled,
    /// The reference: the tree walker over the whole input.
    Tree,
    /// Explaining: the tree walker recording a trace, over the whole input.
    Explained,
}

/// Every form decides as the reference does, at the same cost: the same
/// decision (less the trace), and the same least step budget it finishes
/// within. So an explanation is of the decision that was taken.
fn forms_agree(engine: &Engine, case: &Case, now: SystemTime) -> datatest_stable::Result<()> {
    let decide = |budget: u64, form: Form| {
        let options = DecideOptions {
            budget,
            tree_walk: matches!(form, Form::Tree),
            explain: matches!(form, Form::Explained),
            ..DecideOptions::default()
        };
        engine.decide_with(&case.target, &case.input, now, &options)
    };
    let budget = DecideOptions::default().budget;
    // A decision less its trace, or the error: what every form must agree on.
    let outcome = |result: Result<warden::Decision, warden::DecideError>| match result {
        Ok(decision) => {
            let mut json = serde_json::to_value(&decision).expect("serializes");
            for list in ["findings", "warnings", "waived"] {
                for finding in json[list].as_array_mut().into_iter().flatten() {
                    finding.as_object_mut().map(|f| f.remove("trace"));
                }
            }
            Ok(project_decision(json))
        }
        Err(e) => Err(project_error(e.code().as_str(), &e.to_string())),
    };
    let reference = outcome(decide(budget, Form::Tree));
    for form in [Form::Compiled, Form::Explained] {
        assert_eq!(
            outcome(decide(budget, form)),
            reference,
            "{form:?} decided differently"
        );
    }
    // Read from text, the input is built as far as the rules read it by
    // another reader (no JSON tree): the same decision, or the same error.
    let from_text = engine.decide_text(
        &case.target,
        &case.input.to_string(),
        now,
        &DecideOptions::default(),
    );
    assert_eq!(
        outcome(from_text),
        reference,
        "deciding from text decided differently"
    );
    let Ok(tree) = decide(budget, Form::Tree) else {
        return Ok(());
    };
    let ran_out = |d: &warden::Decision| {
        d.findings
            .iter()
            .any(|f| f.code.as_deref() == Some("E0501"))
    };
    if ran_out(&tree) {
        return Ok(());
    }
    // The least budget the decision finishes within is the steps it took.
    let least = |form: Form| {
        let (mut low, mut high) = (0, budget);
        while low < high {
            let mid = low + (high - low) / 2;
            match decide(mid, form) {
                Ok(d) if !ran_out(&d) => high = mid,
                _ => low = mid + 1,
            }
        }
        low
    };
    let reference = least(Form::Tree);
    for form in [Form::Compiled, Form::Explained] {
        assert_eq!(least(form), reference, "{form:?} took different steps");
    }
    Ok(())
}

datatest_stable::harness! {
    { test = run_case, root = "../../tests/decisions", pattern = r"cases/[^/]+\.json$" },
}
