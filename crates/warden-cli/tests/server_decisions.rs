//! The decision corpus through `warden serve`'s `POST /v1/decide`, against
//! the same expectations as the library runner
//! (`crates/warden/tests/decisions.rs`) and the CLI's (`cli_decisions.rs`):
//! library, command line and server decide alike.

mod common;

use common::server::{Server, client};
use datatest_stable::Utf8Path;
use serde_json::{Value as Json, json};
use warden_test_utils::{Case, expectation_path, project_decision, project_error, suite_dir};

fn run_case(path: &Utf8Path) -> datatest_stable::Result<()> {
    let case_path = path.as_std_path();
    let case = Case::load(case_path);
    // The server runs in a scratch folder: its paths are absolute.
    let suite = suite_dir(case_path).canonicalize()?;
    let scratch = common::scratch(&format!(
        "server-case-{}",
        path.file_stem().unwrap_or("case")
    ));
    let policy = suite.join("policy");
    let mut args: Vec<String> = vec!["--policy".into(), policy.display().to_string()];
    for file in &case.data_files {
        args.push("--data".into());
        args.push(suite.join(file).display().to_string());
    }
    if let Some(data) = &case.data {
        let file = scratch.join("data.json");
        std::fs::write(&file, serde_json::to_string(data)?)?;
        args.push("--data".into());
        args.push(file.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_in(&scratch, &args);
    let body = json!({
        "target": case.target,
        "input": case.input,
        "now": case.now,
        "explain": case.explain,
    });
    let mut response = client()
        .post(format!("{}/v1/decide", server.url))
        .send_json(&body)?;
    let status = response.status().as_u16();
    let answer: Json = response.body_mut().read_json()?;
    let actual = if status == 200 {
        project_decision(answer)
    } else {
        let error = &answer["error"];
        let code = error["code"].as_str().ok_or("an error without a code")?;
        let message = error["message"]
            .as_str()
            .ok_or("an error without a message")?;
        project_error(code, message)
    };
    assert_eq!(server.stop(), Some(0));
    std::fs::remove_dir_all(&scratch).ok();
    expect_test::expect_file![expectation_path(case_path)].assert_eq(&actual);
    Ok(())
}

datatest_stable::harness! {
    { test = run_case, root = "../../tests/decisions", pattern = r"cases/[^/]+\.json$" },
}
