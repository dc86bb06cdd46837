//! A rule of thousands of chained `let`s compiles and decides in a thread
//! with a small stack: every recursive walk of the compiler grows its stack
//! on the heap (a Python thread or a musl thread has 128 KiB; this one
//! crashed the process once, found by review).

use warden::{Engine, PolicySources};

#[test]
fn a_long_let_chain_compiles_and_decides_on_a_small_stack() {
    let mut text = String::from(
        "package p\n\ntarget input: { x: int } default allow\n\nrule r on input as i {\n  let a0 = i.x\n",
    );
    let n = 14_000;
    for k in 1..n {
        text.push_str(&format!("  let a{k} = a{} + 1\n", k - 1));
    }
    text.push_str(&format!("  deny when a{} > 0\n}}\n", n - 1));
    let decided = std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || {
            let engine = Engine::from_sources(PolicySources::from_texts([("p.warden", text)]))
                .expect("compiles");
            engine
                .decide(
                    "input",
                    &serde_json::json!({ "x": 1 }),
                    std::time::SystemTime::now(),
                )
                .map(|d| d.decision)
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert_eq!(decided.unwrap(), warden::Verdict::Deny);
}
