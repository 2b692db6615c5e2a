//! Turning a classic HTTP answer into a value or a typed [`Error`].
//!
//! The classic API is loose about errors: codes come as `{code, error, message, success}` on
//! HTTP 4xx/5xx (every field optional), as `success: false` on HTTP 200, or not at all (the
//! recorded 401 has an empty `text/html` body). Decoding is a pure function of the status,
//! the wait the headers asked for and the body, so every one of those shapes is tested
//! without a server.

use super::wire::{Reported, Shape};
use crate::http::{Credential, snippet};
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// What came back from one request.
pub(crate) struct Answer<'a> {
    /// The numeric status; its reason phrase is ignored (Buffer sends `200 Awesome`).
    pub status: u16,
    /// How long the headers asked to wait (read by `http::rate_limit::RateLimits`). The
    /// classic API documents no such header; a proxy in front of Buffer may send one.
    pub retry_after: Option<Duration>,
    /// The raw body.
    pub body: &'a [u8],
}

impl Answer<'_> {
    /// The body read as `T`, or the error the answer stands for. `what` names the expected
    /// answer in messages ("a profile list").
    pub(crate) fn decode<T: DeserializeOwned + Shape>(
        &self,
        what: &str,
        credential: &Credential,
    ) -> Result<T> {
        if !(200..300).contains(&self.status) {
            return Err(self.error(credential));
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(self.unreadable("the body is empty", what, credential));
        }
        // A 2xx may still carry an error (clients of the classic API check for it): one of
        // another shape than expected is read on its own, one that fits the expected shape is
        // told by the keys the answer was read with.
        let opening = self.body.iter().find(|b| !b.is_ascii_whitespace());
        if opening != Some(&T::OPENING) {
            if let Some(error) = self.error_body(credential) {
                return Err(error);
            }
            let shape = if T::OPENING == b'[' {
                "a JSON list"
            } else {
                "a JSON object"
            };
            return Err(self.unreadable(&format!("it is not {shape}"), what, credential));
        }
        let answer: T = serde_json::from_slice(self.body).map_err(|e| {
            if let Some(error) = self.error_body(credential) {
                return error;
            }
            let reason = if e.is_eof() {
                "the JSON is cut short".to_owned()
            } else if e.is_syntax() {
                "it is not JSON".to_owned()
            } else {
                credential.redact(&e.to_string())
            };
            self.unreadable(&reason, what, credential)
        })?;
        let reported = answer.reported();
        if reported.is_error() {
            return Err(self.with_wait(reported.into_error(self.status, credential)));
        }
        Ok(answer)
    }

    /// The error a 2xx body stands for, when it is a classic error body.
    fn error_body(&self, credential: &Credential) -> Option<Error> {
        serde_json::from_slice::<Reported>(self.body)
            .ok()
            .filter(Reported::is_error)
            .map(|body| self.with_wait(body.into_error(self.status, credential)))
    }

    /// The error for a non-2xx answer: from its classic code when the body has one, else from
    /// the HTTP status.
    fn error(&self, credential: &Credential) -> Error {
        let error = match serde_json::from_slice::<Reported>(self.body) {
            Ok(body) => body.into_error(self.status, credential),
            Err(_) => {
                let message = if self.body.iter().all(u8::is_ascii_whitespace) {
                    format!("HTTP {} with an empty body", self.status)
                } else {
                    format!(
                        "HTTP {} with a body that is not a classic error: {}",
                        self.status,
                        snippet(self.body, credential)
                    )
                };
                Error::from_status(self.status, Some(message))
            }
        };
        self.with_wait(error)
    }

    fn unreadable(&self, reason: &str, what: &str, credential: &Credential) -> Error {
        Error::protocol(
            Some(self.status),
            format!("expected {what} from the classic API, but {reason}"),
            snippet(self.body, credential),
        )
    }

    /// Adds the `Retry-After` wait to a rate-limit error.
    fn with_wait(&self, error: Error) -> Error {
        match error {
            Error::RateLimited { message, .. } => Error::RateLimited {
                retry_after: self.retry_after,
                message,
            },
            other => other,
        }
    }
}

