//! Configuration: TOML and environment pairs build the right backend, every missing or
//! contradictory setting is an error naming what to set, and no secret is ever printed.

use buffer_bridge::config::BackendConfig;
use buffer_bridge::{Backend, BackendExt, BackendKind, Operation};

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
        Ok(client) => panic!("built {client:?}"),
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
        (
            vec![("BUFFER_SHADOW_REPORT", "email")],
            "BUFFER_SHADOW_REPORT",
        ),
        (vec![("BUFFER_RETRY", "often")], "BUFFER_RETRY"),
        (
            vec![("BUFFER_PACING_MAX_WAIT_SECS", "-1")],
            "BUFFER_PACING_MAX_WAIT_SECS",
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
    .expect_err("a plain-http URL to a remote host was accepted");
    assert!(error.to_string().contains("BUFFER_REST_URL"), "{error}");
    assert!(!error.to_string().contains(CANARY_TOKEN), "{error}");
}

/// A sandbox pointed at the simulator: the account it mirrors (same seed, so the same channel
/// ids) under credentials of its own.
async fn sandbox_sim() -> buffer_sim::Simulator {
    buffer_sim::Simulator::builder()
        .access_token("sandbox-token")
        .api_key("sandbox-key")
        .start()
        .await
}

#[test]
fn a_sandbox_never_takes_the_primarys_credential() {
    // The old switch, which built the sandbox with the primary's own token: refused, with
    // what to write instead.
    let error = BackendConfig::from_toml_str("backend = \"shadow\"\n[shadow]\nsandbox = true\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("[shadow.sandbox]"), "{error}");
    let error = BackendConfig::from_vars([("BUFFER_SHADOW_SANDBOX", "true")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("BUFFER_SHADOW_SANDBOX_TOKEN"), "{error}");

    // The primary's token or key as the sandbox's: refused, naming both settings, never the
    // secret.
    for primary in [CANARY_TOKEN, CANARY_KEY] {
        let mut pairs = both_apis();
        pairs.extend([
            ("BUFFER_BACKEND", "shadow"),
            ("BUFFER_SHADOW_SANDBOX_TOKEN", primary),
            ("BUFFER_SHADOW_SANDBOX_URL", "http://127.0.0.1:9/"),
        ]);
        let message = error_of(&env(&pairs));
        assert!(
            message.contains("BUFFER_SHADOW_SANDBOX_TOKEN is the credential of"),
            "{message}"
        );
        assert!(!message.contains(primary), "{message}");
    }
    // A sandbox table without a token: refused.
    let file = format!(
        "backend = \"shadow\"\n[rest]\naccess_token = \"{CANARY_TOKEN}\"\n[graphql]\n\
         api_key = \"{CANARY_KEY}\"\n[shadow.sandbox]\nurl = \"http://127.0.0.1:9/\"\n"
    );
    let message = error_of(&BackendConfig::from_toml_str(&file).unwrap());
    assert!(
        message.contains("shadow.sandbox.token is not set"),
        "{message}"
    );
}

/// The issue's attack: a create through a configured sandbox shadow. The real account (the
/// primary's simulator) holds the post once; the sandbox holds its own copy.
#[tokio::test]
async fn a_sandbox_shadow_posts_once_to_the_real_account_and_once_to_the_sandbox() {
    use buffer_bridge::model::NewPost;
    let real = buffer_sim::Simulator::start().await;
    let sandbox = sandbox_sim().await;
    let file = format!(
        r#"
        backend = "shadow"
        [rest]
        access_token = "{token}"
        url = "{rest}"
        [graphql]
        api_key = "{key}"
        url = "{graphql}"
        [shadow]
        report = "memory"
        [shadow.sandbox]
        token = "sandbox-key"
        url = "{sandbox_graphql}"
        "#,
        token = real.access_token(),
        rest = real.rest_url(),
        key = real.api_key(),
        graphql = real.graphql_url(),
        sandbox_graphql = sandbox.graphql_url(),
    );
    let client = BackendConfig::from_toml_str(&file)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        client.describe(),
        "shadow(retrying(paced(rest)), candidate retrying(paced(graphql)) (sandbox))"
    );
    let channel = real.demo().channels[0].id.clone();
    let before_real = real.store().channel_posts(&channel).len();
    let before_sandbox = sandbox.store().channel_posts(&channel).len();
    client
        .create_post(&NewPost::new("Once per account").channel(channel.as_str()))
        .await
        .unwrap();
    client.settled().await;
    let made = |sim: &buffer_sim::Simulator| {
        sim.store()
            .channel_posts(&channel)
            .iter()
            .filter(|p| p.text == "Once per account")
            .count()
    };
    assert_eq!(made(&real), 1, "the real account holds the post once");
    assert_eq!(made(&sandbox), 1, "the sandbox made its own");
    assert_eq!(real.store().channel_posts(&channel).len(), before_real + 1);
    assert_eq!(
        sandbox.store().channel_posts(&channel).len(),
        before_sandbox + 1
    );
    // The candidate's requests reached the sandbox only: the real account saw one create.
    let creates = real
        .requests()
        .iter()
        .filter(|r| {
            r.path.ends_with("updates/create.json")
                || r.root_fields.iter().any(|f| f == "createPost")
        })
        .count();
    assert_eq!(creates, 1, "{:?}", real.requests());
    let compared: Vec<_> = client
        .comparisons()
        .iter()
        .map(|c| c.operation.as_str().to_owned())
        .collect();
    assert!(compared.contains(&"create_post".to_owned()), "{compared:?}");
}

/// A config-built shadow's mismatches go to a JSON-lines file that can be read back.
#[tokio::test]
async fn a_configured_shadow_writes_its_comparisons_to_a_json_lines_file() {
    let sim = buffer_sim::Simulator::start().await;
    let dir = std::env::temp_dir().join(format!("bb-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shadow.jsonl");
    let _ = std::fs::remove_file(&path);
    let config = BackendConfig::from_vars([
        ("BUFFER_BACKEND", "shadow".to_owned()),
        ("BUFFER_ACCESS_TOKEN", sim.access_token().to_owned()),
        ("BUFFER_REST_URL", sim.rest_url()),
        ("BUFFER_API_KEY", sim.api_key().to_owned()),
        ("BUFFER_GRAPHQL_URL", sim.graphql_url()),
        ("BUFFER_SHADOW_REPORT_FILE", path.display().to_string()),
    ])
    .unwrap();
    let client = config.build().unwrap();
    client.channels().await.unwrap();
    client.account().await.unwrap();
    client.settled().await;
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // Comparisons finish in the background, in any order.
    let mut operations: Vec<&str> = lines
        .iter()
        .map(|l| l["operation"].as_str().unwrap())
        .collect();
    operations.sort_unstable();
    assert_eq!(operations, ["account", "channels"], "{text}");
    for line in &lines {
        assert_eq!(line["primary"]["backend"], "rest", "{line}");
        assert_eq!(line["candidate"]["backend"], "graphql", "{line}");
        assert!(line["verdict"].is_string(), "{line}");
    }
    assert!(!text.contains(sim.access_token()) && !text.contains(sim.api_key()));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_layer_says_what_it_is() {
    let build = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = both_apis();
        pairs.extend_from_slice(extra);
        env(&pairs).build().unwrap().describe()
    };
    assert_eq!(
        build(&[("BUFFER_BACKEND", "graphql")]),
        "retrying(paced(graphql))"
    );
    assert_eq!(
        build(&[("BUFFER_BACKEND", "rest"), ("BUFFER_RETRY", "false")]),
        "paced(rest)"
    );
    assert_eq!(
        build(&[
            ("BUFFER_BACKEND", "rest"),
            ("BUFFER_RETRY", "false"),
            ("BUFFER_PACING", "false")
        ]),
        "rest"
    );
    let router = build(&[
        ("BUFFER_BACKEND", "router"),
        ("BUFFER_ROUTES", "create_post=graphql"),
    ]);
    assert!(
        router.starts_with("router(default retrying(paced(rest)); "),
        "{router}"
    );
    // A reconciliation goes where creates go: that layer keeps the write's journal.
    assert!(
        router.contains("create_post → retrying(paced(graphql))")
            && router.contains("reconcile → retrying(paced(graphql))"),
        "{router}"
    );
    // What GraphQL lacks falls back to the default, and is named as served there.
    let reads = build(&[
        ("BUFFER_BACKEND", "router"),
        ("BUFFER_ROUTES", "reads=graphql"),
    ]);
    assert!(
        reads.contains("posts → retrying(paced(graphql))"),
        "{reads}"
    );
    assert!(!reads.contains("link_shares"), "{reads}");
    let client = env(&[both_apis(), vec![("BUFFER_BACKEND", "graphql")]].concat())
        .build()
        .unwrap();
    assert_eq!(format!("{client:?}"), "Client(retrying(paced(graphql)))");
}

/// A keyed create through a configured SQLite journal, the client dropped, a new one built
/// from the same configuration: the write is known, and repeating it makes nothing.
#[tokio::test]
async fn a_configured_journal_outlives_the_client() {
    use buffer_bridge::journal::IdempotencyKey;
    use buffer_bridge::model::NewPost;
    let sim = buffer_sim::Simulator::start().await;
    let dir = std::env::temp_dir().join(format!("bb-config-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("journal.sqlite");
    let _ = std::fs::remove_file(&path);
    let config = || {
        BackendConfig::from_vars([
            ("BUFFER_BACKEND", "graphql".to_owned()),
            ("BUFFER_API_KEY", sim.api_key().to_owned()),
            ("BUFFER_GRAPHQL_URL", sim.graphql_url()),
            ("BUFFER_JOURNAL", path.display().to_string()),
        ])
        .unwrap()
    };
    let channel = sim.demo().channels[0].id.clone();
    let key = IdempotencyKey::new("launch-2026-12-01").unwrap();
    let post = NewPost::new("Kept across restarts")
        .channel(channel.as_str())
        .idempotency_key(key.clone());
    let first = config().build().unwrap();
    first.create_post(&post).await.unwrap();
    drop(first);

    let second = config().build().unwrap();
    let outcomes = second.reconcile(&key).await.unwrap();
    assert!(outcomes[0].channels[0].result.is_created(), "{outcomes:?}");
    second.create_post(&post).await.unwrap();
    let made = sim
        .store()
        .channel_posts(&channel)
        .iter()
        .filter(|p| p.text == "Kept across restarts")
        .count();
    assert_eq!(made, 1, "the repeat after the restart made nothing");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_classic_url_without_its_version_says_so_on_the_first_404() {
    let sim = buffer_sim::Simulator::start().await;
    let rest_url = sim.rest_url();
    let without_version = rest_url.strip_suffix("1/").expect("ends in /1/").to_owned();
    let client = BackendConfig::from_vars([
        ("BUFFER_BACKEND", "rest".to_owned()),
        ("BUFFER_ACCESS_TOKEN", sim.access_token().to_owned()),
        ("BUFFER_REST_URL", without_version),
        ("BUFFER_RETRY", "false".to_owned()),
    ])
    .unwrap()
    .build()
    .unwrap();
    let error = client.account().await.unwrap_err();
    assert_eq!(
        error.kind(),
        buffer_bridge::ErrorKind::NotFound,
        "{error:?}"
    );
    assert!(error.to_string().contains("does not end in /1/"), "{error}");
    // With the version, the same call works and says nothing of it.
    let client = BackendConfig::from_vars([
        ("BUFFER_BACKEND", "rest".to_owned()),
        ("BUFFER_ACCESS_TOKEN", sim.access_token().to_owned()),
        ("BUFFER_REST_URL", sim.rest_url()),
    ])
    .unwrap()
    .build()
    .unwrap();
    client.account().await.unwrap();
}
