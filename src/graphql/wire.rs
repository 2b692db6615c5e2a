//! One exchange with the GraphQL endpoint: post a body, read the budget, the warnings and the
//! errors that come back, and hand over the `data`.
//!
//! Buffer documents "always HTTP 200", but answers 400 for invalid documents, 401 without a
//! valid key and 429 when rate limited, each with a GraphQL body; so the body is read on every
//! status, and only a body that is not a GraphQL response falls back to the status.

use crate::http::rate_limit::RateLimits;
use crate::http::{Credential, snippet, transport};
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use url::Url;

/// How many warnings [`Wire::warnings`] keeps.
const KEPT_WARNINGS: usize = 32;

/// A warning Buffer attached to a response (`extensions.warnings`), such as a deprecated input
/// shape that still works today but will stop working.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Warning {
    /// Buffer's code for it (`DEPRECATED_LEGACY_ASSETS_INPUT`), when given.
    #[serde(default)]
    pub code: Option<String>,
    /// What Buffer said.
    #[serde(default)]
    pub message: String,
    /// The input paths it is about (`input.assets`).
    #[serde(default)]
    pub paths: Vec<String>,
}

/// An entry of `errors[]`, mapped to an [`Error`], with the response field it belongs to.
#[derive(Clone, Debug)]
struct FieldError {
    /// The first element of the error's `path`: the (aliased) root field, when given.
    field: Option<String>,
    error: Error,
}

/// A response that is a GraphQL response: `data` (not null) and any errors beside it.
///
/// `data` is kept as raw JSON text: a read decodes it straight into its generated type in one
/// pass, and only a mutation's per-field access builds a `Value`.
#[derive(Debug)]
pub(super) struct Reply {
    status: u16,
    data: Box<RawValue>,
    fields: OnceLock<Value>,
    errors: Vec<FieldError>,
    credential: Credential,
}

impl Reply {
    /// The whole `data` as the operation's generated type; any error fails the read, because
    /// a read with holes in it would return wrong items silently.
    pub fn into_data<T: DeserializeOwned>(self) -> Result<T> {
        if let Some(first) = self.errors.into_iter().next() {
            return Err(first.error);
        }
        serde_json::from_str(self.data.get())
            .map_err(|e| unexpected_shape(e, self.status, self.data.get(), &self.credential))
    }

    /// `data` as a JSON value, parsed on first use.
    fn data(&self) -> &Value {
        self.fields
            .get_or_init(|| serde_json::from_str(self.data.get()).unwrap_or(Value::Null))
    }

    /// One root field's value, or the error reported for it. A field that is absent or null
    /// with no error naming it gets the request-wide error, else a protocol error.
    pub fn field(&self, name: &str) -> Result<&Value> {
        match self.data().get(name) {
            Some(value) if !value.is_null() => Ok(value),
            _ => Err(self
                .errors
                .iter()
                .find(|e| e.field.as_deref() == Some(name))
                .or_else(|| self.errors.iter().find(|e| e.field.is_none()))
                .map(|e| e.error.clone())
                .unwrap_or_else(|| {
                    Error::protocol(
                        Some(self.status),
                        format!("the response has no value for `{name}` and no error saying why"),
                        snippet(self.data.get().as_bytes(), &self.credential),
                    )
                })),
        }
    }

    /// Decodes a value taken from this reply.
    pub fn decode<T: DeserializeOwned>(&self, value: &Value) -> Result<T> {
        T::deserialize(value)
            .map_err(|e| unexpected_shape(e, self.status, &value.to_string(), &self.credential))
    }
}

/// The error for `data` that is JSON but not of the expected shape; the snippet is only
/// made when it is needed.
fn unexpected_shape(
    error: serde_json::Error,
    status: u16,
    shown: &str,
    credential: &Credential,
) -> Error {
    Error::protocol(
        Some(status),
        format!("the response does not have the shape buffer-bridge expects: {error}"),
        snippet(shown.as_bytes(), credential),
    )
}

/// The HTTP side of the GraphQL backend: one endpoint, one client, and what the last
/// responses said about rate limits and deprecations.
#[derive(Debug)]
pub(super) struct Wire {
    client: reqwest::Client,
    endpoint: Url,
    credential: Credential,
    timeout: Duration,
    rate_limits: Mutex<Option<RateLimits>>,
    warnings: Mutex<VecDeque<Warning>>,
}

/// A request body: Buffer takes the operation name beside the document.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a, V> {
    query: &'a str,
    operation_name: &'a str,
    variables: &'a V,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Box<RawValue>>,
    #[serde(default)]
    errors: Option<Vec<Value>>,
    #[serde(default)]
    extensions: Option<Value>,
}

