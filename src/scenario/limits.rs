//! The ranges and limits a scenario's values must fall within, and the defaults of a generated
//! workload.
//!
//! The resource limits protect the machine running the simulator: a scenario asking for more is
//! refused before a run starts rather than discovered as an out-of-memory kill an hour in. The
//! redis.conf ranges are shared by `[server]` and `config-set` events.

use std::ops::RangeInclusive;

use crate::sim::config::MICROS_PER_SECOND;

pub(super) const DAY_US: u64 = 86_400 * MICROS_PER_SECOND;
pub(super) const DURATION_US_MAX: u64 = 30 * DAY_US;
pub(super) const SAMPLE_EVERY_US_MIN: u64 = 1_000;
pub(super) const SAMPLES_MAX: u64 = 1_000_000;
/// Commands (or trace requests) per second of one client.
pub(super) const RATE_MAX: f64 = 10_000_000.0;
pub(super) const KEYS: RangeInclusive<u64> = 1..=100_000_000;
pub(super) const DISTINCT_KEYS_MAX: u64 = 100_000_000;
/// Rough cost of one simulated key (name, metadata, index entry); only for the error message.
pub(super) const SIMULATOR_BYTES_PER_KEY: u64 = 128;
pub(super) const COMMANDS_EXPECTED_MAX: f64 = 10_000_000_000.0;
pub(super) const COMMAND_WEIGHT: RangeInclusive<u32> = 0..=1_000_000;
pub(super) const VALUE_BYTES_MAX: u64 = 512 << 20;
pub(super) const VALUE_BYTES_DEFAULT: u32 = 100;
pub(super) const TTL_US_MIN: u64 = 1_000;
pub(super) const TTL_US_MAX: u64 = 10 * 365 * DAY_US;
pub(super) const FIELDS: RangeInclusive<u32> = 1..=1_000_000;
pub(super) const FIELDS_DEFAULT: u32 = 16;

// redis.conf ranges, shared by [server] and `config-set` events.
pub(super) const MAXMEMORY_SAMPLES: RangeInclusive<u32> = 1..=64;
pub(super) const MAXMEMORY_EVICTION_TENACITY: RangeInclusive<u32> = 0..=100;
pub(super) const LFU_LOG_FACTOR: RangeInclusive<u32> = 0..=1_000_000;
pub(super) const LFU_DECAY_TIME: RangeInclusive<u32> = 0..=1_000_000;
pub(super) const HZ: RangeInclusive<u32> = 1..=500;
pub(super) const DATABASES: RangeInclusive<u32> = 1..=1024;
pub(super) const ACTIVE_EXPIRE_EFFORT: RangeInclusive<u32> = 1..=10;
pub(super) const ENCODING_THRESHOLD: RangeInclusive<u32> = 0..=u32::MAX;

// Replication directives, [server] only; narrower than redis.conf allows, to catch slips such as
// milliseconds where seconds are meant.
pub(super) const REPL_TIMEOUT_S: RangeInclusive<u32> = 1..=3600;
pub(super) const REPL_DISKLESS_SYNC_DELAY_S: RangeInclusive<u32> = 0..=3600;
pub(super) const MIN_REPLICAS_TO_WRITE: RangeInclusive<u32> = 0..=16;
pub(super) const MIN_REPLICAS_MAX_LAG_S: RangeInclusive<u32> = 1..=3600;
