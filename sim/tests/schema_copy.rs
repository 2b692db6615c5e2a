//! The crate ships its own copy of Buffer's schema (a published crate cannot reach outside its
//! directory); in the repository, the copy must be the library's `schema.graphql`, byte for
//! byte, so the simulator validates documents against the schema the client is generated from.

use std::path::Path;

#[test]
fn the_shipped_schema_is_the_librarys() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repository = crate_dir.join("..");
    if !repository.join("src/lib.rs").exists() {
        // Built from the published package: there is no library beside it to compare with.
        return;
    }
    let original = std::fs::read(repository.join("schema.graphql")).expect("the library's schema");
    let copy = std::fs::read(crate_dir.join("schema.graphql")).expect("sim/schema.graphql");
    assert!(
        copy == original,
        "sim/schema.graphql differs from the library's schema.graphql: copy it again \
         (cp schema.graphql sim/schema.graphql)"
    );
    assert_eq!(buffer_sim::SCHEMA_SDL.as_bytes(), copy.as_slice());
}
