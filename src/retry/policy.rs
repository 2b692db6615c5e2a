//! The retry decision: one pure function of the error, the attempt, whether the request
//! writes, and a jitter draw, so every case is a unit test with no clock and no server.

use crate::Error;
use std::time::Duration;

/// What a failed attempt says about trying again, read from its [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Refused for now (HTTP 429): nothing was done, and the server may have said how long to
    /// wait (`Retry-After`, or the reset of the exhausted window).
    RateLimited {
        /// The server's wait, in the server's seconds.
        wait: Option<Duration>,
    },
    /// A server failure, a timeout, a dropped connection or a body that broke off: the same
    /// request may succeed later, and a write may already have been done.
    Transient,
    /// A refusal that will not change by asking again (bad input, not found, unauthorized,
    /// unsupported, a limit reached).
    Permanent,
}

impl Failure {
    /// Classifies an error.
    pub fn of(error: &Error) -> Self {
        match error {
            Error::RateLimited { retry_after, .. } => Self::RateLimited { wait: *retry_after },
            other if other.is_transient() => Self::Transient,
            _ => Self::Permanent,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send the same request again after this long: it is safe, because the request only
    /// reads or because the server refused it without doing anything.
    Retry(Duration),
    /// The request writes and may have been done: after this long, find out what Buffer did
    /// and send again only what is missing. Never resend such a write blindly.
    Reconcile(Duration),
    /// Return the error.
    GiveUp,
}

/// How many times and how patiently to retry.
///
/// ```
/// use buffer_bridge::retry::{Decision, RetryPolicy};
/// use buffer_bridge::Error;
/// use std::time::Duration;
///
/// let policy = RetryPolicy::default().max_wait(Duration::from_secs(60));
/// let limited = Error::rate_limited(Some(Duration::from_secs(30)), "slow down");
/// assert_eq!(policy.decide(&limited, 1, false, 0.5), Decision::Retry(Duration::from_secs(30)));
/// let long = Error::rate_limited(Some(Duration::from_secs(900)), "slow down");
/// assert_eq!(policy.decide(&long, 1, true, 0.5), Decision::GiveUp);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_backoff: Duration,
    max_backoff: Duration,
    max_wait: Duration,
    time_scale: f64,
}

impl Default for RetryPolicy {
    /// Four attempts, backoff from 250 ms doubling up to 8 s, rate-limit waits up to a minute.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_wait: Duration::from_secs(60),
            time_scale: 1.0,
        }
    }
}

impl RetryPolicy {
    /// The most attempts per request, the first included (at least 1; 1 never retries).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff before the first retry, and the most it grows to by doubling.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_backoff = base;
        self.max_backoff = max.max(base);
        self
    }

    /// The longest rate-limit wait worth sitting through; a longer one is returned as
    /// [`Error::RateLimited`] with its wait, for the caller to schedule.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// How many of the server's seconds pass in one real second: 1 for Buffer, more for a
    /// simulator whose clock runs fast. Waits the server announces are divided by it.
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        self
    }

    /// The configured number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// A wait announced by the server, in real time.
    pub fn server_wait(&self, wait: Duration) -> Duration {
        // Saturates where `div_f64` would panic: the wait comes from the server.
        Duration::try_from_secs_f64(wait.as_secs_f64() / self.time_scale).unwrap_or(Duration::MAX)
    }

    /// What to do after attempt `attempt` (from 1) failed with `error`. `idempotent` is
    /// whether the request only reads ([`Request::writes`](crate::Request::writes) is
    /// false); `jitter` is a draw from `0.0..1.0` that spreads clients' retries apart.
    pub fn decide(&self, error: &Error, attempt: u32, idempotent: bool, jitter: f64) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        match Failure::of(error) {
            Failure::Permanent => Decision::GiveUp,
            Failure::RateLimited { wait: Some(wait) } => {
                let wait = self.server_wait(wait);
                if wait > self.max_wait {
                    Decision::GiveUp
                } else {
                    Decision::Retry(wait)
                }
            }
            Failure::RateLimited { wait: None } => {
                Decision::Retry(self.backoff_for(attempt, jitter))
            }
            Failure::Transient if idempotent => Decision::Retry(self.backoff_for(attempt, jitter)),
            Failure::Transient => Decision::Reconcile(self.backoff_for(attempt, jitter)),
        }
    }

    /// Capped exponential backoff with "equal jitter": half the step is fixed, so retries never
    /// hammer, and half is random, so many clients do not retry in step.
    fn backoff_for(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let step = self
            .base_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        step / 2 + (step / 2).mul_f64(jitter)
    }
}

