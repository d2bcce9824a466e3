//! The repository documents itself: every source file, script and README that cites a document
//! cites one inside the repository (`docs/...`), the cited file exists, and a cited section
//! (`§2.5`, `section 3`, or an open question `q14`) is a heading of that file.
//!
//! Paths outside the repository are allowed only for the inputs a build reads and never commits
//! (`../shared/toolchain`, `../shared/vendor`, `../shared/testdata`); a hardware or design
//! document outside the repository is something a user who clones the project does not have.

use std::fs;
use std::path::{Path, PathBuf};

/// Directories never walked: build output, caches, fetched third-party sources, fuzz state.
const SKIP_DIRS: &[&str] = &[
    "target",
    ".git",
    ".cache",
    "node_modules",
    "build",
    "corpus",
    "artifacts",
];

/// File extensions that carry comments or prose.
const EXTENSIONS: &[&str] = &[
    "rs", "c", "h", "S", "s", "md", "toml", "sh", "py", "mk", "ld", "js", "txt", "yml", "yaml",
];

/// Files without an extension that are scripts.
const SCRIPT_NAMES: &[&str] = &["Makefile", "run"];

/// Inputs outside the repository that a build or test reads (never committed).
const ALLOWED_OUTSIDE: &[&str] = &["toolchain", "vendor", "testdata"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ft900-sim lives in the workspace")
        .to_path_buf()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            let hidden_but_wanted = name == ".ci";
            if SKIP_DIRS.contains(&name.as_str()) || (name.starts_with('.') && !hidden_but_wanted) {
                continue;
            }
            walk(&path, out);
        } else if kind.is_file() {
            let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
            let wanted = match ext {
                Some(ext) => EXTENSIONS.contains(&ext.as_str()),
                None => SCRIPT_NAMES.contains(&name.as_str()),
            };
            if wanted {
                out.push(path);
            }
        }
    }
}

/// Names of documents that used to live outside the repository (spelled in pieces so that this
/// file does not cite them itself).
fn outside_documents() -> [String; 3] {
    [
        format!("{}-HARDWARE", "FT900"),
        format!("{}.md", "DESIGN"),
        format!("{}.md", "STYLE"),
    ]
}

/// `shared/<dir>` reached from the repository by a relative or an absolute path.
fn shared_dirs(line: &str) -> Vec<String> {
    let needle = format!("{}/", "shared");
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(&needle) {
        let before = &rest[..at];
        let after = &rest[at + needle.len()..];
        if before.ends_with('/') {
            let dir: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c))
                .collect();
            found.push(dir);
        }
        rest = after;
    }
    found
}

/// The `docs/...` paths a line cites, each with the section it names right after it, if any.
fn doc_citations(line: &str) -> Vec<(String, Option<String>)> {
    let mut cites = Vec::new();
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(off) = line[from..].find("docs/") {
        let start = from + off;
        from = start + 5;
        // `docs/` must start a path, not end a longer name (`mydocs/`).
        if start > 0 {
            let prev = bytes[start - 1] as char;
            if prev.is_ascii_alphanumeric() || prev == '_' || prev == '-' {
                continue;
            }
        }
        let path: String = line[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "_-./".contains(*c))
            .collect();
        let path = path.trim_end_matches(['.', '/']).to_string();
        if !path.ends_with(".md") {
            // A directory or a non-document file: it must still exist.
            cites.push((path, None));
            continue;
        }
        let tail = line[start + path.len()..].trim_start_matches(['`', ')', ']', ',']);
        let tail = tail.trim_start();
        let section = if let Some(s) = tail.strip_prefix('§') {
            Some(section_number(s))
        } else if let Some(s) = tail.strip_prefix("section ") {
            Some(section_number(s))
        } else if tail.starts_with('q') && tail[1..].starts_with(|c: char| c.is_ascii_digit()) {
            let n: String = tail[1..].chars().take_while(char::is_ascii_digit).collect();
            Some(format!("q{n}"))
        } else {
            None
        };
        cites.push((path, section.filter(|s| !s.is_empty())));
    }
    cites
}

/// `2.5–2.11, returning` → `2.5`.
fn section_number(s: &str) -> String {
    let n: String = s
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    n.trim_end_matches('.').to_string()
}

