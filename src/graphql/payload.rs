//! Typed mutation errors: the members of Buffer's payload unions, mapped to [`Error`] kinds.
//!
//! Every mutation document selects `__typename` and each error member of its union with its
//! fields (graphql_client cannot spread the `MutationError` interface inside a union). A member
//! Buffer adds later decodes to the generated `Unknown` variant; [`unknown_member`] still turns
//! it into a typed error, naming the type and keeping a message if the raw JSON has one.

use super::operations::create_post::PostActionFields;
use super::wire::Reply;
use crate::model::Post;
use crate::rest::wire::lenient;
use crate::{Error, ErrorKind, Result};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// A `PostActionPayload` (createPost, editPost): the post, or the typed error.
///
/// Both mutations select the same `PostActionFields` fragment, so both decode with the type
/// generated for `createPost`.
pub(super) fn post_action(reply: &Reply, raw: &RawValue) -> Result<Post> {
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

/// The error for a `MutationError` member of a payload union, by its type name, which the
/// error keeps as its [`graphql_code`](Error::graphql_code).
///
/// A `RestProxyError` keeps its classic code, so `1025` and `1027` stay matchable. A
/// `VoidMutationError` (the only error member of `deletePost` and `movePostInQueue`) says
/// nothing typed; callers that can tell more from a read of the post do so.
pub(super) fn mutation_error(typename: &str, message: String, code: Option<i64>) -> Error {
    let kind = match typename {
        "InvalidInputError" => ErrorKind::InvalidInput,
        "LimitReachedError" => ErrorKind::LimitReached,
        "NotFoundError" => ErrorKind::NotFound,
        "UnauthorizedError" => ErrorKind::Unauthorized,
        "RestProxyError" => match code.and_then(|c| u16::try_from(c).ok()) {
            Some(code) => {
                return Error::from_legacy_code(code, Some(message))
                    .with_graphql_code(typename.to_owned());
            }
            None => ErrorKind::Unexpected,
        },
        _ => ErrorKind::Unexpected,
    };
    Error::from_graphql(kind, typename, message)
}

/// The error for a union member this version does not know, read from the raw JSON.
pub(super) fn unknown_member(raw: &RawValue) -> Error {
    /// What is read of a member: scalars only, anything else skipped unbuilt.
    #[derive(Default, Deserialize)]
    struct Member {
        #[serde(rename = "__typename", default, deserialize_with = "lenient::scalar")]
        typename: Value,
        #[serde(default, deserialize_with = "lenient::scalar")]
        message: Value,
        #[serde(default, deserialize_with = "lenient::scalar")]
        code: Value,
    }
    let member: Member = serde_json::from_str(raw.get()).unwrap_or_default();
    let typename = member
        .typename
        .as_str()
        .unwrap_or("a type without __typename");
    let message = member.message.as_str().map_or_else(
        || {
            format!(
                "Buffer answered with {typename}, which this version of buffer-bridge does not know; \
                 upgrade buffer-bridge"
            )
        },
        str::to_owned,
    );
    let code = member.code.as_i64();
    match typename {
        "InvalidInputError" | "LimitReachedError" | "NotFoundError" | "UnauthorizedError"
        | "RestProxyError" => mutation_error(typename, message, code),
        _ => {
            let legacy_code = code.and_then(|c| u16::try_from(c).ok());
            Error::of_kind(ErrorKind::Unexpected, message, legacy_code)
                .with_graphql_code(typename.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_map_to_kinds_by_type_and_keep_the_type() {
        use crate::error::{InvalidReason, Origin};
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
            // Not found by its words: only a read of the post tells (see `writes`).
            ("VoidMutationError", "Post not found", ErrorKind::Unexpected),
        ];
        for (typename, message, kind) in cases {
            let error = mutation_error(typename, message.into(), None);
            assert_eq!(error.kind(), kind, "{typename}");
            assert_eq!(error.graphql_code(), Some(typename));
            assert_eq!(
                error.message(),
                message,
                "the type is not folded into the text"
            );
        }
        let refused = mutation_error("InvalidInputError", "Text is required".into(), None);
        assert_eq!(refused.reason(), Some(InvalidReason::EmptyPost));
        assert_eq!(refused.origin(), Some(Origin::Buffer));
        let proxied = mutation_error("RestProxyError", "duplicate".into(), Some(1025));
        assert!(proxied.is_duplicate());
        assert_eq!(proxied.kind(), ErrorKind::InvalidInput);
        assert_eq!(proxied.legacy_code(), Some(1025));
        assert_eq!(proxied.graphql_code(), Some("RestProxyError"));
        let codeless = mutation_error("RestProxyError", "x".into(), None);
        assert_eq!(codeless.kind(), ErrorKind::Unexpected);
    }

    #[test]
    fn an_unknown_member_is_named_in_the_error() {
        let error = unknown_member(
            &serde_json::value::to_raw_value(&serde_json::json!({"__typename": "QuotaError"}))
                .unwrap(),
        );
        assert_eq!(error.kind(), ErrorKind::Unexpected);
        assert!(error.to_string().contains("QuotaError"), "{error}");
        let with_message = unknown_member(
            &serde_json::value::to_raw_value(
                &serde_json::json!({"__typename": "QuotaError", "message": "full", "code": 1099}),
            )
            .unwrap(),
        );
        assert!(with_message.to_string().contains("full"));
        assert_eq!(with_message.message(), "full");
        assert_eq!(with_message.graphql_code(), Some("QuotaError"));
        assert_eq!(with_message.legacy_code(), Some(1099));
    }
}
