//! The data a Redis database holds and what it costs: databases of dense 32-byte entries (a
//! key's slot, its dict link, its last SET's length), Redis's dict with its incremental rehash,
//! key names as dense ids, the LRU clock and LFU counter kept per key, jemalloc size classes and
//! the encodings of every value type. Nothing here knows about commands, clients or time beyond
//! the clock values it is handed.

pub mod db;
pub mod dict;
pub mod glob;
mod huge;
pub mod keys;
pub mod lru;
pub mod memory;
pub mod names;
pub mod value;

pub use huge::filled_vec;

/// Asks the CPU to bring `value`'s cache line in, without waiting for it: the engine knows the
/// key of a client's next command one command ahead, and a slot of a large keyspace is a cache
/// miss that would otherwise stall that command. A hint only: nothing is read or changed, so
/// it cannot alter a result.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 never faults and has no architectural effect; the pointer comes from
    // a live reference. SSE is part of the x86_64 baseline.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
