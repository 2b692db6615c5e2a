//! Attacks on credentials: the file store (planted links, open directories, writers racing
//! readers, unreadable files), the refreshing provider (cancelled callers, a 401 that never
//! ends, a revoked grant, a lost refresh answer under many callers, two providers on one
//! store) and the roster past the classic API's retirement. Counts are the simulator's.

mod auth_support;

use auth_support::{authorize, oauth, start};
use buffer_bridge::auth::{
    CLASSIC_RETIREMENT, Consent, FileStore, MemoryStore, OAuth, RefreshingToken, Roster,
    TokenStore, Tokens, UserBackend,
};
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::http::Credential;
use buffer_bridge::{BackendExt, Error};
use buffer_sim::{Fault, FaultRule, Faults, Simulator};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3_600);

fn graphql(sim: &Simulator, provider: Arc<RefreshingToken>) -> GraphQl {
    GraphQl::builder()
        .token_provider(provider)
        .base_url(sim.graphql_url())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("adv-auth2-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The access and refresh tokens, as stored.
fn secrets_of(tokens: &Tokens) -> (String, String) {
    use secrecy::ExposeSecret as _;
    let stored: serde_json::Value =
        serde_json::from_str(tokens.to_secret_json().expose_secret()).unwrap();
    let text = |name: &str| stored[name].as_str().unwrap_or_default().to_owned();
    (text("access_token"), text("refresh_token"))
}

fn tokens(access: &str, refresh: &str) -> Tokens {
    Tokens::new(
        Credential::new(access),
        Some(Credential::new(refresh)),
        None,
        vec!["posts:read".to_owned()],
    )
}

/// A secret in the encodings an error or a log could carry it in.
fn encodings(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let bytes: Vec<String> = secret.bytes().map(|b| b.to_string()).collect();
    vec![
        secret.to_owned(),
        hex,
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        secret.escape_debug().to_string(),
        bytes.join(", "),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ]
}

fn assert_hidden(secret: &str, shown: &str) {
    for encoded in encodings(secret) {
        assert!(!shown.contains(&encoded), "{encoded:?} shown in: {shown}");
    }
}

/// A link planted at a user's token file: saving replaces the link, never writes through it.
#[cfg(unix)]
#[tokio::test]
async fn a_link_planted_at_the_token_file_is_replaced_not_followed() {
    let dir = scratch("planted");
    let store = FileStore::new(&dir).unwrap();
    let victim = dir.with_extension("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, store.path_of("u1")).unwrap();
    store
        .save("u1", &tokens("planted-access", "planted-refresh"))
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let file = std::fs::symlink_metadata(store.path_of("u1")).unwrap();
    assert!(
        file.file_type().is_file(),
        "the link was replaced by a file"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(file.permissions().mode() & 0o777, 0o600);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&victim).unwrap();
}

/// A token file left readable by others (copied in, an older tool): the next save leaves an
/// owner-only file in its place.
#[cfg(unix)]
#[tokio::test]
async fn a_readable_token_file_is_replaced_by_an_owner_only_one() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("readable");
    let store = FileStore::new(&dir).unwrap();
    std::fs::write(store.path_of("u1"), "{}").unwrap();
    std::fs::set_permissions(store.path_of("u1"), std::fs::Permissions::from_mode(0o644)).unwrap();
    store.save("u1", &tokens("a", "r")).await.unwrap();
    let mode = std::fs::metadata(store.path_of("u1"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Directories open to others: made owner-only (also through a link), refused when shared by
/// design (sticky), whatever the path's form.
#[cfg(unix)]
#[test]
fn open_token_directories_are_closed_or_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mode_of = |path: &PathBuf| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
    let open = scratch("open-dir");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o757)).unwrap();
    let link = scratch("open-link");
    std::os::unix::fs::symlink(&open, &link).unwrap();
    FileStore::new(&link).unwrap();
    assert_eq!(mode_of(&open), 0o700, "closed through the link");

    let shared = scratch("sticky-dir");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let refused = FileStore::new(&shared).unwrap_err();
    assert!(matches!(refused, Error::TokenStore { .. }), "{refused}");
    assert_eq!(mode_of(&shared), 0o1777, "a shared directory is left alone");
    let refused = FileStore::new(shared.join(".")).unwrap_err();
    assert!(matches!(refused, Error::TokenStore { .. }), "{refused}");
    std::fs::remove_file(&link).unwrap();
    std::fs::remove_dir_all(&open).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::remove_dir_all(&shared).unwrap();
}

/// Writers replacing one user's tokens while readers read them: every read is one whole
/// version, none fails, no temporary file is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writers_never_show_a_reader_a_torn_file() {
    let dir = scratch("torn");
    let store = Arc::new(FileStore::new(&dir).unwrap());
    store.save("u1", &tokens("v-0", "r-0")).await.unwrap();
    let long = "x".repeat(8 * 1024);
    let writers = (0..4).map(|w| {
        let (store, long) = (store.clone(), long.clone());
        tokio::spawn(async move {
            for i in 0..12 {
                let access = format!("v-{w}-{i}-{long}");
                store
                    .save("u1", &tokens(&access, &format!("r-{w}-{i}")))
                    .await
                    .unwrap();
            }
        })
    });
    let readers = (0..4).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut reads = 0;
            for _ in 0..30 {
                let read = store.load("u1").await.unwrap().expect("always some tokens");
                let (access, refresh) = secrets_of(&read);
                // A whole version: the access token and the refresh token of one save.
                let version = access.split('-').take(3).collect::<Vec<_>>()[1..].join("-");
                assert!(refresh.ends_with(&version), "{refresh} with v-{version}");
                reads += 1;
            }
            reads
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.unwrap();
    }
    for reader in futures::future::join_all(readers).await {
        assert_eq!(reader.unwrap(), 30);
    }
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, 1, "no temporary file is left");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Unreadable token files (cut short, the wrong shape, binary, a directory): a typed error
/// that shows no token in any encoding.
#[tokio::test]
async fn unreadable_token_files_are_typed_errors_without_their_text() {
    let dir = scratch("unreadable");
    let store = FileStore::new(&dir).unwrap();
    let secret = "Secret+Token/With=Odd&Chars\u{e9}";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "cut",
            format!("{{\"access_token\": \"{secret}").into_bytes(),
        ),
        (
            "shape",
            format!("{{\"access_token\": [\"{secret}\"]}}").into_bytes(),
        ),
        (
            "refresh shape",
            format!("{{\"access_token\": \"a\", \"refresh_token\": {{\"{secret}\": 1}}}}")
                .into_bytes(),
        ),
        (
            "expiry",
            format!("{{\"access_token\": \"a\", \"expires_at\": \"{secret}\"}}").into_bytes(),
        ),
        (
            "binary",
            [b"\xff\xfe".as_slice(), secret.as_bytes()].concat(),
        ),
        (
            "trailing",
            format!("{{\"access_token\": \"a\"}} {secret}").into_bytes(),
        ),
    ];
    for (case, bytes) in cases {
        std::fs::write(store.path_of("u1"), bytes).unwrap();
        let error = store.load("u1").await.unwrap_err();
        assert!(matches!(error, Error::TokenStore { .. }), "{case}: {error}");
        assert_hidden(secret, &format!("{error} {error:?}"));
    }
    std::fs::remove_file(store.path_of("u1")).unwrap();
    std::fs::create_dir(store.path_of("u1")).unwrap();
    let error = store.load("u1").await.unwrap_err();
    assert!(matches!(error, Error::TokenStore { .. }), "{error}");
    let error = store.save("u1", &tokens(secret, secret)).await.unwrap_err();
    assert!(matches!(error, Error::TokenStore { .. }), "{error}");
    assert_hidden(secret, &format!("{error} {error:?}"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Nothing that holds tokens shows them, in any encoding.
#[tokio::test]
async fn debug_of_everything_holding_tokens_hides_them() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let granted = authorize(&oauth, &Consent::default()).await;
    let (access, refresh) = secrets_of(&granted);
    let secrets = [access, refresh];
    let memory = Arc::new(MemoryStore::new());
    memory.save("u1", &granted).await.unwrap();
    let provider = Arc::new(RefreshingToken::new(oauth.clone(), memory.clone(), "u1"));
    let backend = graphql(&sim, provider.clone());
    backend.account().await.unwrap();
    let shown = format!(
        "{granted:?} {memory:?} {provider:?} {backend:?} {oauth:?} {:?} {:?}",
        granted.access_token(),
        granted.refresh_token()
    );
    for secret in &secrets {
        assert_hidden(secret, &shown);
    }
}

/// Callers cancelled while the refresh is on the wire: the refresh still lands in the store,
/// the callers after them use it, and the server saw one refresh and no reuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_cancelled_mid_refresh_cost_no_second_refresh() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let store = Arc::new(MemoryStore::new());
    store
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let provider = Arc::new(RefreshingToken::new(oauth, store.clone(), "u1"));
    let backend = graphql(&sim, provider);
    sim.clock().advance(HOUR);
    sim.clear_requests();
    sim.set_faults(
        Faults::seeded(7)
            .rule(FaultRule::new(Fault::Latency(Duration::from_millis(300))).route("/token")),
    );
    let cancelled: Vec<_> = (0..20)
        .map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move { backend.account().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for call in &cancelled {
        call.abort();
    }
    sim.clear_faults();
    let after = (0..20).map(|_| {
        let backend = backend.clone();
        tokio::spawn(async move { backend.account().await })
    });
    for call in futures::future::join_all(after).await {
        call.unwrap().unwrap();
    }
    let stats = sim.oauth().stats();
    assert_eq!(stats.refreshes, 1, "{stats:?}");
    assert_eq!((stats.reuse_detections, stats.grants_revoked), (0, 0));
    let token_requests: Vec<_> = (sim.requests().into_iter())
        .filter(|e| e.path == "/token")
        .map(|e| (e.status, e.fault))
        .collect();
    assert_eq!(sim.requests_to("/token"), 1, "{token_requests:?}");
}

/// An API that answers 401 to every token: each call refreshes once and retries once, never
/// more, and never reuses a refresh token.
#[tokio::test]
async fn a_401_that_never_ends_costs_one_refresh_a_call() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let store = Arc::new(MemoryStore::new());
    store
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let backend = graphql(
        &sim,
        Arc::new(RefreshingToken::new(oauth, store.clone(), "u1")),
    );
    sim.set_faults(
        Faults::seeded(1).rule(FaultRule::new(Fault::ServerError(401)).route("account")),
    );
    sim.clear_requests();
    for call in 1..=3 {
        let error = backend.account().await.unwrap_err();
        assert!(!matches!(error, Error::GrantRevoked { .. }), "{error}");
        assert_eq!(sim.requests_to("/token"), call, "call {call}: {error}");
        assert_eq!(sim.requests_to("account"), 2 * call, "call {call}");
    }
    let stats = sim.oauth().stats();
    assert_eq!((stats.refreshes, stats.reuse_detections), (3, 0));
}