/// A tiny seeded generator (xorshift64*) for jitter: deterministic in tests, and no extra
/// dependency for a number that only needs to differ between clients.
#[derive(Clone, Debug)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn seeded(seed: u64) -> Self {
        // SplitMix64 of the seed, so nearby seeds start far apart and 0 is not stuck at 0.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }

    /// A seed that differs between processes and moments, for production use.
    pub(crate) fn from_clock() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        Self::seeded(nanos ^ u64::from(std::process::id()))
    }

    /// A draw from `0.0..1.0`.
    pub(crate) fn next(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    fn limited(wait: Option<Duration>) -> Error {
        Error::RateLimited {
            retry_after: wait,
            message: "too many".into(),
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
            .max_attempts(5)
            .backoff(ms(100), secs(1))
            .max_wait(secs(60))
    }

    #[test]
    fn reads_retry_server_failures_timeouts_and_drops_with_growing_backoff() {
        let policy = policy();
        let transient = [
            Error::from_status(503, None),
            Error::Timeout { after: None },
            Error::Transport {
                message: "connection reset".into(),
                source: None,
            },
            Error::protocol(Some(200), "cut short", "{\"da"),
            Error::from_legacy_code(1000, None),
        ];
        for error in &transient {
            // No jitter: exactly half of each step; steps 100, 200, 400, 800, then capped.
            let waits: Vec<Decision> = (1..5).map(|n| policy.decide(error, n, true, 0.0)).collect();
            assert_eq!(
                waits,
                [
                    Decision::Retry(ms(50)),
                    Decision::Retry(ms(100)),
                    Decision::Retry(ms(200)),
                    Decision::Retry(ms(400))
                ],
                "{error}"
            );
            assert_eq!(policy.decide(error, 5, true, 0.0), Decision::GiveUp);
        }
        assert_eq!(
            RetryPolicy::default()
                .backoff(ms(100), secs(1))
                .max_attempts(20)
                .decide(&transient[0], 12, true, 1.0),
            Decision::Retry(secs(1)),
            "the step is capped and full jitter reaches the cap"
        );
    }

    #[test]
    fn writes_that_may_have_happened_are_reconciled_never_resent_blindly() {
        let policy = policy();
        for error in [
            Error::from_status(502, None),
            Error::Timeout { after: None },
            Error::Transport {
                message: "closed".into(),
                source: None,
            },
        ] {
            assert_eq!(
                policy.decide(&error, 1, false, 0.0),
                Decision::Reconcile(ms(50))
            );
        }
    }

    #[test]
    fn refusals_are_final_for_reads_and_writes() {
        let policy = policy();
        for error in [
            Error::from_legacy_code(1025, None),
            Error::from_legacy_code(1023, None),
            Error::from_status(401, None),
            Error::from_status(404, None),
            Error::protocol(Some(400), "html", "<html>"),
            Error::invalid_input("bad"),
        ] {
            for idempotent in [true, false] {
                assert_eq!(
                    policy.decide(&error, 1, idempotent, 0.3),
                    Decision::GiveUp,
                    "{error}"
                );
            }
        }
    }

    #[test]
    fn rate_limits_wait_as_told_up_to_the_maximum_even_for_writes() {
        let policy = policy();
        assert_eq!(
            policy.decide(&limited(Some(secs(30))), 1, false, 0.9),
            Decision::Retry(secs(30))
        );
        assert_eq!(
            policy.decide(&limited(Some(secs(61))), 1, true, 0.9),
            Decision::GiveUp
        );
        assert_eq!(
            policy.decide(&limited(None), 2, false, 0.0),
            Decision::Retry(ms(100))
        );
        let fast = policy.clone().time_scale(100.0);
        assert_eq!(
            fast.decide(&limited(Some(secs(900))), 1, true, 0.0),
            Decision::Retry(secs(9)),
            "a simulator's fast clock shortens its waits"
        );
        let slow = policy.clone().time_scale(0.5);
        assert_eq!(
            slow.decide(&limited(Some(Duration::MAX)), 1, true, 0.0),
            Decision::GiveUp,
            "an absurd wait from the server is too long, not an overflow"
        );
        assert_eq!(
            policy.decide(&limited(Some(secs(1))), 5, true, 0.0),
            Decision::GiveUp
        );
    }

    #[test]
    fn one_attempt_never_retries() {
        let once = RetryPolicy::default().max_attempts(0);
        assert_eq!(once.attempts(), 1);
        assert_eq!(
            once.decide(&Error::Timeout { after: None }, 1, true, 0.0),
            Decision::GiveUp
        );
    }

    #[test]
    fn jitter_is_seeded_and_in_range() {
        let draws: Vec<f64> = {
            let mut jitter = Jitter::seeded(7);
            (0..1000).map(|_| jitter.next()).collect()
        };
        let again: Vec<f64> = {
            let mut jitter = Jitter::seeded(7);
            (0..1000).map(|_| jitter.next()).collect()
        };
        assert_eq!(draws, again);
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((0.4..0.6).contains(&mean), "{mean}");
        assert_ne!(Jitter::seeded(0).next(), Jitter::seeded(1).next());
    }
}
