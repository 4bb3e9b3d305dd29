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

// The run limits of `estimate`: past them `run`, `compare` and `sweep` refuse a scenario unless
// given `--force`. They sit far above every bundled scenario (the largest estimates, from
// `vanish check`: 3.51 M commands and a ledger of at most 557 MiB for capacity-planning, 243 MiB
// of memory for the jepsen scenarios, 500 k keys on 5 nodes) and below the slips that filled
// disks: a rate of 9.2 M/s for 15 minutes (8.3 G commands), a read-only client at
// 10 M/s for a minute (600 M ledger rows, about 61 GiB), 20 M keys on 17 nodes (32 GiB).
/// Commands per run: about five minutes at the simulator's 3.5–6 M commands/s.
pub(super) const COMMANDS_MAX: f64 = 1_000_000_000.0;
/// `ledger.csv`'s size, estimated from its upper bound on rows.
pub(super) const LEDGER_BYTES_MAX: u64 = 10 << 30;
/// Simulator heap.
pub(super) const MEMORY_BYTES_MAX: u64 = 8 << 30;
/// Average `ledger.csv` row: 106 B over the 2.74 M rows the bundled scenarios write (the widest
/// scenario averages 125 B), rounded up.
pub(super) const LEDGER_ROW_BYTES: u64 = 110;
/// Average `ledger.parquet` row: 3.4 B over a 10 M-request trace replay's 4.36 M rows
/// (numbered keys), 7.5 to 11.3 B over the bundled scenarios' (named keys, more details),
/// rounded up.
pub(super) const PARQUET_LEDGER_ROW_BYTES: u64 = 16;
/// Rows past which a run's ledger is Parquet unless `--ledger csv` is given: about 1 GB of
/// CSV, ten times the largest bundled scenario's real ledger, and more than an editor or a
/// spreadsheet opens.
pub(super) const CSV_LEDGER_ROWS_MAX: f64 = 10_000_000.0;
/// Simulator heap per key per node: `cargo bench --bench throughput` measures 100 B of peak heap
/// per live key on one node (1 M-key keyspace, 355 k keys live) and 35 MB more per replica for
/// the same workload, about 35 B per keyspace key per node (a node's slots cover its whole
/// keyspace). Peak RSS of a 2 M-key SET-only run (1.26 M keys live) is 80 MB on one node and 380
/// MB on five: 37 B per keyspace key per node. 100 B per key leaves room for keys whose
/// aggregates or dict chains cost more.
pub(super) const NODE_BYTES_PER_KEY: u64 = 100;
/// What a node costs with no keys (its databases' empty tables, INFO counters, the replication
/// backlog it fills): 16 replicas of a 1-key scenario add no measurable RSS (under 0.1 MB per
/// node), so this is an allowance for a full default 1 MB backlog.
pub(super) const NODE_FIXED_BYTES: u64 = 1 << 20;
/// A loaded trace's key name (the name and the interning tables; the trace loader's own
/// figures). Its records are counted by their true size (`TraceRecords::heap_bytes`).
pub(super) const TRACE_BYTES_PER_KEY: u64 = 128;
pub(super) const COMMAND_WEIGHT: RangeInclusive<u32> = 0..=1_000_000;
pub(super) const VALUE_BYTES_MAX: u64 = 512 << 20;
pub(super) const VALUE_BYTES_DEFAULT: u32 = 100;
pub(super) const TTL_US_MIN: u64 = 1_000;
pub(super) const TTL_US_MAX: u64 = 10 * 365 * DAY_US;
pub(super) const FIELDS: RangeInclusive<u32> = 1..=1_000_000;
pub(super) const FIELDS_DEFAULT: u32 = 16;
/// Connections of one client: up to redis.conf's default `maxclients`, 10,000.
pub(super) const CONNECTIONS: RangeInclusive<u32> = 1..=10_000;
/// Commands a client sends per round trip.
pub(super) const PIPELINE: RangeInclusive<u32> = 1..=10_000;

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
/// `shutdown-timeout`, seconds (0 = never wait for replicas).
pub(super) const SHUTDOWN_TIMEOUT_S: RangeInclusive<u32> = 0..=3600;
/// `maxclients`: Redis takes 1 and up; past a million the event loop alone is 50 MB.
pub(super) const MAXCLIENTS: RangeInclusive<u32> = 1..=1_000_000;
