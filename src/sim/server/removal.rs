//! Keys leaving a node's keyspace, each with its ledger row: removals by a command, expiry,
//! eviction, flushes and restarts; and the marks a key's absent slot keeps of why a write to it
//! never arrived, so that a later miss can name the cause.

use crate::sim::cluster::replication::{write_bytes, ReplOp};
use crate::sim::keyspace::db::Slot;
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, Ledger, LedgerEntry};
use crate::sim::server::node::{Node, EPOCH_UNIX_MS};

impl Node {
    /// A ledger row about `key`, stamped with this node and the current time.
    pub(super) fn entry(
        &self,
        db: u32,
        key: KeyId,
        kind: EntryKind,
        cause: Cause,
        actor: Actor,
        detail: Detail,
    ) -> LedgerEntry {
        LedgerEntry {
            time_us: self.now_us,
            node: self.id,
            db,
            key,
            kind,
            cause,
            actor,
            detail,
        }
    }

    /// Removes a present key, reporting the removal; a replica learns it as `DEL key`.
    pub(crate) fn remove_key(
        &mut self,
        db: u32,
        key: KeyId,
        cause: Cause,
        by: Actor,
        detail: Detail,
        ledger: &mut Ledger,
    ) -> Slot {
        self.remove_key_propagated_as(db, key, cause, by, detail, None, ledger)
    }

    /// Removes a present key; `propagated_bytes` is the command the replicas receive for it
    /// (`HDEL` that emptied a hash, `UNLINK`...), or None for `DEL key`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn remove_key_propagated_as(
        &mut self,
        db: u32,
        key: KeyId,
        cause: Cause,
        by: Actor,
        detail: Detail,
        propagated_bytes: Option<u64>,
        ledger: &mut Ledger,
    ) -> Slot {
        self.before_change(db, key);
        if let Some(durability) = self.durability.as_mut() {
            durability.dirty += 1;
        }
        let key_len = self.key_len_for_memory(key);
        let slot = self.dbs[db as usize].remove(key, key_len, cause, by, self.now_us);
        self.evictor.on_remove(db, key);
        if let Some(stream) = self.role.stream_mut() {
            let bytes =
                propagated_bytes.unwrap_or_else(|| write_bytes("DEL", self.keys.key_len(key), &[]));
            let op = ReplOp::Del {
                db,
                key,
                cause,
                actor: by,
                detail,
            };
            stream.push(op, bytes);
        }
        let entry = self.entry(db, key, EntryKind::Removal, cause, by, detail);
        ledger.record(entry, self.keys.group_of(key));
        slot
    }

    /// The ledger's detail for the expiry of a key holding `slot`.
    pub(super) fn expiry_detail(slot: &Slot, lazy: bool) -> Detail {
        let set_at_unix_ms = EPOCH_UNIX_MS + u64::from(slot.changed_since_start_ms);
        Detail::Expiry {
            ttl_ms: slot.expire_unix_ms.saturating_sub(set_at_unix_ms),
            set_by: slot.ttl_by(),
            set_at_ms: slot.changed_since_start_ms,
            lazy,
        }
    }

    /// Deletes a key whose deadline has passed, as expiry (`deleteExpiredKeyAndPropagate`).
    pub(crate) fn expire_key(&mut self, db: u32, key: KeyId, lazy: bool, ledger: &mut Ledger) {
        let slot = *self.dbs[db as usize].slot(key);
        let detail = Self::expiry_detail(&slot, lazy);
        self.remove_key(db, key, Cause::Expired, Actor::SERVER, detail, ledger);
        self.stats.expired_keys += 1;
    }

    /// Removes an eviction victim; the ledger row carries its `score` and memory then.
    pub(super) fn evict_key(&mut self, db: u32, key: KeyId, score: u64, ledger: &mut Ledger) {
        let detail = Detail::Eviction {
            policy: self.config.maxmemory_policy,
            score,
            used_memory: self.used_memory(),
            maxmemory: self.config.maxmemory_bytes,
        };
        self.remove_key(db, key, Cause::Evicted, Actor::SERVER, detail, ledger);
        self.stats.evicted_keys += 1;
    }

    /// An acknowledged write to `key` that this node (a promoted replica) never received: a
    /// ledger row, and a later miss on a key it would have created names `cause`.
    pub fn note_lost_write(&mut self, db: u32, key: KeyId, cause: Cause, ledger: &mut Ledger) {
        self.db_mut(db);
        let now_us = self.now_us;
        if !self.dbs[db as usize].contains(key) {
            self.dbs[db as usize].mark_absent_cause(key, cause, Actor::SERVER, now_us);
        }
        let entry = self.entry(
            db,
            key,
            EntryKind::LostWrite,
            cause,
            Actor::SERVER,
            Detail::None,
        );
        ledger.record(entry, self.keys.group_of(key));
    }

    /// A later miss here on `key` (which this node does not hold) names `cause`: the write was
    /// refused or lost on another node.
    pub fn remember_absence(&mut self, db: u32, key: KeyId, cause: Cause, by: Actor) {
        self.db_mut(db);
        let now_us = self.now_us;
        if !self.dbs[db as usize].contains(key) {
            self.dbs[db as usize].mark_absent_cause(key, cause, by, now_us);
        }
    }

    /// Removes every key of a database, recording each with `cause` (no replication, no dirty).
    /// Returns how many keys went.
    pub(super) fn drop_all(
        &mut self,
        db: u32,
        cause: Cause,
        by: Actor,
        detail: Detail,
        ledger: &mut Ledger,
    ) -> u64 {
        if !self.dbs[db as usize].is_allocated() {
            return 0;
        }
        let removed = self.dbs[db as usize].flush(cause, by, self.now_us);
        for &key in &removed {
            self.evictor.on_remove(db, key);
        }
        for &key in &removed {
            let entry = self.entry(db, key, EntryKind::Removal, cause, by, detail);
            ledger.record(entry, self.keys.group_of(key));
        }
        removed.len() as u64
    }
}
