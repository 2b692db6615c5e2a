//! The one place every HTTP request of both backends goes through.
//!
//! For each request it charges the rate budget in scope (one per HTTP request, as Buffer
//! counts; see [`pacing`](crate::pacing)), adds the credential, sends, reads the rate-limit
//! headers into the budget and the server's clock from `Date`, refuses redirects, and reads
//! the body chunk by chunk up to a cap. One deadline, the request's timeout, covers sending,
//! reading and decoding: a server cannot hold a call past it with a slow body, nor with a
//! body that is slow to decode.

use super::rate_limit::RateLimits;
use super::{Credential, HttpSettings, snippet, transport};
use crate::auth::ProvideToken;
use crate::pacing::Charge;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, DATE, HeaderMap, HeaderValue};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

tokio::task_local! {
    /// The HTTP requests the call in scope has sent (see [`count_requests`]).
    static SENT: Arc<AtomicU32>;
}

/// Runs `call`, counting in `sent` the HTTP requests it sends from its own task: an audit
/// record says what each call cost, whatever layers (retries, lookups, fan-out) sit below it,
/// and can still say so when the call is dropped before it ends.
pub(crate) async fn count_requests<F: Future>(sent: Arc<AtomicU32>, call: F) -> F::Output {
    SENT.scope(sent, call).await
}

/// How much of an answer an error quotes.
const QUOTED: usize = 1024;

/// How far an answer's `Date` may be from this machine's clock and still be believed. The
/// server's clock fences the write path's reconciliation: one answer dated years ahead would
/// hide every post made since (and post them twice), one dated years behind would let a
/// look-alike from long ago pass for a new post. Clocks a day apart are broken, not skewed.
const MAX_CLOCK_GAP: Duration = Duration::from_secs(24 * 3600);

/// When a request's time is up: its answer must be read and decoded by then.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    at: Instant,
    timeout: Duration,
}

impl Deadline {
    fn start(timeout: Duration) -> Self {
        let now = Instant::now();
        Self {
            at: now
                .checked_add(timeout)
                .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365)),
            timeout,
        }
    }

    fn error(&self) -> Error {
        Error::Timeout {
            after: Some(self.timeout),
        }
    }

    /// `decoded`, unless the time was up when decoding ended: decoding counts against the
    /// request's timeout too, so the call ends in a timeout whatever the body made it do.
    pub(crate) fn check<T>(&self, decoded: Result<T>) -> Result<T> {
        if Instant::now() > self.at {
            return Err(self.error());
        }
        decoded
    }
}

/// An answer read whole within its request's deadline.
#[derive(Debug)]
pub(crate) struct Received {
    /// The numeric status.
    pub status: u16,
    /// What its rate-limit headers said.
    pub limits: RateLimits,
    /// The body, at most the cap.
    pub body: Vec<u8>,
    /// When decoding it must be done.
    pub deadline: Deadline,
}

/// What a transport puts in each request's `Authorization` header.
#[derive(Debug)]
pub(crate) enum Authorization {
    /// One key or token for every request.
    Static(Credential),
    /// A token from a provider, asked for each request; a 401 asks it once for another and
    /// sends once more.
    Provider(Arc<dyn ProvideToken>),
    /// Nothing: the authorization server's endpoints, which take the client's id in the form.
    Nothing,
}

/// A client of one API with one credential, and what its answers said lately.
#[derive(Debug)]
pub(crate) struct Transport {
    client: reqwest::Client,
    /// What goes in each request's `Authorization` header.
    authorization: Authorization,
    /// What is removed from everything printed: the static credential, or the provider's
    /// latest tokens.
    credential: Credential,
    /// `Bearer …` of a static credential, marked sensitive; added to each request, so a
    /// client brought by the caller never holds it.
    bearer: Option<HeaderValue>,
    timeout: Duration,
    max_body_size: usize,
    /// The API's name in messages ("the classic API").
    api: &'static str,
    rate_limits: Mutex<Option<RateLimits>>,
    server_time: Mutex<Option<DateTime<Utc>>>,
    /// Whether a `Date` too far from this machine's clock was logged (once is enough).
    distrusted_date: AtomicBool,
}