/// A grant revoked on the server: the call that finds out reports GrantRevoked, the store
/// forgets the tokens, and later calls report it again without a request; a new
/// authorization in the store brings the user back.
#[tokio::test]
async fn a_revoked_grant_is_reported_once_and_never_looped() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let store = Arc::new(MemoryStore::new());
    let granted = authorize(&oauth, &Consent::default()).await;
    store.save("u1", &granted).await.unwrap();
    let backend = graphql(
        &sim,
        Arc::new(RefreshingToken::new(oauth.clone(), store.clone(), "u1")),
    );
    backend.account().await.unwrap();
    oauth.revoke(&granted).await.unwrap();
    sim.clear_requests();
    for _ in 0..5 {
        let error = backend.account().await.unwrap_err();
        assert!(matches!(error, Error::GrantRevoked { .. }), "{error}");
    }
    assert_eq!(sim.requests_to("/token"), 1, "one refresh, no loop");
    assert_eq!(sim.requests().len(), 2, "one call found out, one refresh");
    assert!(store.load("u1").await.unwrap().is_none());
    assert_eq!(sim.oauth().stats().reuse_detections, 0);

    store
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    backend.account().await.unwrap();
}

/// A refresh whose answer is lost, with many callers waiting: one retry in all (single
/// flight holds on the retry too), then GrantRevoked for everyone with no further request.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_refresh_answer_is_retried_once_for_all_callers() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let store = Arc::new(MemoryStore::new());
    store
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let backend = graphql(
        &sim,
        Arc::new(RefreshingToken::new(oauth, store.clone(), "u1")),
    );
    sim.clock().advance(HOUR);
    sim.set_faults(
        Faults::seeded(3).rule(FaultRule::new(Fault::LoseResponse).route("/token").times(1)),
    );
    sim.clear_requests();
    let calls = (0..30).map(|_| {
        let backend = backend.clone();
        tokio::spawn(async move { backend.account().await })
    });
    let first: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|c| c.unwrap())
        .collect();
    assert!(first.iter().all(Result::is_err), "no call got through");
    let calls = (0..30).map(|_| {
        let backend = backend.clone();
        tokio::spawn(async move { backend.account().await })
    });
    for call in futures::future::join_all(calls).await {
        let error = call.unwrap().unwrap_err();
        assert!(matches!(error, Error::GrantRevoked { .. }), "{error}");
    }
    assert_eq!(
        sim.requests_to("/token"),
        2,
        "the lost refresh and one retry"
    );
    assert_eq!(sim.requests_to("account"), 0);
    let stats = sim.oauth().stats();
    assert_eq!((stats.refreshes, stats.reuse_detections), (1, 1));
}

