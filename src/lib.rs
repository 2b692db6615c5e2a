//! # buffer-bridge
//!
//! One [`Backend`] trait over Buffer's two APIs, so an application can move from the classic
//! REST API (`api.bufferapp.com/1`, retiring on 2027-02-01) to the GraphQL API
//! (`api.buffer.com`) one call at a time.
//!
//! # Start here
//!
//! 1. Build a backend: [`ClassicRest`](rest::ClassicRest) for what you have today,
//!    [`GraphQl`](graphql::GraphQl) for where you are going, or either from configuration
//!    ([`config::BackendConfig`], which also adds retries and pacing).
//! 2. Call it through [`BackendExt`]'s typed methods; each says what differs between the APIs.
//! 3. Before switching, run [`NewPost::check`](model::NewPost::check) (or `buffer-bridge compare
//!    --writes --sim`) to see what GraphQL would refuse, compare both APIs on live reads with a
//!    [`shadow`], and move one operation at a time with a [`router`].
//! 4. Read [MIGRATION.md](https://github.com/buffer-bridge/buffer-bridge/blob/main/MIGRATION.md)
//!    for the call-by-call mapping and every known difference.
//!
//! Everything runs without a network against `buffer-sim`, a simulator of Buffer speaking both
//! APIs (add it to your `[dev-dependencies]`; `cargo run -p buffer-sim` serves it), and the
//! `buffer-bridge` command (the `cli/` crate) compares, checks and inspects from a shell.
//!
//! ```
//! use buffer_bridge::graphql::GraphQl;
//! use buffer_bridge::model::{NewPost, PostList, PostQuery};
//! use buffer_bridge::pacing::Paced;
//! use buffer_bridge::retry::Retrying;
//! use buffer_bridge::BackendExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> buffer_bridge::Result<()> {
//! let sim = buffer_sim::Simulator::start().await; // in production: Buffer itself
//! let graphql = GraphQl::builder()
//!     .api_key(sim.api_key())
//!     .base_url(sim.graphql_url())
//!     .build()?;
//! // Retries that never post twice, inside the rate limit.
//! let buffer = Retrying::new(Paced::new(graphql));
//!
//! let channels = buffer.channels().await?;
//! let post = NewPost::new("Hello from buffer-bridge").channel(channels[0].id.clone());
//! let outcome = buffer.create_post(&post).await?;
//! for (channel, error) in outcome.failures() {
//!     eprintln!("{channel}: not created: {error}");
//! }
//! for (channel, error) in outcome.unknowns() {
//!     // The answer was lost: ask later with `buffer.reconcile(&post.key())`.
//!     eprintln!("{channel}: unknown: {error}");
//! }
//! let queue = buffer.posts(&PostQuery::new(channels[0].id.clone(), PostList::Queue)).await?;
//! assert!(queue.items.iter().any(|queued| queued.text == "Hello from buffer-bridge"));
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! - [`model`]: what both APIs mean, in the modern vocabulary (channels, posts).
//! - [`backend`]: the [`Backend`] trait, its [`Request`]/[`Response`] pair and the typed
//!   methods of [`BackendExt`].
//! - [`rest`]: [`ClassicRest`](rest::ClassicRest), the classic API.
//! - [`graphql`]: [`GraphQl`](graphql::GraphQl), the GraphQL API.
//! - [`error`]: one [`Error`] for both APIs, keeping classic error codes.
//! - [`shadow`]: side-by-side runs that answer from one backend and compare another.
//! - [`router`]: one backend per operation, to migrate one call at a time.
//! - [`access`]: per-agent grants over any backend, and an audit log in plain words.
//! - [`journal`]: idempotency keys and the outcome journal that makes writes happen once.
//! - [`retry`]: [`Retrying`](retry::Retrying), retries that never post twice.
//! - [`pacing`]: [`Paced`](pacing::Paced), requests kept inside Buffer's rate limits.
//! - [`config`]: build any of these from a TOML file or `BUFFER_*` variables.
//! - [`preflight`]: every problem a post would meet on each backend, before any request.
//! - [`publish`]: a plan file of posts run as a job: checked, paced, resumable, exactly once.
//! - [`auth`]: OAuth (PKCE, rotating refresh tokens), token providers and stores, and moving
//!   each user from the classic API to GraphQL.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod access;
pub mod auth;
pub mod backend;
pub mod config;
pub mod error;
#[cfg(feature = "redis")]
pub mod fleet;
pub mod graphql;
pub mod http;
pub mod journal;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod model;
pub mod pacing;
pub mod preflight;
pub mod publish;
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
