//! One Redis server process: the command execution over its keyspace, eviction under
//! `maxmemory`, lazy and active expiry, `serverCron`, RDB/AOF durability, and the INFO figures
//! it reports. Everything here is one node's business; how nodes relate lives in `cluster`, and
//! when a node acts is decided by `engine`.

pub mod cron;
pub mod durability;
pub mod evict;
pub mod expire;
pub mod info;
pub mod node;
pub mod snapshot;
