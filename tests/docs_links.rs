//! The README and the docs point only at things a reader of the repository can open: every
//! relative markdown link in `README.md` and `docs/**/*.md` names a file or folder that exists, and
//! a `#fragment` on a markdown file names one of its headings (GitHub's anchor rules: lower case,
//! punctuation dropped, spaces to dashes). The README stays under 15 kB (issue 11: a newcomer reads
//! it in ten minutes). A self-test feeds a broken link and a broken anchor and expects both named.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `](target)` links of a markdown text, outside code blocks; absolute URLs and mail links skipped.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = &rest[..end];
            rest = &rest[end..];
            if target.contains("://") || target.starts_with("mailto:") || target.is_empty() {
                continue;
            }
            links.push(target.to_string());
        }
    }
    links
}

/// GitHub's anchor of a heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.push(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// Every broken link of `text`, a file at `file` (relative links resolve from its folder).
fn broken_links(file: &Path, text: &str) -> Vec<String> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut broken = Vec::new();
    for link in relative_links(text) {
        let (path, fragment) = match link.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (link.as_str(), None),
        };
        let (target, target_text) = if path.is_empty() {
            (file.to_path_buf(), Some(text.to_string()))
        } else {
            let t = dir.join(path);
            let body = fs::read_to_string(&t).ok();
            if !t.exists() {
                broken.push(format!("{}: {link} (no such file)", file.display()));
                continue;
            }
            (t, body)
        };
        if let (Some(fragment), Some(body)) = (fragment, target_text) {
            let is_markdown = target.extension().is_some_and(|e| e == "md") || path.is_empty();
            if is_markdown && !anchors(&body).iter().any(|a| a == fragment) {
                broken.push(format!("{}: {link} (no such heading)", file.display()));
            }
        }
    }
    broken
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut stack = vec![root().join("docs")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("docs/ is readable") {
            let path = entry.expect("a docs entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn every_relative_link_in_the_readme_and_docs_opens() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = fs::read_to_string(&file).expect("markdown is readable");
        broken.extend(broken_links(&file, &text));
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_missing_file_and_a_missing_heading_are_both_reported() {
    let file = root().join("README.md");
    let text =
        "# Top\n[ok](#top) [gone](docs/no-such-file.md) [bad](docs/reference.md#no-such-heading)\n";
    let broken = broken_links(&file, text);
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(broken[0].contains("no-such-file.md"), "{broken:?}");
    assert!(broken[1].contains("#no-such-heading"), "{broken:?}");
}

#[test]
fn the_readme_is_under_15_kb() {
    let size = fs::metadata(root().join("README.md"))
        .expect("README.md")
        .len();
    assert!(
        size < 15_000,
        "README.md is {size} bytes; keep it under 15 kB"
    );
}
