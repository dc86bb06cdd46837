//! `textDocument/signatureHelp`.

use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn signature_help(
    state: &State,
    params: SignatureHelpParams,
) -> Result<Option<SignatureHelp>> {
    let Some((key, offset)) = state.at(&params.text_document_position_params) else {
        return Ok(None);
    };
    Ok(state
        .host
        .signature_help(&key, offset)
        .map(|(label, argument)| SignatureHelp {
            signatures: vec![SignatureInformation {
                label,
                documentation: None,
                parameters: None,
                active_parameter: Some(argument as u32),
            }],
            active_signature: Some(0),
            active_parameter: Some(argument as u32),
        }))
}
