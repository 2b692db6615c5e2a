//! One exchange with the GraphQL endpoint: post a body, read the budget, the warnings and the
//! errors that come back, and hand over the `data`.
//!
//! Buffer documents "always HTTP 200", but answers 400 for invalid documents, 401 without a
//! valid key and 429 when rate limited, each with a GraphQL body; so the body is read on every
//! status, and only a body that is not a GraphQL response falls back to the status.

use crate::http::rate_limit::RateLimits;
use crate::http::transport::{Deadline, Received, Transport};
use crate::http::{Credential, snippet};
use crate::{Error, ErrorKind, Result};
use chrono::{DateTime, Utc};
use reqwest::Method;
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
    /// Whether the error proves its field did nothing: it sits at the root field itself and
    /// its code is a refusal (authentication, permission, input, rate limit, not found). An
    /// error deeper in the path means the mutation ran and only its answer failed.
    refusal: bool,
}

/// What a reply holds for one mutation's root field.
#[derive(Debug)]
pub(super) enum MutationField<'a> {
    /// The payload, to decode.
    Value(&'a Value),
    /// Buffer refused the field before doing anything.
    Refused(Error),
    /// The mutation may have run and its answer is lost: an error below the field (a
    /// non-null field failing after the mutation was done), an error that proves nothing,
    /// or `data` nulled as a whole by such a failure in another alias.
    Lost(Error),
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
    /// When decoding must be done: the request's deadline (`None` for a body decoded
    /// without a request).
    deadline: Option<Deadline>,
}

impl Reply {
    /// The whole `data` as the operation's generated type; any error fails the read, because
    /// a read with holes in it would return wrong items silently.
    pub fn into_data<T: DeserializeOwned>(self) -> Result<T> {
        if let Some(first) = self.errors.into_iter().next() {
            return Err(first.error);
        }
        let decoded = serde_json::from_str(self.data.get())
            .map_err(|e| unexpected_shape(e, self.status, self.data.get(), &self.credential));
        in_time(self.deadline, decoded)
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

    /// One mutation's root field, told apart as a payload, a refusal, or a lost answer.
    ///
    /// A field present in `data` (even as `null`) was executed, so without a payload it is
    /// lost unless an error at the field itself is a refusal. A field absent from a `data`
    /// object was never executed: the request-wide error refused it.
    pub fn mutation(&self, name: &str) -> MutationField<'_> {
        let data = self.data();
        match data.get(name) {
            Some(value) if !value.is_null() => return MutationField::Value(value),
            None if data.is_object() => {
                return match self.field(name) {
                    Ok(value) => MutationField::Value(value),
                    Err(error) => MutationField::Refused(error),
                };
            }
            // Present as null, or `data` itself null: executed, or discarded with the rest.
            _ => {}
        }
        let own = self
            .errors
            .iter()
            .find(|e| e.field.as_deref() == Some(name));
        match own {
            Some(e) if e.refusal => MutationField::Refused(e.error.clone()),
            Some(e) => MutationField::Lost(e.error.clone()),
            None => MutationField::Lost(Error::unexpected(format!(
                "Buffer's answer lost the result of `{name}` (another field's failure nulled \
                     the response); the mutation may have run"
            ))),
        }
    }

    /// Decodes a value taken from this reply.
    pub fn decode<T: DeserializeOwned>(&self, value: &Value) -> Result<T> {
        let decoded = T::deserialize(value)
            .map_err(|e| unexpected_shape(e, self.status, &value.to_string(), &self.credential));
        in_time(self.deadline, decoded)
    }
}

