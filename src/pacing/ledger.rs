//! The client's own count of its rate-limit windows: per window, when each request it sent
//! stops counting.
//!
//! A request counts from the moment it is sent until one window length after its answer came
//! back: the server counted it somewhere in between, so it has surely stopped counting by
//! then, whether the server's windows are fixed (all reset at once) or rolling (each request
//! expires on its own). The budget is spent as fast as it lasts and then waits for the oldest
//! request to stop counting, which is the least total time without a 429. What the server
//! reports corrects the ledger: its quota replaces the configured one (larger on a higher
//! plan), requests it counted that this client did not send are added, and a 429 stops
//! everything for its wait.
//!
//! What a server says is bounded before it is believed, because one absurd header must not
//! stop a client for years or make it allocate gigabytes: a window longer than
//! [`MAX_WINDOW`] (or of no length) is ignored, windows past [`MAX_WINDOWS`] are ignored,
//! quotas are capped at [`MAX_LIMIT`], a reset is never further than its window, and a 429's
//! wait never longer than the longest window. Each kind of distrust is logged once per
//! budget. Requests that stop counting at the same instant share one ledger entry, so a
//! server reporting a million requests used costs one entry, not a million.

use crate::http::rate_limit::{RateLimits, THIRTY_DAYS};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// The largest quota believed. Buffer's quotas are in the hundreds to thousands.
pub(crate) const MAX_LIMIT: u64 = 1_000_000;

/// The most windows a budget follows. Buffer has three (15 minutes, a day, 30 days).
pub(crate) const MAX_WINDOWS: usize = 8;

/// The longest window believed, and so the longest any server-given wait can be: Buffer's
/// longest window is 30 days.
pub(crate) const MAX_WINDOW: Duration = THIRTY_DAYS;

/// `now + wait`, or far in the future (as `tokio::time::sleep` does) when a wait is too long
/// to add without overflowing.
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
    /// When answered requests stop counting, oldest first, and how many stop then.
    expiries: VecDeque<(Instant, u64)>,
    /// The sum of the counts in `expiries`.
    counted: u64,
}

impl Window {
    fn prune(&mut self, now: Instant) {
        while let Some(&(at, count)) = self.expiries.front() {
            if at > now {
                break;
            }
            self.expiries.pop_front();
            self.counted -= count;
        }
    }

    fn used(&self) -> u64 {
        self.pending.saturating_add(self.counted)
    }

    /// Records `count` requests that stop counting at `at`.
    fn count(&mut self, at: Instant, count: u64) {
        if count == 0 {
            return;
        }
        self.counted = self.counted.saturating_add(count);
        let index = self.expiries.partition_point(|(t, _)| *t <= at);
        match index.checked_sub(1).map(|i| &mut self.expiries[i]) {
            Some((t, n)) if *t == at => *n = n.saturating_add(count),
            _ => self.expiries.insert(index, (at, count)),
        }
    }

    /// When one more request fits, given that pending ones will count for a full window
    /// after they are answered.
    fn free_at(&self, now: Instant) -> Instant {
        let over = self.used().saturating_add(1).saturating_sub(self.limit);
        if over == 0 {
            return now;
        }
        let mut freed = 0u64;
        for &(at, count) in &self.expiries {
            freed = freed.saturating_add(count);
            if freed >= over {
                return at;
            }
        }
        // Pending requests must be answered first, and then count a whole window: room comes
        // a window from now at the earliest.
        after(now, self.length)
    }
}

/// Why a request has to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wait {
    /// Until this instant at the earliest; an answer may change the count sooner.
    Until(Instant),
    /// Until the first request is answered: what the server reports then decides how much
    /// of the budget is really left.
    FirstAnswer,
}

/// A server number not believed as given.
#[derive(Clone, Copy, Debug)]
enum Distrust {
    Window,
    Windows,
    Quota,
    Reset,
    Wait,
}

