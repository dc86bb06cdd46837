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
    Ok(())
}

datatest_stable::harness! {
    { test = run_case, root = "../../tests/decisions", pattern = r"cases/[^/]+\.json$" },
}
