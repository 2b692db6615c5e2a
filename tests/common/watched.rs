//! A rate budget that records every wait of the budget it wraps, for the soak tests: how many
//! requests waited for room, how many waits were refused, and how late any wait ended past its
//! call's deadline.
#![allow(dead_code)] // each test file reads a different part

use buffer_bridge::Result;
use buffer_bridge::http::rate_limit::RateLimits;
use buffer_bridge::pacing::{LocalBudget, RateBudget};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the budget saw.
#[derive(Debug, Default)]
pub struct Waits {
    /// Requests taken.
    pub taken: usize,
    /// Of those, how many waited for room (10 ms or more).
    pub waited: usize,
    /// Waits that ended in a refusal, the call's `max_wait` being too short.
    pub refused: usize,
    /// The latest any wait ended past its call's deadline.
    pub late: Duration,
}

/// A [`RateBudget`] that records every wait of the budget it wraps into `waits`.
#[derive(Debug)]
pub struct Watched {
    budget: LocalBudget,
    waits: Arc<Mutex<Waits>>,
}

impl Watched {
    /// `budget`, its waits recorded into `waits`.
    pub fn new(budget: LocalBudget, waits: Arc<Mutex<Waits>>) -> Self {
        Self { budget, waits }
    }
}

#[async_trait::async_trait]
impl RateBudget for Watched {
    async fn acquire(&self, deadline: tokio::time::Instant) -> Result<()> {
        let started = Instant::now();
        let result = self.budget.acquire(deadline).await;
        let mut waits = self.waits.lock().unwrap();
        waits.late = waits
            .late
            .max(tokio::time::Instant::now().saturating_duration_since(deadline));
        match result {
            Ok(()) => {
                waits.taken += 1;
                if started.elapsed() >= Duration::from_millis(10) {
                    waits.waited += 1;
                }
            }
            Err(_) => waits.refused += 1,
        }
        result
    }

    fn answered(&self, limits: &RateLimits, refused: bool) {
        self.budget.answered(limits, refused);
    }

    fn remaining(&self) -> Option<u64> {
        self.budget.remaining()
    }
}
