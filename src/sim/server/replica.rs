//! What a node does in replication, by its [`Role`]: what a primary sends down its stream for
//! each write, what a replica applies from its master's, a full resynchronisation, and the
//! refusals replication adds to `processCommand` (READONLY, MASTERDOWN, NOREPLICAS). How nodes
//! are linked is the engine's business (`engine/links.rs`).

use crate::sim::cluster::replication::{
    snapshot, write_bytes, PrimaryStream, ReplOp, ReplicaState,
};
use crate::sim::keyspace::db::NO_EXPIRE;
use crate::sim::keyspace::dict::ExpandGuard;
use crate::sim::keyspace::memory::{decimal_len, signed_decimal_len};
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, Ledger};
use crate::sim::server::command::{Behaviour, CommandKind};
use crate::sim::server::node::Node;
use crate::sim::server::protocol::{Argument, ErrorReply, Reply, Request};
use crate::sim::server::role::Role;
use crate::sim::server::stats::StatSlot;

/// One block of the replication buffer: a zmalloc of 16 KB plus its 40-byte header lands in
/// jemalloc's 20,480 class, and `feedReplicationBuffer` takes the whole usable size.
const REPL_BLOCK_ALLOCATION: u64 = 20_480;
/// The stream bytes a block holds (usable size − `sizeof(replBufBlock)`).
pub const REPL_BLOCK_PAYLOAD: u64 = 20_440;
/// `sizeof(replBufBlock)` + `sizeof(listNode)`.
const REPL_BLOCK_OVERHEAD: u64 = 64;
/// What `repl_buffer_mem` adds per block: usable size + `sizeof(listNode)`.
pub const REPL_BLOCK_ACCOUNTED: u64 = REPL_BLOCK_PAYLOAD + REPL_BLOCK_OVERHEAD;

/// Blocks from the one holding stream byte `from` (1-based, as Redis's offsets count) to the
/// one holding byte `head`: blocks are filled in turn, so byte `o` is in block `(o - 1) / 20,440`.
/// What a replica's `ref_repl_buf_node` keeps alive, and what `getClientOutputBufferMemoryUsage`
/// counts against its `client-output-buffer-limit` (× [`REPL_BLOCK_ACCOUNTED`]).
pub fn replica_blocks(from: u64, head: u64) -> u64 {
    if from == 0 || from > head {
        return 0;
    }
    (head - 1) / REPL_BLOCK_PAYLOAD - (from - 1) / REPL_BLOCK_PAYLOAD + 1
}

impl Node {
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// Becomes a primary streaming `stream`, or a replica, dropping what the old role held.
    pub fn set_role(&mut self, role: Role) {
        self.role = role;
    }

    /// The replication stream, on a primary with replicas.
    pub fn stream(&self) -> Option<&PrimaryStream> {
        self.role.stream()
    }

    pub fn stream_mut(&mut self) -> Option<&mut PrimaryStream> {
        self.role.stream_mut()
    }

    /// Replication state, on a replica.
    pub fn replica(&self) -> Option<&ReplicaState> {
        self.role.replica()
    }

    pub fn replica_mut(&mut self) -> Option<&mut ReplicaState> {
        self.role.replica_mut()
    }

    /// The replication buffer's allocations, which count in used_memory: since 7.0 the backlog
    /// and the replicas share one list of blocks of 16 KB of stream (20,480-byte allocations
    /// holding 20,440 bytes), from the oldest byte the backlog (`repl-backlog-size` of history
    /// plus the block being filled) or a lagging replica still needs, to the head.
    /// Primaries with replicas and replicas both keep one.
    pub fn replication_backlog_bytes(&self) -> u64 {
        self.replication_buffer_blocks() * REPL_BLOCK_ALLOCATION
    }

    /// Blocks of the shared replication buffer (`server.repl_buffer_blocks`).
    fn replication_buffer_blocks(&self) -> u64 {
        if let Role::Standalone = self.role {
            return 0;
        }
        let offset = self.role.offset();
        let held = offset.min(self.config.repl_backlog_size + REPL_BLOCK_PAYLOAD);
        let backlog = held.div_ceil(REPL_BLOCK_PAYLOAD);
        let for_replicas = self
            .stream()
            .and_then(|s| s.replica_buffer_from)
            .map_or(0, |from| replica_blocks(from, offset));
        backlog.max(for_replicas)
    }

    /// `server.repl_buffer_mem`: Redis's own count of the buffer (each block's usable size and
    /// its list node).
    fn repl_buffer_mem(&self) -> u64 {
        self.replication_buffer_blocks() * REPL_BLOCK_ACCOUNTED
    }

    /// The replicas attached to this primary (INFO `connected_slaves`): their links are
    /// clients in `server.clients`.
    pub fn connected_replicas(&self) -> u32 {
        self.stream().map_or(0, |stream| {
            stream.acks.iter().filter(|ack| ack.is_some()).count() as u32
        })
    }

