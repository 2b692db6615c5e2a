//! Typed mutation errors: the members of Buffer's payload unions, mapped to [`Error`] kinds.
//!
//! Every mutation document selects `__typename` and each error member of its union with its
//! fields (graphql_client cannot spread the `MutationError` interface inside a union). A member
//! Buffer adds later decodes to the generated `Unknown` variant; [`unknown_member`] still turns
//! it into a typed error, naming the type and keeping a message if the raw JSON has one.

use super::operations::create_post::PostActionFields;
use super::wire::Reply;
use crate::model::Post;
use crate::{Error, Result};
use serde_json::Value;

/// A `PostActionPayload` (createPost, editPost): the post, or the typed error.
///
/// Both mutations select the same `PostActionFields` fragment, so both decode with the type
/// generated for `createPost`.
pub(super) fn post_action(reply: &Reply, raw: &Value) -> Result<Post> {
    match reply.decode::<PostActionFields>(raw)? {
        PostActionFields::PostActionSuccess(success) => Ok(success.post.into()),
        PostActionFields::InvalidInputError(e) => {
            Err(mutation_error("InvalidInputError", e.message, None))
        }
        PostActionFields::LimitReachedError(e) => {
            Err(mutation_error("LimitReachedError", e.message, None))
        }
        PostActionFields::NotFoundError(e) => Err(mutation_error("NotFoundError", e.message, None)),
        PostActionFields::UnauthorizedError(e) => {
            Err(mutation_error("UnauthorizedError", e.message, None))
        }
        PostActionFields::UnexpectedError(e) => {
            Err(mutation_error("UnexpectedError", e.message, None))
        }
        PostActionFields::RestProxyError(e) => {
            Err(mutation_error("RestProxyError", e.message, e.code))
        }
        PostActionFields::Unknown => Err(unknown_member(raw)),
    }
}

/// The error for a `MutationError` member of a payload union, by its type name.
pub(super) fn mutation_error(typename: &str, message: String, code: Option<i64>) -> Error {
    match typename {
        "InvalidInputError" => Error::invalid_input(message),
        "LimitReachedError" => Error::LimitReached {
            message,
            legacy_code: None,
        },
        "NotFoundError" => Error::NotFound {
            message,
            legacy_code: None,
        },
        "UnauthorizedError" => Error::Unauthorized {
            message,
            legacy_code: None,
        },
        // The REST proxy keeps the classic code, so `1025` and `1027` stay matchable.
        "RestProxyError" => match code.and_then(|c| u16::try_from(c).ok()) {
            Some(code) => Error::from_legacy_code(code, Some(message)),
            None => Error::Unexpected {
                message,
                legacy_code: None,
            },
        },
        // deletePost reports a missing post through its only error type.
        "VoidMutationError" if message.to_ascii_lowercase().contains("not found") => {
            Error::NotFound {
                message,
                legacy_code: None,
            }
        }
        "UnexpectedError" | "VoidMutationError" => Error::Unexpected {
            message,
            legacy_code: None,
        },
        other => Error::Unexpected {
            message: format!("{other}: {message}"),
            legacy_code: None,
        },
    }
}

/// The error for a union member this version does not know, read from the raw JSON.
pub(super) fn unknown_member(raw: &Value) -> Error {
    let typename = raw
        .get("__typename")
        .and_then(Value::as_str)
        .unwrap_or("a type without __typename");
    let message = raw.get("message").and_then(Value::as_str).map_or_else(
        || {
            format!(
                "Buffer answered with {typename}, which this version of buffer-bridge does not know; \
                 upgrade buffer-bridge"
            )
        },
        str::to_owned,
    );
    let code = raw.get("code").and_then(Value::as_i64);
    match typename {
        "InvalidInputError" | "LimitReachedError" | "NotFoundError" | "UnauthorizedError"
        | "RestProxyError" => mutation_error(typename, message, code),
        _ => Error::Unexpected {
            message: format!("{typename}: {message}"),
            legacy_code: code.and_then(|c| u16::try_from(c).ok()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn members_map_to_kinds_and_the_proxy_keeps_its_code() {
        // Messages as recorded from Buffer (graphql.md §4.1).
        let cases = [
            (
                "InvalidInputError",
                "Text is required",
                ErrorKind::InvalidInput,
            ),
            ("NotFoundError", "Channel not found", ErrorKind::NotFound),
            (
                "LimitReachedError",
                "Queue limit reached",
                ErrorKind::LimitReached,
            ),
            (
                "UnauthorizedError",
                "Not authorized",
                ErrorKind::Unauthorized,
            ),
            ("UnexpectedError", "boom", ErrorKind::Unexpected),
            ("VoidMutationError", "Post not found", ErrorKind::NotFound),
            (
                "VoidMutationError",
                "could not delete",
                ErrorKind::Unexpected,
            ),
        ];
        for (typename, message, kind) in cases {
            assert_eq!(
                mutation_error(typename, message.into(), None).kind(),
                kind,
                "{typename}"
            );
        }
        let proxied = mutation_error("RestProxyError", "duplicate".into(), Some(1025));
        assert!(proxied.is_duplicate());
        assert_eq!(proxied.kind(), ErrorKind::InvalidInput);
        let codeless = mutation_error("RestProxyError", "x".into(), None);
        assert_eq!(codeless.kind(), ErrorKind::Unexpected);
    }

    #[test]
    fn an_unknown_member_is_named_in_the_error() {
        let error = unknown_member(&serde_json::json!({"__typename": "QuotaError"}));
        assert_eq!(error.kind(), ErrorKind::Unexpected);
        assert!(error.to_string().contains("QuotaError"), "{error}");
        let with_message =
            unknown_member(&serde_json::json!({"__typename": "QuotaError", "message": "full"}));
        assert!(with_message.to_string().contains("full"));
    }
}
