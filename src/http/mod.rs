//! What both backends share on the wire: credentials, the HTTP client and its settings, base
//! URLs, turning transport failures into [`Error`]s, keeping secrets out of everything
//! printed, reading the rate-limit budget a response announces ([`rate_limit`]), and the one
//! transport every request goes through (`transport`).

pub mod rate_limit;
mod redact;
pub(crate) mod transport;

use crate::backend::Response;
use crate::model::CreateOutcome;
use crate::{Error, Result};
use redact::Redactor;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use url::Url;

/// The request timeout when none is configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The connect timeout when none is configured.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest response body read when no cap is configured: 16 MiB, a hundred times
/// Buffer's largest page.
pub const DEFAULT_MAX_BODY_SIZE: usize = 16 * 1024 * 1024;

/// The `User-Agent` sent when none is configured.
pub const DEFAULT_USER_AGENT: &str = concat!("buffer-bridge/", env!("CARGO_PKG_VERSION"));

/// An access token or API key. Its `Debug` never shows it, and everything a backend prints
/// is redacted of it first: as it is, JSON-escaped, percent-encoded or form-encoded.
#[derive(Clone)]
pub struct Credential {
    secret: SecretString,
    /// Every form the secret can take in text, computed once.
    redactor: Arc<Redactor>,
    /// For a backend whose tokens come from a provider: the tokens it sent lately, removed
    /// from text as well (see [`Credential::rotating`]).
    rotated: Option<Arc<Mutex<VecDeque<Arc<Redactor>>>>>,
}

/// How many of a provider's latest tokens a rotating credential keeps redacting: an answer
/// quotes the token of its own request, which is at most a few refreshes old.
const ROTATED_KEPT: usize = 8;

impl Credential {
    /// Wraps a token. Whitespace around it (a copy-paste, a file's last newline) is no part
    /// of it: servers ignore it, so two spellings that differ only there are one credential.
    pub fn new(token: impl Into<String>) -> Self {
        let mut token = token.into();
        // Trimmed in place, so no untrimmed copy of the secret is left behind.
        token.truncate(token.trim_end().len());
        token.drain(..token.len() - token.trim_start().len());
        let secret = SecretString::from(token);
        let redactor = Arc::new(Redactor::new(secret.expose_secret()));
        Self {
            secret,
            redactor,
            rotated: None,
        }
    }

    /// A credential with no secret of its own that redacts the tokens [`remember`]ed into it:
    /// the redaction of a backend whose tokens a provider rotates.
    ///
    /// [`remember`]: Credential::remember
    pub(crate) fn rotating() -> Self {
        Self {
            rotated: Some(Arc::default()),
            ..Self::new("")
        }
    }

    /// Adds `token` to what a [`rotating`](Credential::rotating) credential redacts (no-op
    /// for the token it already has newest, and for a static credential).
    pub(crate) fn remember(&self, token: &Credential) {
        let Some(rotated) = &self.rotated else {
            return;
        };
        let mut rotated = rotated.lock().unwrap_or_else(PoisonError::into_inner);
        if rotated
            .back()
            .is_some_and(|newest| Arc::ptr_eq(newest, &token.redactor))
        {
            return;
        }
        if rotated.len() == ROTATED_KEPT {
            rotated.pop_front();
        }
        rotated.push_back(Arc::clone(&token.redactor));
    }

    /// The secret, for the few places that must send or store it.
    pub(crate) fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    /// Whether `other` holds the same secret: a sandbox must not be configured with the
    /// primary's own credential.
    pub(crate) fn same_secret(&self, other: &Credential) -> bool {
        self.secret.expose_secret() == other.secret.expose_secret()
    }

