//! The tree's shape, kept: each top-level module imports only layers before it (or itself), no
//! two files import each other in a circle, and the authentication domain knows nothing of
//! HTTP or Leptos. Reads `src/` as text; test modules are left out (a test may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import its own layer's module and any layer before
/// it; modules on one line are siblings and may not import each other.
const LAYERS: &[&[&str]] = &[
    &["config"],
    &["limits", "wire"],
    &["clock", "error"],
    &["db"],
    &["store", "users"],
    &["auth"],
    &["state"],
    &["api"],
    &["components"],
    &["app"],
    &["server"],
    &["cli"],
];

fn rank(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| {
            panic!("src/{module}: not in a layer; add it to LAYERS (and the README)")
        })
}

/// A source file and the module path it defines (`src/store/sql.rs` → `["store", "sql"]`).
struct Source {
    file: PathBuf,
    module: Vec<String>,
    text: String,
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|file| {
            let rel = file.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Vec<String> = rel
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            // The crate root declares every module, and `main` may use all of them.
            if module == ["lib"] || module == ["main"] {
                return None;
            }
            let text = without_tests(&std::fs::read_to_string(&file).unwrap());
            Some(Source { file, module, text })
        })
        .collect()
}

/// The text before the file's `#[cfg(test)]` module, with comments removed and string
/// literals blanked (a message saying "use a recovery code" is no import).
fn without_tests(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::with_capacity(code.len());
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                out.push('"');
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => out.push('\n'),
                        _ => out.push(' '),
                    }
                }
                out.push('"');
            }
            // A char literal ('"', '\'', 'x'), not a lifetime.
            '\'' => {
                out.push('\'');
                let mut ahead = chars.clone();
                let literal = match ahead.next() {
                    Some('\\') => true,
                    Some(_) => ahead.next() == Some('\''),
                    None => false,
                };
                if literal {
                    for c in chars.by_ref() {
                        if c == '\'' {
                            break;
                        }
                    }
                    out.push('\'');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path a file names: `use` trees expanded (`use a::{b, c::d}` → `a::b`, `a::c::d`) and
/// paths written in code (`crate::x::y(…)`).
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        let after = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            rest = after;
            continue;
        }
        let Some(end) = after.find(';') else { break };
        expand(&after[..end], &mut Vec::new(), &mut out);
        rest = &after[end..];
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if (bytes[i] as char).is_ascii_alphabetic() || bytes[i] == b'_' {
            let prev = start.checked_sub(1).map(|p| bytes[p] as char);
            let mut segments = Vec::new();
            loop {
                let s = i;
                while i < bytes.len()
                    && ((bytes[i] as char).is_ascii_alphanumeric() || bytes[i] == b'_')
                {
                    i += 1;
                }
                segments.push(text[s..i].to_owned());
                if text[i..].starts_with("::")
                    && text[i + 2..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                {
                    i += 2;
                } else {
                    break;
                }
            }
            if segments.len() > 1 && !prev.is_some_and(|c| c == ':' || c.is_alphanumeric()) {
                out.push(segments);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Expands one `use` tree.
fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let n = head.len();
        prefix.extend(head);
        let (mut depth, mut from) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[from..i], prefix, out);
                    from = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[from..], prefix, out);
        prefix.truncate(prefix.len() - n);
    } else if !tree.is_empty() {
        let tree = tree.split(" as ").next().unwrap_or(tree);
        let mut path = prefix.clone();
        path.extend(tree.split("::").map(str::trim).map(str::to_owned));
        out.push(path);
    }
}

