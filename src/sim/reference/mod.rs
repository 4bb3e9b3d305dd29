//! What Redis is compared against: the exact policies classic cache simulators use (an exact
//! LRU list, Belady's OPT) and the one-pass hit-ratio curve of `sweep --fast` from byte stack
//! distances. None of this is Redis; it measures how far Redis's approximations are from ideal.

pub mod curve;
pub mod exact;
