//! Attacks on credentials: single-flight refresh under load, cancellation and lost answers,
//! reuse detection, the file store, secrets in output, a hostile token endpoint, and the
//! classic API's retirement. Behaviour is read from the simulator's counters and request log,
//! or from a wiremock server on loopback.

mod auth_support;

use auth_support::{authorize, oauth, sim_clock, start};
use buffer_bridge::auth::{
    Consent, FileStore, MemoryStore, OAuth, ProvideToken, RefreshingToken, Roster, TokenStore,
    Tokens,
};
use buffer_bridge::http::{Credential, HttpSettings};
use buffer_bridge::{BackendExt, Error};
use buffer_sim::{Fault, FaultRule, Faults};
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOUR: Duration = Duration::from_secs(3_600);

/// The text of a credential, read through the stored form (the library keeps `expose` private).
fn secret(credential: &Credential) -> String {
    let tokens = Tokens::new(credential.clone(), None, None, Vec::new());
    let json: serde_json::Value =
        serde_json::from_str(tokens.to_secret_json().expose_secret()).unwrap();
    json["access_token"].as_str().unwrap().to_owned()
}

/// Every token string inside `tokens`.
fn secrets_of(tokens: &Tokens) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(tokens.to_secret_json().expose_secret()).unwrap();
    ["access_token", "refresh_token"]
        .iter()
        .filter_map(|k| json[k].as_str().map(str::to_owned))
        .collect()
}

