// The grammar lives in the workspace's top-level `grammar/` folder so the
// language reference can quote it; LALRPOP writes the parser to OUT_DIR.
fn main() {
    lalrpop::Configuration::new()
        .emit_rerun_directives(true)
        .process_dir("../../grammar")
        .expect("the LALRPOP grammar in grammar/ failed to build");
}
