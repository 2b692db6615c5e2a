//! A stateful fake Buffer for tests, examples and users' own test suites.
//!
//! One in-memory store of accounts, organizations, channels and posts is served on one
//! address both as Buffer's classic REST API (under `/1/`) and as its GraphQL API (at `/` and
//! `/graphql`), so a post created through one API is read back through the other. GraphQL
//! documents are validated against Buffer's schema ([`SCHEMA_SDL`]) and executed by a real
//! engine; the classic API answers with its recorded shapes and numeric error codes.
//!
//! ```no_run
//! # async fn demo() {
//! let sim = buffer_sim::Simulator::start().await;
//! println!("REST at {} with token {}", sim.rest_url(), sim.access_token());
//! println!("GraphQL at {} with key {}", sim.graphql_url(), sim.api_key());
//! # }
//! ```
#![deny(missing_docs)]

mod clock;
#[cfg(test)]
mod cost;
mod demo;
mod faults;
mod graphql;
mod limits;
mod listen;
mod log;
mod model;
mod network_rules;
mod oauth;
mod paging;
mod reply;
mod rest;
mod rng;
mod schedule;
mod server;
mod store;

pub use clock::SimClock;
pub use demo::Demo;
pub use faults::{Fault, FaultRule, Faults, NullScope, Target};
pub use graphql::SCHEMA_SDL;
pub use limits::RateLimits;
pub use log::{Api, REQUEST_LOG_CAPACITY, RequestEntry, RequestTotals};
pub use model::{
    Account, Asset, AssetKind, Channel, Day, DaySchedule, Idea, Organization, Post, PostStatus,
    Service, ShareMode,
};
pub use oauth::{ACCESS_TOKEN_LIFETIME_SECS, OAuthClient, OAuthServer, OAuthStats, SCOPES};
pub use schedule::weekly;
pub use server::{
    DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_TIMEOUT, Simulator,
    SimulatorBuilder,
};
pub use store::{ChannelSpec, NewPost, SimError, Store, StoreConfig, When};
