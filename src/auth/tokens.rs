//! What a grant gives: an access token, the refresh token that replaces it, when it expires.

use crate::http::Credential;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An access token with its expiry and scopes, and the refresh token that replaces it. Every
/// token is a [`Credential`]: `Debug` never shows it.
#[derive(Clone)]
pub struct Tokens {
    access_token: Credential,
    refresh_token: Option<Credential>,
    expires_at: Option<DateTime<Utc>>,
    scopes: Vec<String>,
}

/// The stored form; only [`Tokens::to_secret_json`] and [`Tokens::from_secret_json`] see it.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    scopes: Vec<String>,
}

impl Tokens {
    /// Tokens from their parts (for a store that keeps them its own way).
    pub fn new(
        access_token: Credential,
        refresh_token: Option<Credential>,
        expires_at: Option<DateTime<Utc>>,
        scopes: Vec<String>,
    ) -> Self {
        Self {
            access_token,
            refresh_token,
            expires_at,
            scopes,
        }
    }

    /// The access token, for `Authorization: Bearer`.
    pub fn access_token(&self) -> &Credential {
        &self.access_token
    }

    /// The refresh token, when the grant has one (`offline_access`).
    pub fn refresh_token(&self) -> Option<&Credential> {
        self.refresh_token.as_ref()
    }

    /// When the access token stops working, when the server said.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }

    /// The scopes granted.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether the access token expires before `at` (a token without an expiry never does).
    pub fn expires_before(&self, at: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expiry| expiry <= at)
    }

    /// The tokens as JSON, kept secret: what a store writes.
    pub fn to_secret_json(&self) -> SecretString {
        let stored = Stored {
            access_token: self.access_token.expose().to_owned(),
            refresh_token: self.refresh_token.as_ref().map(|r| r.expose().to_owned()),
            expires_at: self.expires_at,
            scopes: self.scopes.clone(),
        };
        SecretString::from(serde_json::to_string(&stored).unwrap_or_default())
    }

    /// Tokens read back from [`to_secret_json`](Tokens::to_secret_json). A refusal never
    /// quotes the text.
    pub fn from_secret_json(json: &SecretString) -> Result<Self> {
        let stored: Stored = serde_json::from_str(json.expose_secret()).map_err(|e| {
            Error::token_store(
                format!(
                    "stored tokens are not readable (line {}, column {})",
                    e.line(),
                    e.column()
                ),
                None,
            )
        })?;
        Ok(Self {
            access_token: Credential::new(stored.access_token),
            refresh_token: stored.refresh_token.map(Credential::new),
            expires_at: stored.expires_at,
            scopes: stored.scopes,
        })
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_survive_the_stored_form_and_never_show_in_debug() {
        let tokens = Tokens::new(
            Credential::new("access-canary-1234"),
            Some(Credential::new("refresh-canary-5678")),
            Some(DateTime::from_timestamp(2_000_000_000, 0).unwrap()),
            vec!["posts:read".into()],
        );
        let back = Tokens::from_secret_json(&tokens.to_secret_json()).unwrap();
        assert_eq!(back.access_token().expose(), "access-canary-1234");
        assert_eq!(
            back.refresh_token().unwrap().expose(),
            "refresh-canary-5678"
        );
        assert_eq!(back.expires_at(), tokens.expires_at());
        let shown = format!("{back:?}");
        assert!(!shown.contains("canary"), "{shown}");
        let broken = Tokens::from_secret_json(&SecretString::from("{\"access_token\": \"canary-x"));
        assert!(!broken.unwrap_err().to_string().contains("canary"));
    }
}