/// Whether `doc` has a heading for `section`: `## 2. Title`, `### 2.5 Title` or `### q14 Title`.
fn has_section(doc: &str, section: &str) -> bool {
    doc.lines().any(|l| {
        let Some(title) = l.strip_prefix('#') else {
            return false;
        };
        let title = title.trim_start_matches('#').trim_start();
        title
            .strip_prefix(section)
            .is_some_and(|rest| rest.starts_with(['.', ' ']) || rest.is_empty())
    })
}

fn check_file(root: &Path, path: &Path, problems: &mut Vec<String>) {
    let Ok(text) = fs::read_to_string(path) else {
        return; // not UTF-8: no prose to check
    };
    let rel = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let outside = outside_documents();
    for (i, line) in text.lines().enumerate() {
        let at = format!("{rel}:{}", i + 1);
        for name in &outside {
            if line.contains(name.as_str()) {
                problems.push(format!(
                    "{at}: cites {name}, which is not in the repository"
                ));
            }
        }
        for dir in shared_dirs(line) {
            if !ALLOWED_OUTSIDE.contains(&dir.as_str()) {
                problems.push(format!(
                    "{at}: cites shared/{dir} outside the repository (only the build inputs \
                     {ALLOWED_OUTSIDE:?} may live there)"
                ));
            }
        }
        if line.contains(&format!("/{}/", "work")) && !rel.ends_with(".txt") {
            problems.push(format!(
                "{at}: cites an absolute path of the development machine"
            ));
        }
        for (doc, section) in doc_citations(line) {
            let target = root.join(&doc);
            if !target.exists() {
                problems.push(format!("{at}: cites {doc}, which does not exist"));
                continue;
            }
            if let Some(section) = section {
                let body = fs::read_to_string(&target).unwrap_or_default();
                if !has_section(&body, &section) {
                    let mark = if section.starts_with('q') { "" } else { "§" };
                    problems.push(format!(
                        "{at}: cites {doc} {mark}{section}, which has no such heading"
                    ));
                }
            }
        }
    }
}

#[test]
fn sources_cite_only_documents_inside_the_repository() {
    let root = repo_root();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    // Guard against walking nothing (a wrong root would make the test pass vacuously).
    let docs = root.join("docs/hardware/README.md");
    assert!(docs.exists(), "{} is missing", docs.display());
    assert!(
        files.len() > 300,
        "walked only {} files under {}",
        files.len(),
        root.display()
    );
    let mut problems = Vec::new();
    let mut cited = 0;
    // This file spells the forbidden citations in its own checks and examples.
    let this_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docs_refs.rs");
    assert!(this_file.exists(), "{} is missing", this_file.display());
    for path in files.iter().filter(|p| **p != this_file) {
        check_file(&root, path, &mut problems);
        if let Ok(text) = fs::read_to_string(path) {
            cited += text.lines().map(|l| doc_citations(l).len()).sum::<usize>();
        }
    }
    assert!(
        cited > 50,
        "only {cited} citations of docs/ found: the scanner is broken"
    );
    assert!(
        problems.is_empty(),
        "{} reference problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_scanner_finds_what_it_must() {
    let cites = doc_citations("see `docs/hardware/isa.md` §2.5–2.11, and docs/design.md.");
    assert_eq!(
        cites,
        vec![
            ("docs/hardware/isa.md".to_string(), Some("2.5".to_string())),
            ("docs/design.md".to_string(), None),
        ]
    );
    let cites = doc_citations("(docs/hardware/open-questions.md q14) and mydocs/x.md");
    assert_eq!(
        cites,
        vec![(
            "docs/hardware/open-questions.md".to_string(),
            Some("q14".to_string())
        )]
    );
    assert_eq!(
        doc_citations("layout (docs/hardware/memory-map.md section 1), as")[0].1,
        Some("1".to_string())
    );
    assert_eq!(
        shared_dirs("from ../shared/toolchain and ../shared/reference/x"),
        ["toolchain", "reference"]
    );
    assert!(shared_dirs("a shared/ budget").is_empty());
    let doc = "# T\n## 2. Instruction set\n### 2.5 ALU operations\n### q14 Timer arithmetic\n";
    assert!(has_section(doc, "2"));
    assert!(has_section(doc, "2.5"));
    assert!(has_section(doc, "q14"));
    assert!(!has_section(doc, "2.6"));
    assert!(!has_section(doc, "q1"));
    assert!(!has_section(doc, "5"));
}
