//! The client's own count of its rate-limit windows: a ledger per window of when each
//! request it sent stops counting.
//!
//! A request counts from the moment it is sent until one window length after its answer came
//! back: the server counted it somewhere in between, so it has surely stopped counting by
//! then, whether the server's windows are fixed (all reset at once) or rolling (each request
//! expires on its own). The budget is spent as fast as it lasts and then waits for the oldest
//! request to stop counting, which is the least total time without a 429. What the server
//! reports corrects the ledger: its quota replaces the configured one (larger on a higher
//! plan), requests it counted that this client did not send are added, and a 429 stops
//! everything for its wait.

use crate::Error;
use crate::http::rate_limit::RateLimits;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// The largest quota a window keeps a ledger for: each request counted is one entry, and a
/// server announcing a quota of billions must not make the client allocate billions.
/// Buffer's quotas are in the hundreds to thousands.
const MAX_LIMIT: u64 = 1_000_000;

/// `now + wait`, or far in the future (as `tokio::time::sleep` does) when a wait read from
/// the server is too long to add without overflowing.
fn after(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

/// One window of a quota: so many requests per so long.
#[derive(Clone, Debug)]
struct Window {
    /// The window's length, in real time.
    length: Duration,
    /// The window's length as the server states it, to match its headers.
    server_length: Duration,
    limit: u64,
    /// Requests sent and not yet answered.
    pending: u64,
    /// When each answered request stops counting, oldest first.
    expiries: VecDeque<Instant>,
}

impl Window {
    fn prune(&mut self, now: Instant) {
        while self.expiries.front().is_some_and(|at| *at <= now) {
            self.expiries.pop_front();
        }
    }

    fn used(&self) -> u64 {
        self.pending + self.expiries.len() as u64
    }

    /// When `cost` more requests fit, given that pending ones will count for a full window
    /// after they are answered.
    fn free_at(&self, cost: u64, now: Instant) -> Instant {
        let over = (self.used() + cost).saturating_sub(self.limit) as usize;
        match over {
            0 => now,
            n if n <= self.expiries.len() => self.expiries[n - 1],
            // Pending requests must be answered first; check again a window from now at the
            // latest, or sooner when an answer arrives.
            _ => after(now, self.length),
        }
    }
}

/// Why a request has to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wait {
    /// Until this instant, or until an answer changes the count.
    Until(Instant),
    /// Until the first request is answered: what the server reports then decides how much
    /// of the budget is really left.
    FirstAnswer,
}

/// Every window of one backend's quota, and what the server said lately.
#[derive(Clone, Debug)]
pub(super) struct Budget {
    windows: Vec<Window>,
    time_scale: f64,
    /// No request may start before this (a 429's `Retry-After`).
    blocked_until: Option<Instant>,
    /// Whether a first request was answered.
    heard: bool,
    /// Whether the first request is on its way.
    probing: bool,
}

impl Budget {
    /// A budget of `(limit, window length as the server states it)` quotas; lengths are
    /// divided by `time_scale` to get real time.
    pub(super) fn new(quotas: &[(u64, Duration)], time_scale: f64) -> Self {
        let mut budget = Self {
            windows: Vec::new(),
            time_scale,
            blocked_until: None,
            heard: false,
            probing: false,
        };
        for &(limit, length) in quotas {
            budget.add_window(limit, length);
        }
        budget
    }

    fn add_window(&mut self, limit: u64, server_length: Duration) -> &mut Window {
        self.windows.push(Window {
            length: self.real(server_length),
            server_length,
            limit: limit.clamp(1, MAX_LIMIT),
            pending: 0,
            expiries: VecDeque::new(),
        });
        let last = self.windows.len() - 1;
        &mut self.windows[last]
    }

    fn real(&self, server: Duration) -> Duration {
        // Saturates where `div_f64` would panic: windows and waits come from the server.
        Duration::try_from_secs_f64(server.as_secs_f64() / self.time_scale).unwrap_or(Duration::MAX)
    }

    /// Takes `cost` requests from every window, or says how long to wait. A cost larger than a
    /// window's whole limit waits for an empty window and then goes.
    pub(super) fn take(&mut self, cost: u64, now: Instant) -> Result<(), Wait> {
        if let Some(until) = self.blocked_until {
            if until > now {
                return Err(Wait::Until(until));
            }
            self.blocked_until = None;
        }
        if self.probing && !self.heard {
            return Err(Wait::FirstAnswer);
        }
        let mut ready = now;
        for window in &mut self.windows {
            window.prune(now);
            let cost = cost.min(window.limit);
            ready = ready.max(window.free_at(cost, now));
        }
        if ready > now {
            return Err(Wait::Until(ready));
        }
        for window in &mut self.windows {
            window.pending += cost.min(window.limit);
        }
        self.probing = !self.heard;
        Ok(())
    }

