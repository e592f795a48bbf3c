//! `public/openapi.json` is generated from `src/api/` (the route table, the typed bodies,
//! `ApiError`); this fails when the committed file is not what the code generates.
//! `make openapi` rewrites it.

use std::fs;
use std::path::Path;

use edge_login::api::openapi::document_text;

fn committed_path() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/public/openapi.json"))
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let generated = document_text();
    if std::env::var_os("OPENAPI_WRITE").is_some() {
        fs::write(committed_path(), &generated).expect("write public/openapi.json");
        return;
    }
    let committed = fs::read_to_string(committed_path()).expect("read public/openapi.json");
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "public/openapi.json differs from what src/api generates, from line {}:\n  committed: {:?}\n  generated: {:?}\nRun `make openapi` and commit the result.",
            line + 1,
            committed.lines().nth(line).unwrap_or("<end of file>"),
            generated.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}
