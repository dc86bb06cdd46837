//! What hovering over a name shows: read from the semantic table (what the
//! name means and its type), with the doc of its declaration.

use crate::AnalysisHost;
use crate::symbols::doc_of;
use warden_diagnostics::TextRange;
use warden_sema::Meaning;

impl AnalysisHost {
    /// What to show when hovering at `offset`: a binding's or field's type,
    /// a declaration's signature, a built-in's, with the declaration's doc.
    pub fn hover(&self, path: &str, offset: usize) -> Option<(String, TextRange)> {
        let occurrence = self.occurrence(path, offset)?;
        let declared = self.declaration_of(path, &occurrence);
        // The name as declared (a rule may be named here by its full path).
        let name = match &declared {
            Some((declared_in, at)) => self.text(declared_in)?[at.as_range()].to_string(),
            None => self.text(path)?[occurrence.range.as_range()].to_string(),
        };
        let program = self.program();
        let mut out = match &occurrence.meaning {
            Meaning::Binding { .. } | Meaning::Field { .. } => {
                let ty =
                    warden_sema::type_text(&occurrence, self.declarations(), self.checked(path)?)?;
                format!("```warden\n{name}: {ty}\n```")
            }
            Meaning::Builtin(builtin) => format!("```warden\n{}\n```", builtin.doc()),
            Meaning::Rule(id) => {
                let rule = program.rules.get(id.index())?;
                let target = &program.target(rule.target).name;
                format!(
                    "```warden\nrule {name} on {target}\n```\n\n`{}` · {} · cost {}",
                    rule.name,
                    rule_summary(rule),
                    warden_ir::rule_cost(program, rule)
                )
            }
            Meaning::Type(_) => format!("```warden\ntype {name}\n```"),
            Meaning::Target(_) => format!("```warden\ntarget {name}\n```"),
            Meaning::Data(_) => format!("```warden\ndata {name}\n```"),
            Meaning::Function(_) => format!("```warden\nfn {name}\n```"),
            Meaning::Package(_) => format!("```warden\npackage {name}\n```"),
        };
        if let Some((declared_in, at)) = declared
            && let Some(doc) = self.parse(&declared_in).and_then(|p| doc_of(p.tree(), at))
        {
            out.push_str("\n\n");
            out.push_str(&doc);
        }
        Some((out, occurrence.range))
    }
}

/// `severity high · control IAM-1`: how hover and completion describe a rule.
pub(crate) fn rule_summary(rule: &warden_ir::Rule) -> String {
    let control = rule
        .control
        .as_ref()
        .map(|c| format!(" · control {c}"))
        .unwrap_or_default();
    format!("severity {}{control}", rule.severity.as_str())
}
