//! What the backend looks up to serve other calls (the account's organizations, which
//! organization and network each channel belongs to), fetched once for every caller.
//!
//! Posts are listed per organization and links go in the metadata of the channel's network, so
//! many calls first need a lookup. Without care, 64 tasks starting at once would each send the
//! same lookups, and a channel that does not exist would be looked up on every call. A
//! [`Lookup`] makes them single-flight (callers that arrive while a lookup is under way wait
//! for it and share its outcome, error included) and keeps the answer for a short lifetime:
//! [`LOOKUP_LIFETIME`](super::LOOKUP_LIFETIME) for what was found,
//! [`MISS_LIFETIME`](super::MISS_LIFETIME) before a channel that was not found is looked up
//! again.

use crate::{Error, Result};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// One looked-up value, fetched by one caller at a time.
#[derive(Debug)]
pub(super) struct Lookup<T> {
    state: Mutex<State<T>>,
}

#[derive(Debug)]
struct State<T> {
    /// The latest value and when it was fetched.
    value: Option<(T, Instant)>,
    /// The latest failure and when it happened: only callers that were waiting for that
    /// lookup share it; later ones try again.
    failure: Option<(Error, Instant)>,
}

impl<T> Default for Lookup<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                value: None,
                failure: None,
            }),
        }
    }
}

impl<T: Clone> Lookup<T> {
    /// The value, if it is at most `max_age` old; else a new one from `fetch`.
    ///
    /// Callers that arrive while another caller's fetch is under way wait for it and take its
    /// outcome, whatever their `max_age` (with [`Duration::ZERO`], a caller takes nothing but
    /// that). A fetch that is dropped (its caller was cancelled) leaves the next waiter to
    /// fetch.
    pub async fn get<F, Fut>(&self, max_age: Duration, fetch: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let arrived = Instant::now();
        let mut state = self.state.lock().await;
        match (&state.value, &state.failure) {
            (Some((value, at)), _) if *at >= arrived || at.elapsed() <= max_age => {
                return Ok(value.clone());
            }
            (_, Some((error, at))) if *at >= arrived => return Err(error.clone()),
            _ => {}
        }
        match fetch().await {
            Ok(value) => {
                state.value = Some((value.clone(), Instant::now()));
                Ok(value)
            }
            Err(error) => {
                state.failure = Some((error.clone(), Instant::now()));
                Err(error)
            }
        }
    }

    /// Stores a value read by another call that carried it.
    pub async fn put(&self, value: T) {
        self.state.lock().await.value = Some((value, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn counted(
        lookup: &Lookup<usize>,
        max_age: Duration,
        fetches: &AtomicUsize,
        fails: bool,
    ) -> Result<usize> {
        lookup
            .get(max_age, || async {
                let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
                // Let every other caller arrive while this lookup is under way.
                tokio::task::yield_now().await;
                if fails {
                    Err(Error::invalid_input("no"))
                } else {
                    Ok(n)
                }
            })
            .await
    }

    const LONG: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch_and_later_ones_the_value_while_fresh() {
        let lookup = Lookup::default();
        let fetches = AtomicUsize::new(0);
        let all =
            futures::future::join_all((0..64).map(|_| counted(&lookup, LONG, &fetches, false)))
                .await;
        assert!(all.iter().all(|r| matches!(r, Ok(1))));
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(counted(&lookup, LONG, &fetches, false).await.unwrap(), 1);
        // Older than the caller allows: fetched again.
        assert_eq!(
            counted(&lookup, Duration::ZERO, &fetches, false)
                .await
                .unwrap(),
            2
        );
        lookup.put(7).await;
        assert_eq!(counted(&lookup, LONG, &fetches, false).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_failure_is_shared_by_its_waiters_only() {
        let lookup = Lookup::default();
        let fetches = AtomicUsize::new(0);
        let all =
            futures::future::join_all((0..8).map(|_| counted(&lookup, LONG, &fetches, true))).await;
        assert!(all.iter().all(Result::is_err));
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // A caller that arrives afterwards tries again.
        assert_eq!(counted(&lookup, LONG, &fetches, false).await.unwrap(), 2);
    }
}
