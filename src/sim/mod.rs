//! The simulation core: a pure, deterministic model of Redis nodes and the clients that use
//! them.
//!
//! Nothing in here reads files, the terminal, the environment or the wall clock, and no
//! randomness enters except through the seeded streams of `random`. Input arrives as a
//! validated [`config::SimConfig`]; output leaves as a [`engine::RunOutput`] and ledger rows
//! pushed into a [`ledger::LedgerSink`].
//!
//! The folders tell the story from the bottom up: `keyspace` is the data a Redis database holds
//! and what it costs in memory; `server` is one Redis process running commands over it
//! (eviction, expiry, cron, persistence, INFO); `cluster` is how servers relate (replication,
//! Sentinel, the network between them); `engine` is the world that drives clients and servers
//! on the virtual clock; `random` holds the seeded streams and distributions; `reference` the
//! non-Redis policies and one-pass curves used for comparison.

pub mod cluster;
pub mod config;
pub mod engine;
pub mod keyspace;
pub mod ledger;
pub mod random;
pub mod records;
pub mod reference;
pub mod server;