/// Two providers of one user on one file store, as two processes run one after the other:
/// the second finds the first's rotation in the store instead of presenting the spent token.
#[tokio::test]
async fn a_second_provider_takes_the_first_ones_rotation_from_the_store() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let dir = scratch("two-providers");
    let store = Arc::new(FileStore::new(&dir).unwrap());
    store
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let first = graphql(
        &sim,
        Arc::new(RefreshingToken::new(oauth.clone(), store.clone(), "u1")),
    );
    let second = graphql(
        &sim,
        Arc::new(RefreshingToken::new(oauth, store.clone(), "u1")),
    );
    first.account().await.unwrap();
    second.account().await.unwrap();
    for _ in 0..3 {
        sim.clock().advance(HOUR);
        first.account().await.unwrap();
        second.account().await.unwrap();
        sim.clock().advance(HOUR);
        second.account().await.unwrap();
        first.account().await.unwrap();
    }
    let stats = sim.oauth().stats();
    assert_eq!(stats.refreshes, 6, "{stats:?}");
    assert_eq!((stats.reuse_detections, stats.grants_revoked), (0, 0));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The roster at and after the retirement: classic backends handed out before it fail with
/// Retired and send nothing, users without a grant get NeedsConsent with a PKCE URL, users
/// with a grant keep working.
#[tokio::test]
async fn the_roster_past_the_retirement_sends_nothing_classic() {
    let sim = Simulator::builder()
        .clock_scale(0.0)
        .start_time(CLASSIC_RETIREMENT - chrono::Duration::seconds(1))
        .start()
        .await;
    let client = sim
        .oauth()
        .register_client(&[auth_support::REDIRECT], false);
    let clock = auth_support::sim_clock(&sim);
    let oauth = OAuth::builder()
        .client_id(&client.client_id)
        .redirect_uri(auth_support::REDIRECT)
        .issuer(sim.issuer_url())
        .clock(clock)
        .build()
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let roster = Roster::new(oauth.clone(), store.clone())
        .graphql_url(sim.graphql_url())
        .classic_url(sim.rest_url());
    roster.add_classic_user("classic", sim.access_token().to_owned());
    roster.add_classic_user("moved", sim.access_token().to_owned());
    store
        .save("moved", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let classic = roster.backend("classic").await.unwrap();
    classic.account().await.unwrap();
    assert_eq!(
        roster.backend_of("classic").await.unwrap(),
        UserBackend::Classic
    );

    sim.clock().advance(Duration::from_secs(1));
    sim.clear_requests();
    let error = classic.account().await.unwrap_err();
    assert!(matches!(error, Error::Retired { .. }), "{error}");
    let Err(error) = roster.backend("classic").await else {
        panic!("a retired classic user has a backend");
    };
    let Error::NeedsConsent { authorize_url, .. } = &error else {
        panic!("{error}");
    };
    assert!(
        authorize_url.contains("code_challenge_method=S256"),
        "{authorize_url}"
    );
    assert!(authorize_url.contains("state="), "{authorize_url}");
    assert_eq!(
        roster.backend_of("nobody").await.unwrap(),
        UserBackend::NeedsConsent
    );
    assert_eq!(
        sim.requests().len(),
        0,
        "nothing was sent for the retired API"
    );
    roster
        .backend("moved")
        .await
        .unwrap()
        .account()
        .await
        .unwrap();
    let report = roster.report().await.unwrap();
    assert_eq!(
        (
            report.users,
            report.graphql,
            report.classic,
            report.needs_consent
        ),
        (2, 1, 0, 1)
    );
}

/// A redirect whose state no authorization has: refused before any token request.
#[tokio::test]
async fn a_forged_redirect_completes_nothing() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let store = Arc::new(MemoryStore::new());
    let roster = Roster::new(oauth, store.clone()).graphql_url(sim.graphql_url());
    let url = roster.authorize("u1");
    assert!(url.contains("state="));
    sim.clear_requests();
    for forged in [
        "http://127.0.0.1:9/callback?code=x&state=forged",
        "http://127.0.0.1:9/callback?code=x",
        "not a url",
        "http://127.0.0.1:9/callback?code=x&state=",
    ] {
        let error = roster.complete(forged).await.unwrap_err();
        assert!(!matches!(error, Error::GrantRevoked { .. }), "{error}");
    }
    assert_eq!(sim.requests_to("/token"), 0);
    assert!(store.load("u1").await.unwrap().is_none());
}

