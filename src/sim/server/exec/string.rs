//! String commands: SET (with its optional TTL and its NX / XX / GET / KEEPTTL options, which
//! SETNX, SETEX, MSET, MSETNX and GETSET are forms of), INCR and its variants, APPEND, GETEX,
//! and the encoding a stored integer gets.

use crate::sim::config::record_flags;
use crate::sim::keyspace::db::ValueKind;
use crate::sim::keyspace::memory::{int_value_bytes, signed_decimal_len, StringEncoding};
use crate::sim::ledger::{Cause, Detail, EntryKind, Ledger};
use crate::sim::server::command::CommandKind;
use crate::sim::server::node::Node;
use crate::sim::server::protocol::{Argument, ErrorReply, Reply, Request};

impl Node {
    /// SET key value [PX ttl], with the value's encoding chosen by the memory model.
    #[inline]
    pub(super) fn set(&mut self, request: &Request, present: bool, ledger: &mut Ledger) {
        let (value, ttl_ms) = match request.argument {
            Argument::Value { len, ttl_ms } => {
                self.db_mut(request.db).record_sent_len(request.key, len);
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
            | Argument::Increment { .. }
            | Argument::FloatIncrement { .. }
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
            // The slot word holds the integer as an i32 (`incr`).
            signed_decimal_len(i64::from(old.value as i32)) as u32
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

    /// INCR, DECR, INCRBY and DECRBY by the request's amount, and INCRBYFLOAT. An integer
    /// value's slot word holds it as an i32, held at i32's bounds past them (its digits then
    /// undercount); the encoding (shared or not) follows the exact value.
    pub(super) fn incr(&mut self, request: &Request, present: bool) -> Reply {
        let slot = *self.dbs[request.db as usize].slot(request.key);
        if present && !slot.kind().is_string() {
            return Reply::Error(ErrorReply::WrongType);
        }
        let by = match request.argument {
            Argument::FloatIncrement { bits } => {
                return self.incr_float(request, present, f64::from_bits(bits))
            }
            Argument::Increment { by } => by,
            _ if request.command == CommandKind::Decr => -1,
            _ => 1,
        };
        if present && !slot.kind().is_integer() {
            return Reply::Error(ErrorReply::NotAnInteger);
        }
        let old = if present {
            i64::from(slot.value as i32)
        } else {
            0
        };
        // Redis refuses an overflow ("increment or decrement would overflow").
        let Some(value) = old.checked_add(by) else {
            return Reply::Error(ErrorReply::NotAnInteger);
        };
        let word = value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32 as u32;
        self.store_number(request, present, (self.integer_kind(value), word));
        Reply::Integer(value)
    }

    /// INCRBYFLOAT: the result is stored as the string Redis prints (`ld2string`, humanfriendly),
    /// whose length is estimated by [`float_text_len`]. The number in a string value that is
    /// not an integer is not kept: the result is taken to be as long as it.
    fn incr_float(&mut self, request: &Request, present: bool, by: f64) -> Reply {
        let slot = *self.dbs[request.db as usize].slot(request.key);
        let value = if present && !slot.kind().is_integer() {
            (slot.kind(), slot.value)
        } else {
            let old = if present {
                f64::from(slot.value as i32)
            } else {
                0.0
            };
            let sum = old + by;
            if !sum.is_finite() {
                // "increment would produce NaN or Infinity"
                return Reply::Error(ErrorReply::NotAnInteger);
            }
            self.string_value(float_text_len(sum))
        };
        self.store_number(request, present, value);
        Reply::Ok
    }

    /// Stores the result of an INCR-like command: a new key is created by the client.
    fn store_number(&mut self, request: &Request, present: bool, value: (ValueKind, u32)) {
        let (db, key) = (request.db, request.key);
        let (kind, word) = value;
        if present {
            self.dbs[db as usize].replace_value(key, kind, word);
            return;
        }
        let guard = self.expand_guard();
        let key_len = self.key_len_for_memory(key);
        let fresh_lru = self.fresh_lru();
        let database = &mut self.dbs[db as usize];
        database.add(key, key_len, kind, word, &guard);
        let slot = database.slot_mut(key);
        slot.actor = request.client;
        slot.set_lru(fresh_lru);
    }
}

/// The length of INCRBYFLOAT's result as Redis prints it: `%.17Lf` of a long double with the
/// trailing zeros (and point) removed, and "-0" as "0". An f64 printed to 15 significant
/// digits gives the same text for the short decimals users add ("10.1", "0.3"); Redis's
/// longer text for a value its 80-bit long double cannot hold exactly is undercounted.
pub(crate) fn float_text_len(value: f64) -> u32 {
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    let rounded = if rounded == 0.0 { 0.0 } else { rounded };
    rounded.to_string().len() as u32
}

#[cfg(test)]
mod tests {
    use super::float_text_len;

    #[test]
    fn incrbyfloat_results_are_as_long_as_redis_prints_them() {
        // Redis 7.0.15: INCRBYFLOAT on 10 by 0.1 → "10.1"; on "0.1" by 0.2 → "0.3"; on nothing
        // by 5.0e3 → "5000"; by -0 → "0"; DECRBY 5 of nothing → "-5".
        assert_eq!(float_text_len(10.0 + 0.1), 4);
        assert_eq!(float_text_len(0.1 + 0.2), 3);
        assert_eq!(float_text_len(5.0e3), 4);
        assert_eq!(float_text_len(-0.0), 1);
        assert_eq!(float_text_len(-5.0), 2);
        assert_eq!(float_text_len(1e-7), "0.0000001".len() as u32);
    }
}
