//! `textDocument/documentSymbol`: the declarations of a file.

use crate::convert::symbol_kind;
use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn document_symbol(
    state: &State,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    let Some(key) = state.key(&params.text_document.uri) else {
        return Ok(None);
    };
    #[allow(deprecated, reason = "the `deprecated` field must still be filled")]
    let symbols = state
        .host
        .symbols(&key)
        .into_iter()
        .filter_map(|s| {
            Some(DocumentSymbol {
                name: s.name,
                detail: None,
                kind: symbol_kind(s.kind),
                tags: None,
                deprecated: None,
                range: state.range(&key, s.range)?,
                selection_range: state.range(&key, s.selection)?,
                children: None,
            })
        })
        .collect();
    Ok(Some(DocumentSymbolResponse::Nested(symbols)))
}