    /// INFO's `mem_replication_backlog` and `mem_clients_slaves` (`getMemoryOverheadData`):
    /// with replicas attached, what the buffer holds beyond `repl-backlog-size` is theirs.
    pub fn replication_memory_split(&self) -> (u64, u64) {
        let buffer = self.repl_buffer_mem();
        let backlog = self.config.repl_backlog_size;
        let attached = self.connected_replicas() > 0;
        if attached && buffer > backlog {
            (backlog, buffer - backlog)
        } else {
            (buffer, 0)
        }
    }

    /// The replication buffer beyond the backlog and its approximate block overhead, which
    /// `freeMemoryGetNotCountedMemory` leaves out of maxmemory (replicas' output buffers).
    pub fn replication_not_counted_bytes(&self) -> u64 {
        let buffer = self.repl_buffer_mem();
        let backlog = self.config.repl_backlog_size;
        if buffer <= backlog {
            return 0;
        }
        let counted = backlog + (backlog / 16_384 + 1) * REPL_BLOCK_OVERHEAD;
        buffer.saturating_sub(counted)
    }

    /// READONLY on a replica, MASTERDOWN on a replica without its master, NOREPLICAS on a
    /// primary without enough good replicas (`processCommand`'s replication checks).
    pub(super) fn replication_refusal(
        &mut self,
        request: &Request,
        ledger: &mut Ledger,
    ) -> Option<Reply> {
        let slot = StatSlot::Command(request.command);
        let write = !request.command.is_read();
        if let Some(replica) = self.role.replica() {
            let error = if write && self.config.replica_read_only {
                ErrorReply::ReadOnly
            } else if !self.config.replica_serve_stale_data && !replica.link_up {
                ErrorReply::MasterDown
            } else {
                return None;
            };
            self.count_rejected(slot, error);
            return Some(Reply::Error(error));
        }
        let required = self.config.min_replicas_to_write;
        let stream = self.role.stream()?;
        if !write || required == 0 || stream.good_replicas >= required {
            return None;
        }
        self.count_rejected(slot, ErrorReply::NoReplicas);
        let now_us = self.now_us;
        let database = &mut self.dbs[request.db as usize];
        if database.is_allocated() && !database.contains(request.key) {
            database.mark_absent_cause(
                request.key,
                Cause::NoreplicasRejected,
                request.client,
                now_us,
            );
        }
        let entry = self.entry(
            request.db,
            request.key,
            EntryKind::Rejected,
            Cause::NoreplicasRejected,
            request.client,
            Detail::Command {
                command: request.command,
                by: request.client,
            },
        );
        ledger.record(entry, self.keys.group_of(request.key));
        Some(Reply::Error(ErrorReply::NoReplicas))
    }

    /// A full resynchronisation of this replica with `primary` (`SYNC`): its dataset is
    /// replaced by the primary's; keys the primary does not have are wiped as `resync-flush`.
    /// Keys in `lost` (sorted; writes already declared lost, such as those this node accepted as
    /// a deposed primary) are wiped with the cause given there.
    pub fn full_sync_from(
        &mut self,
        primary: &Node,
        offset: u64,
        lost: &[((u32, KeyId), Cause)],
        ledger: &mut Ledger,
    ) {
        let mut wiped = Vec::new();
        for db in 0..self.dbs.len() as u32 {
            if !self.dbs[db as usize].is_allocated() {
                continue;
            }
            for key in self.dbs[db as usize].keys_in_bucket_order() {
                if !primary.contains(db, key) {
                    let cause = match lost.binary_search_by_key(&(db, key), |(k, _)| *k) {
                        Ok(found) => lost[found].1,
                        Err(_) => Cause::ResyncFlush,
                    };
                    let entry = self.entry(
                        db,
                        key,
                        EntryKind::Removal,
                        cause,
                        Actor::SERVER,
                        Detail::None,
                    );
                    ledger.record(entry, self.keys.group_of(key));
                    wiped.push((db, key, cause));
                }
            }
        }
        self.dbs = primary.dbs.clone();
        self.allocated_dbs = primary.allocated_dbs.clone();
        self.evictor.rebuild_reference(&self.dbs);
        // A later miss here names this node's own reason: the resync wiped the key.
        let now_us = self.now_us;
        for (db, key, cause) in wiped {
            self.dbs[db as usize].mark_absent_cause(key, cause, Actor::SERVER, now_us);
        }
        if let Some(replica) = self.role.replica_mut() {
            replica.processed_offset = offset;
            replica.last_io_us = self.now_us;
            replica.link_up = true;
            replica.syncing = false;
        }
        self.note_memory_peak();
    }

    /// Sends a write's resulting key state down the replication stream (removals were sent by
    /// `remove_key`).
    pub(super) fn propagate_write(&mut self, request: &Request, reply: Reply) {
        // An aggregate write knows whether it changed anything (HSET of an existing field does,
        // with reply 0); otherwise the reply says.
        let changed = self.write_modified.take().unwrap_or(match reply {
            Reply::Ok => true,
            Reply::Integer(n) => n != 0 || request.command.behaviour() == Behaviour::Incr,
            _ => false,
        });
        let database = &self.dbs[request.db as usize];
        if !changed || !database.contains(request.key) {
            return;
        }
        let slot = database.slot(request.key);
        let op = snapshot(
            request.db,
            request.key,
            slot,
            database.aggregate(request.key),
        );
        let bytes = propagated_bytes(request, self.keys.key_len(request.key), slot.is_volatile());
        if let Some(stream) = self.role.stream_mut() {
            stream.push(op, bytes);
        }
    }