    /// A SHA-256 digest of the secret under `domain`, in hex: names the credential in a shared
    /// store (a fleet's Redis keys) without the secret ever leaving this process.
    #[cfg(feature = "redis")]
    pub(crate) fn digest(&self, domain: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update((domain.len() as u64).to_le_bytes());
        hash.update(domain.as_bytes());
        hash.update(self.secret.expose_secret().as_bytes());
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The `Authorization: Bearer …` header value, marked sensitive so HTTP logging skips it.
    pub(crate) fn bearer(&self) -> Result<HeaderValue> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.secret.expose_secret()))
            .map_err(|_| {
            Error::invalid_input(
                "the access token contains characters that cannot go in an HTTP header",
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// The outcome of a call with the token removed from every error in it, per-channel
    /// outcomes included: the last step of a backend's `execute`, so no path through a
    /// decoder can let an echoed secret out.
    pub(crate) fn scrub(&self, outcome: Result<Response>) -> Result<Response> {
        let scrub_error = |error: Error| error.scrub(|text| self.redact(text));
        let scrub_outcome = |outcome: &mut CreateOutcome| {
            for channel in &mut outcome.channels {
                channel.result = channel.result.clone().map_error(scrub_error);
            }
        };
        match outcome {
            Ok(Response::Created(mut outcome)) => {
                scrub_outcome(&mut outcome);
                Ok(Response::Created(outcome))
            }
            Ok(Response::CreatedMany(mut outcomes)) => {
                outcomes.iter_mut().for_each(scrub_outcome);
                Ok(Response::CreatedMany(outcomes))
            }
            Ok(response) => Ok(response),
            Err(error) => Err(scrub_error(error)),
        }
    }

    /// `text` with the token replaced by `[redacted]` wherever it appears: as it is,
    /// JSON-escaped, percent-encoded or form-encoded. A token under 8 characters is replaced
    /// only where it stands as a whole word, so that it cannot garble the text around it.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = self.redactor.redact(text).into_owned();
        if let Some(rotated) = &self.rotated {
            for redactor in rotated
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
            {
                text = redactor.redact(&text).into_owned();
            }
        }
        text
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.secret.expose_secret().trim().is_empty()
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential([redacted])")
    }
}

impl From<&str> for Credential {
    fn from(token: &str) -> Self {
        Self::new(token)
    }
}

impl From<String> for Credential {
    fn from(token: String) -> Self {
        Self::new(token)
    }
}

/// Connection settings, the same for both backends' builders
/// ([`ClassicRestBuilder::http_settings`](crate::rest::ClassicRestBuilder::http_settings),
/// [`GraphQlBuilder::http_settings`](crate::graphql::GraphQlBuilder::http_settings)).
///
/// Start from [`HttpSettings::default`] and set fields: more settings may come.
///
/// ```
/// use buffer_bridge::http::HttpSettings;
/// use std::time::Duration;
///
/// let mut settings = HttpSettings::default();
/// settings.timeout = Duration::from_secs(10);
/// settings.max_body_size = 4 * 1024 * 1024;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpSettings {
    /// The longest a request may take, from sending it to decoding its answer.
    pub timeout: Duration,
    /// The longest connecting may take.
    pub connect_timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The largest response body read: a longer one fails with
    /// [`Error::Protocol`] as soon as the cap is passed, without reading further.
    pub max_body_size: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_body_size: DEFAULT_MAX_BODY_SIZE,
        }
    }
}

impl HttpSettings {
    /// A reqwest client with these settings and no redirects (a redirect could carry the
    /// token to another host). The credential is added to each request, not to the client.
    pub(crate) fn client(&self) -> Result<reqwest::Client> {
        reqwest::Client::builder()
            .user_agent(self.user_agent.clone())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| transport("could not build the HTTP client", e, self.timeout))
    }
}

/// Parses a base URL: HTTPS, except for loopback addresses (tests and the simulator), and
/// ending in `/` so relative paths join under it.
pub fn base_url(text: &str) -> Result<Url> {
    let mut url = endpoint_url(text)?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Parses the URL of a single endpoint (GraphQL): HTTPS except on loopback, and kept exactly as
/// given, because a trailing slash added to a path such as `/graphql` breaks some servers.
///
/// A URL carrying credentials (`user:token@`, a query such as `?access_token=`) or a fragment
/// is refused: the token goes to the builder, where it is kept secret, and a URL is printed.
/// Refusals quote only the URL's scheme, host and path, never the text given.
pub fn endpoint_url(text: &str) -> Result<Url> {
    let url = Url::parse(text)
        .map_err(|e| Error::invalid_input(format!("the base URL is not a URL: {e}")))?;
    if url.username() != "" || url.password().is_some() || url.query().is_some() {
        return Err(Error::invalid_input(
            "the base URL carries a user name, a password or a query; give the token to the \
             builder (or the configuration's token setting) and the URL without them",
        ));
    }
    if url.fragment().is_some() {
        return Err(Error::invalid_input(
            "the base URL has a #fragment; remove it",
        ));
    }
    let text = url.as_str();
    let loopback = match url.host() {
        Some(url::Host::Domain(host)) => host == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(Error::invalid_input(format!(
                "base URL {text:?} must use https (plain http is allowed only on loopback)"
            )));
        }
    }
    Ok(url)
}

