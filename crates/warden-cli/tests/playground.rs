//! The playground page (`editors/playground`) in headless Chromium: its
//! Node test (playwright-core driving Debian's `chromium`) types a policy
//! with a typo, sees the diagnostic, fixes it, sees the decision and opens
//! the share link. `.ci/run` installs what it needs and builds the page;
//! this test builds it again (cached) so a change to the engine reaches
//! it. Without the tools (outside CI) the test says so and passes.

mod common;

use common::root;
use std::process::Command;

#[test]
fn the_playground_shows_a_typo_then_the_decision_in_chromium() {
    let dir = root().join("editors/playground");
    let wasm = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let ready = wasm
        && std::path::Path::new("/usr/bin/chromium").exists()
        && dir.join("node_modules/playwright-core").exists();
    if !common::installed(ready, "wasm-bindgen-cli, chromium and playwright-core") {
        return;
    }
    common::build_and_test_with_node(&dir.join("build.sh"), &dir, 1);
}
