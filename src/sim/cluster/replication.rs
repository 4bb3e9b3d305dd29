//! Asynchronous replication (src/replication.c): the primary's stream of changes with Redis's
//! offsets (RESP bytes, SELECT on a database change, PING every `repl-ping-replica-period`,
//! relative TTLs sent as absolute deadlines, expiry and eviction sent as DEL), and a replica
//! applying it as its master client: no expiry, no eviction, keys never expired for the master.
//!
//! The stream carries each changed key's resulting state rather than the command, so a replica
//! ends exactly where the primary was; the offset counts the bytes of the command Redis would
//! have propagated.

use crate::sim::keyspace::db::{Slot, ValueKind, NO_EXPIRE};
use crate::sim::keyspace::memory::decimal_len;
use crate::sim::keyspace::value::Aggregate;
use crate::sim::ledger::{Actor, Cause, Detail, KeyId};

/// One change in the stream.
#[derive(Debug, Clone)]
pub enum ReplOp {
    /// A key's state after a write: its value and absolute deadline.
    Write {
        db: u32,
        key: KeyId,
        kind: ValueKind,
        value: u32,
        expire_ms: u64,
        writer: Actor,
        aggregate: Option<Box<Aggregate>>,
    },
    /// A key removed on the primary (DEL, expiry, eviction...), with why.
    Del {
        db: u32,
        key: KeyId,
        cause: Cause,
        actor: Actor,
        detail: Detail,
    },
    FlushDb {
        db: u32,
        by: Actor,
    },
    FlushAll {
        by: Actor,
    },
    SwapDb {
        a: u32,
        b: u32,
    },
    Ping,
    /// `REPLCONF GETACK *`, sent when a SHUTDOWN starts waiting for its replicas.
    GetAck,
}

impl ReplOp {
    /// Whether a client's write produced it (an acknowledged write), rather than the server
    /// (expiry, eviction) or an operator.
    pub fn is_client_write(&self) -> bool {
        match self {
            ReplOp::Write { writer, .. } => writer.client_index().is_some(),
            ReplOp::Del { actor, .. } => actor.client_index().is_some(),
            _ => false,
        }
    }

    /// The key the op changes.
    pub fn key(&self) -> Option<(u32, KeyId)> {
        match self {
            ReplOp::Write { db, key, .. } | ReplOp::Del { db, key, .. } => Some((*db, *key)),
            _ => None,
        }
    }

    pub fn db(&self) -> Option<u32> {
        match self {
            ReplOp::Write { db, .. } | ReplOp::Del { db, .. } | ReplOp::FlushDb { db, .. } => {
                Some(*db)
            }
            ReplOp::FlushAll { .. } | ReplOp::SwapDb { .. } | ReplOp::Ping | ReplOp::GetAck => None,
        }
    }
}

/// An op and the primary's replication offset just after it.
#[derive(Debug, Clone)]
pub struct StreamEntry {
    /// The offset before it (a SELECT it needed included): its bytes are `start + 1..=offset`.
    pub start: u64,
    pub offset: u64,
    pub op: ReplOp,
}

/// RESP size of a command whose arguments have these lengths: `*N\r\n` then `$len\r\narg\r\n`
/// per argument.
pub fn resp_bytes(argument_lengths: &[u64]) -> u64 {
    let header = 1 + decimal_len(argument_lengths.len() as u64) + 2;
    header
        + argument_lengths
            .iter()
            .map(|&len| 1 + decimal_len(len) + 2 + len + 2)
            .sum::<u64>()
}

/// `SELECT db`.
pub fn select_bytes(db: u32) -> u64 {
    resp_bytes(&[6, decimal_len(u64::from(db))])
}

/// `PING`.
pub const PING_BYTES: u64 = 14;

/// `REPLCONF GETACK *`.
pub const GETACK_BYTES: u64 = 37;

/// The primary's side: its offset, the database of the stream, and what the engine has not
/// shipped yet.
#[derive(Debug, Clone, Default)]
pub struct PrimaryStream {
    /// `master_repl_offset`.
    pub offset: u64,
    /// The database the stream last SELECTed.
    stream_db: Option<u32>,
    pub outbox: Vec<StreamEntry>,
    /// Microseconds of the last PING.
    pub last_ping_us: u64,
    /// Per node (None for the primary itself): last acknowledged offset and when (µs).
    pub acks: Vec<Option<(u64, u64)>>,
    /// Replicas online whose last ACK is at most `min-replicas-max-lag` old, as replicationCron
    /// last counted them.
    pub good_replicas: u32,
    /// On a promoted replica: the offset it had reached (`second_replid_offset` − 1); replicas
    /// of the old primary not past it can continue.
    pub promoted_at_offset: Option<u64>,
    /// Client writes this stream has carried since it began (what a replica that never
    /// followed this node lacks of it).
    pub client_writes: u64,
    /// The oldest stream byte (1-based) a replica still needs that is not in the kernel yet:
    /// the start of the slowest replica's output buffer, which keeps the shared replication
    /// buffer's blocks alive. Set by the engine, which owns the links.
    pub replica_buffer_from: Option<u64>,
}

