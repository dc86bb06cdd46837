//! `warden report --format json` through the real binary, one case per
//! folder of `tests/report`: `args` holds the command line (run in the
//! folder), and `expected` the exit code, what the binary said on standard
//! error and the figures it printed (expect-test; update with
//! `UPDATE_EXPECT=1`). The HTML page is rendered in Chromium by
//! `report_browser.rs`.

use datatest_stable::Utf8Path;
use std::process::Command;

fn run_case(path: &Utf8Path) -> datatest_stable::Result<()> {
    let dir = path.as_std_path().parent().ok_or("no folder")?;
    let args = std::fs::read_to_string(path)?;
    let output = Command::new(env!("CARGO_BIN_EXE_warden"))
        .current_dir(dir)
        .arg("report")
        .args(args.split_whitespace())
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !stdout.is_empty() {
        // Whatever it prints is one JSON document.
        serde_json::from_str::<serde_json::Value>(&stdout)
            .map_err(|e| format!("not JSON ({e}); stderr: {stderr}"))?;
    }
    let actual = format!(
        "exit {}\n{stderr}{}{stdout}\n",
        output.status.code().unwrap_or(-1),
        if stderr.is_empty() { "" } else { "---\n" }
    );
    expect_test::expect_file![dir.canonicalize()?.join("expected")].assert_eq(&actual);
    Ok(())
}

datatest_stable::harness! {
    { test = run_case, root = "../../tests/report", pattern = r"/args$" },
}
