//! The simulator's clock: real time by default, faster or frozen when a test asks.
//!
//! Everything that depends on time (queue slots, publishing, rate-limit windows, duplicate
//! windows) reads this clock, so a test can move a day forward in a microsecond instead of
//! sleeping.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

/// A shared, adjustable clock. Clones share one time line.
#[derive(Clone, Debug)]
pub struct SimClock {
    inner: Arc<Mutex<ClockState>>,
}

#[derive(Debug)]
struct ClockState {
    /// Simulated time at `real_origin`.
    sim_origin: DateTime<Utc>,
    real_origin: Instant,
    /// Simulated seconds per real second (0 freezes the clock).
    scale: f64,
}

impl ClockState {
    fn now(&self) -> DateTime<Utc> {
        let real = self.real_origin.elapsed().as_secs_f64() * self.scale;
        let millis = (real * 1000.0) as i64;
        self.sim_origin + TimeDelta::milliseconds(millis)
    }
}

impl SimClock {
    /// A clock that starts at `start` and runs `scale` times faster than real time.
    pub fn new(start: DateTime<Utc>, scale: f64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(ClockState {
                sim_origin: start,
                real_origin: Instant::now(),
                scale: scale.max(0.0),
            })),
        }
    }

    /// The current simulated time, to the millisecond.
    pub fn now(&self) -> DateTime<Utc> {
        let now = self.lock().now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }

    /// Moves simulated time forward by `by` at once.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        state.sim_origin += TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
    }

    /// Jumps to `at` (forward or back) and keeps running at the current scale.
    pub fn set(&self, at: DateTime<Utc>) {
        let mut state = self.lock();
        state.sim_origin = at;
        state.real_origin = Instant::now();
    }

    /// Changes how many simulated seconds pass per real second; 0 freezes the clock.
    pub fn set_scale(&self, scale: f64) {
        let mut state = self.lock();
        state.sim_origin = state.now();
        state.real_origin = Instant::now();
        state.scale = scale.max(0.0);
    }

    /// Simulated seconds per real second.
    pub fn scale(&self) -> f64 {
        self.lock().scale
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
