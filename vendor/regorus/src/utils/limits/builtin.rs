// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

//! Limits inside one builtin call.
//!
//! The interpreter checks its execution timer between evaluation steps, but a builtin runs to
//! completion once called, and builtins have no access to the interpreter. While the
//! interpreter evaluates a builtin it publishes its deadline in a thread-local
//! ([`BuiltinLimitsScope`]); the builtin's loops call [`tick`] with the work they did, and every
//! [`TICK_INTERVAL`] units of work `tick` reads the clock and runs the embedder's memory probe.
//! Past the deadline the builtin fails with the same [`LimitError::TimeLimitExceeded`] the
//! interpreter raises, so a single call over a huge value stops shortly after the time limit.

use core::time::Duration;

use super::LimitError;

/// Units of work (elements visited, bytes scanned, ...) between two clock reads.
pub const TICK_INTERVAL: u32 = 1024;

#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug)]
struct Deadline {
    start: Duration,
    limit: Duration,
}

#[cfg(feature = "std")]
std::thread_local! {
    static DEADLINE: core::cell::Cell<Option<Deadline>> = const { core::cell::Cell::new(None) };
    static UNITS: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
    static COMPARISONS: core::cell::Cell<u32> = const { core::cell::Cell::new(TICK_INTERVAL) };
}

/// Publishes an evaluation's deadline to the builtins it calls on this thread until dropped.
#[derive(Debug)]
#[must_use = "the deadline is withdrawn when the scope is dropped"]
pub struct BuiltinLimitsScope {
    #[cfg(feature = "std")]
    outer: Option<Deadline>,
}

impl BuiltinLimitsScope {
    /// Enters a scope for a timer started at `start` (a [`super::monotonic_now`] reading)
    /// with `limit`; `None` (no limit configured) publishes no deadline.
    pub fn enter(start_and_limit: Option<(Duration, Duration)>) -> Self {
        #[cfg(feature = "std")]
        {
            let deadline = start_and_limit.map(|(start, limit)| Deadline { start, limit });
            let outer = DEADLINE.with(|d| d.replace(deadline));
            Self { outer }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = start_and_limit;
            Self {}
        }
    }
}

impl Drop for BuiltinLimitsScope {
    fn drop(&mut self) {
        #[cfg(feature = "std")]
        DEADLINE.with(|d| d.set(self.outer));
    }
}

/// Records `work` units done by the running builtin; every [`TICK_INTERVAL`] units, fails if
/// the published deadline has passed or the embedder's memory probe refuses. Outside a
/// [`BuiltinLimitsScope`] it does nothing.
#[inline]
pub fn tick(work: usize) -> Result<(), LimitError> {
    #[cfg(feature = "std")]
    {
        let Some(deadline) = DEADLINE.with(core::cell::Cell::get) else {
            return Ok(());
        };
        let work = u32::try_from(work).unwrap_or(u32::MAX);
        let units = UNITS.with(|u| {
            let total = u.get().saturating_add(work);
            u.set(if total >= TICK_INTERVAL { 0 } else { total });
            total
        });
        if units >= TICK_INTERVAL {
            return check(deadline);
        }
    }
    #[cfg(not(feature = "std"))]
    let _ = work;
    Ok(())
}

/// Records one step of comparing two collections (`Value`'s `PartialEq` and `Ord`). Values
/// built by doubling (`x1 := [x0, x0]`, ... `x40 := [x39, x39]`) share their parts, so they are
/// small in memory, but comparing two of them that were built apart visits every path: time
/// exponential in their size, inside one interpreter step. A comparison cannot return an error,
/// so past the published deadline (or when the memory probe refuses) this unwinds with the
/// [`LimitError`] as the panic payload; an embedder that catches panics around an evaluation
/// can report it as the limit it is. Outside a [`BuiltinLimitsScope`] it does nothing.
#[inline]
pub fn tick_comparison() {
    #[cfg(feature = "std")]
    {
        let due = COMPARISONS.with(|c| {
            let left = c.get();
            c.set(left.wrapping_sub(1));
            left == 0
        });
        if due {
            comparisons_due();
        }
    }
}

/// Every [`TICK_INTERVAL`] comparison steps: the deadline and the memory probe.
#[cfg(feature = "std")]
#[cold]
fn comparisons_due() {
    COMPARISONS.with(|c| c.set(TICK_INTERVAL));
    if let Some(deadline) = DEADLINE.with(core::cell::Cell::get) {
        if let Err(e) = check(deadline) {
            std::panic::panic_any(e);
        }
    }
}

#[cfg(feature = "std")]
#[cold]
fn check(deadline: Deadline) -> Result<(), LimitError> {
    if let Some(now) = super::monotonic_now() {
        let elapsed = now.saturating_sub(deadline.start);
        if elapsed > deadline.limit {
            return Err(LimitError::TimeLimitExceeded {
                elapsed,
                limit: deadline.limit,
            });
        }
    }
    super::check_memory_probe()
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn a_builtin_past_its_deadline_fails_and_outside_a_scope_nothing_is_checked() {
        // A deadline at the clock's origin has passed (the clock reads past it once it has
        // been read before and time has gone by).
        let _ = super::super::monotonic_now();
        std::thread::sleep(Duration::from_millis(2));
        {
            let _scope = BuiltinLimitsScope::enter(Some((Duration::ZERO, Duration::ZERO)));
            // Below the interval no clock is read.
            assert!(tick(1).is_ok());
            assert!(matches!(
                tick(TICK_INTERVAL as usize),
                Err(LimitError::TimeLimitExceeded { limit, .. }) if limit == Duration::ZERO
            ));
            {
                let far = Duration::from_secs(1 << 40);
                let _inner = BuiltinLimitsScope::enter(Some((Duration::ZERO, far)));
                assert!(tick(TICK_INTERVAL as usize).is_ok());
            }
            // The outer deadline is back.
            assert!(tick(TICK_INTERVAL as usize).is_err());
        }
        assert!(tick(usize::MAX).is_ok());
    }
}
