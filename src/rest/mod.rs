//! [`ClassicRest`]: the classic REST API, `https://api.bufferapp.com/1/`.

use crate::Result;
use crate::backend::{Backend, BackendKind, Request, Response};
use crate::http::{Credential, HttpSettings};
use async_trait::async_trait;
use std::time::Duration;
use url::Url;

/// The classic API's address.
pub const DEFAULT_BASE_URL: &str = "https://api.bufferapp.com/1/";

/// A [`Backend`] for Buffer's classic REST API.
#[derive(Debug, Clone)]
pub struct ClassicRest {
    #[allow(dead_code)]
    client: reqwest::Client,
    #[allow(dead_code)]
    base_url: Url,
    #[allow(dead_code)]
    credential: Credential,
}

/// Builds a [`ClassicRest`].
#[derive(Debug, Clone, Default)]
pub struct ClassicRestBuilder {
    credential: Option<Credential>,
    base_url: Option<String>,
    http: HttpSettings,
}

impl ClassicRest {
    /// A builder; only the access token is required.
    pub fn builder() -> ClassicRestBuilder {
        ClassicRestBuilder::default()
    }
}

impl ClassicRestBuilder {
    /// The OAuth access token.
    pub fn access_token(mut self, token: impl Into<Credential>) -> Self {
        self.credential = Some(token.into());
        self
    }

    /// Where the API is (default [`DEFAULT_BASE_URL`]); `http` is allowed on loopback only.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The longest a request may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.http.user_agent = user_agent.into();
        self
    }

    /// Builds the backend.
    pub fn build(self) -> Result<ClassicRest> {
        let credential = self.credential.ok_or_else(|| {
            crate::Error::invalid_input("no access token: call access_token() on the builder")
        })?;
        let base_url = crate::http::base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let client = self.http.client(&credential)?;
        Ok(ClassicRest {
            client,
            base_url,
            credential,
        })
    }
}

#[async_trait]
impl Backend for ClassicRest {
    fn kind(&self) -> BackendKind {
        BackendKind::ClassicRest
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        self.capabilities().check(request.operation())?;
        Err(crate::Error::Unexpected {
            message: format!("{} is not implemented yet", request.operation()),
            legacy_code: None,
        })
    }
}