impl Wire {
    /// The key, to scrub what leaves the backend.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    pub fn new(
        client: reqwest::Client,
        endpoint: Url,
        credential: Credential,
        timeout: Duration,
    ) -> Self {
        Self {
            client,
            endpoint,
            credential,
            timeout,
            rate_limits: Mutex::new(None),
            warnings: Mutex::new(VecDeque::new()),
        }
    }

    /// The budget announced by the latest response that carried rate-limit headers.
    pub fn rate_limits(&self) -> Option<RateLimits> {
        lock(&self.rate_limits).clone()
    }

    /// The latest warnings, oldest first.
    pub fn warnings(&self) -> Vec<Warning> {
        lock(&self.warnings).iter().cloned().collect()
    }

    /// Posts one GraphQL request (`{query, operationName, variables}`) and reads the answer.
    pub async fn send<V: Serialize>(
        &self,
        query: &str,
        operation_name: &str,
        variables: &V,
    ) -> Result<Reply> {
        tracing::debug!(operation = operation_name, "GraphQL request");
        let body = Body {
            query,
            operation_name,
            variables,
        };
        let response = self
            .client
            .post(self.endpoint.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| transport("could not reach Buffer's GraphQL API", e, self.timeout))?;
        let status = response.status().as_u16();
        let limits = RateLimits::from_headers(response.headers());
        if !limits.is_empty() {
            *lock(&self.rate_limits) = Some(limits.clone());
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| transport("the answer broke off", e, self.timeout))?;
        self.read(status, &body, &limits)
    }

    /// Reads a response body of any status.
    pub(super) fn read(&self, status: u16, body: &[u8], limits: &RateLimits) -> Result<Reply> {
        let envelope = serde_json::from_slice::<Envelope>(body)
            .ok()
            .filter(|e| e.data.is_some() || e.errors.is_some());
        let Some(envelope) = envelope else {
            return Err(self.unreadable(status, body, limits));
        };
        self.keep_warnings(envelope.extensions.as_ref());
        let errors: Vec<FieldError> = envelope
            .errors
            .unwrap_or_default()
            .iter()
            .map(|entry| field_error(entry, limits, &self.credential))
            .collect();
        let data = envelope.data;
        if data.is_none() && (500..=599).contains(&status) {
            // A failure on Buffer's side, whatever the body calls it: retries must see the status.
            let message = errors.first().map(|e| e.error.message());
            return Err(Error::from_status(status, message));
        }
        let Some(data) = data else {
            return Err(errors
                .into_iter()
                .next()
                .map(|e| e.error)
                .unwrap_or_else(|| {
                    Error::protocol(
                        Some(status),
                        "the response has neither data nor errors",
                        snippet(body, &self.credential),
                    )
                }));
        };
        Ok(Reply {
            status,
            data,
            fields: OnceLock::new(),
            errors,
            credential: self.credential.clone(),
        })
    }

    /// The error for a body that is not a GraphQL response: empty, HTML, cut short.
    fn unreadable(&self, status: u16, body: &[u8], limits: &RateLimits) -> Error {
        let shown = snippet(body, &self.credential);
        match status {
            429 => Error::RateLimited {
                retry_after: limits.wait(None),
                message: "HTTP 429 Too Many Requests".to_owned(),
            },
            401 | 403 => Error::from_status(status, None),
            500..=599 => Error::from_status(status, Some(format!("body starts: {shown:?}"))),
            _ => Error::protocol(
                Some(status),
                "the body is not a GraphQL response (JSON with `data` or `errors`)",
                shown,
            ),
        }
    }

    /// Keeps and logs the warnings of a response, every field of each redacted first (the
    /// ones [`Warning`] reads and any other): Buffer may echo the key in any of them.
    fn keep_warnings(&self, extensions: Option<&Value>) {
        let Some(list) = extensions
            .and_then(|e| e.get("warnings"))
            .and_then(Value::as_array)
        else {
            return;
        };
        let mut kept = lock(&self.warnings);
        for value in list {
            let mut value = value.clone();
            self.credential.redact_json(&mut value);
            let warning = Warning::deserialize(&value).unwrap_or_else(|_| Warning {
                code: None,
                // Redacted again as text: a key Buffer sent as a number is in it now.
                message: self.credential.redact(&value.to_string()),
                paths: Vec::new(),
            });
            tracing::warn!(
                code = warning.code.as_deref().unwrap_or(""),
                paths = ?warning.paths,
                "Buffer warned: {}",
                warning.message
            );
            if kept.len() == KEPT_WARNINGS {
                kept.pop_front();
            }
            kept.push_back(warning);
        }
    }
}

/// Locks a mutex, going on with the data if a panicking thread poisoned it (the data here are
/// caches and reports, always valid).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Maps one `errors[]` entry by its `extensions.code`.
fn field_error(entry: &Value, limits: &RateLimits, credential: &Credential) -> FieldError {
    // Buffer's message ends up in errors and logs: a key it echoes back must not.
    let message = credential.redact(
        entry
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message"),
    );
    let extensions = entry.get("extensions");
    let text = |key: &str| extensions.and_then(|e| e.get(key)).and_then(Value::as_str);
    let error = match text("code").unwrap_or("") {
        "UNAUTHENTICATED" | "UNAUTHORIZED" | "FORBIDDEN" => Error::Unauthorized {
            message,
            legacy_code: None,
        },
        "NOT_FOUND" => Error::NotFound {
            message,
            legacy_code: None,
        },
        "RATE_LIMIT_EXCEEDED" => Error::RateLimited {
            retry_after: extensions
                .and_then(|e| e.get("retryAfter"))
                .and_then(Value::as_u64)
                .map(Duration::from_secs)
                .or_else(|| limits.wait(text("window"))),
            message,
        },
        "GRAPHQL_VALIDATION_FAILED" => Error::invalid_input(format!(
            "Buffer refused the request document: {message}. This is a bug in buffer-bridge or \
             Buffer changed its schema; please report it with this message"
        )),
        "BAD_USER_INPUT" => Error::invalid_input(message),
        "" => Error::Unexpected {
            message,
            legacy_code: None,
        },
        code => Error::Unexpected {
            message: format!("{message} ({code})"),
            legacy_code: None,
        },
    };
    let field = entry
        .get("path")
        .and_then(Value::as_array)
        .and_then(|path| path.first())
        .and_then(Value::as_str)
        .map(str::to_owned);
    FieldError { field, error }
}
