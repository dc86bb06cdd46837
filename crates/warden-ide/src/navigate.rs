//! Where a name is declared and used, and renaming it: all read from the
//! semantic tables sema fills for every file; no text is searched.

use crate::AnalysisHost;
use warden_diagnostics::TextRange;
use warden_sema::{Meaning, Occurrence};

impl AnalysisHost {
    /// Where the name at `offset` is declared: a path and a range.
    pub fn definition(&self, path: &str, offset: usize) -> Option<(String, TextRange)> {
        let occurrence = self.occurrence(path, offset)?;
        self.declaration_of(path, &occurrence)
    }

    /// Where what `occurrence` (a name of `path`) means is declared.
    pub(crate) fn declaration_of(
        &self,
        path: &str,
        occurrence: &Occurrence,
    ) -> Option<(String, TextRange)> {
        let file = self.file(path)?;
        let span = warden_sema::definition(
            &occurrence.meaning,
            file.id(self.db()),
            self.declarations(),
            self.checked(path)?,
            self.program(),
        )?;
        Some((self.path_of(span.file)?.to_string(), span.range))
    }

    /// Where the name at `offset` (a rule, type, field, function, data
    /// document, target, binding, package or built-in) is declared and
    /// used, across the set; the declaration comes first.
    pub fn references(&self, path: &str, offset: usize) -> Vec<(String, TextRange)> {
        let Some(occurrence) = self.occurrence(path, offset) else {
            return Vec::new();
        };
        let mut out: Vec<(String, TextRange)> =
            self.declaration_of(path, &occurrence).into_iter().collect();
        // A place is listed once (a record literal's field is both its own
        // declaration and a use); a set, as a built-in may have thousands.
        let mut seen: std::collections::HashSet<(String, TextRange)> =
            out.iter().cloned().collect();
        let local = occurrence.meaning.is_file_local(self.declarations());
        for file in self.paths() {
            if local && file != path {
                continue;
            }
            for found in self.table(&file) {
                let place = (file.clone(), found.range);
                if found.meaning == occurrence.meaning && seen.insert(place.clone()) {
                    out.push(place);
                }
            }
        }
        out
    }

    /// The edits that rename the declaration named at `offset` everywhere
    /// (each a range to replace with `new_name`), or why not.
    pub fn rename(
        &self,
        path: &str,
        offset: usize,
        new_name: &str,
    ) -> Result<Vec<(String, TextRange)>, String> {
        let no_declaration = || "there is no declaration here to rename".to_string();
        let occurrence = self.occurrence(path, offset).ok_or_else(no_declaration)?;
        self.declaration_of(path, &occurrence)
            .ok_or_else(no_declaration)?;
        let is_word = |name: &str| {
            name.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let is_keyword = |name: &str| {
            warden_syntax::lexer::lex(name)
                .first()
                .is_some_and(|t| t.kind.is_keyword())
        };
        // A package is renamed as a whole dotted path (its segments may be
        // keywords: `microapps.schema`).
        let valid = match occurrence.meaning {
            Meaning::Package(_) => new_name.split('.').all(is_word),
            _ => is_word(new_name) && !is_keyword(new_name),
        };
        if !valid {
            return Err(format!(
                "`{new_name}` is not a name (letters, digits and `_`, not a keyword)"
            ));
        }
        let uses = self.references(path, offset);
        if let Meaning::Binding { declared } = occurrence.meaning {
            self.binding_clash(path, declared, &uses, new_name)?;
        }
        Ok(uses)
    }

    /// Why a binding declared at `declared` cannot be named `new_name`: a
    /// declaration it is used in (its own, and a waiver of the rule whose
    /// input it is) already uses that name for something other than a
    /// field (another binding, the rule's input, a global), so the renamed
    /// binding would capture it or be captured by it, and the policy would
    /// still compile but mean something else. Or: a waiver in another file
    /// reads the rule's input by this name, which the rename cannot reach.
    fn binding_clash(
        &self,
        path: &str,
        declared: TextRange,
        uses: &[(String, TextRange)],
        new_name: &str,
    ) -> Result<(), String> {
        let (Some(text), Some(parse)) = (self.text(path), self.parse(path)) else {
            return Ok(());
        };
        let items = &parse.tree().items;
        let item_of = |range: TextRange| {
            items
                .iter()
                .find(|item| item.range.start <= range.start && range.end <= item.range.end)
        };
        if let Some(item) = item_of(declared)
            && let warden_syntax::ast::ItemKind::Rule(rule) = &item.kind
            && rule.binding.as_ref().unwrap_or(&rule.target).range == declared
        {
            self.no_waiver_elsewhere(path, rule.name.range)?;
        }
        let mut scanned: Vec<TextRange> = Vec::new();
        for (_, range) in uses.iter().filter(|(file, _)| file == path) {
            let Some(item) = item_of(*range) else {
                continue;
            };
            if scanned.contains(&item.range) {
                continue;
            }
            scanned.push(item.range);
            if let Some(at) = self.name_used_in(path, &text, item.range, new_name) {
                let line = self
                    .line_index(path)
                    .map_or(0, |(index, text)| index.line_col(&text, at).line);
                return Err(format!(
                    "`{new_name}` is already used in this declaration (line {line}): \
                     the renamed binding would change what a name refers to"
                ));
            }
        }
        Ok(())
    }

    /// Where, in the declaration at `item`, `name` already means something
    /// other than a field (interpolations included), or is written and
    /// means nothing resolved.
    fn name_used_in(&self, path: &str, text: &str, item: TextRange, name: &str) -> Option<usize> {
        let named = |range: TextRange| &text[range.as_range()] == name;
        let inside = |range: TextRange| item.start <= range.start && range.end <= item.end;
        let table = self.table(path);
        let used = table
            .iter()
            .filter(|o| inside(o.range) && named(o.range))
            .find(|o| !matches!(o.meaning, Meaning::Field { .. }))
            .map(|o| o.range.start as usize);
        let start = item.start as usize;
        used.or_else(|| {
            warden_syntax::lexer::lex(&text[item.as_range()])
                .into_iter()
                .filter(|t| t.kind == warden_syntax::lexer::TokenKind::Ident)
                .map(|t| {
                    TextRange::new(start + t.range.start as usize, start + t.range.end as usize)
                })
                .find(|&r| named(r) && warden_sema::occurrence_at(table, r.start).is_none())
                .map(|r| r.start as usize)
        })
    }

    /// `Err` when a waiver outside `path` waives the rule named at `name`
    /// (in `path`): its condition reads the rule's input by the name being
    /// changed.
    fn no_waiver_elsewhere(&self, path: &str, name: TextRange) -> Result<(), String> {
        let Some(Meaning::Rule(rule)) =
            warden_sema::occurrence_at(self.table(path), name.start).map(|o| &o.meaning)
        else {
            return Ok(());
        };
        let file = self.file(path).map(|f| f.id(self.db()));
        match self
            .program()
            .waivers
            .iter()
            .find(|w| w.rule == *rule && Some(w.span.file) != file && w.condition.is_some())
        {
            Some(waiver) => Err(format!(
                "the waiver `{}` in another file reads this rule's input by its name; \
                 rename it there too, or rename from here once they share a file",
                waiver.name
            )),
            None => Ok(()),
        }
    }
}
