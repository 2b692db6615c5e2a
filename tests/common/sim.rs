//! Shared pieces of the tests that run on the simulator: one in-process fake Buffer on
//! `127.0.0.1:0` and both backends pointed at it, so the same account is seen through each API.
#![allow(dead_code)] // each test file uses a different part

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::{Backend, BackendKind};
use buffer_sim::{Simulator, SimulatorBuilder};
use std::time::Duration;

/// How long a request to the loopback simulator may take before the test fails instead of
/// hanging.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A simulator and a client of each API on it.
pub struct Both {
    /// The fake Buffer both backends talk to.
    pub sim: Simulator,
    /// The classic REST backend, with the simulator's access token.
    pub rest: ClassicRest,
    /// The GraphQL backend, with the simulator's API key.
    pub graphql: GraphQl,
}

impl Both {
    /// The seeded demo account, with time standing still so queue slots do not move under a
    /// test.
    pub async fn start() -> Self {
        Self::from(Simulator::builder().clock_scale(0.0)).await
    }

    /// A simulator built from `builder`.
    pub async fn from(builder: SimulatorBuilder) -> Self {
        let sim = builder.start().await;
        let rest = rest(&sim);
        let graphql = graphql(&sim);
        Self { sim, rest, graphql }
    }

    /// The backend of `kind`.
    pub fn backend(&self, kind: BackendKind) -> &dyn Backend {
        match kind {
            BackendKind::ClassicRest => &self.rest,
            BackendKind::GraphQl => &self.graphql,
        }
    }

    /// Both backends, classic first.
    pub fn each(&self) -> [(BackendKind, &dyn Backend); 2] {
        BackendKind::ALL.map(|kind| (kind, self.backend(kind)))
    }
}

/// A classic backend on `sim`.
pub fn rest(sim: &Simulator) -> ClassicRest {
    ClassicRest::builder()
        .access_token(sim.access_token())
        .base_url(sim.rest_url())
        .timeout(TIMEOUT)
        .build()
        .expect("a loopback classic backend builds")
}

/// A GraphQL backend on `sim`.
pub fn graphql(sim: &Simulator) -> GraphQl {
    GraphQl::builder()
        .api_key(sim.api_key())
        .base_url(sim.graphql_url())
        .timeout(TIMEOUT)
        .build()
        .expect("a loopback GraphQL backend builds")
}