/// The file a path leads to, from the module `here`: the deepest module file on the way.
fn resolve(
    path: &[String],
    here: &[String],
    files: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<PathBuf> {
    let mut module: Vec<String> = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => here[..here.len().saturating_sub(1)].to_vec(),
        // A child module of this one, named without `self::`.
        first if files.contains_key(&[here, &[first.to_owned()]].concat()) => here.to_vec(),
        _ => return None,
    };
    let mut segments = &path[usize::from(matches!(path[0].as_str(), "crate" | "self" | "super"))..];
    while segments.first().is_some_and(|s| s == "super") {
        module.pop();
        segments = &segments[1..];
    }
    let mut found = files.get(&module).cloned();
    for segment in segments {
        module.push(segment.clone());
        match files.get(&module) {
            Some(file) => found = Some(file.clone()),
            None => break,
        }
    }
    found
}

struct Graph {
    edges: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    modules: BTreeMap<PathBuf, Vec<String>>,
}

fn graph() -> Graph {
    let sources = sources();
    let files: BTreeMap<Vec<String>, PathBuf> = sources
        .iter()
        .map(|s| (s.module.clone(), s.file.clone()))
        .collect();
    let mut edges = BTreeMap::new();
    for s in &sources {
        let targets: BTreeSet<PathBuf> = paths(&s.text)
            .iter()
            .filter_map(|p| resolve(p, &s.module, &files))
            .filter(|target| *target != s.file)
            .collect();
        edges.insert(s.file.clone(), targets);
    }
    let modules = sources.into_iter().map(|s| (s.file, s.module)).collect();
    Graph { edges, modules }
}

fn name(file: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

#[test]
fn each_module_imports_only_layers_before_its_own() {
    let g = graph();
    let mut wrong = Vec::new();
    for (file, targets) in &g.edges {
        let own = &g.modules[file][0];
        for target in targets {
            let theirs = &g.modules[target][0];
            if theirs != own && rank(theirs) >= rank(own) {
                wrong.push(format!("{} imports {}", name(file), name(target)));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layer order:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other_in_a_circle() {
    let g = graph();
    // Depth-first search; a file met again while still on the path closes a circle.
    fn visit(
        file: &PathBuf,
        g: &Graph,
        path: &mut Vec<PathBuf>,
        done: &mut BTreeSet<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(at) = path.iter().position(|f| f == file) {
            return Some(path[at..].to_vec());
        }
        if !done.insert(file.clone()) {
            return None;
        }
        path.push(file.clone());
        for next in &g.edges[file] {
            if let Some(circle) = visit(next, g, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for file in g.edges.keys() {
        if let Some(circle) = visit(file, &g, &mut Vec::new(), &mut done) {
            let names: Vec<String> = circle.iter().map(|f| name(f)).collect();
            panic!("import circle: {} -> {}", names.join(" -> "), names[0]);
        }
    }
}

#[test]
fn the_authentication_domain_knows_nothing_of_http_or_leptos() {
    for s in sources().iter().filter(|s| s.module[0] == "auth") {
        for word in ["axum", "http::", "leptos", "hyper", "tower_http"] {
            assert!(!s.text.contains(word), "{} mentions {word}", name(&s.file));
        }
    }
}

/// The checks themselves: a circle and an upward import are caught.
#[test]
fn the_checks_catch_what_they_are_for() {
    let here = vec!["store".to_owned(), "sql".to_owned()];
    let files: BTreeMap<Vec<String>, PathBuf> = [
        (vec!["store".to_owned()], PathBuf::from("store/mod.rs")),
        (here.clone(), PathBuf::from("store/sql.rs")),
        (
            vec!["store".to_owned(), "record".to_owned()],
            PathBuf::from("store/record.rs"),
        ),
        (vec!["server".to_owned()], PathBuf::from("server/mod.rs")),
    ]
    .into();
    let found: Vec<_> =
        paths("use super::{record::{self, hex}, StoreError};\nlet x = crate::server::router();")
            .iter()
            .filter_map(|p| resolve(p, &here, &files))
            .collect();
    assert_eq!(
        found,
        [
            "store/record.rs",
            "store/record.rs",
            "store/mod.rs",
            "server/mod.rs"
        ]
        .map(PathBuf::from)
    );
    assert!(rank("server") > rank("store"));
}
