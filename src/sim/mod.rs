//! The simulation core: a pure, deterministic model of Redis nodes and the clients that use
//! them.
//!
//! Nothing in here reads files, the terminal, the environment or the wall clock, and no
//! randomness enters except through the seeded streams of `rng`. Input arrives as a validated
//! [`config::SimConfig`]; output leaves as a [`engine::RunOutput`] and ledger rows pushed into a
//! [`ledger::LedgerSink`].

pub mod config;
pub mod cron;
pub mod curve;
pub mod db;
pub mod dict;
pub mod dist;
pub mod durability;
pub mod engine;
pub mod evict;
pub mod expire;
pub mod glob;
pub mod info;
pub mod keys;
pub mod ledger;
pub mod lru;
pub mod memory;
pub mod network;
pub mod node;
pub mod reference;
pub mod replication;
pub mod rng;
pub mod sentinel;
pub mod snapshot;
pub mod value;
pub mod workload;
