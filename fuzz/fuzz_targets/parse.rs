//! Any text: parsing never panics, tokens tile the text, spans stay inside it,
//! and a file without errors prints to text that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_diagnostics::FileId;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parse = warden_syntax::parse(FileId(0), &text);
    let joined: String = parse.tokens().iter().map(|t| &text[t.range.as_range()]).collect();
    assert_eq!(joined, text);
    for d in parse.diagnostics() {
        assert!(d.primary.span.range.end as usize <= text.len());
    }
    if parse.diagnostics().is_empty() {
        let printed = warden_syntax::print::print_file(parse.tree());
        let again = warden_syntax::parse(FileId(0), &printed);
        assert!(again.diagnostics().is_empty(), "printed form does not parse:\n{printed}");
        assert_eq!(warden_syntax::print::print_file(again.tree()), printed);
    }
});
