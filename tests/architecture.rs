//! The module structure holds: no import cycle between the crate's top-level modules, and
//! none between sibling modules of any directory (`credential/pem.rs` may use its parent
//! `credential/mod.rs`, but `a.rs` and `b.rs` next to each other may not use each other).
//! Arrows point down, so every module can be read, tested and changed from the bottom up.
//!
//! References are found in the source text: `crate::a::b` and `super::x` paths outside
//! `#[cfg(test)]` modules. `use crate::{a, b::c}` lists count too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                continue;
            }
            out.insert(parts, path);
        }
    }
    out
}

/// The source without its `#[cfg(test)] mod tests { ... }` (always at the end of a file).
fn without_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every `prefix::a::b::...` path in `text`, as its segments after the prefix.
fn paths_after<'t>(text: &'t str, prefix: &str) -> Vec<(usize, Vec<&'t str>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(prefix) {
        let at = from + i;
        from = at + prefix.len();
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| is_ident(c) || c == ':')
        {
            continue;
        }
        let rest = &text[from..];
        if rest.starts_with('{') {
            // `use crate::{a, b::c};`: every item of the list.
            let end = rest.find('}').unwrap_or(rest.len());
            for item in rest[1..end].split(',') {
                let segs: Vec<&str> = item.trim().split("::").map(str::trim).collect();
                if segs.first().is_some_and(|s| !s.is_empty()) {
                    out.push((at, segs));
                }
            }
            continue;
        }
        let end = rest
            .find(|c: char| !(is_ident(c) || c == ':'))
            .unwrap_or(rest.len());
        let segs: Vec<&str> = rest[..end].split("::").filter(|s| !s.is_empty()).collect();
        if !segs.is_empty() {
            out.push((at, segs));
        }
    }
    out
}

/// The deepest known module a path names.
fn resolve(known: &BTreeMap<Module, PathBuf>, path: &[String]) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| known.contains_key(m))
}

fn edges(known: &BTreeMap<Module, PathBuf>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut out: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, path) in known {
        let text = std::fs::read_to_string(path).unwrap();
        let text = without_tests(&text);
        let mut targets: Vec<Module> = Vec::new();
        for (_, segs) in paths_after(text, "crate::") {
            targets.push(segs.iter().map(|s| s.to_string()).collect());
        }
        // `super::x` (and `super::super::x`) from a file module is relative to its parent.
        for (_, segs) in paths_after(text, "super::") {
            let ups = 1 + segs.iter().take_while(|s| **s == "super").count();
            if ups > module.len() {
                continue;
            }
            let mut target: Module = module[..module.len() - ups].to_vec();
            target.extend(segs.iter().skip(ups - 1).map(|s| s.to_string()));
            targets.push(target);
        }
        for target in targets {
            if let Some(t) = resolve(known, &target)
                && &t != module
            {
                out.entry(module.clone()).or_default().insert(t);
            }
        }
    }
    out
}

/// Strongly connected components with more than one member (Tarjan).
fn cycles(
    nodes: &BTreeSet<Module>,
    edges: &BTreeMap<Module, BTreeSet<Module>>,
) -> Vec<Vec<Module>> {
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        nodes: &'a BTreeSet<Module>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        on: BTreeSet<Module>,
        next: usize,
        found: Vec<Vec<Module>>,
    }
    fn visit(s: &mut State<'_>, v: &Module) {
        s.index.insert(v.clone(), s.next);
        s.low.insert(v.clone(), s.next);
        s.next += 1;
        s.stack.push(v.clone());
        s.on.insert(v.clone());
        let targets: Vec<Module> = s
            .edges
            .get(v)
            .map(|t| t.iter().filter(|w| s.nodes.contains(*w)).cloned().collect())
            .unwrap_or_default();
        for w in targets {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let low = s.low[v].min(s.low[&w]);
                s.low.insert(v.clone(), low);
            } else if s.on.contains(&w) {
                let low = s.low[v].min(s.index[&w]);
                s.low.insert(v.clone(), low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on.remove(&w);
                let done = &w == v;
                component.push(w);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        nodes,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in nodes {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn no_import_cycles_between_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let known = modules(&src);
    let edges = edges(&known);
    assert!(
        edges.contains_key(&vec!["token_cache".to_string()]),
        "the scan finds references at all"
    );
    let mut found = Vec::new();
    // For each directory, its children as units (a child directory counts as one node).
    let parents: BTreeSet<Module> = known.keys().map(|m| m[..m.len() - 1].to_vec()).collect();
    for parent in parents {
        let child = |m: &Module| -> Option<Module> {
            (m.len() > parent.len() && m[..parent.len()] == parent[..])
                .then(|| m[..=parent.len()].to_vec())
        };
        let nodes: BTreeSet<Module> = known.keys().filter_map(child).collect();
        let mut grouped: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        for (from, tos) in &edges {
            let Some(a) = child(from) else { continue };
            for to in tos {
                if let Some(b) = child(to).filter(|b| *b != a) {
                    grouped.entry(a.clone()).or_default().insert(b);
                }
            }
        }
        for cycle in cycles(&nodes, &grouped) {
            let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            found.push(names.join(" <-> "));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn the_scan_sees_a_cycle_when_there_is_one() {
    // The detector itself: a <-> b is found, a chain is not.
    let m = |s: &str| vec![s.to_string()];
    let nodes: BTreeSet<Module> = [m("a"), m("b"), m("c")].into();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    edges.entry(m("a")).or_default().insert(m("b"));
    edges.entry(m("b")).or_default().insert(m("c"));
    assert!(cycles(&nodes, &edges).is_empty());
    edges.entry(m("c")).or_default().insert(m("a"));
    assert_eq!(cycles(&nodes, &edges).len(), 1);
    // And the parser reads `use crate::{a, b::c}` and `super::super::x` paths.
    let text = "use crate::{a, b::c};\nuse super::super::x::Y;\nfn f() { crate::d::e(); }";
    let crate_paths: Vec<Vec<&str>> = paths_after(text, "crate::")
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(crate_paths, vec![vec!["a"], vec!["b", "c"], vec!["d", "e"]]);
    assert_eq!(paths_after(text, "super::").len(), 1);
}