impl Distrust {
    fn explain(self) -> &'static str {
        match self {
            Self::Window => "a rate-limit window of no length or longer than 30 days is ignored",
            Self::Windows => "rate-limit windows past the eighth are ignored",
            Self::Quota => "a rate-limit quota above 1,000,000 is capped at 1,000,000",
            Self::Reset => "a rate-limit reset further away than its window is cut to the window",
            Self::Wait => "a 429's wait longer than the longest window is cut to that window",
        }
    }
}

/// Every window of one credential's quota, and what the server said lately.
#[derive(Clone, Debug)]
pub(super) struct Ledger {
    windows: Vec<Window>,
    time_scale: f64,
    /// No request may start before this (a 429's `Retry-After`).
    blocked_until: Option<Instant>,
    /// Whether a first request was answered.
    heard: bool,
    /// Whether the first request is on its way.
    probing: bool,
    /// The kinds of [`Distrust`] already logged, one bit each.
    logged: u8,
    /// How many processes share the credential's quotas: each window keeps to its share, the
    /// configured or reported quota divided by this (1 for a budget of its own).
    share: u64,
}

impl Ledger {
    /// A ledger of `(limit, window length as the server states it)` quotas; lengths are
    /// divided by `time_scale` to get real time.
    pub(super) fn new(quotas: &[(u64, Duration)], time_scale: f64) -> Self {
        Self::shared(quotas, time_scale, 1)
    }

    /// A ledger that keeps to a `1/share` part of every quota, configured or reported, for one
    /// of `share` processes that cannot count together.
    pub(super) fn shared(quotas: &[(u64, Duration)], time_scale: f64, share: u64) -> Self {
        let mut ledger = Self {
            windows: Vec::new(),
            time_scale,
            blocked_until: None,
            heard: false,
            probing: false,
            logged: 0,
            share: share.max(1),
        };
        for &(limit, length) in quotas {
            ledger.add_window(limit, length);
        }
        ledger
    }

    fn add_window(&mut self, limit: u64, server_length: Duration) {
        self.windows.push(Window {
            length: self.real(server_length),
            server_length,
            limit: self.part(limit),
            pending: 0,
            expiries: VecDeque::new(),
            counted: 0,
        });
    }

    /// This ledger's part of a quota: clamped, then divided among the processes sharing it.
    fn part(&self, limit: u64) -> u64 {
        (limit.clamp(1, MAX_LIMIT) / self.share).max(1)
    }

    /// A duration in the server's seconds, in real time.
    fn real(&self, server: Duration) -> Duration {
        // Saturates where `div_f64` would panic.
        Duration::try_from_secs_f64(server.as_secs_f64() / self.time_scale).unwrap_or(Duration::MAX)
    }

    /// A real duration in the server's seconds, as errors state waits.
    pub(super) fn server_seconds(&self, real: Duration) -> Duration {
        Duration::try_from_secs_f64(real.as_secs_f64() * self.time_scale).unwrap_or(Duration::MAX)
    }

    fn distrust(&mut self, what: Distrust) {
        let bit = 1 << what as u8;
        if self.logged & bit == 0 {
            self.logged |= bit;
            tracing::warn!(
                "the server's rate-limit report is not believed as given: {}",
                what.explain()
            );
        }
    }

