//! String commands: SET (with its optional TTL) and INCR, and the encoding a stored integer
//! gets.

use crate::sim::keyspace::db::ValueKind;
use crate::sim::keyspace::memory::{int_value_bytes, StringEncoding};
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, Ledger};
use crate::sim::server::node::Node;
use crate::sim::server::protocol::{Argument, ErrorReply, Reply, Request};

impl Node {
    /// SET key value [PX ttl], with the value's encoding chosen by the memory model.
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
            | Argument::Member { .. } => (self.string_value(0), None),
        };
        self.set_string(request, value, ttl_ms, present, ledger);
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