/// Turns a reqwest failure into [`Error::Timeout`] or [`Error::Transport`], without the URL.
pub(crate) fn transport(context: &str, error: reqwest::Error, timeout: Duration) -> Error {
    if error.is_timeout() {
        return Error::Timeout {
            after: Some(timeout),
        };
    }
    let error = error.without_url();
    Error::Transport {
        message: format!("{context}: {error}"),
        source: Some(std::sync::Arc::new(error)),
    }
}

/// The most characters of a body an error keeps.
const SNIPPET_CHARS: usize = 160;

/// The start of a body for an error message: at most 160 characters, whitespace folded, and
/// the credential removed (before the cut, so the cut cannot leave part of it).
pub fn snippet(body: &[u8], credential: &Credential) -> String {
    let text = String::from_utf8_lossy(body);
    let folded: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let redacted = credential.redact(&folded);
    let mut short: String = redacted.chars().take(SNIPPET_CHARS).collect();
    if redacted.chars().count() > SNIPPET_CHARS {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        assert!(base_url("http://api.bufferapp.com/1/").is_err());
        assert!(base_url("ftp://127.0.0.1/").is_err());
        assert_eq!(
            base_url("http://127.0.0.1:8080/1").unwrap().as_str(),
            "http://127.0.0.1:8080/1/"
        );
        assert!(base_url("http://localhost:1/").is_ok());
        assert!(base_url("http://[::1]:1/").is_ok());
        assert!(base_url("https://api.buffer.com").is_ok());
    }

    #[test]
    fn an_endpoint_keeps_its_path_exactly() {
        assert_eq!(
            endpoint_url("https://api.buffer.com/graphql")
                .unwrap()
                .as_str(),
            "https://api.buffer.com/graphql"
        );
        assert!(endpoint_url("http://api.buffer.com").is_err());
    }

    #[test]
    fn a_rotating_credential_redacts_every_token_it_was_told_of() {
        let rotating = Credential::rotating();
        let shared = rotating.clone();
        let first = Credential::new("first-token-1234");
        let second = Credential::new("second-token-5678");
        rotating.remember(&first);
        rotating.remember(&second);
        rotating.remember(&second);
        assert_eq!(
            shared.redact("a first-token-1234 b second-token-5678"),
            "a [redacted] b [redacted]"
        );
        for n in 0..ROTATED_KEPT {
            rotating.remember(&Credential::new(format!("later-token-{n:04}")));
        }
        assert_eq!(
            shared.redact("second-token-5678"),
            "second-token-5678",
            "bounded"
        );
        assert_eq!(shared.redact("later-token-0007"), "[redacted]");
    }

    #[test]
    fn short_tokens_never_garble_a_message() {
        let credential = Credential::new("t");
        let text = "could not reach the classic API: token t refused";
        assert_eq!(
            credential.redact(text),
            "could not reach the classic API: token [redacted] refused"
        );
    }

    #[test]
    fn snippets_are_short_and_never_hold_the_token() {
        let credential = Credential::new("canary-123");
        let body = format!("<html>\n  token canary-123 {}</html>", "x".repeat(500));
        let text = snippet(body.as_bytes(), &credential);
        assert!(!text.contains("canary-123"));
        assert!(text.starts_with("<html> token [redacted]"));
        assert!(text.chars().count() <= SNIPPET_CHARS + 1);
        assert_eq!(format!("{credential:?}"), "Credential([redacted])");
    }
}