    /// Applies one entry of the master's stream, as the master client does: no expiry, no
    /// eviction, the key's state as the master had it.
    pub fn apply_replicated(&mut self, op: &ReplOp, offset: u64, ledger: &mut Ledger) {
        match op {
            ReplOp::Write {
                db,
                key,
                kind,
                value,
                expire_ms,
                writer,
                aggregate,
            } => {
                let (db, key) = (*db, *key);
                self.db_mut(db);
                let guard = ExpandGuard::UNLIMITED;
                let since_start_ms = self.now_since_start_ms();
                let fresh_lru = self.fresh_lru();
                let key_len = self.key_len_for_memory(key);
                let present = self.dbs[db as usize].contains(key);
                let database = &mut self.dbs[db as usize];
                if present {
                    database.remove_aggregate(key);
                    database.replace_value(key, *kind, *value);
                } else {
                    database.add(key, key_len, *kind, *value, &guard);
                    database.slot_mut(key).set_lru(fresh_lru);
                }
                if let Some(aggregate) = aggregate {
                    database.insert_aggregate(key, (**aggregate).clone());
                }
                if *expire_ms == NO_EXPIRE {
                    database.persist(key);
                } else {
                    database.set_expire(key, *expire_ms, *writer, since_start_ms, &guard);
                }
                database.slot_mut(key).actor = *writer;
                if !present {
                    self.track_new_key(db, key, 0);
                }
            }
            ReplOp::Del {
                db,
                key,
                cause,
                actor,
                detail,
            } => {
                if self.dbs[*db as usize].contains(*key) {
                    self.remove_key(*db, *key, *cause, *actor, *detail, ledger);
                }
            }
            ReplOp::FlushDb { db, by } => {
                self.flush_db(*db, false, *by, ledger);
            }
            ReplOp::FlushAll { by } => {
                self.flush_all(*by, ledger);
            }
            ReplOp::SwapDb { a, b } => {
                self.swap_db(*a, *b);
            }
            ReplOp::Ping | ReplOp::GetAck => {}
        }
        if let Some(replica) = self.role.replica_mut() {
            replica.processed_offset = offset;
            replica.last_io_us = self.now_us;
        }
        self.note_memory_peak();
    }
}

/// The bytes of the command a write propagates (SET becomes SET ... PXAT, EXPIRE becomes
/// PEXPIREAT), for the replication offset. Field and member names are generated as `f<id>` and
/// `m<id>`; deadlines are 13-digit Unix ms.
pub(super) fn propagated_bytes(request: &Request, key_len: u64, volatile: bool) -> u64 {
    let deadline = [4, 13];
    match (request.command, request.argument) {
        (CommandKind::Set, Argument::Value { len, ttl_ms }) => {
            let mut extra = vec![u64::from(len)];
            if ttl_ms.is_some() {
                extra.extend(deadline);
            }
            write_bytes("SET", key_len, &extra)
        }
        (CommandKind::Set, Argument::Integer { value, ttl_ms }) => {
            let mut extra = vec![decimal_len(u64::from(value))];
            if ttl_ms.is_some() {
                extra.extend(deadline);
            }
            write_bytes("SET", key_len, &extra)
        }
        (CommandKind::Expire, _) if volatile => write_bytes("PEXPIREAT", key_len, &[13]),
        (CommandKind::Hset, Argument::Field { id, len }) => write_bytes(
            "HSET",
            key_len,
            &[1 + decimal_len(u64::from(id)), u64::from(len)],
        ),
        (CommandKind::Hdel, Argument::Field { id, .. }) => {
            write_bytes("HDEL", key_len, &[1 + decimal_len(u64::from(id))])
        }
        (CommandKind::Lpush, Argument::Value { len, .. }) => {
            write_bytes("LPUSH", key_len, &[u64::from(len)])
        }
        (CommandKind::Zadd, Argument::Member { id, score }) => write_bytes(
            "ZADD",
            key_len,
            &[
                decimal_len(score.unsigned_abs()) + u64::from(score < 0),
                1 + decimal_len(u64::from(id)),
            ],
        ),
        // Sorted-set members are `m<id>`; set members are the decimal id.
        (CommandKind::Zrem, Argument::Member { id, .. }) => {
            write_bytes("ZREM", key_len, &[1 + decimal_len(u64::from(id))])
        }
        (command, Argument::Member { id, .. }) => {
            write_bytes(command.name(), key_len, &[decimal_len(u64::from(id))])
        }
        // DECRBY's argument is the amount as written (`Argument::Increment` holds it negated).
        (command, Argument::Increment { by }) => {
            let written = if command == CommandKind::Decrby {
                by.wrapping_neg()
            } else {
                by
            };
            write_bytes(command.name(), key_len, &[signed_decimal_len(written)])
        }
        (command, _) => write_bytes(command.name(), key_len, &[]),
    }
}
