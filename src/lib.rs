//! # buffer-bridge
//!
//! One [`Backend`] trait over Buffer's two APIs, so an application can move from the classic
//! REST API (`api.bufferapp.com/1`, retiring on 2027-02-01) to the GraphQL API
//! (`api.buffer.com`) one call at a time.
//!
//! - [`model`]: what both APIs mean, in the modern vocabulary (channels, posts).
//! - [`backend`]: the [`Backend`] trait, its [`Request`]/[`Response`] pair and the typed
//!   methods of [`BackendExt`].
//! - [`rest`]: [`ClassicRest`](rest::ClassicRest), the classic API.
//! - [`graphql`]: [`GraphQl`](graphql::GraphQl), the GraphQL API.
//! - [`error`]: one [`Error`] for both APIs, keeping classic error codes.
//! - [`shadow`]: side-by-side runs that answer from one backend and compare another.
//! - [`router`]: one backend per operation, to migrate one call at a time.
//! - [`journal`]: idempotency keys and the outcome journal that makes writes happen once.
//! - [`retry`]: [`Retrying`](retry::Retrying), retries that never post twice.
//! - [`pacing`]: [`Paced`](pacing::Paced), requests kept inside Buffer's rate limits.
//! - [`config`]: build any of these from a TOML file or `BUFFER_*` variables.
//! - [`preflight`]: every problem a post would meet on each backend, before any request.
//!
//! ```no_run
//! use buffer_bridge::{Backend, BackendExt, model::{NewPost, PostList, PostQuery}, rest::ClassicRest};
//! use std::sync::Arc;
//!
//! # async fn run() -> buffer_bridge::Result<()> {
//! let backend: Arc<dyn Backend> = Arc::new(ClassicRest::builder().access_token("…").build()?);
//! let channels = backend.channels().await?;
//! let outcome = backend
//!     .create_post(&NewPost::new("Hello from buffer-bridge").channels(channels.iter().map(|c| c.id.clone())))
//!     .await?;
//! for (channel, error) in outcome.failures() {
//!     eprintln!("{channel}: {error}");
//! }
//! let queue = backend.posts(&PostQuery::new(channels[0].id.clone(), PostList::Queue)).await?;
//! println!("{} queued", queue.total.unwrap_or(0));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod backend;
pub mod config;
pub mod error;
pub mod graphql;
pub mod http;
pub mod journal;
pub mod model;
pub mod pacing;
pub mod preflight;
pub mod rest;
pub mod retry;
pub mod router;
pub mod shadow;

pub use backend::{
    Backend, BackendExt, BackendKind, Capabilities, Operation, Pager, Request, Response,
};
pub use error::{Error, ErrorKind, Result};

/// The README's example, compiled with the doc tests so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
