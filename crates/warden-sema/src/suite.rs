//! A policy set's `test` blocks as `warden test` runs them. They stay
//! beside the program, never in it: the IR is what decisions evaluate, and
//! a test's inputs are JSON documents (written inline, or read from a
//! fixture at run time), not values of the IR.

use warden_diagnostics::Span;
use warden_ir as ir;

/// A `test` block: an input, data, a time, and what the decision must show.
#[derive(Clone, Debug)]
pub struct Test {
    /// `package.test`.
    pub name: String,
    /// The test's name.
    pub span: Span,
    /// `given TARGET = …`.
    pub given: Option<(ir::TargetId, TestInput)>,
    /// `given data.NAME = …`.
    pub data: Vec<(ir::DataId, TestInput)>,
    /// `given data.waivers = …`: waivers as a `--data` file carries them.
    pub waivers: Option<TestInput>,
    /// `at TIME`, microseconds since the epoch.
    pub at: Option<i64>,
    pub expects: Vec<Expectation>,
}

/// A test's input: written inline (already checked against its type) or read from a file.
#[derive(Clone, Debug, PartialEq)]
pub enum TestInput {
    Inline(serde_json::Value),
    /// `fixture("path") + { … } + …`: the file, relative to the folder of the
    /// file that names it, with each patch laid over it in turn.
    Fixture {
        path: String,
        patches: Vec<serde_json::Value>,
        span: Span,
    },
}

/// Lays `patches` over `document` in turn, as JSON Merge Patch (RFC 7386)
/// does: objects merge field by field, any other value replaces, and `null`
/// removes a field.
pub fn apply_patches(document: &mut serde_json::Value, patches: &[serde_json::Value]) {
    for patch in patches {
        json_patch::merge(document, patch);
    }
}

/// `expect deny|allow|warn [RULE] [with KEY = VALUE, …]`.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// `expect not …`: holds when the finding (or outcome) is absent.
    pub negated: bool,
    /// `expect waived RULE`: a deny finding of the rule was waived.
    pub waived: bool,
    pub effect: ir::Effect,
    pub rule: Option<ir::RuleId>,
    pub obligations: Vec<(String, serde_json::Value)>,
    pub span: Span,
}
