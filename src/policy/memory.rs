//! The memory limit of a policy evaluation.
//!
//! regorus's own allocation accounting (its `allocator-memory-limits` feature) needs its mimalloc
//! fork as the global allocator; planguard has its own. So the binary's global allocator is
//! [`CountingAlloc`], which counts the bytes each thread holds, and regorus calls the probe
//! installed by [`install`] wherever it checks its limits (every statement and loop step, inside
//! builtins' loops, and while compiling). An evaluation ([`with_budget`]) that grows its thread's
//! holdings by more than the limit fails with regorus's `MemoryLimitExceeded` error, which becomes
//! a policy failure at the rule's file and line; the memory is freed as the evaluation unwinds and
//! the other policies still run. Builtins that build a result of a size known up front (`concat`,
//! `replace`, `strings.replace_n`, `json.marshal`) ask the probe for that size first, so `concat`
//! of a million references to one 1 MB string is refused instead of aborting the process on a
//! failed 1 TB allocation.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use regorus::utils::limits::LimitError;

/// Frees `value` on a thread of its own, off the caller's critical path: a plan's worth of
/// values, a loaded library or a report is hundreds of thousands of small deallocations (20 ms
/// each for the library and the report of a 100,000-resource check, at the end of the run). A
/// long-running server still gets the memory back; a process that exits first skips the work.
pub fn free_in_background<T: Send + 'static>(value: T) {
    // Without a thread to spare, the closure (and `value`) is dropped here.
    let _ = std::thread::Builder::new()
        .name("planguard-drop".into())
        .spawn(move || drop(value));
}

/// The default limit of one evaluation: far above what real policies use on large plans.
pub const DEFAULT_LIMIT: u64 = 2 << 30;

static LIMIT: AtomicU64 = AtomicU64::new(DEFAULT_LIMIT);

thread_local! {
    /// Bytes allocated minus bytes freed by this thread (negative when it frees what others
    /// allocated).
    static HELD: Cell<i64> = const { Cell::new(0) };
    /// What the thread held when its current evaluation started, if one is running.
    static BASELINE: Cell<Option<i64>> = const { Cell::new(None) };
}

/// A global allocator counting each thread's holdings around another allocator.
pub struct CountingAlloc<A>(pub A);

fn count(delta: i64) {
    // `try_with`: the counter may be gone while a thread is being torn down.
    let _ = HELD.try_with(|held| held.set(held.get().wrapping_add(delta)));
}

// SAFETY: every call is forwarded unchanged to the inner allocator; counting has no effect
// on the memory returned.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { self.0.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as i64);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { self.0.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as i64);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) };
        count(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as i64 - layout.size() as i64);
        }
        new
    }
}

/// Sets the limit of one evaluation, in bytes, and installs the probe regorus calls.
pub fn install(limit: u64) {
    LIMIT.store(limit, Ordering::Relaxed);
    let _ = regorus::utils::limits::set_memory_probe(probe);
}

/// The limit of one evaluation, in bytes.
pub fn limit() -> u64 {
    LIMIT.load(Ordering::Relaxed)
}

/// Runs one evaluation under the limit: what the thread holds beyond what it held on entry.
pub fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    let held = HELD.with(Cell::get);
    let outer = BASELINE.with(|b| b.replace(Some(held)));
    let result = f();
    BASELINE.with(|b| b.set(outer));
    result
}

/// Whether the running evaluation holds, or with `additional` bytes more would hold, more than
/// the limit.
fn probe(additional: u64) -> Result<(), LimitError> {
    let Some(baseline) = BASELINE.with(Cell::get) else {
        return Ok(());
    };
    let held = HELD.with(Cell::get).saturating_sub(baseline).max(0) as u64;
    let usage = held.saturating_add(additional);
    let limit = LIMIT.load(Ordering::Relaxed);
    if usage > limit {
        return Err(LimitError::MemoryLimitExceeded { usage, limit });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_evaluation_over_its_budget_fails_the_probe_and_the_next_one_starts_afresh() {
        install(1 << 20);
        with_budget(|| {
            assert!(
                probe(2 << 20).is_err(),
                "a 2 MiB allocation would pass the limit"
            );
            count(2 << 20);
            assert!(matches!(
                probe(0),
                Err(LimitError::MemoryLimitExceeded { usage, limit: 1_048_576 }) if usage >= 2 << 20
            ));
            count(-(2 << 20));
        });
        with_budget(|| assert!(probe(0).is_ok()));
        // Outside an evaluation there is no limit.
        count(4 << 20);
        assert!(probe(u64::MAX).is_ok());
        count(-(4 << 20));
    }
}