    /// Takes one request from every window, or says how long to wait.
    pub(super) fn take(&mut self, now: Instant) -> Result<(), Wait> {
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
            ready = ready.max(window.free_at(now));
        }
        if ready > now {
            return Err(Wait::Until(ready));
        }
        for window in &mut self.windows {
            window.pending += 1;
        }
        self.probing = !self.heard;
        Ok(())
    }

    /// Records the answer to a request taken: it counts for one more window from now.
    /// `limits` is what its headers said; `refused` whether it was a 429.
    pub(super) fn answered(&mut self, now: Instant, limits: &RateLimits, refused: bool) {
        self.heard = true;
        for window in &mut self.windows {
            window.pending = window.pending.saturating_sub(1);
            let expiry = after(now, window.length);
            window.count(expiry, 1);
        }
        self.follow(limits, now);
        if refused {
            self.refuse(limits.wait(None), now);
        }
    }

    /// Stops every request after a 429: for as long as the server said (`wait`, in its
    /// seconds), or until the oldest request of the tightest window stops counting.
    fn refuse(&mut self, wait: Option<Duration>, now: Instant) {
        let longest = self
            .windows
            .iter()
            .map(|w| w.server_length)
            .max()
            .unwrap_or(MAX_WINDOW)
            .min(MAX_WINDOW);
        let until = match wait {
            Some(wait) => {
                if wait > longest {
                    self.distrust(Distrust::Wait);
                }
                // One server second more: waits are whole seconds, often rounded down.
                let wait = wait.min(longest).saturating_add(Duration::from_secs(1));
                after(now, self.real(wait))
            }
            None => self
                .windows
                .iter()
                .filter_map(|w| w.expiries.back().map(|&(at, _)| at))
                .min()
                .unwrap_or_else(|| after(now, self.real(Duration::from_secs(1)))),
        };
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
    }

    /// Makes the count at least as strict as the server's: its quota replaces the configured
    /// one, and requests it counts that this client does not know of (other processes,
    /// earlier runs) are added, stopping to count when the server's window resets.
    pub(super) fn follow(&mut self, limits: &RateLimits, now: Instant) {
        for reported in &limits.windows {
            // A window without a length (the older header forms) is the only one, or the
            // shortest.
            let Some(server_length) = reported
                .window
                .or_else(|| self.windows.iter().map(|w| w.server_length).min())
            else {
                continue;
            };
            if server_length.is_zero() || server_length > MAX_WINDOW {
                self.distrust(Distrust::Window);
                continue;
            }
            let index = match self
                .windows
                .iter()
                .position(|w| w.server_length == server_length)
            {
                Some(index) => index,
                None if reported.limit.is_none() => continue,
                None if self.windows.len() >= MAX_WINDOWS => {
                    self.distrust(Distrust::Windows);
                    continue;
                }
                None => {
                    self.add_window(1, server_length);
                    self.windows.len() - 1
                }
            };
            if reported.limit.is_some_and(|limit| limit > MAX_LIMIT) {
                self.distrust(Distrust::Quota);
            }
            let reset_after = reported.reset_after.map(|t| {
                if t > server_length {
                    self.distrust(Distrust::Reset);
                }
                // One server second more than announced: `t` is rounded down.
                let t = t.min(server_length).saturating_add(Duration::from_secs(1));
                after(now, self.real(t))
            });
            let part = reported.limit.map(|limit| self.part(limit));
            let share = self.share;
            let window = &mut self.windows[index];
            if let Some(part) = part {
                window.limit = part;
            }
            window.prune(now);
            if let Some(remaining) = reported.remaining {
                // What the whole credential has used, by the server's count: this process
                // keeps to its share of the quota, but every process's requests count.
                let quota = reported
                    .limit
                    .map_or(window.limit.saturating_mul(share), |l| {
                        l.clamp(1, MAX_LIMIT)
                    });
                let server_used = quota.saturating_sub(remaining);
                let unknown = server_used.saturating_sub(window.used());
                let until = reset_after.unwrap_or_else(|| after(now, window.length));
                window.count(until, unknown);
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

    fn none() -> RateLimits {
        RateLimits::default()
    }

    fn reporting(windows: impl IntoIterator<Item = RateWindow>) -> RateLimits {
        let mut limits = RateLimits::default();
        limits.windows.extend(windows);
        limits
    }

    fn window(length: Duration, limit: u64, remaining: u64, reset: Duration) -> RateWindow {
        RateWindow {
            window: Some(length),
            limit: Some(limit),
            remaining: Some(remaining),
            reset_after: Some(reset),
            ..RateWindow::default()
        }
    }

    /// Sends one request at `now` and answers it at once.
    fn send(ledger: &mut Ledger, now: Instant) -> Result<(), Wait> {
        ledger.take(now)?;
        ledger.answered(now, &none(), false);
        Ok(())
    }

    #[test]
    fn the_budget_is_spent_at_once_then_waits_for_the_oldest_request() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(60, MINUTE)], 1.0);
        for i in 0..60 {
            send(&mut ledger, start + Duration::from_millis(i)).unwrap();
        }
        let now = start + secs(1);
        assert_eq!(ledger.take(now), Err(Wait::Until(start + MINUTE)));
        assert_eq!(ledger.left(now), Some(0));
        send(&mut ledger, start + MINUTE).unwrap();
        assert!(ledger.take(start + MINUTE).is_err(), "only one had expired");
    }

    #[test]
    fn the_first_request_goes_alone_until_it_is_answered() {
        let now = Instant::now();
        let mut ledger = Ledger::new(&[(100, secs(900))], 1.0);
        ledger.take(now).unwrap();
        assert_eq!(ledger.take(now), Err(Wait::FirstAnswer));
        ledger.answered(now, &none(), false);
        ledger.take(now).unwrap();
        ledger.take(now).unwrap();
    }

    #[test]
    fn pending_requests_count_and_expire_a_window_after_their_answer() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(2, MINUTE)], 1.0);
        send(&mut ledger, start).unwrap();
        ledger.take(start).unwrap();
        assert_eq!(ledger.take(start), Err(Wait::Until(start + MINUTE)));
        ledger.answered(start + secs(5), &none(), false);
        assert_eq!(ledger.take(start + MINUTE), Ok(()), "the first one expired");
        assert_eq!(
            ledger.take(start + MINUTE),
            Err(Wait::Until(start + secs(65)))
        );
    }

    #[test]
    fn every_window_must_have_room() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(100, secs(900)), (3, secs(86_400))], 1.0);
        for _ in 0..3 {
            send(&mut ledger, start).unwrap();
        }
        assert_eq!(ledger.take(start), Err(Wait::Until(start + secs(86_400))));
    }

    #[test]
    fn a_scaled_clock_shortens_windows() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(1, secs(900))], 900.0);
        send(&mut ledger, start).unwrap();
        assert_eq!(ledger.take(start), Err(Wait::Until(start + secs(1))));
        assert_eq!(ledger.server_seconds(secs(2)), secs(1800));
    }

    #[test]
    fn the_server_count_and_quota_win_when_stricter() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(100, secs(900))], 1.0);
        ledger.take(start).unwrap();
        // Another process used 97 of this key's 100 (the server counted ours too): 2 left.
        let limits = reporting([window(secs(900), 100, 2, secs(300))]);
        ledger.answered(start, &limits, false);
        assert_eq!(ledger.left(start), Some(2));
        send(&mut ledger, start).unwrap();
        send(&mut ledger, start).unwrap();
        assert_eq!(ledger.take(start), Err(Wait::Until(start + secs(301))));
    }

    #[test]
    fn a_server_window_not_configured_is_added() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(100, secs(900))], 1.0);
        ledger.take(start).unwrap();
        ledger.answered(
            start,
            &reporting([window(secs(86_400), 1, 0, secs(10))]),
            false,
        );
        assert_eq!(ledger.take(start), Err(Wait::Until(start + secs(11))));
    }

    #[test]
    fn a_429_blocks_for_the_servers_wait() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(100, secs(900))], 1.0);
        ledger.take(start).unwrap();
        let limits = RateLimits {
            retry_after: Some(secs(30)),
            ..RateLimits::default()
        };
        ledger.answered(start, &limits, true);
        assert_eq!(ledger.take(start), Err(Wait::Until(start + secs(31))));
        assert_eq!(ledger.take(start + secs(31)), Ok(()));
    }

    #[test]
    fn a_429_without_a_wait_blocks_until_the_tightest_window_clears() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(100, MINUTE)], 1.0);
        ledger.take(start).unwrap();
        ledger.answered(start, &none(), true);
        assert_eq!(
            ledger.take(start + secs(1)),
            Err(Wait::Until(start + MINUTE))
        );
    }

    #[test]
    fn a_wait_of_31_years_is_cut_to_the_longest_window() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(60, MINUTE)], 1.0);
        ledger.take(start).unwrap();
        let limits = RateLimits {
            retry_after: Some(secs(999_999_999)),
            ..RateLimits::default()
        };
        ledger.answered(start, &limits, true);
        assert_eq!(ledger.take(start), Err(Wait::Until(start + secs(61))));
    }

    #[test]
    fn a_reset_beyond_its_window_is_cut_to_the_window() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(100, secs(900))], 1.0);
        ledger.take(start).unwrap();
        let limits = reporting([RateWindow {
            name: Some("x".into()),
            remaining: Some(0),
            reset_after: Some(Duration::from_secs(u64::MAX)),
            ..RateWindow::default()
        }]);
        ledger.answered(start, &limits, false);
        // The server's 99 stop counting at the window's end (plus a second); this client's
        // own request a window after its answer.
        assert_eq!(ledger.take(start), Err(Wait::Until(start + secs(900))));
        assert_eq!(ledger.left(start + secs(900)), Some(1));
    }

    #[test]
    fn windows_past_thirty_days_or_past_the_eighth_are_ignored() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(100, secs(900))], 1.0);
        ledger.take(start).unwrap();
        let too_long = window(MAX_WINDOW + secs(1), 1, 0, secs(10));
        let empty = window(Duration::ZERO, 1, 0, secs(10));
        let many = (1..=1000).map(|n| window(secs(60 * n), 1_000_000, 0, secs(30)));
        let limits = reporting([too_long, empty].into_iter().chain(many));
        ledger.answered(start, &limits, false);
        assert_eq!(ledger.windows.len(), MAX_WINDOWS);
        assert!(ledger.windows.iter().all(|w| w.server_length <= MAX_WINDOW));
        assert!(
            ledger.windows.iter().all(|w| w.expiries.len() <= 2),
            "a million requests used are one entry"
        );
        assert_eq!(ledger.left(start), Some(0));
        assert_eq!(ledger.take(start), Err(Wait::Until(start + secs(31))));
        assert_eq!(ledger.take(start + secs(31)), Ok(()));
    }

    #[test]
    fn absurd_numbers_neither_panic_nor_allocate() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(100, secs(900))], 0.5);
        let limits = RateLimits {
            windows: vec![
                window(secs(900), u64::MAX, 0, Duration::MAX),
                window(Duration::MAX, u64::MAX, 0, Duration::MAX),
            ],
            retry_after: Some(Duration::MAX),
        };
        ledger.take(start).unwrap();
        ledger.answered(start, &limits, true);
        assert!(matches!(ledger.take(start), Err(Wait::Until(at)) if at > start));
        assert_eq!(ledger.left(start), Some(0));
        assert_eq!(ledger.windows[0].limit, MAX_LIMIT);
        assert!(ledger.windows[0].expiries.len() <= 2);
    }

    #[test]
    fn a_share_keeps_to_its_part_of_every_quota_and_counts_the_servers_in_full() {
        let start = Instant::now();
        let mut ledger = Ledger::shared(&[(100, secs(900))], 1.0, 4);
        for _ in 0..25 {
            send(&mut ledger, start).unwrap();
        }
        assert_eq!(ledger.take(start), Err(Wait::Until(start + secs(900))));
        // The server says 60 of 100 are used, 25 of them this process's: 35 more count.
        let mut shared = Ledger::shared(&[(100, secs(900))], 1.0, 4);
        send(&mut shared, start).unwrap();
        let limits = reporting([window(secs(900), 100, 40, secs(300))]);
        shared.answered(start, &limits, false);
        assert_eq!(
            shared.windows[0].limit, 25,
            "a reported quota is shared too"
        );
        assert_eq!(shared.left(start), Some(0));
    }

    #[test]
    fn requests_expiring_together_share_an_entry() {
        let start = Instant::now();
        let mut ledger = Ledger::new(&[(1000, MINUTE)], 1.0);
        for _ in 0..500 {
            send(&mut ledger, start).unwrap();
        }
        assert_eq!(ledger.windows[0].expiries.len(), 1);
        assert_eq!(ledger.left(start), Some(500));
    }
}
