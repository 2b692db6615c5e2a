//! Configuration: TOML and environment pairs build the right backend, every missing or
//! contradictory setting is an error naming what to set, and no secret is ever printed.

use buffer_bridge::config::BackendConfig;
use buffer_bridge::{BackendKind, Operation};

const CANARY_TOKEN: &str = "canary-token-5f1e0c";
const CANARY_KEY: &str = "canary-key-9a7b3d";

fn env(pairs: &[(&str, &str)]) -> BackendConfig {
    BackendConfig::from_vars(pairs.iter().copied()).unwrap()
}

fn both_apis() -> Vec<(&'static str, &'static str)> {
    vec![
        ("BUFFER_ACCESS_TOKEN", CANARY_TOKEN),
        ("BUFFER_REST_URL", "http://127.0.0.1:9/1/"),
        ("BUFFER_API_KEY", CANARY_KEY),
        ("BUFFER_GRAPHQL_URL", "http://127.0.0.1:9/"),
    ]
}

fn error_of(config: &BackendConfig) -> String {
    match config.build() {
        Ok(backend) => panic!("built a {} backend", backend.kind()),
        Err(error) => error.to_string(),
    }
}

#[test]
fn each_backend_builds_from_the_environment() {
    for (name, kind) in [
        ("rest", BackendKind::ClassicRest),
        ("graphql", BackendKind::GraphQl),
        ("shadow", BackendKind::ClassicRest),
        ("router", BackendKind::ClassicRest),
    ] {
        let mut pairs = both_apis();
        pairs.push(("BUFFER_BACKEND", name));
        let backend = env(&pairs).build().unwrap();
        assert_eq!(backend.kind(), kind, "{name}");
    }
}

#[test]
fn a_missing_credential_names_the_variable_or_the_key() {
    let message = error_of(&env(&[("BUFFER_BACKEND", "graphql")]));
    assert!(
        message.contains("BUFFER_API_KEY is not set; the graphql backend needs it"),
        "{message}"
    );
    let message = error_of(&env(&[("BUFFER_BACKEND", "rest"), ("BUFFER_API_KEY", "k")]));
    assert!(
        message.contains("BUFFER_ACCESS_TOKEN is not set"),
        "{message}"
    );
    let message = error_of(&env(&[("BUFFER_ACCESS_TOKEN", "t")]));
    assert!(message.contains("BUFFER_BACKEND is not set"), "{message}");
    // A shadow needs both APIs.
    let message = error_of(&env(&[
        ("BUFFER_BACKEND", "shadow"),
        ("BUFFER_ACCESS_TOKEN", "t"),
    ]));
    assert!(message.contains("BUFFER_API_KEY"), "{message}");

    let file = BackendConfig::from_toml_str("backend = \"graphql\"\n").unwrap();
    let message = error_of(&file);
    assert!(message.contains("graphql.api_key is not set"), "{message}");
}

