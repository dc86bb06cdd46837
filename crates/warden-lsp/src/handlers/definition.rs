//! `textDocument/definition`.

use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn goto_definition(
    state: &State,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>> {
    let Some((key, offset)) = state.at(&params.text_document_position_params) else {
        return Ok(None);
    };
    let Some((file, range)) = state.host.definition(&key, offset) else {
        return Ok(None);
    };
    Ok(state
        .uri(&file)
        .zip(state.range(&file, range))
        .map(|(uri, range)| GotoDefinitionResponse::Scalar(Location { uri, range })))
}
