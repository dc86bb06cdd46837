//! A policy file whose name is not UTF-8 is skipped with a reason, never
//! read under a name another file also reads as (found by review: two such
//! files became one, and a deny rule vanished without a word).

use std::os::unix::ffi::OsStrExt;

#[test]
fn names_that_are_not_utf8_are_skipped_and_said() {
    let dir = std::env::temp_dir().join(format!("warden-names-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.warden"),
        "package p\n\ntarget input: { x: int } default allow\n",
    )
    .unwrap();
    for byte in [0xfe_u8, 0xff] {
        let mut name = b"deny".to_vec();
        name.push(byte);
        name.extend_from_slice(b".warden");
        let path = dir.join(std::ffi::OsStr::from_bytes(&name));
        std::fs::write(
            path,
            format!("package p\n\nrule r{byte} on input as i {{\n  deny when i.x > 0\n}}\n"),
        )
        .unwrap();
    }
    let sources = warden::Workspace::read(&[&dir]).expect("reads");
    assert_eq!(sources.skipped().len(), 2, "{:?}", sources.skipped());
    assert!(
        sources
            .skipped()
            .iter()
            .all(|s| s.why.contains("not UTF-8"))
    );
    std::fs::remove_dir_all(&dir).ok();
}
