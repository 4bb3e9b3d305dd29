//! Commands that give a value another place: RENAME and RENAMENX (another name), MOVE (another
//! database) and COPY (a second copy). The value keeps its object, so its TTL, LRU/LFU field
//! and writer go with it (COPY makes a new object, with a fresh access time). The key that
//! loses its value gets a ledger row saying where the value went (`renamed`, `moved`); a
//! target that held a value loses it as `overwritten`.

use crate::sim::cluster::replication::{snapshot, write_bytes};
use crate::sim::config::record_flags;
use crate::sim::keyspace::db::Slot;
use crate::sim::keyspace::value::Aggregate;
use crate::sim::ledger::{Cause, Detail, KeyId, Ledger};
use crate::sim::reference::exact::NEVER;
use crate::sim::server::command::CommandKind;
use crate::sim::server::node::Node;
use crate::sim::server::protocol::{Argument, ErrorReply, Reply, Request};

impl Node {
    /// RENAME / RENAMENX key newkey.
    pub(super) fn rename(
        &mut self,
        request: &Request,
        present: bool,
        ledger: &mut Ledger,
    ) -> Reply {
        let Request {
            db,
            key,
            command,
            client,
            ..
        } = *request;
        let nx = command == CommandKind::Renamenx;
        let to = target(request).0;
        if !present {
            return Reply::Error(ErrorReply::NoSuchKey);
        }
        if to == key {
            return if nx { Reply::Integer(0) } else { Reply::Ok };
        }
        self.before_change(db, to);
        let to_present = self.lookup(db, to, true, NEVER, ledger);
        if to_present && nx {
            return Reply::Integer(0);
        }
        if to_present {
            self.lose_to(request, db, to, ledger);
        }
        let bytes = write_bytes(
            command.name(),
            self.keys.key_len(key),
            &[self.keys.key_len(to)],
        );
        let detail = Detail::Relocated {
            command,
            by: client,
            to,
            to_db: db,
        };
        let (slot, aggregate) = self.take(db, key, Cause::Renamed, detail, bytes, request, ledger);
        self.place(db, to, &slot, aggregate, slot.lru());
        self.propagate_key(db, to, 0);
        if nx {
            Reply::Integer(1)
        } else {
            Reply::Ok
        }
    }

    /// MOVE key db: only to a database where the key does not exist.
    pub(super) fn move_key(
        &mut self,
        request: &Request,
        present: bool,
        ledger: &mut Ledger,
    ) -> Reply {
        let Request {
            db,
            key,
            command,
            client,
            ..
        } = *request;
        let to_db = target(request).1;
        if !present || to_db == db || to_db as usize >= self.dbs.len() {
            return Reply::Integer(0);
        }
        self.db_mut(to_db);
        self.before_change(to_db, key);
        if self.lookup(to_db, key, true, NEVER, ledger) {
            return Reply::Integer(0);
        }
        let bytes = write_bytes("MOVE", self.keys.key_len(key), &[1]);
        let detail = Detail::Relocated {
            command,
            by: client,
            to: key,
            to_db,
        };
        let (slot, aggregate) = self.take(db, key, Cause::Moved, detail, bytes, request, ledger);
        self.place(to_db, key, &slot, aggregate, slot.lru());
        self.propagate_key(to_db, key, 0);
        Reply::Integer(1)
    }

    /// COPY source destination [DB db] [REPLACE].
    pub(super) fn copy(&mut self, request: &Request, present: bool, ledger: &mut Ledger) -> Reply {
        let (db, key) = (request.db, request.key);
        let (to, to_db_plus_one) = target(request);
        let to_db = match to_db_plus_one {
            0 => db,
            plus_one => plus_one - 1,
        };
        if !present || to_db as usize >= self.dbs.len() || (to == key && to_db == db) {
            return Reply::Integer(0);
        }
        self.db_mut(to_db);
        self.before_change(to_db, to);
        if self.lookup(to_db, to, true, NEVER, ledger) {
            if !request.has_flag(record_flags::PERSIST_OR_REPLACE) {
                return Reply::Integer(0);
            }
            self.lose_to(request, to_db, to, ledger);
        }
        let slot = *self.dbs[db as usize].slot(key);
        let aggregate = self.dbs[db as usize].aggregate(key).cloned();
        let fresh_lru = self.fresh_lru();
        self.place(to_db, to, &slot, aggregate, fresh_lru);
        let bytes = write_bytes("COPY", self.keys.key_len(key), &[self.keys.key_len(to)]);
        self.propagate_key(to_db, to, bytes);
        Reply::Integer(1)
    }

    /// The target's old value goes: overwritten by the command.
    pub(super) fn lose_to(&mut self, request: &Request, db: u32, key: KeyId, ledger: &mut Ledger) {
        let detail = Detail::Command {
            command: request.command,
            by: request.client,
        };
        self.remove_key_propagated_as(
            db,
            key,
            Cause::Overwritten,
            request.client,
            detail,
            Some(0),
            ledger,
        );
    }

    /// Removes the source key, keeping its value for `place`; replicas receive the command
    /// (`bytes`) and then the value's new home.
    #[allow(clippy::too_many_arguments)]
    fn take(
        &mut self,
        db: u32,
        key: KeyId,
        cause: Cause,
        detail: Detail,
        bytes: u64,
        request: &Request,
        ledger: &mut Ledger,
    ) -> (Slot, Option<Aggregate>) {
        let aggregate = self.dbs[db as usize].aggregate(key).cloned();
        let slot = self.remove_key_propagated_as(
            db,
            key,
            cause,
            request.client,
            detail,
            Some(bytes),
            ledger,
        );
        (slot, aggregate)
    }

    /// Stores `slot`'s value (and TTL) under `key` in `db`, which holds no such key.
    fn place(&mut self, db: u32, key: KeyId, slot: &Slot, aggregate: Option<Aggregate>, lru: u32) {
        let guard = self.expand_guard();
        let key_len = self.key_len_for_memory(key);
        let database = &mut self.dbs[db as usize];
        database.add(key, key_len, slot.kind(), slot.value, &guard);
        if let Some(aggregate) = aggregate {
            database.insert_aggregate(key, aggregate);
        }
        let placed = database.slot_mut(key);
        placed.actor = slot.actor;
        placed.set_lru(lru);
        if slot.is_volatile() {
            database.set_expire(
                key,
                slot.expire_unix_ms,
                slot.ttl_by(),
                slot.changed_since_start_ms,
                &guard,
            );
        }
        self.track_new_key(db, key, NEVER);
    }

    /// Sends the key's state to the replicas, `bytes` of offset.
    pub(super) fn propagate_key(&mut self, db: u32, key: KeyId, bytes: u64) {
        let database = &self.dbs[db as usize];
        let op = snapshot(db, key, database.slot(key), database.aggregate(key));
        if let Some(stream) = self.role.stream_mut() {
            stream.push(op, bytes);
        }
    }
}

/// The target key and database a RENAME, COPY or MOVE carries.
fn target(request: &Request) -> (KeyId, u32) {
    assert!(
        matches!(request.argument, Argument::Target { .. }),
        "{} carries a target: {request:?}",
        request.command.name()
    );
    match request.argument {
        Argument::Target { key, db } => (key, db),
        _ => (request.key, request.db),
    }
}
