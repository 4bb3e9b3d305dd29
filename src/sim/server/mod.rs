//! One Redis server process: the command table and the protocol a client speaks to it, the
//! execution of commands over its keyspace, eviction under `maxmemory`, lazy and active expiry,
//! `serverCron`, RDB/AOF durability, its part in replication, its process's life, and the INFO
//! figures it reports. Everything here is one node's business; how nodes relate lives in
//! `cluster`, and when a node acts is decided by `engine`.
//!
//! `Node` (`node.rs`) is the public face. The modules that only define state (`command`,
//! `protocol`, `stats`, `evict`, `role`, `process`, `durability`, `info`) import nothing from
//! `node`; the ones that add behaviour to `Node` (`exec`, `removal`, `replica`, `lifecycle`,
//! `expire`, `cron`, `snapshot`) depend on it, never the other way.

mod argv;
mod client_io;
pub mod command;
pub mod connections;
pub mod cron;
pub mod durability;
pub mod evict;
mod exec;
pub mod expire;
pub mod info;
mod lifecycle;
pub mod node;
pub mod process;
pub mod protocol;
mod query_buffer;
mod removal;
mod replay_io;
pub mod replica;
pub mod resp;
pub mod role;
pub mod snapshot;
pub mod stats;

pub use command::{AdminCommand, CommandKind};
pub use node::Node;
pub use process::Process;
pub use protocol::{Argument, ErrorReply, Reply, Request};
pub use role::Role;
