//! A bounded run of the input fuzz targets, in CI: the very checks
//! `cargo fuzz` runs (`fuzz/src/checks.rs`), over the committed seeds
//! (`fuzz/seeds/<target>/`), every input a fuzzer once crashed on
//! (`fuzz/regressions/<target>/`), and a fixed number of mutations of them
//! (deterministic: the same inputs every run). The long runs are
//! `cargo fuzz run` (`fuzz/README.md`; figures in `docs/reliability.md`).

#[path = "../../../fuzz/src/checks.rs"]
mod checks;

use std::path::Path;

/// Inputs tried per target beyond the seeds and regressions.
const MUTATIONS: usize = 20_000;

/// Fragments that move the parsers and the canonicaliser into their corners.
const TOKENS: &[&[u8]] = &[
    b"- ",
    b"[",
    b"]",
    b"{",
    b"}",
    b": ",
    b"\n",
    b"  ",
    b"\"",
    b"'",
    b"&a ",
    b"*a",
    b"!!str ",
    b"? ",
    b"---\n",
    b"#",
    b"%",
    b"%2e",
    b"%2F",
    b"%25",
    b"%c0%ae",
    b"%C3%A9",
    b"..",
    b";",
    b"\\",
    b"/",
    b"//",
    b"?",
    b"\t",
    b"\xef\xbb\xbf",
    b"0x",
    b".inf",
    b"~",
    b",",
];

/// xorshift64*: a fixed sequence, so a failure is found again by rerunning.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = rng.next() as u8;
            }
            1 if !data.is_empty() => {
                let end = (at + rng.below(16)).min(data.len());
                data.drain(at.min(end)..end);
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let most = if rng.below(8) == 0 { 400 } else { 4 };
                let times = 1 + rng.below(most);
                for _ in 0..times {
                    data.splice(at..at, token.iter().copied());
                }
            }
            3 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(64)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
        }
    }
    data
}

fn inputs(target: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for folder in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        out.extend(paths.iter().map(|p| std::fs::read(p).unwrap()));
    }
    assert!(!out.is_empty(), "no seeds for `{target}`");
    out
}

fn run(target: &str, check: fn(&[u8])) {
    let seeds = inputs(target);
    for seed in &seeds {
        check(seed);
    }
    let mut rng = Rng(0x005e_ed0f_3a11_5afe);
    // `FUZZ_MUTATIONS` for a longer run.
    let mutations = std::env::var("FUZZ_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(MUTATIONS);
    for _ in 0..mutations {
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let data = mutate(&mut rng, seed, other);
        let caught = std::panic::catch_unwind(|| check(&data));
        if caught.is_err() {
            panic!(
                "`{target}` failed on {:?}; add it to fuzz/regressions/{target}/",
                String::from_utf8_lossy(&data)
            );
        }
    }
}

#[test]
fn documents_are_read_within_their_limits() {
    run("document", checks::document);
}

#[test]
fn gateway_paths_mean_one_thing() {
    run("gateway_path", checks::gateway_path);
}

#[test]
fn both_forms_of_the_evaluator_decide_alike() {
    run("decide", checks::decide);
}
