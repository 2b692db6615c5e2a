//! One exchange with the GraphQL endpoint: post a body, read the budget, the warnings and the
//! errors that come back, and hand over the `data`.
//!
//! Buffer documents "always HTTP 200", but answers 400 for invalid documents, 401 without a
//! valid key and 429 when rate limited, each with a GraphQL body; so the body is read on every
//! status, and only a body that is not a GraphQL response falls back to the status.

use crate::http::rate_limit::RateLimits;
use crate::http::transport::{Deadline, Received, Transport};
use crate::http::{Credential, snippet};
use crate::rest::wire::lenient;
use crate::{Error, ErrorKind, Result};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Mutex;
use std::time::Duration;
use url::Url;

/// How many warnings [`Wire::warnings`] keeps, and reads from one response.
const KEPT_WARNINGS: usize = 32;

/// How many `errors[]` entries are read from one response: far more than the 30 aliases of a
/// batch could need. The rest are skipped unread, so a million entries cost nothing.
const READ_ERRORS: usize = 256;

/// How many characters of a warning's message are kept: warnings outlive their response.
const WARNING_CHARS: usize = 1024;

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
    Value(&'a RawValue),
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

    /// What `data` holds under one root field, found in one pass over its text without
    /// building the rest: a server must not make an answer cost many times its size.
    fn root(&self, name: &str) -> Root<'_> {
        let mut json = serde_json::Deserializer::from_str(self.data.get());
        RootField(name)
            .deserialize(&mut json)
            .unwrap_or(Root::NotAnObject)
    }

    /// One root field's value, or the error reported for it. A field that is absent or null
    /// with no error naming it gets the request-wide error, else a protocol error.
    pub fn field(&self, name: &str) -> Result<&RawValue> {
        match self.root(name) {
            Root::Present(value) if !is_null(value) => Ok(value),
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
        match self.root(name) {
            Root::Present(value) if !is_null(value) => return MutationField::Value(value),
            Root::Absent => {
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
    pub fn decode<T: DeserializeOwned>(&self, value: &RawValue) -> Result<T> {
        let decoded = serde_json::from_str(value.get())
            .map_err(|e| unexpected_shape(e, self.status, value.get(), &self.credential));
        in_time(self.deadline, decoded)
    }
}

fn is_null(value: &RawValue) -> bool {
    value.get().trim() == "null"
}

/// What `data` holds under one root field.
enum Root<'a> {
    /// `data` is null (or not an object): nothing can be told of any field.
    NotAnObject,
    /// `data` is an object without the field.
    Absent,
    /// The field's value, possibly `null`.
    Present(&'a RawValue),
}

/// Finds one root field of `data`, skipping every other without building it.
struct RootField<'n>(&'n str);

impl<'de> DeserializeSeed<'de> for RootField<'_> {
    type Value = Root<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Root<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RootField<'_> {
    type Value = Root<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the `data` of a GraphQL response")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Root<'de>, A::Error> {
        let mut found = Root::Absent;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.0 && matches!(found, Root::Absent) {
                found = Root::Present(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Root<'de>, A::Error> {
        Ok(Root::NotAnObject)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Root<'de>, E> {
        Ok(Root::NotAnObject)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Root<'de>, E> {
        Ok(Root::NotAnObject)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Root<'de>, E> {
        Ok(Root::NotAnObject)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Root<'de>, E> {
        Ok(Root::NotAnObject)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Root<'de>, E> {
        Ok(Root::NotAnObject)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Root<'de>, E> {
        Ok(Root::NotAnObject)
    }
}

/// The first `N` items of a JSON list and how many it had, the rest skipped without being
/// built; `None` for anything but a list.
struct FirstOf<T, const N: usize> {
    items: Option<Vec<T>>,
    total: usize,
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for FirstOf<T, N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FirstOfVisitor(PhantomData))
    }
}

