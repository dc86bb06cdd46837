//! Call-graph algorithms, linear in the size of the graph: a policy set of
//! ten thousand functions must compile in moments, whatever their shape.

use std::collections::VecDeque;
use warden_diagnostics::Span;

/// The strongly connected component of each node (Tarjan's algorithm, with
/// an explicit stack: a chain of calls as long as the policy set is
/// walked without recursion).
pub(crate) fn strongly_connected(graph: &[Vec<(usize, Span)>]) -> Vec<usize> {
    const UNVISITED: usize = usize::MAX;
    let n = graph.len();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNVISITED; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut next_component = 0;
    // (node, position in its list of calls)
    let mut work: Vec<(usize, usize)> = Vec::new();
    for start in 0..n {
        if index[start] != UNVISITED {
            continue;
        }
        work.push((start, 0));
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if *edge == 0 && index[node] == UNVISITED {
                index[node] = next_index;
                low[node] = next_index;
                next_index += 1;
                stack.push(node);
                on_stack[node] = true;
            }
            if let Some(&(callee, _)) = graph[node].get(*edge) {
                *edge += 1;
                if index[callee] == UNVISITED {
                    work.push((callee, 0));
                } else if on_stack[callee] {
                    low[node] = low[node].min(index[callee]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

/// Shortest paths from and to one root inside a strongly connected
/// component: every member's cycle is its path to the root followed by
/// the root's path back to it.
pub(crate) struct CyclePaths {
    root: usize,
    /// For each node reached from the root: the node before it, and the call.
    from_root: Vec<Option<(usize, Span)>>,
    /// For each node that reaches the root: the next node on the way.
    to_root: Vec<Option<usize>>,
    /// The calls of the root inside the component, with their callers.
    root_callers: Vec<(usize, Span)>,
}

impl CyclePaths {
    pub(crate) fn new(
        graph: &[Vec<(usize, Span)>],
        root: usize,
        inside: impl Fn(usize) -> bool,
    ) -> CyclePaths {
        let n = graph.len();
        let mut from_root = vec![None; n];
        let mut seen = vec![false; n];
        seen[root] = true;
        let mut queue = VecDeque::from([root]);
        while let Some(node) = queue.pop_front() {
            for &(callee, span) in &graph[node] {
                if inside(callee) && !seen[callee] {
                    seen[callee] = true;
                    from_root[callee] = Some((node, span));
                    queue.push_back(callee);
                }
            }
        }
        // Backwards: who calls whom, inside the component.
        let mut callers: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut root_callers = Vec::new();
        for (caller, calls) in graph.iter().enumerate() {
            if inside(caller) {
                for &(callee, span) in calls {
                    if inside(callee) {
                        callers[callee].push(caller);
                    }
                    if callee == root && inside(caller) {
                        root_callers.push((caller, span));
                    }
                }
            }
        }
        let mut to_root = vec![None; n];
        let mut seen = vec![false; n];
        seen[root] = true;
        let mut queue = VecDeque::from([root]);
        while let Some(node) = queue.pop_front() {
            for &caller in &callers[node] {
                if !seen[caller] {
                    seen[caller] = true;
                    to_root[caller] = Some(node);
                    queue.push_back(caller);
                }
            }
        }
        CyclePaths {
            root,
            from_root,
            to_root,
            root_callers,
        }
    }

    /// A cycle through `f` (its names from `f` back to `f`), and the call
    /// that closes it.
    pub(crate) fn cycle_through(&self, f: usize) -> Option<(Vec<usize>, Span)> {
        let mut path = vec![f];
        let mut node = f;
        while node != self.root {
            node = self.to_root[node]?;
            path.push(node);
        }
        // The root's way back to `f`: read backwards from `f`.
        let closing;
        if f == self.root {
            // Any caller of the root that the root reaches closes its cycle.
            let (caller, span) = *self
                .root_callers
                .iter()
                .find(|(caller, _)| *caller == self.root || self.from_root[*caller].is_some())?;
            let mut back = vec![];
            let mut node = caller;
            while node != self.root {
                back.push(node);
                node = self.from_root[node]?.0;
            }
            path.extend(back.into_iter().rev());
            path.push(self.root);
            closing = span;
        } else {
            let mut back = vec![];
            let mut node = f;
            let mut last_call = None;
            while node != self.root {
                let (before, span) = self.from_root[node]?;
                last_call.get_or_insert(span);
                back.push(node);
                node = before;
            }
            path.extend(back.into_iter().rev());
            closing = last_call?;
        }
        Some((path, closing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_diagnostics::{FileId, TextRange};

    fn span(n: usize) -> Span {
        Span::new(FileId(0), TextRange::new(n, n + 1))
    }

    fn graph(edges: &[(usize, usize)], n: usize) -> Vec<Vec<(usize, Span)>> {
        let mut g = vec![Vec::new(); n];
        for (i, &(a, b)) in edges.iter().enumerate() {
            g[a].push((b, span(i)));
        }
        g
    }

    #[test]
    fn components_of_a_chain_and_a_cycle() {
        // 0 → 1 → 2 → 0, 2 → 3, 3 alone, 4 → 4
        let g = graph(&[(0, 1), (1, 2), (2, 0), (2, 3), (4, 4)], 5);
        let c = strongly_connected(&g);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[2], c[3]);
        assert_ne!(c[3], c[4]);
        let inside = |f: usize| c[f] == c[0];
        let paths = CyclePaths::new(&g, 0, inside);
        let (p0, s0) = paths.cycle_through(0).unwrap();
        assert_eq!(p0, [0, 1, 2, 0]);
        assert_eq!(s0, span(2), "the call 2 → 0 closes it");
        let (p1, s1) = paths.cycle_through(1).unwrap();
        assert_eq!(p1, [1, 2, 0, 1]);
        assert_eq!(s1, span(0), "the call 0 → 1 closes it");
        let (p2, _) = paths.cycle_through(2).unwrap();
        assert_eq!(p2, [2, 0, 1, 2]);
    }

    #[test]
    fn a_long_chain_is_walked_without_recursion() {
        let n = 200_000;
        let edges: Vec<(usize, usize)> = (1..n).map(|i| (i, i - 1)).collect();
        let c = strongly_connected(&graph(&edges, n));
        let distinct: std::collections::HashSet<_> = c.iter().collect();
        assert_eq!(distinct.len(), n);
    }
}