impl Reported {
    /// Whether a 2xx body is an error: `success: false`, or a classic code with its text and
    /// no `success: true` (no success body has a `code`).
    fn is_error(&self) -> bool {
        match self.success {
            Some(success) => !success,
            None => self.code.is_some() && (self.error.is_some() || self.message.is_some()),
        }
    }

    fn into_error(self, status: u16, credential: &Credential) -> Error {
        let mut texts: Vec<String> = Vec::new();
        for text in [self.error, self.message].into_iter().flatten() {
            let text = credential.redact(text.trim());
            if !text.is_empty() && !texts.contains(&text) {
                texts.push(text);
            }
        }
        let message = (!texts.is_empty()).then(|| texts.join(": "));
        match self.code {
            Some(code) => Error::from_legacy_code(code, message),
            None if (200..300).contains(&status) => {
                Error::unexpected(message.unwrap_or_else(|| {
                    format!("HTTP {status} with success=false and no error code")
                }))
            }
            None => Error::from_status(status, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn answer(status: u16, body: &str) -> Result<super::super::wire::Done> {
        Answer {
            status,
            retry_after: Some(Duration::from_secs(7)),
            body: body.as_bytes(),
        }
        .decode("a test value", &Credential::new("secret-token"))
    }

    #[test]
    fn the_recorded_empty_401_is_unauthorized() {
        let error = answer(401, "").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unauthorized);
        assert!(error.to_string().contains("HTTP 401"), "{error}");
    }

    #[test]
    fn codes_win_over_statuses_and_texts_are_kept() {
        let error = answer(
            403,
            r#"{"success":false,"code":1023,"error":"Update limit for profile has been reached.","message":"Queue full"}"#,
        )
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::LimitReached);
        assert_eq!(error.legacy_code(), Some(1023));
        assert!(error.message().contains("Queue full"), "{error}");
        let string_code = answer(400, r#"{"code":"1025"}"#).unwrap_err();
        assert!(string_code.is_duplicate());
    }

    #[test]
    fn success_false_on_200_is_an_error() {
        let coded = answer(200, r#"{"success":false,"code":1027}"#).unwrap_err();
        assert_eq!(coded.legacy_code(), Some(1027));
        let bare = answer(200, r#"{"success":false}"#).unwrap_err();
        assert_eq!(bare.kind(), ErrorKind::Unexpected);
        assert!(answer(200, r#"{"success":true}"#).is_ok());
        let without_flag = answer(200, r#"{"code":1020,"error":"Update could not be found."}"#);
        assert_eq!(without_flag.unwrap_err().legacy_code(), Some(1020));
        assert!(answer(200, r#"{"success":true,"code":1,"message":"ok"}"#).is_ok());
        assert!(answer(200, r#"{"message":"Update deleted successfully"}"#).is_ok());
    }

    #[test]
    fn unreadable_2xx_bodies_are_protocol_errors_without_the_token() {
        for body in [
            "",
            "  ",
            "<html>secret-token</html>",
            r#"{"id":"secret-token"#,
        ] {
            let error = answer(200, body).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Protocol, "{body:?}");
            assert!(!format!("{error} {error:?}").contains("secret-token"));
        }
    }

    #[test]
    fn server_errors_without_json_keep_the_status() {
        let error = answer(502, "<html><h1>Bad gateway</h1></html>").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unexpected);
        assert!(error.to_string().contains("HTTP 502"), "{error}");
        assert!(error.to_string().contains("Bad gateway"), "{error}");
    }

    #[test]
    fn rate_limits_carry_the_wait() {
        let error = answer(429, "").unwrap_err();
        assert!(matches!(
            error,
            Error::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(7)
        ));
    }
}
