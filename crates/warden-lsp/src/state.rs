//! What a request reads: the analysis host and the open files, and the
//! conversion of positions between LSP (UTF-16) and byte offsets.

use std::path::PathBuf;
use tower_lsp_server::ls_types::*;
use warden_ide::AnalysisHost;

#[derive(Clone, Default)]
pub(crate) struct State {
    pub(crate) host: AnalysisHost,
    /// The workspace folder: files are keyed by their path below it.
    pub(crate) root: Option<PathBuf>,
    /// Whether the client takes completion snippets (`count(${1:xs})`).
    pub(crate) snippets: bool,
    /// The files open in the editor: their text comes from the editor, not
    /// from the disk.
    pub(crate) open: std::collections::HashSet<String>,
}

impl State {
    pub(crate) fn key(&self, uri: &Uri) -> Option<String> {
        let path = uri.to_file_path()?.into_owned();
        Some(match &self.root {
            Some(root) => match path.strip_prefix(root) {
                Ok(relative) => relative.to_string_lossy().replace('\\', "/"),
                Err(_) => path.to_string_lossy().into_owned(),
            },
            None => path.to_string_lossy().into_owned(),
        })
    }

    pub(crate) fn uri(&self, key: &str) -> Option<Uri> {
        let path = PathBuf::from(key);
        let full = match &self.root {
            Some(root) if path.is_relative() => root.join(path),
            _ => path,
        };
        Uri::from_file_path(full)
    }

    /// The file and byte offset of a position.
    pub(crate) fn at(&self, at: &TextDocumentPositionParams) -> Option<(String, usize)> {
        let key = self.key(&at.text_document.uri)?;
        let offset = self.offset(&key, at.position)?;
        Some((key, offset))
    }

    pub(crate) fn offset(&self, key: &str, position: Position) -> Option<usize> {
        let (index, text) = self.host.line_index(key)?;
        Some(index.utf16_offset(&text, position.line, position.character))
    }

    pub(crate) fn range(&self, key: &str, range: warden_diagnostics::TextRange) -> Option<Range> {
        let (index, text) = self.host.line_index(key)?;
        let at = |offset: u32| {
            let (line, character) = index.utf16_position(&text, offset as usize);
            Position { line, character }
        };
        Some(Range {
            start: at(range.start),
            end: at(range.end),
        })
    }

    /// Reads every policy of the workspace, and the JSON files they name;
    /// says which files could not be read (they are left out, the rest is
    /// served).
    pub(crate) fn load_workspace(&mut self) -> Vec<String> {
        let Some(root) = &self.root else {
            return Vec::new();
        };
        let (sources, skipped) = warden::PolicySources::from_folder_skipping_unreadable(root);
        for (path, text) in &sources.files {
            if !self.open.contains(path) {
                self.host.set_file(path, text);
            }
        }
        self.host.read_named_files(root);
        skipped
            .iter()
            .map(ToString::to_string)
            .chain(sources.skipped.iter().map(ToString::to_string))
            .collect()
    }
}