    /// Records the answer to a request of `cost`: it counts for one more window from now.
    /// `limits` is what the server last reported, `error` the request's error if it failed.
    pub(super) fn answered(
        &mut self,
        cost: u64,
        now: Instant,
        limits: Option<&RateLimits>,
        error: Option<&Error>,
    ) {
        self.heard = true;
        for window in &mut self.windows {
            let cost = cost.min(window.limit);
            window.pending = window.pending.saturating_sub(cost);
            let expiry = after(now, window.length);
            window
                .expiries
                .extend(std::iter::repeat_n(expiry, cost as usize));
        }
        if let Some(limits) = limits {
            self.follow(limits, now);
        }
        if let Some(Error::RateLimited { retry_after, .. }) = error {
            // The count was too generous: stop everything for as long as the server said, or
            // until the oldest request of the tightest window stops counting.
            let until = match retry_after {
                // One server second more: waits are whole seconds, often rounded down.
                Some(wait) => after(now, self.real(wait.saturating_add(Duration::from_secs(1)))),
                None => self
                    .windows
                    .iter()
                    .filter_map(|w| w.expiries.back().copied())
                    .min()
                    .unwrap_or_else(|| after(now, self.real(Duration::from_secs(1)))),
            };
            self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
        }
    }

    /// Makes the count at least as strict as the server's: its quota replaces the configured
    /// one, and requests it counts that this client does not know of (other processes,
    /// earlier runs) are added, stopping to count when the server's window resets.
    fn follow(&mut self, limits: &RateLimits, now: Instant) {
        for reported in &limits.windows {
            let Some(server_length) = reported.window.or_else(|| {
                // A window without a length (the older header forms) is the only one, or
                // the shortest.
                self.windows.iter().map(|w| w.server_length).min()
            }) else {
                continue;
            };
            let index = match self
                .windows
                .iter()
                .position(|w| w.server_length == server_length)
            {
                Some(index) => index,
                None => match reported.limit {
                    Some(limit) => {
                        self.add_window(limit, server_length);
                        self.windows.len() - 1
                    }
                    None => continue,
                },
            };
            // One server second more than announced: `t` is rounded down.
            let reset = reported
                .reset_after
                .map(|t| after(now, self.real(t.saturating_add(Duration::from_secs(1)))));
            let window = &mut self.windows[index];
            if let Some(limit) = reported.limit {
                window.limit = limit.clamp(1, MAX_LIMIT);
            }
            window.prune(now);
            if let Some(remaining) = reported.remaining {
                let server_used = window.limit.saturating_sub(remaining);
                let unknown = server_used.saturating_sub(window.used());
                let until = reset.unwrap_or_else(|| after(now, window.length));
                window
                    .expiries
                    .extend(std::iter::repeat_n(until, unknown as usize));
                window.expiries.make_contiguous().sort_unstable();
            }
        }
    }