impl PrimaryStream {
    /// The stream of node `own` among `nodes`, starting at `offset` (a promoted replica goes on
    /// from the offset it had applied).
    pub fn new(nodes: usize, own: usize, offset: u64) -> PrimaryStream {
        let mut acks = vec![Some((offset, 0)); nodes];
        if let Some(own_ack) = acks.get_mut(own) {
            *own_ack = None;
        }
        PrimaryStream {
            acks,
            offset,
            ..PrimaryStream::default()
        }
    }

    /// Appends an op of `bytes` RESP bytes, with a SELECT first when its database differs.
    pub fn push(&mut self, op: ReplOp, bytes: u64) {
        let start = self.offset;
        if let Some(db) = op.db() {
            if self.stream_db != Some(db) {
                self.offset += select_bytes(db);
                self.stream_db = Some(db);
            }
        }
        self.offset += bytes;
        self.client_writes += u64::from(op.is_client_write());
        self.outbox.push(StreamEntry {
            start,
            offset: self.offset,
            op,
        });
    }
}

/// A replica's side: what it has applied.
#[derive(Debug, Clone)]
pub struct ReplicaState {
    /// `slave_repl_offset`: the offset of the last entry applied.
    pub processed_offset: u64,
    /// When the last data arrived (µs), for `master_last_io_seconds_ago`.
    pub last_io_us: u64,
    pub priority: u32,
    /// The node it replicates from.
    pub master: usize,
    /// `master_link_status:up`.
    pub link_up: bool,
    /// A full resynchronisation is in progress (`master_sync_in_progress:1`).
    pub syncing: bool,
    /// When the link last went down (µs).
    pub link_down_since_us: u64,
}

impl ReplicaState {
    /// The link to the master is lost now (if it was up).
    pub fn link_lost(&mut self, now_us: u64) {
        if self.link_up {
            self.link_up = false;
            self.link_down_since_us = now_us;
        }
    }
}

impl Default for ReplicaState {
    /// A replica that applied nothing yet, with redis.conf's `replica-priority 100`.
    fn default() -> Self {
        ReplicaState {
            processed_offset: 0,
            last_io_us: 0,
            priority: 100,
            master: 0,
            link_up: true,
            syncing: false,
            link_down_since_us: 0,
        }
    }
}

/// What a write command propagates, for the offset: the command Redis would send.
pub fn write_bytes(command: &str, key_len: u64, extra_arguments: &[u64]) -> u64 {
    let mut lengths = vec![command.len() as u64, key_len];
    lengths.extend_from_slice(extra_arguments);
    resp_bytes(&lengths)
}

/// The state of a present key as a Write op.
pub fn snapshot(db: u32, key: KeyId, slot: &Slot, aggregate: Option<&Aggregate>) -> ReplOp {
    ReplOp::Write {
        db,
        key,
        kind: slot.kind(),
        value: slot.value,
        expire_ms: slot.expire_unix_ms,
        writer: slot.actor,
        aggregate: aggregate.map(|a| Box::new(a.clone())),
    }
}

/// Whether a deadline is set.
pub fn has_deadline(expire_ms: u64) -> bool {
    expire_ms != NO_EXPIRE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp_sizes_match_measured_offsets() {
        // redis-fidelity 4, MEASURED: SELECT 0 = 23, FLUSHALL = 18, set foo bar = 31, PING = 14.
        assert_eq!(select_bytes(0), 23);
        assert_eq!(resp_bytes(&[8]), 18);
        assert_eq!(write_bytes("set", 3, &[3]), 31);
        assert_eq!(resp_bytes(&[4]), PING_BYTES);
        assert_eq!(resp_bytes(&[8, 6, 1]), GETACK_BYTES);
    }

    #[test]
    fn the_stream_selects_when_the_database_changes() {
        let mut stream = PrimaryStream::new(2, 0, 0);
        let del = |db| ReplOp::Del {
            db,
            key: KeyId(0),
            cause: Cause::Deleted,
            actor: Actor::SERVER,
            detail: Detail::None,
        };
        stream.push(del(0), 10);
        stream.push(del(0), 10);
        stream.push(del(3), 10);
        assert_eq!(stream.offset, 23 + 10 + 10 + 23 + 10);
        stream.push(ReplOp::Ping, PING_BYTES);
        assert_eq!(stream.outbox.last().map(|e| e.offset), Some(stream.offset));
    }
}
