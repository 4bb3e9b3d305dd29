//! The data a Redis database holds and what it costs: databases of dense 24-byte slots, Redis's
//! dict with its incremental rehash, key names as dense ids, the LRU clock and LFU counter kept
//! per key, jemalloc size classes and the encodings of every value type. Nothing here knows about
//! commands, clients or time beyond the clock values it is handed.

pub mod db;
pub mod dict;
pub mod glob;
pub mod keys;
pub mod lru;
pub mod memory;
pub mod names;
pub mod value;