    /// Requests left in the tightest window now, for reports.
    pub(super) fn left(&mut self, now: Instant) -> Option<u64> {
        self.windows
            .iter_mut()
            .map(|w| {
                w.prune(now);
                w.limit.saturating_sub(w.used())
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::rate_limit::RateWindow;

    const MINUTE: Duration = Duration::from_secs(60);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Sends one request of cost 1 at `now` and answers it at once.
    fn send(budget: &mut Budget, now: Instant) -> Result<(), Wait> {
        budget.take(1, now)?;
        budget.answered(1, now, None, None);
        Ok(())
    }

    #[test]
    fn the_budget_is_spent_at_once_then_waits_for_the_oldest_request() {
        let start = Instant::now();
        let mut budget = Budget::new(&[(60, MINUTE)], 1.0);
        for i in 0..60 {
            send(&mut budget, start + Duration::from_millis(i)).unwrap();
        }
        let now = start + secs(1);
        assert_eq!(budget.take(1, now), Err(Wait::Until(start + MINUTE)));
        assert_eq!(budget.left(now), Some(0));
        send(&mut budget, start + MINUTE).unwrap();
        assert!(
            budget.take(1, start + MINUTE).is_err(),
            "only one had expired"
        );
    }

    #[test]
    fn the_first_request_goes_alone_until_it_is_answered() {
        let now = Instant::now();
        let mut budget = Budget::new(&[(100, secs(900))], 1.0);
        budget.take(1, now).unwrap();
        assert_eq!(budget.take(1, now), Err(Wait::FirstAnswer));
        budget.answered(1, now, None, None);
        budget.take(1, now).unwrap();
        budget.take(1, now).unwrap();
    }

    #[test]
    fn pending_requests_count_and_expire_a_window_after_their_answer() {
        let start = Instant::now();
        let mut budget = Budget::new(&[(2, MINUTE)], 1.0);
        send(&mut budget, start).unwrap();
        budget.take(1, start).unwrap();
        assert_eq!(budget.take(1, start), Err(Wait::Until(start + MINUTE)));
        budget.answered(1, start + secs(5), None, None);
        assert_eq!(
            budget.take(1, start + MINUTE),
            Ok(()),
            "the first one expired"
        );
        assert_eq!(
            budget.take(1, start + MINUTE),
            Err(Wait::Until(start + secs(65)))
        );
    }

    #[test]
    fn every_window_must_have_room() {
        let start = Instant::now();
        let mut budget = Budget::new(&[(100, secs(900)), (3, secs(86_400))], 1.0);
        for _ in 0..3 {
            send(&mut budget, start).unwrap();
        }
        assert_eq!(
            budget.take(1, start),
            Err(Wait::Until(start + secs(86_400)))
        );
    }

    #[test]
    fn a_scaled_clock_shortens_windows() {
        let start = Instant::now();
        let mut budget = Budget::new(&[(1, secs(900))], 900.0);
        send(&mut budget, start).unwrap();
        assert_eq!(budget.take(1, start), Err(Wait::Until(start + secs(1))));
    }

    #[test]
    fn the_server_count_and_quota_win_when_stricter() {
        let start = Instant::now();
        let mut budget = Budget::new(&[(100, secs(900))], 1.0);
        budget.take(1, start).unwrap();
        // Another process used 97 of this key's 100 (the server counted ours too): 2 left.
        let mut limits = RateLimits::default();
        limits.windows.push(RateWindow {
            window: Some(secs(900)),
            limit: Some(100),
            remaining: Some(2),
            reset_after: Some(secs(300)),
            ..RateWindow::default()
        });
        budget.answered(1, start, Some(&limits), None);
        assert_eq!(budget.left(start), Some(2));
        send(&mut budget, start).unwrap();
        send(&mut budget, start).unwrap();
        assert_eq!(budget.take(1, start), Err(Wait::Until(start + secs(301))));
    }

    #[test]
    fn a_server_window_not_configured_is_added() {
        let start = Instant::now();
        let mut budget = Budget::new(&[(100, secs(900))], 1.0);
        let mut limits = RateLimits::default();
        limits.windows.push(RateWindow {
            window: Some(secs(86_400)),
            limit: Some(1),
            remaining: Some(0),
            reset_after: Some(secs(10)),
            ..RateWindow::default()
        });
        budget.take(1, start).unwrap();
        budget.answered(1, start, Some(&limits), None);
        assert_eq!(budget.take(1, start), Err(Wait::Until(start + secs(11))));
    }

    #[test]
    fn a_429_blocks_for_the_servers_wait() {
        let start = Instant::now();
        let mut budget = Budget::new(&[(100, secs(900))], 1.0);
        budget.take(1, start).unwrap();
        let refusal = Error::RateLimited {
            retry_after: Some(secs(30)),
            message: "slow down".into(),
        };
        budget.answered(1, start, None, Some(&refusal));
        assert_eq!(budget.take(1, start), Err(Wait::Until(start + secs(31))));
        assert_eq!(budget.take(1, start + secs(31)), Ok(()));
    }

    #[test]
    fn absurd_server_numbers_neither_panic_nor_allocate_a_huge_ledger() {
        let start = Instant::now();
        let mut budget = Budget::new(&[(100, secs(900))], 0.5);
        let mut limits = RateLimits::default();
        for window in [secs(900), Duration::MAX] {
            limits.windows.push(RateWindow {
                window: Some(window),
                limit: Some(u64::MAX),
                remaining: Some(0),
                reset_after: Some(Duration::MAX),
                ..RateWindow::default()
            });
        }
        let refusal = Error::RateLimited {
            retry_after: Some(Duration::MAX),
            message: "slow down".into(),
        };
        budget.take(1, start).unwrap();
        budget.answered(1, start, Some(&limits), Some(&refusal));
        assert!(matches!(budget.take(1, start), Err(Wait::Until(at)) if at > start));
        assert_eq!(budget.left(start), Some(0));
    }

    #[test]
    fn a_cost_above_the_limit_waits_for_an_empty_window() {
        let start = Instant::now();
        let mut budget = Budget::new(&[(3, MINUTE)], 1.0);
        send(&mut budget, start).unwrap();
        assert_eq!(budget.take(5, start), Err(Wait::Until(start + MINUTE)));
        assert_eq!(budget.take(5, start + MINUTE), Ok(()));
    }
}