struct FirstOfVisitor<T, const N: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for FirstOfVisitor<T, N> {
    type Value = FirstOf<T, N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FirstOf<T, N>, A::Error> {
        let mut items = Vec::new();
        let mut total = 0;
        while total < N {
            match seq.next_element::<T>()? {
                Some(item) => items.push(item),
                None => break,
            }
            total += 1;
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {
            total += 1;
        }
        Ok(FirstOf {
            items: Some(items),
            total,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstOf<T, N>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(FirstOf::none())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<FirstOf<T, N>, E> {
        Ok(FirstOf::none())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<FirstOf<T, N>, E> {
        Ok(FirstOf::none())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<FirstOf<T, N>, E> {
        Ok(FirstOf::none())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<FirstOf<T, N>, E> {
        Ok(FirstOf::none())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<FirstOf<T, N>, E> {
        Ok(FirstOf::none())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<FirstOf<T, N>, E> {
        Ok(FirstOf::none())
    }
}

impl<T, const N: usize> FirstOf<T, N> {
    fn none() -> Self {
        Self {
            items: None,
            total: 0,
        }
    }
}

impl<T, const N: usize> Default for FirstOf<T, N> {
    fn default() -> Self {
        Self::none()
    }
}

/// A scalar, or `null` for a list or an object (skipped unbuilt).
#[derive(Default, Deserialize)]
#[serde(transparent)]
struct Scalar(#[serde(deserialize_with = "lenient::scalar")] Value);

/// An object read as `T`; anything else reads as `None`, skipped unbuilt.
#[derive(Deserialize)]
#[serde(transparent)]
#[serde(bound = "T: DeserializeOwned")]
struct Loose<T>(#[serde(deserialize_with = "lenient::object")] Option<T>);

/// One `errors[]` entry, as far as it is read.
#[derive(Deserialize)]
struct ErrorFields {
    #[serde(default)]
    message: Scalar,
    /// The root field it belongs to and the path's length.
    #[serde(default)]
    path: FirstOf<Scalar, 1>,
    #[serde(default, deserialize_with = "lenient::object")]
    extensions: Option<ErrorExtensions>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorExtensions {
    #[serde(default)]
    code: Scalar,
    #[serde(default)]
    retry_after: Scalar,
    #[serde(default)]
    window: Scalar,
}

/// `extensions` of a response, as far as it is read.
#[derive(Default, Deserialize)]
struct Extensions {
    #[serde(default)]
    warnings: FirstOf<Box<RawValue>, KEPT_WARNINGS>,
}

/// A warning, read leniently: any field of the wrong type reads as absent.
#[derive(Default, Deserialize)]
struct WarningFields {
    #[serde(default)]
    code: Scalar,
    #[serde(default)]
    message: Scalar,
    #[serde(default)]
    paths: FirstOf<Scalar, KEPT_WARNINGS>,
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

/// A response as far as it is read: `data` kept as text, the first [`READ_ERRORS`] errors and
/// [`KEPT_WARNINGS`] warnings, and nothing else built, so no body costs much more than its
/// size (the body cap) in memory or time.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Box<RawValue>>,
    #[serde(default)]
    errors: FirstOf<Loose<ErrorFields>, READ_ERRORS>,
    #[serde(default, deserialize_with = "lenient::object")]
    extensions: Option<Extensions>,
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
            #[serde(default, deserialize_with = "lenient::object")]
            extensions: Option<Extensions>,
        }
        if (200..300).contains(&status)
            && let Ok(Success {
                data,
                errors: None,
                extensions,
            }) = serde_json::from_slice::<Success<T>>(body)
        {
            self.keep_warnings(extensions.map(|e| e.warnings));
            return Ok(data);
        }
        self.read(status, body, limits)?.into_data()
    }

    /// Reads a response body of any status.
    pub(super) fn read(&self, status: u16, body: &[u8], limits: &RateLimits) -> Result<Reply> {
        let envelope = serde_json::from_slice::<Envelope>(body)
            .ok()
            .filter(|e| e.data.is_some() || e.errors.items.is_some());
        let Some(envelope) = envelope else {
            return Err(self.unreadable(status, body, limits));
        };
        self.keep_warnings(envelope.extensions.map(|e| e.warnings));
        let errors: Vec<FieldError> = envelope
            .errors
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|Loose(entry)| match entry {
                Some(entry) => field_error(entry, limits, &self.credential),
                // Not a GraphQL error (a number, a list nested 100,000 deep): the answer is
                // not one this library can read.
                None => FieldError {
                    field: None,
                    error: Error::protocol(
                        Some(status),
                        "an entry of `errors` is not an object",
                        "",
                    ),
                    refusal: false,
                },
            })
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

    /// Keeps and logs the warnings of a response, each field redacted first: Buffer may echo
    /// the key in any of them. A warning that is not an object is kept as the start of its
    /// text.
    fn keep_warnings(&self, warnings: Option<FirstOf<Box<RawValue>, KEPT_WARNINGS>>) {
        let Some(list) = warnings.and_then(|w| w.items) else {
            return;
        };
        let text = |value: &Value| {
            value
                .as_str()
                .map(|text| bounded(&self.credential.redact(text), WARNING_CHARS))
        };
        let mut kept = lock(&self.warnings);
        for raw in list {
            let warning = match serde_json::from_str::<Loose<WarningFields>>(raw.get()) {
                Ok(Loose(Some(fields))) => Warning {
                    code: text(&fields.code.0),
                    message: text(&fields.message.0).unwrap_or_default(),
                    paths: fields
                        .paths
                        .items
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|path| text(&path.0))
                        .collect(),
                },
                _ => Warning {
                    code: None,
                    message: snippet(raw.get().as_bytes(), &self.credential),
                    paths: Vec::new(),
                },
            };
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

/// At most `chars` characters of `text`, marked when cut.
fn bounded(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
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
fn field_error(entry: ErrorFields, limits: &RateLimits, credential: &Credential) -> FieldError {
    // Buffer's message ends up in errors and logs: a key it echoes back must not.
    let message = credential.redact(entry.message.0.as_str().unwrap_or("no message"));
    let extensions = entry.extensions.unwrap_or_default();
    let code = extensions.code.0.as_str().unwrap_or("");
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
                .retry_after
                .0
                .as_u64()
                .map(Duration::from_secs)
                .or_else(|| limits.wait(extensions.window.0.as_str())),
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
    let field = entry
        .path
        .items
        .as_ref()
        .and_then(|path| path.first())
        .and_then(|first| first.0.as_str())
        .map(str::to_owned);
    let at_root = entry.path.items.is_some() && entry.path.total == 1;
    let refusal = at_root
        && matches!(
            code,
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
