//! `workspace/symbol`: declarations of every file by name.

use crate::convert::symbol_kind;
use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn symbol(
    state: &State,
    params: WorkspaceSymbolParams,
) -> Result<Option<WorkspaceSymbolResponse>> {
    #[allow(deprecated, reason = "the `deprecated` field must still be filled")]
    let found = state
        .host
        .workspace_symbols(&params.query)
        .into_iter()
        .filter_map(|(file, s)| {
            Some(SymbolInformation {
                name: s.name,
                kind: symbol_kind(s.kind),
                tags: None,
                deprecated: None,
                location: Location {
                    uri: state.uri(&file)?,
                    range: state.range(&file, s.selection)?,
                },
                container_name: None,
            })
        })
        .collect();
    Ok(Some(WorkspaceSymbolResponse::Flat(found)))
}
