//! The layering rules of `src/`, checked mechanically so they stay true:
//! - a route file imports no other route file and not the store, and holds no SQL;
//! - no SQL in `src/` carries a hand-numbered `?N` placeholder (`store::sql` numbers them);
//! - `src/domain` imports nothing from `http`, `services` or `store`;
//! - `src/services` imports nothing from `http`, and `src/store` nothing from `http` or
//!   `services` (data flows one way: http -> services -> domain / store).

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn src(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub)
}

/// Lines of code, without comments (doc or plain) and without `#[cfg(test)]` modules'
/// contents (tests may use anything).
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start() == "#[cfg(test)]" {
            break;
        }
        // The first `//` outside a string literal ("https://..." is not a comment).
        let comment = line
            .match_indices("//")
            .map(|(at, _)| at)
            .find(|&at| line[..at].matches('"').count() % 2 == 0);
        let code = comment.map_or(line, |at| &line[..at]);
        if !code.trim().is_empty() {
            out.push((i + 1, code.to_owned()));
        }
    }
    out
}

fn violations(dir: &str, bad: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(&src(dir)) {
        for (n, line) in code_lines(&file) {
            if let Some(why) = bad(&line) {
                found.push(format!("{}:{n}: {why}: {}", file.display(), line.trim()));
            }
        }
    }
    found
}

fn imports_any(line: &str, modules: &[&str]) -> Option<String> {
    modules
        .iter()
        .find(|m| line.contains(&format!("crate::{m}")))
        .map(|m| format!("imports crate::{m}"))
}

const SQL_WORDS: [&str; 5] = [
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    " WHERE ",
];

fn holds_sql(line: &str) -> Option<String> {
    SQL_WORDS
        .iter()
        .find(|w| line.contains(*w))
        .map(|w| format!("SQL ({})", w.trim()))
}

/// `?` followed by a digit: a hand-numbered SQLite placeholder.
fn numbered_placeholder(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    bytes
        .windows(2)
        .any(|w| w[0] == b'?' && w[1].is_ascii_digit())
        .then(|| "hand-numbered placeholder".to_owned())
}

#[test]
fn routes_parse_call_one_service_and_render() {
    let found = violations("http/routes", |line| {
        if line.contains("use super::") && !line.contains("use super::Handled;") {
            return Some("imports a sibling route".into());
        }
        imports_any(line, &["store", "http::routes"]).or_else(|| holds_sql(line))
    });
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn no_sql_has_a_hand_numbered_placeholder() {
    let found = violations("", numbered_placeholder);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_domain_depends_on_nothing_outside_it() {
    let found = violations("domain", |line| {
        imports_any(line, &["http", "services", "store"])
    });
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The contract describes the API in types and values; it knows nothing of how a request
/// is served, so the generated document never depends on the Worker's plumbing.
#[test]
fn the_api_contract_depends_on_types_only() {
    let found = violations("api", |line| {
        imports_any(line, &["http", "services", "store"])
    });
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn data_flows_one_way() {
    let mut found = violations("services", |line| imports_any(line, &["http"]));
    found.extend(violations("store", |line| {
        imports_any(line, &["http", "services", "error::ApiError"])
    }));
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The checks above can fail: each rule catches the line it exists for.
#[test]
fn the_rules_catch_what_they_are_for() {
    assert!(numbered_placeholder(r#"sql("UPDATE users SET a = ?3")"#).is_some());
    assert!(numbered_placeholder(r#"let x = y?;"#).is_none());
    assert!(holds_sql(r#"db.statement("DELETE FROM recovery_codes")"#).is_some());
    assert!(imports_any("use crate::store::users;", &["store"]).is_some());
    assert!(imports_any("use crate::domain::totp;", &["store"]).is_none());
    let dir = std::env::temp_dir().join(format!("layers-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("x.rs");
    fs::write(
        &file,
        "// SELECT in a comment\nlet u = \"https://x\"; // ?1\n#[cfg(test)]\nmod tests { ?2 }\n",
    )
    .unwrap();
    let lines = code_lines(&file);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(numbered_placeholder(&lines[0].1).is_none());
    fs::remove_dir_all(&dir).unwrap();
}
