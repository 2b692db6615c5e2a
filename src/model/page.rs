//! Pages of results, and how to ask for the next one on either API.
//!
//! The classic API pages by offset (`page`, `count`); GraphQL by opaque cursor (`first`,
//! `after`). A [`PageRequest`] can be either, on either backend. A [`PageToken`] continues a
//! listing: it carries the offset it stands for, so a token from one backend still works on the
//! other, and the query it belongs to, so it can never read another query's items.

use crate::backend::BackendKind;
use crate::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The largest page both APIs serve.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The page size when none is given (the GraphQL guides suggest 20–50).
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items the whole listing has, when the API says (classic does, GraphQL does not).
    pub total: Option<u64>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageToken>,
}

impl<T> Page<T> {
    /// A page of items.
    pub fn new(items: Vec<T>, total: Option<u64>, next: Option<PageToken>) -> Self {
        Self { items, total, next }
    }
}

/// Which page to read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageRequest {
    /// Page `page` (from 1) of `count` items, as classic callers ask.
    Offset {
        /// The page number, from 1.
        page: u32,
        /// Items per page, 1 to 100.
        count: u32,
    },
    /// The page after a token from a previous page.
    After {
        /// The previous page's [`Page::next`].
        token: PageToken,
        /// Items per page, 1 to 100.
        size: u32,
    },
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::first(DEFAULT_PAGE_SIZE)
    }
}

impl PageRequest {
    /// The first page of `count` items.
    pub fn first(count: u32) -> Self {
        Self::Offset { page: 1, count }
    }

    /// Page `page` (from 1) of `count` items.
    pub fn offset(page: u32, count: u32) -> Self {
        Self::Offset { page, count }
    }

    /// The page after `token`, of `size` items.
    pub fn after(token: PageToken, size: u32) -> Self {
        Self::After { token, size }
    }

    /// Items per page.
    pub fn size(&self) -> u32 {
        match self {
            Self::Offset { count, .. } => *count,
            Self::After { size, .. } => *size,
        }
    }

    /// How many items come before this page.
    pub fn start(&self) -> u64 {
        match self {
            Self::Offset { page, count } => u64::from(page.saturating_sub(1)) * u64::from(*count),
            Self::After { token, .. } => token.offset(),
        }
    }

    /// Refuses what neither API would accept (sizes outside 1..=100, page 0) before any request
    /// is sent.
    pub fn validate(&self) -> Result<()> {
        let size = self.size();
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(Error::invalid_input(format!(
                "page size must be between 1 and {MAX_PAGE_SIZE}, got {size}"
            )));
        }
        if let Self::Offset { page: 0, .. } = self {
            return Err(Error::invalid_input(
                "pages are numbered from 1, got page 0",
            ));
        }
        Ok(())
    }
}

/// Where a listing continues: opaque to users, printable and parseable so it can be stored.
///
/// A token names the backend that made it, a fingerprint of the query it belongs to, the offset
/// of the next item, and (GraphQL) the cursor of the previous one. The backend that made it
/// resumes from the cursor; the other backend resumes from the offset; a token for another query
/// is refused with [`Error::InvalidInput`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageToken {
    backend: BackendKind,
    scope: u64,
    offset: u64,
    cursor: Option<String>,
}

const TOKEN_PREFIX: &str = "bb1";

impl PageToken {
    /// A token for the listing identified by `scope`, resuming at item `offset` (from 0), and,
    /// for cursor-paged APIs, after `cursor`.
    pub fn new(backend: BackendKind, scope: &str, offset: u64, cursor: Option<String>) -> Self {
        Self {
            backend,
            scope: fingerprint(scope),
            offset,
            cursor,
        }
    }

    /// The backend that made the token.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// How many items come before the page this token starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The cursor to pass as `after`, when the token came from a cursor-paged backend.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Checks that the token belongs to the listing identified by `scope`.
    pub fn check_scope(&self, scope: &str) -> Result<()> {
        if self.scope == fingerprint(scope) {
            Ok(())
        } else {
            Err(Error::invalid_input(
                "this page token belongs to another query; start the listing again from its first page",
            ))
        }
    }
}

impl fmt::Display for PageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TOKEN_PREFIX}.{}.{:016x}.{}",
            self.backend.as_str(),
            self.scope,
            self.offset
        )?;
        if let Some(cursor) = &self.cursor {
            write!(f, ".{cursor}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for PageToken {
    type Err = Error;

    fn from_str(token: &str) -> Result<Self> {
        let malformed = || {
            Error::invalid_input(
                "this is not a buffer-bridge page token; pass the `next` token of a page unchanged",
            )
        };
        let mut parts = token.splitn(5, '.');
        if parts.next() != Some(TOKEN_PREFIX) {
            return Err(malformed());
        }
        let backend = parts
            .next()
            .and_then(BackendKind::parse)
            .ok_or_else(malformed)?;
        let scope = parts
            .next()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(malformed)?;
        let offset = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(malformed)?;
        let cursor = parts.next().map(str::to_owned);
        Ok(Self {
            backend,
            scope,
            offset,
            cursor,
        })
    }
}

impl Serialize for PageToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PageToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// FNV-1a: stable across processes and Rust versions, so stored tokens stay valid.
fn fingerprint(scope: &str) -> u64 {
    scope.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_text_even_with_dots_in_the_cursor() {
        let token = PageToken::new(
            BackendKind::GraphQl,
            "posts/a",
            40,
            Some("YXJy.YXk=".into()),
        );
        let parsed: PageToken = token.to_string().parse().unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.cursor(), Some("YXJy.YXk="));
    }

    #[test]
    fn a_token_refuses_another_query() {
        let token = PageToken::new(BackendKind::ClassicRest, "posts/a", 20, None);
        assert!(token.check_scope("posts/a").is_ok());
        assert!(matches!(
            token.check_scope("posts/b"),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn garbage_tokens_are_a_typed_error() {
        for bad in [
            "",
            "bb1",
            "bb1.rest",
            "bb1.rest.zz.1",
            "bb2.rest.0.1",
            "bb1.soap.0.1",
        ] {
            assert!(
                matches!(bad.parse::<PageToken>(), Err(Error::InvalidInput { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn sizes_outside_the_api_bounds_are_refused() {
        assert!(PageRequest::first(0).validate().is_err());
        assert!(PageRequest::first(101).validate().is_err());
        assert!(PageRequest::offset(0, 10).validate().is_err());
        assert!(PageRequest::first(100).validate().is_ok());
        assert_eq!(PageRequest::offset(3, 20).start(), 40);
    }
}
