//! The registry of diagnostic codes. Codes are permanent: never renumber or
//! reuse one; retire it by leaving it here with a note.
//!
//! Ranges: `E00xx` syntax, `E01xx` names, `E02xx` types, `E03xx` policy
//! semantics, `E04xx` input and data validation, `E05xx` evaluation,
//! `E06xx` policy bundles, `E07xx` symbolic checks, `E08xx` reports, `W0xxx` lints.

use crate::Severity;
use std::fmt;

/// What the registry knows about a code.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: &'static str,
    /// A kebab-case name, one per code.
    pub slug: &'static str,
    pub severity: Severity,
    /// One line: what this code means.
    pub summary: &'static str,
}

macro_rules! codes {
    ($( $variant:ident, $slug:literal, $sev:ident, $summary:literal; )*) => {
        /// A permanent diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            pub fn info(self) -> &'static CodeInfo {
                match self {
                    $( Code::$variant => &CodeInfo {
                        code: stringify!($variant),
                        slug: $slug,
                        severity: Severity::$sev,
                        summary: $summary,
                    }, )*
                }
            }
        }
    };
}

codes! {
    // syntax
    E0001, "unexpected-token", Error, "the parser met a token it did not expect here";
    E0002, "unexpected-end-of-file", Error, "the file ended in the middle of a declaration";
    E0003, "invalid-character", Error, "a character that cannot start any token";
    E0004, "unterminated-string", Error, "a string literal that never ends";
    E0005, "assignment-in-condition", Error, "`=` used where a comparison `==` was meant";
    E0006, "missing-when", Error, "a clause has no `when` condition";
    E0007, "unclosed-delimiter", Error, "an opening `{`, `(` or `[` is never closed";
    E0008, "invalid-literal", Error, "a number, time or duration literal that does not parse";
    E0009, "invalid-interpolation", Error, "a `{...}` interpolation in a message is malformed";
    E0010, "invalid-escape", Error, "an unknown escape sequence in a string";
    E0011, "missing-package", Error, "a policy file does not start with `package`";
    E0012, "nested-too-deeply", Error, "an expression or type nests more operators than Warden allows";
    // names and scopes
    E0101, "unresolved-name", Error, "a name that is not defined in scope";
    E0102, "unknown-field", Error, "a field that the record type does not declare";
    E0103, "duplicate-definition", Error, "two definitions with the same name";
    E0104, "unknown-package", Error, "an import names a package that does not exist";
    E0105, "unknown-type", Error, "a type name that is not defined";
    E0106, "unknown-target", Error, "a rule is `on` a target that is not declared";
    E0107, "unknown-function", Error, "a call to a function that is neither defined nor built in";
    E0108, "recursive-function", Error, "a function calls itself, directly or through others";
    E0109, "unknown-rule", Error, "a waiver names a rule that does not exist";
    E0110, "unknown-data", Error, "a data document that is not declared";
    E0111, "unknown-attribute", Error, "an attribute Warden does not know";
    E0112, "ambiguous-name", Error, "a name defined by more than one imported package";
    // types
    E0201, "type-mismatch", Error, "an expression has a different type than expected";
    E0202, "incomparable-types", Error, "two values of types that can never be equal or ordered are compared";
    E0203, "unhandled-optional", Error, "an optional value is used as if it were present";
    E0204, "not-in-union", Error, "a string literal that is not one of the union's members";
    E0205, "wrong-argument-count", Error, "a function is called with the wrong number of arguments";
    E0206, "not-iterable", Error, "`for`, `all`, `any` or a comprehension over a value that is not a collection";
    E0207, "no-fields", Error, "field access on a value that has no fields";
    E0208, "invalid-regex", Error, "a regular expression literal that does not compile";
    E0209, "invalid-schema", Error, "a JSON Schema file that cannot be used as a type";
    E0210, "recursive-type", Error, "a type alias that refers to itself";
    E0211, "not-indexable", Error, "indexing a value that is neither a list nor a map";
    // policy semantics
    E0301, "invalid-attribute", Error, "an attribute with a missing or invalid argument";
    E0302, "duplicate-attribute", Error, "the same attribute given twice on one rule";
    E0303, "invalid-waiver", Error, "a waiver that cannot apply";
    E0304, "obligation-on-deny", Error, "`with` obligations on a clause that is not `allow`";
    E0305, "invalid-target-default", Error, "a target default other than `allow` or `deny`";
    E0306, "invalid-data-default", Error, "a data default that is not a constant";
    E0307, "package-mismatch", Error, "files of one package disagree";
    E0308, "invalid-test", Error, "a `test` block that cannot run as written";
    E0309, "invalid-data-file", Error, "a data default read from a file that is missing or not JSON";
    // input and data validation
    E0401, "input-mismatch", Error, "the input does not match the target's type";
    E0402, "data-mismatch", Error, "a data document does not match its declaration";
    E0403, "invalid-json", Error, "a document is not valid JSON or YAML";
    E0404, "no-such-target", Error, "a decision was asked for a target the policy set does not declare";
    E0405, "missing-data", Error, "a data document without default was not supplied";
    E0406, "unknown-data-document", Error, "a data file supplies a document the policy set does not declare";
    E0407, "document-too-large", Error, "a document is larger than its size limit";
    E0408, "document-too-deep", Error, "a document nests lists and objects deeper than its limit";
    E0409, "not-a-regular-file", Error, "a path names a FIFO, a device or a socket instead of a regular file";
    E0410, "outside-folder", Error, "a file reference leads out of the folder it must stay in";
    // evaluation
    E0501, "budget-exceeded", Error, "evaluation took more steps than the per-decision budget";
    E0502, "builtin-failed", Error, "a built-in function failed on its arguments";
    E0503, "arithmetic-error", Error, "integer overflow or division by zero";
    E0504, "absent-value", Error, "an absent value reached an operation that needs one";
    E0505, "deadline-exceeded", Error, "a decision ran past its wall-clock deadline";
    // policy bundles
    E0601, "bundle-io", Error, "a bundle or key file could not be read or written";
    E0602, "bundle-content", Error, "the policies or data given to a bundle do not load";
    E0603, "invalid-bundle", Error, "an archive is not a valid bundle: a path, an entry or the manifest breaks a rule";
    E0604, "bundle-too-large", Error, "a bundle is larger than a limit allows";
    E0605, "bundle-digest-mismatch", Error, "a file in a bundle does not match its digest in the manifest";
    E0606, "unsigned-bundle", Error, "a bundle carries no signature and a verify key is configured";
    E0607, "bad-bundle-signature", Error, "a bundle's signature does not verify with the verify key";
    E0608, "invalid-key", Error, "a key file is not an Ed25519 key in PEM";
    E0609, "older-bundle", Error, "a bundle was built before the one being served";
    // symbolic checks
    E0701, "no-solver", Error, "`warden verify` needs a build with the solver (the `verify` feature and z3)";
    E0702, "verify-request", Error, "a `warden verify` request names no such rule or target, or a bound out of range";
    // reports
    E0801, "report-input", Error, "a `warden report` input is not what it must be: a catalog without `apps`, a file that is not a kept check run, a period out of range";
    // lints
    W0001, "unused-let", Warning, "a `let` binding that is never read";
    W0002, "rule-without-control", Warning, "a rule with no `@control` attribute";
    W0003, "unreachable-clause", Warning, "a clause whose condition can never hold";
    W0004, "expired-waiver", Warning, "a waiver whose `until` date has passed";
    W0005, "untested-rule", Warning, "a rule that no `test` block names in an `expect`";
    W0006, "skipped-file", Warning, "a file in a folder was left out: not a regular file, or a link out of the folder";
    W0007, "undeclared-field", Warning, "an input field, or a key of a test's patch, that the target's type does not declare";
    W0008, "shadowed-allow", Warning, "an `allow` clause that a `deny` clause of its rule overrides on every input it holds for";
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.info().code
    }
    /// Looks a code up by its text, e.g. `"E0204"`.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn slugs_and_codes_are_unique_and_well_formed() {
        let mut slugs = HashSet::new();
        for code in Code::ALL {
            let info = code.info();
            assert!(slugs.insert(info.slug), "slug {} used twice", info.slug);
            assert_eq!(Code::parse(info.code), Some(*code));
            let prefix_ok = match info.severity {
                Severity::Error => info.code.starts_with('E'),
                _ => info.code.starts_with('W'),
            };
            assert!(
                prefix_ok,
                "{} has the wrong letter for its severity",
                info.code
            );
        }
    }
}
