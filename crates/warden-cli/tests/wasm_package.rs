//! The WebAssembly package as a user gets it: `bindings/wasm/build.sh`
//! (cargo for `wasm32-unknown-unknown`, then wasm-bindgen), then its tests
//! under Node's test runner (`bindings/wasm/test`): the decision corpus
//! decided through WebAssembly against the library's expectations, and a
//! typo's diagnostic. `.ci/run` adds the target and installs
//! wasm-bindgen-cli; without them (outside CI) the test says so and passes.

mod common;

use common::root;
use std::process::Command;

fn has(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_wasm_package_builds_and_decides_the_corpus_under_node() {
    let target = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"));
    let ready = target && has("wasm-bindgen", &["--version"]) && has("node", &["--version"]);
    if !common::installed(ready, "the wasm32 target, wasm-bindgen-cli and node") {
        return;
    }
    let package = root().join("bindings/wasm");
    // Every corpus case, and the typo test.
    common::build_and_test_with_node(&package.join("build.sh"), &package, 80);
}