/// `decoded`, or a timeout if the request's time ran out while decoding.
fn in_time<T>(deadline: Option<Deadline>, decoded: Result<T>) -> Result<T> {
    match deadline {
        Some(deadline) => deadline.check(decoded),
        None => decoded,
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

/// The GraphQL side of the wire: one endpoint on the shared transport, and the deprecations
/// the last responses warned of.
#[derive(Debug)]
pub(super) struct Wire {
    transport: Transport,
    endpoint: Url,
    credential: Credential,
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

    /// The endpoint, reached through `transport`.
    pub fn new(transport: Transport, endpoint: Url) -> Self {
        Self {
            credential: transport.credential().clone(),
            transport,
            endpoint,
            warnings: Mutex::new(VecDeque::new()),
        }
    }

    /// The budget announced by the latest response that carried rate-limit headers.
    pub fn rate_limits(&self) -> Option<RateLimits> {
        self.transport.rate_limits()
    }

    /// The latest `Date` a response carried: the server's clock was at least this.
    pub fn server_time(&self) -> Option<DateTime<Utc>> {
        self.transport.server_time()
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
        let received = self.post(query, operation_name, variables).await?;
        let deadline = received.deadline;
        let mut reply =
            deadline.check(self.read(received.status, &received.body, &received.limits))?;
        reply.deadline = Some(deadline);
        Ok(reply)
    }

    /// Posts one read and decodes its whole `data` as `T`: see [`decode_data`](Self::decode_data).
    pub async fn fetch<T: DeserializeOwned, V: Serialize>(
        &self,
        query: &str,
        operation_name: &str,
        variables: &V,
    ) -> Result<T> {
        let received = self.post(query, operation_name, variables).await?;
        received
            .deadline
            .check(self.decode_data(received.status, &received.body, &received.limits))
    }

    /// Posts `{query, operationName, variables}` through the transport.
    async fn post<V: Serialize>(
        &self,
        query: &str,
        operation_name: &str,
        variables: &V,
    ) -> Result<Received> {
        tracing::debug!(operation = operation_name, "GraphQL request");
        let body = Body {
            query,
            operation_name,
            variables,
        };
        let request = self
            .transport
            .request(Method::POST, self.endpoint.clone())
            .json(&body);
        self.transport.send(request).await
    }

    /// A read's whole `data` as `T`. A plain success (2xx, `data` of the right shape, no
    /// `errors`) is decoded in one pass over the body; any other answer is read as a
    /// [`Reply`], whose errors say what went wrong.
    pub(super) fn decode_data<T: DeserializeOwned>(
        &self,
        status: u16,
        body: &[u8],
        limits: &RateLimits,
    ) -> Result<T> {
        #[derive(Deserialize)]
        struct Success<T> {
            data: T,
            #[serde(default)]
            errors: Option<serde::de::IgnoredAny>,
            #[serde(default)]
            extensions: Option<Value>,
        }
        if (200..300).contains(&status) {
            if let Ok(Success {
                data,
                errors: None,
                extensions,
            }) = serde_json::from_slice::<Success<T>>(body)
            {
                self.keep_warnings(extensions.as_ref());
                return Ok(data);
            }
        }
        self.read(status, body, limits)?.into_data()
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
        // `data: null` beside errors with paths: execution reached those fields, so a
        // mutation may have run; the reply is kept for `mutation` to tell fields apart.
        let data = match data {
            None if errors.iter().any(|e| e.field.is_some()) => {
                RawValue::from_string("null".to_owned()).ok()
            }
            data => data,
        };
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
            deadline: None,
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
    let code = text("code").unwrap_or("");
    let kind = match code {
        "UNAUTHENTICATED" | "UNAUTHORIZED" | "FORBIDDEN" => ErrorKind::Unauthorized,
        "NOT_FOUND" => ErrorKind::NotFound,
        "GRAPHQL_VALIDATION_FAILED" | "BAD_USER_INPUT" => ErrorKind::InvalidInput,
        // Unknown codes are kept as data (`graphql_code`), not folded into the message.
        _ => ErrorKind::Unexpected,
    };
    let error = match code {
        "RATE_LIMIT_EXCEEDED" => Error::rate_limited(
            extensions
                .and_then(|e| e.get("retryAfter"))
                .and_then(Value::as_u64)
                .map(Duration::from_secs)
                .or_else(|| limits.wait(text("window"))),
            message,
        ),
        "" => Error::of_kind(kind, message, None),
        "GRAPHQL_VALIDATION_FAILED" => Error::from_graphql(
            kind,
            code,
            format!(
                "Buffer refused the request document: {message}. This is a bug in buffer-bridge \
                 or Buffer changed its schema; please report it with this message"
            ),
        ),
        // A code is an identifier, but Buffer may echo anything: redacted like the message.
        code => Error::from_graphql(kind, credential.redact(code), message),
    };
    let path = entry.get("path").and_then(Value::as_array);
    let field = path
        .and_then(|path| path.first())
        .and_then(Value::as_str)
        .map(str::to_owned);
    let at_root = path.is_some_and(|path| path.len() == 1);
    let refusal = at_root
        && matches!(
            text("code").unwrap_or(""),
            "UNAUTHENTICATED"
                | "UNAUTHORIZED"
                | "FORBIDDEN"
                | "NOT_FOUND"
                | "RATE_LIMIT_EXCEEDED"
                | "GRAPHQL_VALIDATION_FAILED"
                | "BAD_USER_INPUT"
        );
    FieldError {
        field,
        error,
        refusal,
    }
}
