//! Fixtures for the editor's queries: files in one text, each after a
//! `//- path` line, and the cursor written as `$0`.

#![allow(dead_code, reason = "each test file uses the helpers it needs")]

use warden_ide::AnalysisHost;

/// The workspace the fixture describes, the file the cursor is in and
/// its byte offset.
pub fn fixture(text: &str) -> (AnalysisHost, String, usize) {
    let mut host = AnalysisHost::default();
    let mut cursor = None;
    for chunk in text.split("//- ").filter(|c| !c.trim().is_empty()) {
        let (path, body) = chunk.split_once('\n').expect("a path line");
        let path = path.trim().to_string();
        let body = match body.find("$0") {
            Some(at) => {
                cursor = Some((path.clone(), at));
                body.replacen("$0", "", 1)
            }
            None => body.to_string(),
        };
        host.set_file(&path, &body);
    }
    let (path, offset) = cursor.expect("the fixture marks the cursor with $0");
    (host, path, offset)
}

/// `path:line:column `text`` of a range, for snapshots.
pub fn place(host: &AnalysisHost, path: &str, range: warden_diagnostics::TextRange) -> String {
    let text = host.text(path).expect("the file is in the workspace");
    let before = &text[..range.start as usize];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{path}:{line}:{column} `{}`", &text[range.as_range()])
}

/// A policy set of one file, `schema.warden`: a named and an inline record
/// type, a list of inline records with a union field, a data document and a
/// function.
pub const SCHEMA: &str = r#"
//- schema.warden
package s
type Auth = {
  /// Sign-in goes through the corporate identity provider.
  sso: bool,
  mfa: bool,
}
target manifest: {
  name: string,
  auth: Auth,
  inline: { sso: bool, mfa: bool? },
  endpoints: [{ url: string, tls_min_version: "1.2" | "1.3" }],
} default allow
data regions: [string] = ["eu"]
fn blank(s: string) -> bool = s == ""
"#;

/// SCHEMA and `rules.warden`, one rule `x` on `manifest` as `app` with `body`.
pub fn rule(body: &str) -> String {
    format!(
        "{SCHEMA}//- rules.warden\npackage r\nimport s\nrule x on manifest as app {{\n{body}\n}}\n"
    )
}
