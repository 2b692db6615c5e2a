//! `schema.graphql` against the documents that use it: every document the GraphQL backend
//! sends, documents written the way Buffer's guides and official clients write them, and the
//! shapes Buffer is known to refuse.

use apollo_compiler::{ExecutableDocument, Schema, validation::Valid};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schema() -> Valid<Schema> {
    let text = fs::read_to_string(root().join("schema.graphql")).unwrap();
    Schema::parse_and_validate(text, "schema.graphql")
        .unwrap_or_else(|e| panic!("schema.graphql does not validate:\n{e}"))
}

fn documents(dir: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(root().join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "graphql"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no documents in {dir}");
    paths
}

fn validate(schema: &Valid<Schema>, path: &Path) -> Result<(), String> {
    let text = fs::read_to_string(path).unwrap();
    ExecutableDocument::parse_and_validate(schema, text, path.to_string_lossy().as_ref())
        .map(drop)
        .map_err(|e| e.to_string())
}

#[test]
fn every_document_the_backend_sends_validates() {
    let schema = schema();
    let documents = documents("graphql");
    let operations: usize = documents
        .iter()
        .map(|path| {
            fs::read_to_string(path)
                .unwrap()
                .lines()
                .filter(|line| line.starts_with("query ") || line.starts_with("mutation "))
                .count()
        })
        .sum();
    assert!(
        operations >= 15,
        "every operation is in a document: {operations}"
    );
    for path in documents {
        if let Err(error) = validate(&schema, &path) {
            panic!("{} does not validate:\n{error}", path.display());
        }
    }
}

#[test]
fn every_fragment_is_written_once_after_its_documents_operations() {
    let mut names = Vec::new();
    for path in documents("graphql") {
        let text = fs::read_to_string(&path).unwrap();
        let first_fragment = text.find("\nfragment ").unwrap_or(text.len());
        assert!(
            !text[first_fragment..].contains("\nquery ")
                && !text[first_fragment..].contains("\nmutation "),
            "{}: fragments come after the operations",
            path.display()
        );
        for line in text.lines().filter(|line| line.starts_with("fragment ")) {
            let name = line.split_whitespace().nth(1).unwrap().to_owned();
            assert!(!names.contains(&name), "{name} is written twice");
            names.push(name);
        }
    }
    assert!(names.len() >= 5, "{names:?}");
}

#[test]
fn documents_written_like_buffers_own_validate() {
    let schema = schema();
    for path in documents("tests/fixtures/graphql/buffer_documents") {
        if let Err(error) = validate(&schema, &path) {
            panic!("{} does not validate:\n{error}", path.display());
        }
    }
}

#[test]
fn shapes_buffer_refuses_are_refused_here_too() {
    // Spreading a type outside the union, the legacy AssetsInput object, a bad enum literal
    // and a bare object field all get HTTP 400 GRAPHQL_VALIDATION_FAILED at Buffer.
    let schema = schema();
    for path in documents("tests/fixtures/graphql/refused") {
        assert!(
            validate(&schema, &path).is_err(),
            "{} validates, but Buffer refuses it",
            path.display()
        );
    }
}