/// The keyring store, on keyring's mock: tokens round-trip, odd user names are typed errors
/// or work, and nothing shows a token.
#[cfg(feature = "keyring")]
#[tokio::test]
async fn the_keyring_store_hides_tokens_and_takes_odd_user_names() {
    use buffer_bridge::auth::KeyringStore;
    keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
    let store = KeyringStore::new("adversary");
    let secret = "keyring-secret-token";
    for user in ["", "u/1", "\u{0}", &"x".repeat(10_000), "ü ñ"] {
        match store.save(user, &tokens(secret, secret)).await {
            Ok(()) => {
                let back = store.load(user).await.unwrap().expect("saved");
                assert_eq!(secrets_of(&back).0, secret);
                store.remove(user).await.unwrap();
                assert!(store.load(user).await.unwrap().is_none());
            }
            Err(error) => {
                assert!(matches!(error, Error::TokenStore { .. }), "{error}");
                assert_hidden(secret, &format!("{error} {error:?}"));
            }
        }
    }
    assert_hidden(secret, &format!("{store:?}"));
}

/// Tokens a few kilobytes long (a JWT, a server's mistake, a tampered token file): reading
/// them must cost about their length, not minutes. Every credential computes the forms to
/// redact it in; their matcher was a DFA whose construction grew with the square of a
/// repetitive token (8 KB: minutes). The bound is a wide margin over the milliseconds needed.
#[test]
fn long_tokens_are_read_in_bounded_time() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let jwt_like: String = (0..6_000)
            .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789-_."[i * 7 % 39]))
            .collect();
        for token in ["a".repeat(8_192), jwt_like] {
            let json = secrecy::SecretString::from(format!(
                "{{\"access_token\": \"{token}\", \"refresh_token\": \"{token}\"}}"
            ));
            Tokens::from_secret_json(&json).unwrap();
        }
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(Duration::from_secs(30))
        .expect("two long tokens read within 30 s");
}
