//! Functions may not call themselves, directly or through others: policies terminate.

use super::Declarer;
use rustc_hash::FxHashMap;
use warden_diagnostics::{Code, Diagnostic, Span};

impl Declarer<'_> {
    /// Reports every function on a call cycle (E0108), with one cycle through
    /// it. Linear in the call graph: strongly connected components first
    /// then each cycle is read off two breadth-first trees of its component.
    pub(super) fn check_recursion(&mut self) {
        let graph: Vec<Vec<(usize, Span)>> =
            self.fn_decls.iter().map(|f| f.calls.clone()).collect();
        let component = crate::graph::strongly_connected(&graph);
        let mut members: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        for (f, c) in component.iter().enumerate() {
            members.entry(*c).or_default().push(f);
        }
        let mut cycles: Vec<(usize, Vec<usize>, Span)> = Vec::new();
        for nodes in members.values() {
            let root = nodes[0];
            let self_call = graph[root].iter().find(|(callee, _)| *callee == root);
            if nodes.len() == 1 {
                if let Some((_, span)) = self_call {
                    cycles.push((root, vec![root, root], *span));
                }
                continue;
            }
            let inside = |f: usize| component[f] == component[root];
            let paths = crate::graph::CyclePaths::new(&graph, root, inside);
            for &f in nodes {
                if let Some((path, span)) = paths.cycle_through(f) {
                    cycles.push((f, path, span));
                }
            }
        }
        cycles.sort_by_key(|(f, _, _)| *f);
        for (start, path, span) in cycles {
            // A long cycle is shown by its ends: the note stays one line.
            const SHOWN: usize = 8;
            let name = |i: &usize| format!("`{}`", self.env.fns[*i].name);
            let names: Vec<String> = if path.len() > SHOWN + 1 {
                let mut shown: Vec<String> = path[..SHOWN / 2].iter().map(name).collect();
                shown.push(format!("… {} more …", path.len() - SHOWN));
                shown.extend(path[path.len() - SHOWN / 2..].iter().map(name));
                shown
            } else {
                path.iter().map(name).collect()
            };
            let decl = self.fn_decls[start].decl;
            let decl_span = self.span(self.fn_decls[start].file, decl.name.range);
            let d = Diagnostic::new(
                Code::E0108,
                decl_span,
                format!("the function `{}` is recursive", self.env.fns[start].name),
            )
            .with_label("defined here")
            .with_secondary(span, "this call leads back to it")
            .with_note(format!("call cycle: {}", names.join(" → ")))
            .with_help("policies must terminate; express the check with `all`, `any` or a comprehension over a finite list");
            self.report(d);
        }
    }
}