#[test]
fn bad_values_name_their_variable() {
    for (pairs, expected) in [
        (vec![("BUFFER_BACKEND", "soap")], "BUFFER_BACKEND"),
        (vec![("BUFFER_TIMEOUT_SECS", "soon")], "BUFFER_TIMEOUT_SECS"),
        (
            vec![("BUFFER_SHADOW_PRIMARY", "soap")],
            "BUFFER_SHADOW_PRIMARY",
        ),
        (
            vec![("BUFFER_SHADOW_SANDBOX", "maybe")],
            "BUFFER_SHADOW_SANDBOX",
        ),
        (vec![("BUFFER_ROUTES", "posts:graphql")], "BUFFER_ROUTES"),
        (vec![("BUFFER_ROUTES", "posts=soap")], "BUFFER_ROUTES"),
    ] {
        let error = BackendConfig::from_vars(pairs.iter().copied()).unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[test]
fn contradictions_are_refused_with_what_to_change() {
    let mut pairs = both_apis();
    pairs.extend([
        ("BUFFER_BACKEND", "shadow"),
        ("BUFFER_SHADOW_PRIMARY", "graphql"),
        ("BUFFER_SHADOW_CANDIDATE", "graphql"),
    ]);
    let message = error_of(&env(&pairs));
    assert!(
        message.contains("BUFFER_SHADOW_PRIMARY and BUFFER_SHADOW_CANDIDATE are both graphql"),
        "{message}"
    );

    let mut pairs = both_apis();
    pairs.extend([
        ("BUFFER_BACKEND", "router"),
        ("BUFFER_ROUTES", "update_schedules=graphql"),
    ]);
    let message = error_of(&env(&pairs));
    assert!(
        message.contains("BUFFER_ROUTES sends update_schedules to graphql, which lacks it"),
        "{message}"
    );

    let mut pairs = both_apis();
    pairs.extend([
        ("BUFFER_BACKEND", "router"),
        ("BUFFER_ROUTES", "postz=graphql"),
    ]);
    let message = error_of(&env(&pairs));
    assert!(
        message.contains("\"postz\", which is not an operation"),
        "{message}"
    );

    let mut pairs = both_apis();
    pairs.extend([
        ("BUFFER_BACKEND", "shadow"),
        ("BUFFER_SHADOW_SAMPLE_RATE", "2"),
    ]);
    let message = error_of(&env(&pairs));
    assert!(
        message.contains("BUFFER_SHADOW_SAMPLE_RATE must be from 0.0 to 1.0"),
        "{message}"
    );
}

#[test]
fn a_toml_router_routes_as_written() {
    let config = BackendConfig::from_toml_str(&format!(
        r#"
        backend = "router"
        timeout_secs = 5

        [rest]
        access_token = "{CANARY_TOKEN}"
        url = "http://127.0.0.1:9/1/"

        [graphql]
        api_key = "{CANARY_KEY}"
        url = "http://127.0.0.1:9/"
        organization_id = "5f1e0c0a06512f7ef2140000"

        [router]
        default = "rest"
        routes = {{ reads = "graphql", create_post = "graphql" }}
        "#
    ))
    .unwrap();
    let backend = config.build().unwrap();
    assert_eq!(backend.kind(), BackendKind::ClassicRest);
    // The union of both APIs: ideas (GraphQL only) and interactions (classic only).
    assert!(backend.capabilities().supports(Operation::Ideas));
    assert!(backend.capabilities().supports(Operation::Interactions));
}

#[test]
fn unknown_keys_in_a_file_are_named() {
    let error = BackendConfig::from_toml_str("backend = \"rest\"\n[rest]\naccess_tokn = \"x\"\n")
        .unwrap_err();
    assert!(error.to_string().contains("access_tokn"), "{error}");
    assert!(error.to_string().contains("line 3"), "{error}");
}

#[test]
fn secrets_never_show_in_debug_or_errors() {
    let mut pairs = both_apis();
    pairs.push(("BUFFER_BACKEND", "shadow"));
    let config = env(&pairs);
    let debug = format!("{config:?}");
    assert!(
        !debug.contains(CANARY_TOKEN) && !debug.contains(CANARY_KEY),
        "{debug}"
    );
    assert!(debug.contains("redacted"), "{debug}");
    assert!(config.build().is_ok());

    let file = format!("[rest]\naccess_token = \"{CANARY_TOKEN}\"\n");
    let debug = format!("{:?}", BackendConfig::from_toml_str(&file).unwrap());
    assert!(!debug.contains(CANARY_TOKEN), "{debug}");

    // A syntax error on the token's own line must not quote the line.
    let broken = format!("[rest]\naccess_token = {CANARY_TOKEN}\n");
    let error = BackendConfig::from_toml_str(&broken).unwrap_err();
    assert!(!error.to_string().contains(CANARY_TOKEN), "{error}");
    assert!(!format!("{error:?}").contains(CANARY_TOKEN));

    // A bad URL next to a token: the error names the setting, not the token.
    let error = env(&[
        ("BUFFER_BACKEND", "rest"),
        ("BUFFER_ACCESS_TOKEN", CANARY_TOKEN),
        ("BUFFER_REST_URL", "http://example.com/1/"),
    ])
    .build()
    .err()
    .expect("a plain-http URL to a remote host was accepted");
    assert!(error.to_string().contains("BUFFER_REST_URL"), "{error}");
    assert!(!error.to_string().contains(CANARY_TOKEN), "{error}");
}
