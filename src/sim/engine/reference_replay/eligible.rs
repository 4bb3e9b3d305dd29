//! Which scenarios the replay kernel may run: those where every figure the full engine
//! reports can be computed without it, exactly.
//!
//! One node (no replicas, Sentinels or operator events, so no faults and no persistence
//! rollback), the raw memory model (used_memory is the values' bytes: no dict, client or
//! startup memory, so no connection's state changes what is evicted), any policy (a reference
//! policy's keys live in the kernel, Redis's own policies' in the node, `on_node.rs`), and
//! clients that replay traces of plain GETs (no TTLs, no option flags, one database for every
//! client, read-through or not). Each client keeps one connection and one command a round
//! trip, requests fit the first read's 16 KB query buffer and replies the smallest reply
//! buffer (1 KB), and neither client eviction nor an output-buffer limit can close a
//! connection: the connection figures then follow from each clientsCron interval's largest
//! request and reply (`server/replay_io.rs`). No value is larger than maxmemory (a reference
//! policy's write would be refused with -OOM, which its keyspace does not model).

use crate::sim::config::{MemoryModel, SimConfig, TraceOp, Workload};
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::server::connections::{PROTO_IOBUF_LEN, PROTO_REPLY_MIN_BYTES};
use crate::sim::server::resp;
use crate::sim::server::{Argument, CommandKind};

/// Why a scenario goes to the full engine (for tests and for whoever wonders).
pub type Ineligible = &'static str;

/// Whether the kernel may run `config`.
pub fn eligible(config: &SimConfig) -> Result<(), Ineligible> {
    eligible_config(config)?;
    key_lengths(&KeyTable::from_clients(&config.clients).0)
}

/// Everything but the key names' lengths, which need the key table.
pub(super) fn eligible_config(config: &SimConfig) -> Result<(), Ineligible> {
    world(config)?;
    server(config)?;
    clients(config)
}

fn world(config: &SimConfig) -> Result<(), Ineligible> {
    if !config.replicas.is_empty() {
        return Err("replicas");
    }
    if config.sentinel.is_some() {
        return Err("sentinels");
    }
    if !config.events.is_empty() {
        return Err("operator events or faults");
    }
    // Slots keep removal times as u32 milliseconds.
    if config.duration_us / 1000 >= u64::from(u32::MAX) {
        return Err("a duration past u32 milliseconds");
    }
    Ok(())
}

fn server(config: &SimConfig) -> Result<(), Ineligible> {
    let server = &config.server;
    if server.memory_model != MemoryModel::Raw {
        return Err("a memory model other than raw");
    }
    if server.maxmemory_clients.limit_bytes(server.maxmemory_bytes) != 0 {
        return Err("maxmemory-clients");
    }
    let limit = server.normal_output_buffer_limit;
    if limit.hard_bytes != 0 || limit.soft_bytes != 0 {
        return Err("client-output-buffer-limit normal");
    }
    Ok(())
}

fn clients(config: &SimConfig) -> Result<(), Ineligible> {
    let Some(first) = config.clients.first() else {
        return Err("no clients");
    };
    if config.clients.len() > super::keyspace::MAX_CLIENTS {
        return Err("more clients than an entry can name");
    }
    // Each client keeps one connection; none may be refused at maxclients.
    if config.clients.len() as u64 > u64::from(config.server.maxclients) {
        return Err("more connections than maxclients");
    }
    for client in &config.clients {
        let Workload::Trace(replay) = &client.workload else {
            return Err("a generated workload");
        };
        if client.connections != 1 || client.pipeline != 1 {
            return Err("a pool or a pipeline");
        }
        if client.connection.wait.is_some() {
            return Err("WAIT");
        }
        if client.db != first.db {
            return Err("clients on different databases");
        }
        let trace = &replay.trace;
        let records = &trace.records;
        if trace.per_record_db {
            return Err("records with their own database");
        }
        if records.count_op(TraceOp::Get) != records.len() {
            return Err("records other than GET");
        }
        if records.any_flags() {
            return Err("records with option flags");
        }
        let largest = records.max_value_size();
        let maxmemory = config.server.maxmemory_bytes;
        if maxmemory != 0 && u64::from(largest) > maxmemory {
            return Err("a value larger than maxmemory");
        }
        if resp::bulk_bytes(u64::from(largest)) > PROTO_REPLY_MIN_BYTES
            || largest > super::keyspace::MAX_VALUE_LEN
        {
            return Err("a reply larger than the smallest reply buffer");
        }
    }
    Ok(())
}

pub(super) fn key_lengths(keys: &KeyTable) -> Result<(), Ineligible> {
    // No keys, no request to read: the longest is then 0.
    let longest = (0..keys.len() as u32)
        .map(|key| keys.key_len(crate::sim::ledger::KeyId(key)))
        .fold(0, u64::max);
    if resp::request_bytes(CommandKind::Get, longest, Argument::None) > PROTO_IOBUF_LEN {
        return Err("a request larger than the first read");
    }
    Ok(())
}
