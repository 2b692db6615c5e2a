//! A process killed between receiving new tokens and storing them: the next start reports
//! the revoked grant once, sends no more requests for it, and no token reaches a log line, a
//! `Debug` or an error. Alone in its binary: the log capture must see every line.

mod auth_support;

use async_trait::async_trait;
use auth_support::{authorize, oauth, start};
use buffer_bridge::auth::{Consent, MemoryStore, RefreshingToken, TokenStore, Tokens};
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::{BackendExt, Error, Result};
use secrecy::ExposeSecret;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3_600);

fn graphql(sim: &buffer_sim::Simulator, provider: Arc<RefreshingToken>) -> GraphQl {
    GraphQl::builder()
        .token_provider(provider)
        .base_url(sim.graphql_url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The token strings inside `tokens`, to look for where they must not be.
fn secrets_of(tokens: &Tokens) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(tokens.to_secret_json().expose_secret()).unwrap();
    ["access_token", "refresh_token"]
        .iter()
        .filter_map(|k| json[k].as_str().map(str::to_owned))
        .collect()
}

/// A store that fails the next save, as a process killed between receiving new tokens and
/// storing them: what it was given is kept so the test can look for it in the output.
struct CrashOnSave {
    inner: MemoryStore,
    crash: AtomicBool,
    lost: Mutex<Vec<String>>,
}

impl std::fmt::Debug for CrashOnSave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrashOnSave")
            .field("inner", &self.inner)
            .finish()
    }
}

#[async_trait]
impl TokenStore for CrashOnSave {
    async fn load(&self, user: &str) -> Result<Option<Tokens>> {
        self.inner.load(user).await
    }

    async fn save(&self, user: &str, tokens: &Tokens) -> Result<()> {
        if self.crash.swap(false, Ordering::SeqCst) {
            self.lost.lock().unwrap().extend(secrets_of(tokens));
            return Err(Error::token_store("killed before the write", None));
        }
        self.inner.save(user, tokens).await
    }

    async fn remove(&self, user: &str) -> Result<()> {
        self.inner.remove(user).await
    }
}

/// Log lines, captured.
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

#[tokio::test]
async fn a_refresh_token_lost_in_a_crash_ends_in_grant_revoked_without_a_loop_or_a_leak() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let first = authorize(&oauth, &Consent::default()).await;
    let store = Arc::new(CrashOnSave {
        inner: MemoryStore::new(),
        crash: AtomicBool::new(false),
        lost: Mutex::default(),
    });
    store.save("u1", &first).await.unwrap();
    sim.clock().advance(HOUR);
    sim.clear_requests();

    // The first run refreshes and dies before the new tokens are stored.
    store.crash.store(true, Ordering::SeqCst);
    let run = RefreshingToken::new(oauth.clone(), store.clone(), "u1");
    let crashed = graphql(&sim, Arc::new(run)).account().await.unwrap_err();
    assert!(matches!(crashed, Error::TokenStore { .. }), "{crashed}");
    assert_eq!(sim.oauth().stats().refreshes, 1);
    assert_eq!(
        sim.requests_to("account"),
        0,
        "the new access token is not used before its refresh token is stored"
    );

    // The next start has only the spent refresh token: the grant is gone, once, for good.
    let provider = Arc::new(RefreshingToken::new(oauth, store.clone(), "u1"));
    let restarted = graphql(&sim, provider.clone());
    let mut errors = Vec::new();
    for _ in 0..3 {
        errors.push(restarted.account().await.unwrap_err());
    }
    assert!(
        errors
            .iter()
            .all(|e| matches!(e, Error::GrantRevoked { .. })),
        "{errors:?}"
    );
    let stats = sim.oauth().stats();
    assert_eq!((stats.reuse_detections, stats.grants_revoked), (1, 1));
    assert_eq!(
        sim.requests_to("/token"),
        2,
        "one refresh each run, no loop"
    );
    assert_eq!(sim.requests_to("account"), 0);
    assert!(
        store.load("u1").await.unwrap().is_none(),
        "the dead grant is forgotten"
    );

    let mut secrets = secrets_of(&first);
    secrets.extend(store.lost.lock().unwrap().iter().cloned());
    assert_eq!(secrets.len(), 4);
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("refreshing"),
        "the logs were captured: {logged}"
    );
    let printed = [
        logged,
        format!("{crashed} {crashed:?}"),
        format!("{errors:?} {}", errors[0]),
        format!("{provider:?} {restarted:?} {store:?} {first:?}"),
    ];
    for secret in &secrets {
        for text in &printed {
            assert!(
                !text.contains(secret.as_str()),
                "a token leaked: {secret} in {text}"
            );
        }
    }
}
