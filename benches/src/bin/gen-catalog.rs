//! `gen-catalog N [FILE]`: writes a catalog of N apps in the checklist's
//! shape (see `warden_benches::checklist_catalog`), pretty-printed as
//! `examples/catalog.json` is, to FILE or standard output.

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = match args.next().map(|a| a.parse()) {
        Some(Ok(n)) => n,
        _ => {
            eprintln!("usage: gen-catalog N [FILE]");
            std::process::exit(2);
        }
    };
    let text = serde_json::to_string_pretty(&warden_benches::checklist_catalog(n))
        .expect("a catalog serialises");
    let result = match args.next() {
        Some(file) => std::fs::write(&file, text),
        None => std::io::stdout().write_all(text.as_bytes()),
    };
    if let Err(e) = result {
        eprintln!("gen-catalog: {e}");
        std::process::exit(1);
    }
}
