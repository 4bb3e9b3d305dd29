//! String commands: SET (with its optional TTL and its NX / XX / GET / KEEPTTL options, which
//! SETNX, SETEX, MSET, MSETNX and GETSET are forms of), INCR and its variants, APPEND, GETEX,
//! and the encoding a stored integer gets.

use crate::sim::config::record_flags;
use crate::sim::keyspace::db::ValueKind;
use crate::sim::keyspace::memory::{int_value_bytes, StringEncoding};
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, Ledger};
use crate::sim::server::node::Node;
use crate::sim::server::protocol::{Argument, ErrorReply, Reply, Request};

impl Node {
    /// SET key value [PX ttl], with the value's encoding chosen by the memory model.
    #[inline]
    pub(super) fn set(&mut self, request: &Request, present: bool, ledger: &mut Ledger) {
        let (value, ttl_ms) = match request.argument {
            Argument::Value { len, ttl_ms } => {
                self.string_lens.record(request.key, len);
                (self.string_value(len), ttl_ms)
            }
            Argument::Integer { value, ttl_ms } => {
                ((self.integer_kind(i64::from(value)), value), ttl_ms)
            }
            // A SET without a value stores the empty string.
            Argument::None
            | Argument::Ttl { .. }
            | Argument::Field { .. }
            | Argument::Member { .. }
            | Argument::Target { .. }
            | Argument::Part { .. } => (self.string_value(0), None),
        };
        self.set_string(request, value, ttl_ms, present, ledger);
    }

    /// SET with its options: NX and XX may leave the key alone, GET refuses a non-string, and
    /// KEEPTTL keeps the deadline.
    #[inline]
    pub(super) fn set_command(
        &mut self,
        request: &Request,
        present: bool,
        ledger: &mut Ledger,
    ) -> Reply {
        let (db, key) = (request.db, request.key);
        if request.flags == 0 {
            // A plain SET (every generated one): the hot path.
            self.set(request, present, ledger);
            if !present {
                self.track_new_key(db, key, request.next_use_or_never());
            }
            return Reply::Ok;
        }
        if (request.has_flag(record_flags::NX) && present)
            || (request.has_flag(record_flags::XX) && !present)
        {
            return Reply::Integer(0);
        }
        let old = *self.dbs[db as usize].slot(key);
        if request.has_flag(record_flags::GET) && present && !old.kind().is_string() {
            return Reply::Error(ErrorReply::WrongType);
        }
        self.set(request, present, ledger);
        if !present {
            self.track_new_key(db, key, request.next_use_or_never());
        } else if request.has_flag(record_flags::KEEPTTL) && old.is_volatile() {
            let guard = self.expand_guard();
            let deadline = old.expire_unix_ms;
            let since = old.changed_since_start_ms;
            self.dbs[db as usize].set_expire(key, deadline, old.ttl_by(), since, &guard);
        }
        Reply::Ok
    }

    /// APPEND / SETRANGE: the string grows by the argument's length (the slot keeps the
    /// value's allocation, so the new length is estimated from it).
    pub(super) fn append(&mut self, request: &Request, present: bool) -> Reply {
        let (db, key) = (request.db, request.key);
        let Argument::Value { len, .. } = request.argument else {
            return Reply::Integer(0);
        };
        if !present {
            let value = self.string_value(len);
            let (kind, word) = value;
            let guard = self.expand_guard();
            let key_len = self.key_len_for_memory(key);
            let fresh_lru = self.fresh_lru();
            let database = &mut self.dbs[db as usize];
            database.add(key, key_len, kind, word, &guard);
            let slot = database.slot_mut(key);
            slot.actor = request.client;
            slot.set_lru(fresh_lru);
            self.track_new_key(db, key, request.next_use_or_never());
            return Reply::Integer(i64::from(len));
        }
        let old = *self.dbs[db as usize].slot(key);
        if !old.kind().is_string() {
            return Reply::Error(ErrorReply::WrongType);
        }
        let old_len = if old.kind().is_integer() {
            crate::sim::keyspace::memory::decimal_len(u64::from(old.value)) as u32
        } else {
            old.value
        };
        let new_len = old_len.saturating_add(len);
        let (kind, word) = self.string_value(new_len);
        let database = &mut self.dbs[db as usize];
        database.replace_value(key, kind, word);
        database.slot_mut(key).actor = request.client;
        Reply::Integer(i64::from(new_len))
    }