impl Transport {
    /// A transport with `settings`, on the caller's `client` when given (its connection
    /// settings and proxies apply; the timeout and body cap of `settings` still do).
    pub(crate) fn new(
        settings: &HttpSettings,
        authorization: Authorization,
        client: Option<reqwest::Client>,
        api: &'static str,
    ) -> Result<Self> {
        let (credential, bearer) = match &authorization {
            Authorization::Static(credential) if credential.is_empty() => {
                return Err(Error::invalid_input(
                    "the access token or API key is empty; set it on the builder",
                ));
            }
            Authorization::Static(credential) => (credential.clone(), Some(credential.bearer()?)),
            Authorization::Provider(_) | Authorization::Nothing => (Credential::rotating(), None),
        };
        let client = match client {
            Some(client) => client,
            None => settings.client()?,
        };
        Ok(Self {
            client,
            authorization,
            bearer,
            credential,
            timeout: settings.timeout,
            max_body_size: settings.max_body_size,
            api,
            rate_limits: Mutex::new(None),
            server_time: Mutex::new(None),
            distrusted_date: AtomicBool::new(false),
        })
    }

    /// The credential, to remove it from what leaves the backend.
    pub(crate) fn credential(&self) -> &Credential {
        &self.credential
    }

    /// A request to `url`, to fill in and hand to [`send`](Self::send).
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        url: url::Url,
    ) -> reqwest::RequestBuilder {
        self.client.request(method, url)
    }

    /// The budget announced by the latest answer that carried rate-limit headers.
    pub(crate) fn rate_limits(&self) -> Option<RateLimits> {
        lock(&self.rate_limits).clone()
    }

    /// The latest `Date` an answer carried: the server's clock was at least this.
    pub(crate) fn server_time(&self) -> Option<DateTime<Utc>> {
        *lock(&self.server_time)
    }

    /// Sends one request, charged to the budget in scope, and reads its answer whole. With a
    /// token provider, a 401 gets one more try with the token the provider gives after
    /// hearing of the refusal; never more, so a refused grant cannot make a loop.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Result<Received> {
        let request = request
            .build()
            .map_err(|e| transport("could not build the request", e, self.timeout))?;
        let provider = match &self.authorization {
            Authorization::Static(_) => return self.send_once(request, self.bearer.clone()).await,
            Authorization::Nothing => return self.send_once(request, None).await,
            Authorization::Provider(provider) => provider,
        };
        let token = provider.access_token().await?;
        self.credential.remember(&token);
        let again = request.try_clone();
        let received = self.send_once(request, Some(token.bearer()?)).await?;
        let (401, Some(again)) = (received.status, again) else {
            return Ok(received);
        };
        tracing::debug!(
            api = self.api,
            "token refused; asking the provider once more"
        );
        let fresh = provider.rejected(&token).await?;
        self.credential.remember(&fresh);
        self.send_once(again, Some(fresh.bearer()?)).await
    }

    async fn send_once(
        &self,
        mut request: reqwest::Request,
        bearer: Option<HeaderValue>,
    ) -> Result<Received> {
        if let Some(bearer) = bearer {
            request.headers_mut().insert(AUTHORIZATION, bearer);
        }
        let origin = request.url().origin();
        let charge = Charge::take().await?;
        let _ = SENT.try_with(|sent| sent.fetch_add(1, Ordering::Relaxed));
        let deadline = Deadline::start(self.timeout);
        tracing::debug!(api = self.api, "sending");
        let mut response = tokio::time::timeout_at(deadline.at, self.client.execute(request))
            .await
            .map_err(|_| deadline.error())?
            .map_err(|e| transport(&format!("could not reach {}", self.api), e, self.timeout))?;
        let status = response.status().as_u16();
        let limits = RateLimits::from_headers(response.headers());
        self.remember(&limits, response.headers());
        charge.answered(&limits, status == 429);
        if response.status().is_redirection() || response.url().origin() != origin {
            return Err(self.redirected(status));
        }
        let body = tokio::time::timeout_at(deadline.at, self.read_body(&mut response, status))
            .await
            .map_err(|_| deadline.error())??;
        tracing::debug!(status, bytes = body.len(), "answered");
        Ok(Received {
            status,
            limits,
            body,
            deadline,
        })
    }

    /// Keeps what an answer's headers say about the budget and the server's clock.
    fn remember(&self, limits: &RateLimits, headers: &HeaderMap) {
        if !limits.is_empty() {
            *lock(&self.rate_limits) = Some(limits.clone());
        }
        let date = headers
            .get(DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| DateTime::parse_from_rfc2822(value).ok())
            .map(|date| date.with_timezone(&Utc))
            .filter(|date| self.plausible(*date));
        if let Some(date) = date {
            let mut latest = lock(&self.server_time);
            *latest = Some(latest.map_or(date, |latest| latest.max(date)));
        }
    }

    /// Whether an answer's `Date` is within [`MAX_CLOCK_GAP`] of this machine's clock; logs
    /// the first that is not.
    fn plausible(&self, date: DateTime<Utc>) -> bool {
        let gap = date.signed_duration_since(Utc::now()).abs();
        let plausible = gap.to_std().is_ok_and(|gap| gap <= MAX_CLOCK_GAP);
        if !plausible && !self.distrusted_date.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                api = self.api,
                %date,
                "an answer is dated more than a day from this machine's clock; its Date is \
                 not used to fence reconciliation"
            );
        }
        plausible
    }

    /// The body, chunk by chunk, never holding more than the cap.
    async fn read_body(&self, response: &mut reqwest::Response, status: u16) -> Result<Vec<u8>> {
        let limit = self.max_body_size;
        let announced = response.content_length().unwrap_or(0);
        if announced > limit as u64 {
            return Err(self.too_large(status, &[]));
        }
        let mut body: Vec<u8> = Vec::with_capacity(announced as usize);
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            transport(
                &format!("the answer of {} broke off", self.api),
                e,
                self.timeout,
            )
        })? {
            if chunk.len() > limit - body.len() {
                return Err(self.too_large(status, &body));
            }
            let needed = body.len() + chunk.len();
            if needed > body.capacity() {
                // Grow by doubling, but never past the cap.
                let target = needed.max(body.capacity() * 2).min(limit);
                body.reserve_exact(target - body.len());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn too_large(&self, status: u16, start: &[u8]) -> Error {
        // An authorization server's answers carry tokens no credential of ours knows yet, so
        // nothing could redact them: they are never quoted.
        let quoted = match self.authorization {
            Authorization::Nothing => String::new(),
            _ => snippet(&start[..start.len().min(QUOTED)], &self.credential),
        };
        Error::protocol(
            Some(status),
            format!(
                "the answer is larger than the {} bytes allowed (HttpSettings::max_body_size); \
                 it was not read further",
                self.max_body_size
            ),
            quoted,
        )
    }

    fn redirected(&self, status: u16) -> Error {
        Error::from_status(
            status,
            Some(format!(
                "{} answered with a redirect, which buffer-bridge does not follow: it could \
                 carry the credential to another host. Check the base URL",
                self.api
            )),
        )
    }
}

/// Locks a mutex, going on with the data if a panicking thread poisoned it (the data are
/// reports, always valid).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn decoding_that_ends_past_the_deadline_is_a_timeout() {
        let deadline = Deadline::start(Duration::from_secs(1));
        assert_eq!(deadline.check(Ok(7)).ok(), Some(7));
        tokio::time::advance(Duration::from_secs(2)).await;
        let error = deadline.check(Ok(7)).unwrap_err();
        assert!(
            matches!(error, Error::Timeout { after: Some(after) } if after == Duration::from_secs(1))
        );
    }
}
