//! One file a request. A handler of a read-only request is a plain
//! function of a snapshot and its parameters (`fn(&State, P) -> Result<R>`),
//! which `lib.rs` runs with [`crate::backend::Backend::on`]; the others take
//! the backend.

pub(crate) mod code_action;
pub(crate) mod code_lens;
pub(crate) mod completion;
pub(crate) mod definition;
pub(crate) mod document_symbol;
pub(crate) mod documents;
pub(crate) mod folding_range;
pub(crate) mod formatting;
pub(crate) mod hover;
pub(crate) mod lifecycle;
pub(crate) mod references;
pub(crate) mod rename;
pub(crate) mod semantic_tokens;
pub(crate) mod signature_help;
pub(crate) mod workspace_symbol;
