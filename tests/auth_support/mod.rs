//! What the auth tests share: a simulator whose clock stands still, a registered client, and
//! the browser's part of an authorization (following `/auth` to the redirect).
#![allow(dead_code)] // each test file uses a different part

use buffer_bridge::auth::{AuthorizationRequest, Clock, Consent, OAuth, Tokens};
use buffer_sim::{OAuthClient, Simulator};
use std::sync::{Arc, OnceLock};

/// The redirect URI the test client registers (nothing listens there: the test reads the
/// redirect instead of following it).
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A simulator with time standing still, and a public client registered on it.
pub async fn start() -> (Simulator, OAuthClient) {
    let sim = Simulator::builder().clock_scale(0.0).start().await;
    let client = sim.oauth().register_client(&[REDIRECT], false);
    (sim, client)
}

/// The simulator's clock, as the library's.
pub fn sim_clock(sim: &Simulator) -> Clock {
    let clock = sim.clock().clone();
    Arc::new(move || clock.now())
}

/// An OAuth client of the simulator, on its clock.
pub fn oauth(sim: &Simulator, client: &OAuthClient) -> OAuth {
    OAuth::builder()
        .client_id(&client.client_id)
        .redirect_uri(REDIRECT)
        .issuer(sim.issuer_url())
        .clock(sim_clock(sim))
        .build()
        .unwrap()
}

/// What a browser does with an authorization URL: the redirect it is sent to.
pub async fn follow(url: &str) -> String {
    static BROWSER: OnceLock<reqwest::Client> = OnceLock::new();
    let browser = BROWSER.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Each test has its own runtime: no connection may outlive one.
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    });
    let answer = browser.get(url).send().await.unwrap();
    assert_eq!(
        answer.status(),
        302,
        "the authorization server redirects back"
    );
    answer.headers()["location"].to_str().unwrap().to_owned()
}

/// A whole authorization: consent, redirect, code exchange.
pub async fn authorize(oauth: &OAuth, consent: &Consent) -> Tokens {
    let request: AuthorizationRequest = oauth.authorize(consent);
    let code = request
        .code_from_redirect(&follow(request.url()).await)
        .unwrap();
    oauth.exchange(&request, &code).await.unwrap()
}
