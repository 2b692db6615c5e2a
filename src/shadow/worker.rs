//! Where a shadow's comparisons run, away from the caller: a small runtime of the shadow's
//! own, and a bounded count of the work it has in flight.
//!
//! Why a runtime of its own rather than the caller's: a candidate that blocks its OS thread
//! (a synchronous call inside `execute`, a lock held across a slow call) would block a thread
//! of the caller's runtime, and on a one-thread runtime every caller with it; and comparing,
//! which is CPU work on JSON, would take turns from the caller's tasks. On a runtime of its
//! own, the worst a candidate can do is stall the shadow, whose comparisons are then dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::runtime::{Builder, Handle, Runtime};
use tokio::sync::Notify;

/// The shadow's runtime: one thread for the candidates' calls, at most one more for comparing
/// and reporting (its blocking pool). Small on purpose: it competes with the caller for CPU.
pub(super) struct Worker {
    handle: Handle,
    runtime: Option<Runtime>,
}

impl Worker {
    /// Starts the runtime's thread.
    pub fn start() -> std::io::Result<Self> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .thread_name("buffer-bridge-shadow")
            .enable_all()
            .build()?;
        Ok(Self {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// Where to spawn the shadow's tasks.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Worker {
    /// Stops the runtime without waiting for its threads: a shadow may be dropped inside an
    /// async task, where blocking is not allowed, and a candidate may hold a thread forever.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A bounded count of work in flight, which can be awaited until none is left.
pub(super) struct Slots {
    busy: AtomicUsize,
    limit: usize,
    idle: Notify,
}

/// One unit of work in flight; dropping it (work done, failed, panicked or cancelled) frees it.
pub(super) struct Slot(Arc<Slots>);

impl Slots {
    /// At most `limit` slots taken at once.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            busy: AtomicUsize::new(0),
            limit,
            idle: Notify::new(),
        })
    }

    /// How many slots there are.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A slot, unless all are taken. Never waits.
    pub fn try_take(self: &Arc<Self>) -> Option<Slot> {
        self.busy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |busy| {
                (busy < self.limit).then_some(busy + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(self)))
    }

    /// Waits until no slot is taken.
    pub async fn idle(&self) {
        loop {
            let mut freed = std::pin::pin!(self.idle.notified());
            // Registered before the check, so a release between the two is not missed.
            freed.as_mut().enable();
            if self.busy.load(Ordering::Acquire) == 0 {
                return;
            }
            freed.await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_bounded_and_idle_when_all_are_freed() {
        let slots = Slots::new(2);
        let first = slots.try_take().expect("a free slot");
        let second = slots.try_take().expect("a free slot");
        assert!(slots.try_take().is_none(), "a third slot of two");
        drop(first);
        let third = slots.try_take().expect("a freed slot");
        let waiting = tokio::spawn({
            let slots = Arc::clone(&slots);
            async move { slots.idle().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "idle with two slots taken");
        drop((second, third));
        waiting.await.expect("idle once all are freed");
    }
}