fn graphql(
    sim: &buffer_sim::Simulator,
    provider: Arc<RefreshingToken>,
) -> buffer_bridge::graphql::GraphQl {
    buffer_bridge::graphql::GraphQl::builder()
        .token_provider(provider)
        .base_url(sim.graphql_url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A simulator, an authorized user in a memory store, and the provider for them.
async fn authorized() -> (
    buffer_sim::Simulator,
    OAuth,
    Arc<MemoryStore>,
    Arc<RefreshingToken>,
) {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let store = Arc::new(MemoryStore::new());
    store
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let provider = Arc::new(RefreshingToken::new(oauth.clone(), store.clone(), "u1"));
    (sim, oauth, store, provider)
}

fn token_faults(fault: Fault, times: u32) -> Faults {
    Faults::seeded(7).rule(FaultRule::new(fault).route("/token").times(times))
}

// ---- (1) single flight -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_callers_across_an_expiry_cause_one_refresh() {
    let (sim, _oauth, _store, provider) = authorized().await;
    let buffer = Arc::new(graphql(&sim, provider.clone()));
    buffer.account().await.unwrap();
    sim.clock().advance(HOUR);
    sim.clear_requests();
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let buffer = buffer.clone();
            let provider = provider.clone();
            tokio::spawn(async move {
                if i % 4 == 0 {
                    buffer.account().await.map(|_| ())
                } else {
                    provider.access_token().await.map(|_| ())
                }
            })
        })
        .collect();
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    let stats = sim.oauth().stats();
    assert_eq!(sim.requests_to("/token"), 1);
    assert_eq!((stats.reuse_detections, stats.grants_revoked), (0, 0));
    assert_eq!(sim.requests_to("account"), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_while_another_task_refreshes_uses_that_refresh() {
    let (sim, _oauth, _store, provider) = authorized().await;
    let old = provider.access_token().await.unwrap();
    sim.clock().advance(HOUR);
    sim.clear_requests();
    sim.set_faults(token_faults(Fault::Latency(Duration::from_millis(200)), 1));
    let refresher = {
        let provider = provider.clone();
        tokio::spawn(async move { provider.access_token().await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let rejected = provider.rejected(&old).await.unwrap();
    let fresh = refresher.await.unwrap().unwrap();
    assert_eq!(secret(&rejected), secret(&fresh));
    assert_ne!(secret(&fresh), secret(&old));
    assert_eq!(sim.requests_to("/token"), 1);
    assert_eq!(sim.oauth().stats().grants_revoked, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_dropped_at_random_points_leave_one_refresh_and_no_revocation() {
    let (sim, _oauth, _store, provider) = authorized().await;
    sim.clock().advance(HOUR);
    sim.clear_requests();
    // Callers are cancelled while the refresh is on the wire, before the server answers.
    sim.set_faults(token_faults(Fault::Latency(Duration::from_millis(300)), 1));
    let mut tasks = Vec::new();
    for i in 0..40u64 {
        let provider = provider.clone();
        tasks.push(tokio::spawn(async move {
            let _ =
                tokio::time::timeout(Duration::from_millis(5 * (i % 20)), provider.access_token())
                    .await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Let the server finish whatever it received.
    tokio::time::sleep(Duration::from_millis(600)).await;
    sim.clear_faults();
    for _ in 0..5 {
        let outcome = provider.access_token().await;
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    let stats = sim.oauth().stats();
    assert_eq!(
        (stats.reuse_detections, stats.grants_revoked),
        (0, 0),
        "a refresh cancelled after the server rotated the token must not cost the grant"
    );
}

/// A refresh whose answer is lost after the server rotated: the new refresh token is gone
/// with the answer, and the old one is spent, so the grant cannot be used again whatever the
/// client does (Buffer's refresh tokens are single-use, with no grace period). The promise is
/// the issue's: one clear `GrantRevoked`, no loop, no further token request. (Not "no reuse":
/// the one retry is what recovers when the answer was lost before the server handled the
/// request, which the client cannot tell apart; see the next test.)
#[tokio::test]
async fn a_refresh_answer_lost_after_rotation_ends_in_one_grant_revoked_and_no_loop() {
    let (sim, _oauth, _store, provider) = authorized().await;
    sim.clock().advance(HOUR);
    sim.clear_requests();
    sim.set_faults(token_faults(Fault::LoseResponse, 1));
    let lost = provider.access_token().await.unwrap_err();
    assert!(!matches!(lost, Error::GrantRevoked { .. }), "{lost}");
    sim.clear_faults();
    let revoked = provider.access_token().await.unwrap_err();
    assert!(matches!(revoked, Error::GrantRevoked { .. }), "{revoked}");
    for _ in 0..5 {
        let again = provider.access_token().await.unwrap_err();
        assert!(matches!(again, Error::GrantRevoked { .. }), "{again}");
    }
    let stats = sim.oauth().stats();
    assert_eq!((stats.refreshes, stats.reuse_detections), (1, 1));
    assert_eq!(
        sim.requests_to("/token"),
        2,
        "one refresh, one retry, no more"
    );
}

/// The same loss before the server handled the refresh: the retry recovers, with no reuse.
#[tokio::test]
async fn a_refresh_dropped_before_it_was_handled_recovers_without_reuse() {
    let (sim, _oauth, _store, provider) = authorized().await;
    sim.clock().advance(HOUR);
    sim.set_faults(token_faults(Fault::Drop, 1));
    assert!(provider.access_token().await.is_err());
    sim.clear_faults();
    provider.access_token().await.unwrap();
    let stats = sim.oauth().stats();
    assert_eq!(
        (
            stats.refreshes,
            stats.reuse_detections,
            stats.grants_revoked
        ),
        (1, 0, 0)
    );
}

/// A refresh that timed out on the client while the server went on and rotated: as a lost
/// answer, one `GrantRevoked` and no loop.
#[tokio::test]
async fn a_refresh_that_times_out_after_rotation_ends_in_one_grant_revoked() {
    let (sim, client) = start().await;
    let mut settings = HttpSettings::default();
    settings.timeout = Duration::from_millis(300);
    let oauth = OAuth::builder()
        .client_id(&client.client_id)
        .redirect_uri(auth_support::REDIRECT)
        .issuer(sim.issuer_url())
        .clock(sim_clock(&sim))
        .http_settings(settings)
        .build()
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    store
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let provider = RefreshingToken::new(oauth, store, "u1");
    sim.clock().advance(HOUR);
    sim.set_faults(token_faults(
        Fault::Latency(Duration::from_millis(1_500)),
        1,
    ));
    let timed_out = provider.access_token().await.unwrap_err();
    assert!(matches!(timed_out, Error::Timeout { .. }), "{timed_out}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    sim.clear_faults();
    let revoked = provider.access_token().await.unwrap_err();
    assert!(matches!(revoked, Error::GrantRevoked { .. }), "{revoked}");
    assert!(provider.access_token().await.is_err());
    let stats = sim.oauth().stats();
    assert_eq!((stats.refreshes, stats.reuse_detections), (1, 1));
}

// ---- (2) persisted before use, atomically --------------------------------------------------

/// A store that records the order of saves and of what the API saw.
#[derive(Debug, Default)]
struct Recording {
    inner: MemoryStore,
    saved: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl TokenStore for Recording {
    async fn load(&self, user: &str) -> buffer_bridge::Result<Option<Tokens>> {
        self.inner.load(user).await
    }
    async fn save(&self, user: &str, tokens: &Tokens) -> buffer_bridge::Result<()> {
        self.saved
            .lock()
            .unwrap()
            .push(secrets_of(tokens)[0].clone());
        self.inner.save(user, tokens).await
    }
    async fn remove(&self, user: &str) -> buffer_bridge::Result<()> {
        self.inner.remove(user).await
    }
}

#[tokio::test]
async fn the_new_access_token_is_handed_out_only_once_stored() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let store = Arc::new(Recording::default());
    store
        .inner
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let provider = RefreshingToken::new(oauth, store.clone(), "u1");
    sim.clock().advance(HOUR);
    let handed = secret(&provider.access_token().await.unwrap());
    assert_eq!(store.saved.lock().unwrap().as_slice(), [handed]);
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bb-adv13-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn sample(access: &str) -> Tokens {
    Tokens::new(
        Credential::new(access),
        Some(Credential::new(format!("refresh-of-{access}"))),
        None,
        Vec::new(),
    )
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_store_writes_owner_only_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("mode");
    let store = FileStore::new(&dir).unwrap();
    store.save("u", &sample("first")).await.unwrap();
    let mode = std::fs::metadata(store.path_of("u"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o077, 0, "{dir_mode:o}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_store_tightens_an_existing_open_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("open-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _store = FileStore::new(&dir).unwrap();
    let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(dir_mode & 0o077, 0, "{dir_mode:o}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlink_planted_at_the_temporary_name_is_not_followed() {
    let dir = temp_dir("symlink");
    let store = FileStore::new(&dir).unwrap();
    let victim = temp_dir("symlink-victim");
    std::fs::write(&victim, b"untouched").unwrap();
    let path = store.path_of("u");
    for serial in 0..2_000 {
        let planted = path.with_extension(format!("tmp-{}-{serial}", std::process::id()));
        std::os::unix::fs::symlink(&victim, planted).unwrap();
    }
    let outcome = store.save("u", &sample("secret-access")).await;
    let victim_text = std::fs::read_to_string(&victim).unwrap();
    let is_link = std::fs::symlink_metadata(&path)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&victim).unwrap();
    assert_eq!(victim_text, "untouched", "{outcome:?}");
    assert!(!is_link, "the token file must not be a planted symlink");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_leave_one_whole_file_and_no_temporary() {
    let dir = temp_dir("writers");
    let store = FileStore::new(&dir).unwrap();
    let writes: Vec<_> = (0..64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.save("u", &sample(&format!("a{i}"))).await })
        })
        .collect();
    for write in futures::future::join_all(writes).await {
        write.unwrap().unwrap();
    }
    let back = store.load("u").await.unwrap().unwrap();
    let secrets = secrets_of(&back);
    assert_eq!(
        secrets[1],
        format!("refresh-of-{}", secrets[0]),
        "one writer's pair, whole"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_half_written_token_file_is_a_typed_error_without_its_text() {
    let dir = temp_dir("torn");
    let store = FileStore::new(&dir).unwrap();
    std::fs::write(
        store.path_of("u"),
        br#"{"access_token":"torn-canary-secret","refr"#,
    )
    .unwrap();
    let error = store.load("u").await.unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(error, Error::TokenStore { .. }), "{error}");
    assert!(!format!("{error} {error:?}").contains("canary"));
}

// ---- (3) reuse detection -------------------------------------------------------------------

#[tokio::test]
async fn reuse_detected_is_grant_revoked_once_and_then_no_request() {
    let (sim, oauth, store, provider) = authorized().await;
    let buffer = graphql(&sim, provider);
    // Another process refreshed the same grant: the stored refresh token is spent.
    let stored = store.load("u1").await.unwrap().unwrap();
    oauth
        .refresh(stored.refresh_token().unwrap())
        .await
        .unwrap();
    sim.clock().advance(HOUR);
    sim.clear_requests();
    for _ in 0..10 {
        let error = buffer.account().await.unwrap_err();
        assert!(matches!(error, Error::GrantRevoked { .. }), "{error}");
    }
    assert_eq!(
        sim.requests_to("/token"),
        1,
        "no loop, no retry of a revoked grant"
    );
    assert_eq!(sim.requests_to("account"), 0);
    assert_eq!(sim.oauth().stats().reuse_detections, 1);
}

#[tokio::test]
async fn a_grant_revoked_under_a_cached_token_ends_in_bounded_requests() {
    let (sim, oauth, store, provider) = authorized().await;
    let buffer = graphql(&sim, provider);
    buffer.account().await.unwrap();
    // The grant is revoked server-side while the access token is cached.
    let stored = store.load("u1").await.unwrap().unwrap();
    oauth.revoke(&stored).await.unwrap();
    sim.clear_requests();
    let error = buffer.account().await.unwrap_err();
    assert!(matches!(error, Error::GrantRevoked { .. }), "{error}");
    let _ = buffer.account().await.unwrap_err();
    assert!(sim.requests_to("/token") <= 1, "one refresh at most");
    assert!(
        sim.requests_to("account") <= 2,
        "one send a call, no retry loop"
    );
    assert_eq!(sim.oauth().stats().reuse_detections, 0);
}

// ---- (4) no secret in output ---------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `secret` in the forms it could be shown in.
fn encodings(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    vec![
        secret.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        secret.bytes().map(|b| format!("{b:02x}")).collect(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ]
}

#[tokio::test]
async fn no_token_in_logs_debug_or_errors_through_refresh_and_revocation() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (sim, client) = start().await;
    let confidential = sim.oauth().register_client(&[auth_support::REDIRECT], true);
    let secret_text = confidential.client_secret.clone().unwrap();
    let oauth = OAuth::builder()
        .client_id(&confidential.client_id)
        .client_secret(secret_text.as_str())
        .redirect_uri(auth_support::REDIRECT)
        .issuer(sim.issuer_url())
        .clock(sim_clock(&sim))
        .build()
        .unwrap();
    let _ = client;
    let request = oauth.authorize(&Consent::default());
    let redirect = auth_support::follow(request.url()).await;
    let code = request.code_from_redirect(&redirect).unwrap();
    let first = oauth.exchange(&request, &code).await.unwrap();
    // A second exchange of the same code is refused: its error must not quote the code.
    let replay = oauth.exchange(&request, &code).await.unwrap_err();
    let store = Arc::new(MemoryStore::new());
    store.save("u1", &first).await.unwrap();
    let provider = Arc::new(RefreshingToken::new(oauth.clone(), store.clone(), "u1"));
    let buffer = graphql(&sim, provider.clone());
    buffer.account().await.unwrap();
    sim.clock().advance(HOUR);
    buffer.account().await.unwrap();
    let second = store.load("u1").await.unwrap().unwrap();
    // Replaying the first refresh token revokes the grant; every later error is shown too.
    let reuse = oauth
        .refresh(first.refresh_token().unwrap())
        .await
        .unwrap_err();
    sim.clock().advance(HOUR);
    let revoked = buffer.account().await.unwrap_err();
    let shown = format!(
        "{}\n{replay} {replay:?} {reuse} {reuse:?} {revoked} {revoked:?} {oauth:?} {provider:?} \
         {request:?} {first:?} {second:?} {store:?} {buffer:?}",
        String::from_utf8_lossy(&logs.0.lock().unwrap())
    );
    let mut secrets = secrets_of(&first);
    secrets.extend(secrets_of(&second));
    secrets.push(secret_text);
    secrets.push(code);
    for secret in &secrets {
        for form in encodings(secret) {
            assert!(!shown.contains(&form), "{form} shown in:\n{shown}");
        }
    }
}

#[tokio::test]
async fn an_error_description_echoing_the_refresh_token_in_any_encoding_is_redacted() {
    use base64::Engine as _;
    let server = MockServer::start().await;
    let token = "rt-Sp3cial/+=&?chars-0123456789";
    let echoes = format!(
        "plain {token} form {} b64 {} hex {}",
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>(),
        base64::engine::general_purpose::STANDARD.encode(token),
        token
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": format!("invalid_request {token}"),
            "error_description": echoes,
        })))
        .mount(&server)
        .await;
    let oauth = wiremock_oauth(&server, HttpSettings::default());
    let error = oauth.refresh(&Credential::new(token)).await.unwrap_err();
    let shown = format!("{error} {error:?}");
    for form in encodings(token) {
        assert!(!shown.contains(&form), "{form} shown in {shown}");
    }
}

// ---- (5) hostile token endpoint --------------------------------------------------------------

fn wiremock_oauth(server: &MockServer, settings: HttpSettings) -> OAuth {
    OAuth::builder()
        .client_id("client")
        .redirect_uri("http://127.0.0.1:9/cb")
        .issuer(server.uri())
        .http_settings(settings)
        .build()
        .unwrap()
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_huge_token_answer_is_cut_at_the_cap() {
    let body = format!("{{\"access_token\":\"{}\"}}", "a".repeat(8 * 1024 * 1024));
    let server = answering(ResponseTemplate::new(200).set_body_string(body)).await;
    let mut settings = HttpSettings::default();
    settings.max_body_size = 64 * 1024;
    let error = wiremock_oauth(&server, settings)
        .refresh(&Credential::new("rt"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Protocol { .. }), "{error}");
}

#[tokio::test]
async fn malformed_token_answers_are_typed_errors_without_their_text() {
    for body in [
        "not json canary-secret",
        "{\"access_token\": 42}",
        "{\"refresh_token\": \"canary-secret\"}",
        "",
    ] {
        let server = answering(ResponseTemplate::new(200).set_body_string(body)).await;
        let error = wiremock_oauth(&server, HttpSettings::default())
            .refresh(&Credential::new("rt"))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Protocol { .. }), "{body}: {error}");
        assert!(
            !format!("{error} {error:?}").contains("canary"),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn a_token_answer_that_is_an_array_is_refused() {
    let server = answering(ResponseTemplate::new(200).set_body_string("[\"canary-secret\"]")).await;
    let outcome = wiremock_oauth(&server, HttpSettings::default())
        .refresh(&Credential::new("rt"))
        .await;
    assert!(
        matches!(outcome, Err(Error::Protocol { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn absurd_expires_in_values_are_clamped() {
    for expires_in in ["0", "-5", "-9223372036854775808", "9223372036854775807"] {
        let body = format!(
            "{{\"access_token\":\"at\",\"refresh_token\":\"rt2\",\"expires_in\":{expires_in}}}"
        );
        let server = answering(ResponseTemplate::new(200).set_body_string(body)).await;
        let tokens = wiremock_oauth(&server, HttpSettings::default())
            .refresh(&Credential::new("rt"))
            .await
            .unwrap_or_else(|e| panic!("{expires_in}: {e}"));
        assert!(tokens.expires_at().is_some());
    }
}

#[tokio::test]
async fn an_expires_in_beyond_i64_or_fractional_keeps_the_rotated_refresh_token() {
    for expires_in in ["100000000000000000000", "1e20", "3600.0", "\"3600\""] {
        let body = format!(
            "{{\"access_token\":\"at\",\"refresh_token\":\"rt2\",\"expires_in\":{expires_in}}}"
        );
        let server = answering(ResponseTemplate::new(200).set_body_string(body)).await;
        let tokens = wiremock_oauth(&server, HttpSettings::default())
            .refresh(&Credential::new("rt"))
            .await;
        assert!(tokens.is_ok(), "{expires_in}: {tokens:?}");
    }
}

#[tokio::test]
async fn an_answer_expiring_at_once_does_not_make_the_provider_loop() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "at", "refresh_token": "rt2", "expires_in": 0
        })))
        .mount(&server)
        .await;
    let store = Arc::new(MemoryStore::new());
    store
        .save(
            "u",
            &Tokens::new(
                Credential::new("old"),
                Some(Credential::new("rt")),
                Some(chrono::DateTime::UNIX_EPOCH),
                Vec::new(),
            ),
        )
        .await
        .unwrap();
    let provider =
        RefreshingToken::new(wiremock_oauth(&server, HttpSettings::default()), store, "u");
    for _ in 0..3 {
        let _ = provider.access_token().await;
    }
    let sent = server.received_requests().await.unwrap().len();
    assert!(sent <= 3, "at most one refresh a call, got {sent}");
}

#[tokio::test]
async fn a_redirecting_token_endpoint_is_not_followed() {
    let elsewhere = answering(ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "access_token": "at", "refresh_token": "rt2", "expires_in": 3600
    })))
    .await;
    let server = answering(
        ResponseTemplate::new(307).insert_header("location", format!("{}/token", elsewhere.uri())),
    )
    .await;
    let outcome = wiremock_oauth(&server, HttpSettings::default())
        .refresh(&Credential::new("rt-canary"))
        .await;
    assert!(outcome.is_err());
    assert_eq!(elsewhere.received_requests().await.unwrap().len(), 0);
    assert!(!format!("{outcome:?}").contains("rt-canary"));
}

#[tokio::test]
async fn a_slow_token_endpoint_ends_in_a_timeout() {
    let server = answering(
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"access_token": "at"}))
            .set_delay(Duration::from_secs(30)),
    )
    .await;
    let mut settings = HttpSettings::default();
    settings.timeout = Duration::from_millis(300);
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        wiremock_oauth(&server, settings).refresh(&Credential::new("rt")),
    )
    .await
    .expect("the call ends within its timeout");
    assert!(matches!(outcome, Err(Error::Timeout { .. })), "{outcome:?}");
}

// ---- (6) retirement ------------------------------------------------------------------------

#[tokio::test]
async fn a_classic_backend_held_across_the_retirement_sends_nothing_after_it() {
    let (sim, client) = start().await;
    let roster = Roster::new(oauth(&sim, &client), Arc::new(MemoryStore::new()))
        .graphql_url(sim.graphql_url())
        .classic_url(sim.rest_url());
    let account = sim
        .store()
        .add_account("a@example.invalid", "classic-a", "key-a");
    roster.add_classic_user("a", "classic-a");
    let backend = roster.backend("a").await.unwrap();
    let _ = account;
    sim.clock()
        .set(buffer_bridge::auth::CLASSIC_RETIREMENT - chrono::Duration::seconds(1));
    let _ = backend.account().await;
    let before = sim.totals();
    sim.clock().set(buffer_bridge::auth::CLASSIC_RETIREMENT);
    sim.clear_requests();
    let error = backend.account().await.unwrap_err();
    assert!(matches!(error, Error::Retired { .. }), "{error}");
    let later = roster.backend("a").await.err().unwrap();
    assert!(matches!(later, Error::NeedsConsent { .. }), "{later}");
    assert_eq!(
        sim.requests().len(),
        0,
        "nothing sent after the retirement ({before:?})"
    );
}

#[tokio::test]
async fn a_too_large_token_answer_does_not_quote_the_tokens_it_starts_with() {
    let body = format!(
        "{{\"access_token\":\"at-canary-0123456789\",\"refresh_token\":\"rt-canary-0123456789\",\"pad\":\"{}\"}}",
        "a".repeat(256 * 1024)
    );
    for chunked in [false, true] {
        let template = match chunked {
            // Without a length the cap is found while reading, with the start already read.
            true => ResponseTemplate::new(200)
                .set_body_raw(body.clone().into_bytes(), "application/json")
                .append_header("transfer-encoding", "chunked"),
            false => ResponseTemplate::new(200).set_body_string(body.clone()),
        };
        let server = answering(template).await;
        let mut settings = HttpSettings::default();
        settings.max_body_size = 64 * 1024;
        let error = wiremock_oauth(&server, settings)
            .refresh(&Credential::new("rt"))
            .await
            .unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("canary"), "{shown}");
    }
}

#[tokio::test]
async fn an_error_description_echoing_the_client_secret_is_redacted() {
    let server = answering(ResponseTemplate::new(401).set_body_json(serde_json::json!({
        "error": "invalid_client",
        "error_description": "client_secret cs-canary-0123456789 is not valid",
    })))
    .await;
    let oauth = OAuth::builder()
        .client_id("client")
        .client_secret("cs-canary-0123456789")
        .redirect_uri("http://127.0.0.1:9/cb")
        .issuer(server.uri())
        .build()
        .unwrap();
    let refresh = oauth.refresh(&Credential::new("rt")).await.unwrap_err();
    let request = oauth.authorize(&Consent::default());
    let exchange = oauth.exchange(&request, "code-1").await.unwrap_err();
    let shown = format!("{refresh} {refresh:?} {exchange} {exchange:?}");
    assert!(!shown.contains("cs-canary"), "{shown}");
}

#[tokio::test]
async fn two_providers_on_one_store_refreshing_one_after_the_other_keep_the_grant() {
    let (sim, oauth, store, first) = authorized().await;
    let second = RefreshingToken::new(oauth, store.clone(), "u1");
    first.access_token().await.unwrap();
    second.access_token().await.unwrap();
    sim.clock().advance(HOUR);
    first.access_token().await.unwrap();
    let later = second.access_token().await;
    let stats = sim.oauth().stats();
    assert_eq!(
        (stats.reuse_detections, stats.grants_revoked),
        (0, 0),
        "{later:?}"
    );
}

#[tokio::test]
async fn a_roster_and_its_consent_errors_show_no_token_or_verifier() {
    let (sim, client) = start().await;
    let roster = Roster::new(oauth(&sim, &client), Arc::new(MemoryStore::new()))
        .graphql_url(sim.graphql_url())
        .classic_url(sim.rest_url());
    roster.add_classic_user("a", "classic-canary-0123456789");
    let url = roster.authorize("b");
    let consent = roster.backend("b").await.err().unwrap();
    assert!(matches!(consent, Error::NeedsConsent { .. }), "{consent}");
    let shown = format!("{roster:?} {consent} {consent:?} {url}");
    assert!(!shown.contains("classic-canary"), "{shown}");
    assert!(!shown.contains("code_verifier"), "{shown}");
    assert!(url.contains("code_challenge_method=S256"));
}

/// A loopback server that answers every connection with `head` and then writes `chunk`
/// every `pause`, forever (until the client goes).
async fn endless(head: &'static str, chunk: &'static [u8], pause: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                loop {
                    let framed =
                        [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
                    if stream.write_all(&framed).await.is_err() {
                        return;
                    }
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

const CHUNKED_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";

#[tokio::test]
async fn an_endless_token_answer_is_cut_at_the_cap() {
    let issuer = endless(CHUNKED_HEAD, &[b' '; 4096], Duration::ZERO).await;
    let mut settings = HttpSettings::default();
    settings.max_body_size = 256 * 1024;
    let oauth = OAuth::builder()
        .client_id("client")
        .redirect_uri("http://127.0.0.1:9/cb")
        .issuer(issuer)
        .http_settings(settings)
        .build()
        .unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        oauth.refresh(&Credential::new("rt")),
    )
    .await
    .expect("bounded");
    assert!(
        matches!(outcome, Err(Error::Protocol { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_trickling_token_answer_ends_in_a_timeout() {
    let issuer = endless(CHUNKED_HEAD, b" ", Duration::from_millis(20)).await;
    let mut settings = HttpSettings::default();
    settings.timeout = Duration::from_millis(400);
    let oauth = OAuth::builder()
        .client_id("client")
        .redirect_uri("http://127.0.0.1:9/cb")
        .issuer(issuer)
        .http_settings(settings)
        .build()
        .unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        oauth.refresh(&Credential::new("rt")),
    )
    .await
    .expect("bounded");
    assert!(matches!(outcome, Err(Error::Timeout { .. })), "{outcome:?}");
}

#[tokio::test]
async fn a_plain_http_issuer_off_loopback_is_refused() {
    let built = OAuth::builder()
        .client_id("client")
        .redirect_uri("http://127.0.0.1:9/cb")
        .issuer("http://auth.example.com")
        .build();
    assert!(built.is_err());
}

#[tokio::test]
async fn a_discovery_document_sending_the_token_endpoint_to_plain_http_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": server.uri(),
            "authorization_endpoint": format!("{}/auth", server.uri()),
            "token_endpoint": "http://tokens.example.com/token",
            "code_challenge_methods_supported": ["S256"],
        })))
        .mount(&server)
        .await;
    let discovered = OAuth::builder()
        .client_id("client")
        .redirect_uri("http://127.0.0.1:9/cb")
        .issuer(server.uri())
        .discover()
        .await;
    assert!(discovered.is_err());
}

#[tokio::test]
async fn an_api_that_refuses_every_token_costs_one_refresh_and_one_retry_a_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "at-new", "refresh_token": "rt-new", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "errors": [{"message": "nope", "extensions": {"code": "UNAUTHENTICATED"}}]
        })))
        .mount(&server)
        .await;
    let store = Arc::new(MemoryStore::new());
    store
        .save(
            "u",
            &Tokens::new(
                Credential::new("at-old"),
                Some(Credential::new("rt-old")),
                None,
                Vec::new(),
            ),
        )
        .await
        .unwrap();
    let provider =
        RefreshingToken::new(wiremock_oauth(&server, HttpSettings::default()), store, "u");
    let buffer = buffer_bridge::graphql::GraphQl::builder()
        .token_provider(Arc::new(provider))
        .base_url(format!("{}/graphql", server.uri()))
        .build()
        .unwrap();
    for _ in 0..3 {
        assert!(buffer.account().await.is_err());
    }
    let requests = server.received_requests().await.unwrap();
    let to = |p: &str| requests.iter().filter(|r| r.url.path() == p).count();
    assert!(
        to("/token") <= 3,
        "at most one refresh a call: {}",
        to("/token")
    );
    assert!(
        to("/graphql") <= 6,
        "at most one retry a call: {}",
        to("/graphql")
    );
}

/// A directory shared by design (sticky, as `/tmp`) is refused, not closed to its other users.
#[cfg(unix)]
#[tokio::test]
async fn a_file_store_refuses_a_shared_sticky_directory_and_leaves_it_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("sticky-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let refused = FileStore::new(&dir).unwrap_err();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(refused, Error::TokenStore { .. }), "{refused}");
    assert_eq!(mode & 0o7777, 0o1777, "left as it was");
}

/// Two processes sharing a token directory (two stores, two providers), 40 callers each across
/// one expiry: one refresh in all, no reuse. Without a lock between them both read the same
/// refresh token and both present it, and Buffer revokes the grant.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_token_directory_refresh_once() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let dir = temp_dir("shared-dir");
    let first = Arc::new(FileStore::new(&dir).unwrap());
    let tokens = authorize(&oauth, &Consent::default()).await;
    first.save("u1", &tokens).await.unwrap();
    let second = Arc::new(FileStore::new(&dir).unwrap());
    let providers =
        [first, second].map(|store| Arc::new(RefreshingToken::new(oauth.clone(), store, "u1")));
    for provider in &providers {
        provider.access_token().await.unwrap();
    }
    sim.clock().advance(HOUR);
    let calls: Vec<_> = providers
        .iter()
        .flat_map(|provider| {
            (0..40).map(move |_| {
                let provider = provider.clone();
                tokio::spawn(async move { provider.access_token().await })
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let stats = sim.oauth().stats();
    assert_eq!(
        (
            stats.refreshes,
            stats.reuse_detections,
            stats.grants_revoked
        ),
        (1, 0, 0)
    );
}
