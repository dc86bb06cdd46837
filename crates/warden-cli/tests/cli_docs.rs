//! Every command in `docs/cli.md` runs as written, from the repository root,
//! with the exit code its block states (```` ```sh exit=N ````).

mod common;

use common::{root, shell};

#[test]
fn every_command_in_the_cli_docs_runs_with_its_exit_code() {
    let text = std::fs::read_to_string(root().join("docs/cli.md")).unwrap();
    let mut lines = text.lines();
    let mut ran = 0;
    while let Some(line) = lines.next() {
        let Some(exit) = line.strip_prefix("```sh exit=") else {
            continue;
        };
        let exit: i32 = exit.trim().parse().expect("exit=N");
        for command in lines.by_ref().take_while(|l| !l.starts_with("```")) {
            let out = shell(&root(), command);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(exit), "{command}\n{stderr}");
            ran += 1;
        }
    }
    assert!(ran >= 15, "only {ran} commands found");
}