    /// GETEX key [EX|PX|EXAT|PXAT t | PERSIST]: the value is read, its TTL may change.
    pub(super) fn getex(&mut self, request: &Request, present: bool, ledger: &mut Ledger) -> Reply {
        let (db, key) = (request.db, request.key);
        if !present {
            return Reply::Integer(0);
        }
        if !self.dbs[db as usize].slot(key).kind().is_string() {
            return Reply::Error(ErrorReply::WrongType);
        }
        if request.has_flag(record_flags::XX) {
            // getexCommand: an EXAT or PXAT already past deletes the key (propagated as DEL or
            // UNLINK, not counted in expired_keys).
            return self.del(request, true, ledger);
        }
        if request.has_flag(record_flags::PERSIST_OR_REPLACE) {
            self.dbs[db as usize].persist(key);
        } else if let Argument::Ttl { ms } = request.argument {
            if ms > 0 {
                self.apply_ttl(db, key, request.client, ms);
            }
        }
        Reply::Integer(1)
    }

    /// Whether small integers may be shared objects (redis-fidelity 1.8).
    fn integers_shareable(&self) -> bool {
        !(self.config.maxmemory_bytes != 0 && self.config.maxmemory_policy.uses_lru_or_lfu())
    }

    /// The encoding an integer value gets when stored now.
    fn integer_kind(&self, value: i64) -> ValueKind {
        match int_value_bytes(value, self.integers_shareable()).0 {
            StringEncoding::SharedInt => ValueKind::SharedInt,
            _ => ValueKind::Int,
        }
    }

    /// SET key value [PX ttl]: `setKey` replaces the value and clears any TTL. `value` is the
    /// slot's kind and value word.
    fn set_string(
        &mut self,
        request: &Request,
        value: (ValueKind, u32),
        ttl_ms: Option<u64>,
        present: bool,
        ledger: &mut Ledger,
    ) {
        let (db, key, client) = (request.db, request.key, request.client);
        let (kind, word) = value;
        let fresh_lru = self.fresh_lru();
        if present {
            let old = *self.dbs[db as usize].slot(key);
            let type_changed = !old.kind().is_string();
            if type_changed || old.actor != client {
                let detail = Detail::Overwrite {
                    by: client,
                    previous_writer: old.actor,
                    type_changed,
                };
                let entry = self.entry(
                    db,
                    key,
                    EntryKind::Removal,
                    Cause::Overwritten,
                    client,
                    detail,
                );
                ledger.record(entry, self.keys.group_of(key));
            }
            let database = &mut self.dbs[db as usize];
            if type_changed {
                // The aggregate's element model goes with its value.
                database.remove_aggregate(key);
            }
            database.replace_value(key, kind, word);
            database.persist(key);
            let slot = database.slot_mut(key);
            slot.actor = client;
            // dbOverwrite keeps the old LFU data; in LRU mode the new object carries "now".
            if !self.config.maxmemory_policy.uses_lfu() {
                slot.set_lru(fresh_lru);
            }
        } else {
            let guard = self.expand_guard();
            let key_len = self.key_len_for_memory(key);
            let database = &mut self.dbs[db as usize];
            database.add(key, key_len, kind, word, &guard);
            let slot = database.slot_mut(key);
            slot.actor = client;
            slot.set_lru(fresh_lru);
        }
        if let Some(ttl) = ttl_ms {
            self.apply_ttl(db, key, client, ttl);
        }
    }

    pub(super) fn incr(&mut self, db: u32, key: KeyId, client: Actor, present: bool) -> Reply {
        if !present {
            let guard = self.expand_guard();
            let key_len = self.key_len_for_memory(key);
            let fresh_lru = self.fresh_lru();
            let kind = self.integer_kind(1);
            let database = &mut self.dbs[db as usize];
            database.add(key, key_len, kind, 1, &guard);
            let slot = database.slot_mut(key);
            slot.actor = client;
            slot.set_lru(fresh_lru);
            return Reply::Integer(1);
        }
        let slot = *self.dbs[db as usize].slot(key);
        if !slot.kind().is_string() {
            return Reply::Error(ErrorReply::WrongType);
        }
        if !slot.kind().is_integer() || slot.value == u32::MAX {
            return Reply::Error(ErrorReply::NotAnInteger);
        }
        let value = i64::from(slot.value) + 1;
        let kind = self.integer_kind(value);
        self.dbs[db as usize].replace_value(key, kind, value as u32);
        Reply::Integer(value)
    }
}
