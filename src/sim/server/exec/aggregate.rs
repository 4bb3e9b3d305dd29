//! Aggregate commands: those that add an element (HSET, LPUSH, RPUSH, SADD, ZADD, ZINCRBY...),
//! remove a named one (HDEL, SREM, ZREM) or pop one (LPOP, RPOP, BLPOP, SPOP, ZPOPMIN...). The
//! command table says which type each works on and how it behaves; the adding ones create the
//! key (except LPUSHX, RPUSHX and LINSERT), and removing the last element removes the key
//! (`emptied`).

use crate::sim::keyspace::db::ValueKind;
use crate::sim::keyspace::value::{
    Aggregate, EncodingLimits, HashValue, ListValue, SetValue, ZsetValue,
};
use crate::sim::ledger::{Cause, Detail, KeyId, Ledger};
use crate::sim::server::command::{Behaviour, CommandKind};
use crate::sim::server::node::Node;
use crate::sim::server::protocol::{Argument, ErrorReply, Reply, Request};
use crate::sim::server::replica::propagated_bytes;

impl Node {
    /// HSET/HDEL/LPUSH/LPOP/SADD/SREM/ZADD/ZREM.
    pub(super) fn aggregate_write(
        &mut self,
        request: &Request,
        present: bool,
        ledger: &mut Ledger,
    ) -> Reply {
        let Request {
            db, key, command, ..
        } = *request;
        let key_type = command.key_type();
        let aggregate_kind = key_type.aggregate_kind();
        assert!(
            aggregate_kind.is_some(),
            "{} is not an aggregate command",
            command.name()
        );
        let Some(wanted) = aggregate_kind else {
            return Reply::Error(ErrorReply::WrongType);
        };
        if present && !key_type.admits(self.dbs[db as usize].slot(key).kind()) {
            return Reply::Error(ErrorReply::WrongType);
        }
        if !present {
            // The adding commands create the key; the removing ones find nothing to remove.
            if !creates_key(command) {
                return Reply::Integer(0);
            }
            self.create_aggregate(request, wanted);
        }
        let limits = self.limits;
        let Some(aggregate) = self.dbs[db as usize].aggregate_mut(key) else {
            return Reply::Integer(0);
        };
        let (changed, modified) = apply(aggregate, command, request.argument, &limits);
        self.write_modified = Some(modified);
        let database = &mut self.dbs[db as usize];
        let (bytes, empty) = match database.aggregate(key) {
            Some(aggregate) => (aggregate.bytes(), aggregate.is_empty()),
            None => (0, true),
        };
        if empty {
            self.remove_emptied(request, ledger);
        } else {
            database.replace_value(key, wanted, bytes.min(u64::from(u32::MAX)) as u32);
        }
        Reply::Integer(i64::from(changed))
    }

    /// Stores an empty aggregate of `kind` under the request's key.
    pub(super) fn create_aggregate(&mut self, request: &Request, kind: ValueKind) {
        let (db, key) = (request.db, request.key);
        let aggregate = empty_aggregate(kind, key);
        assert!(aggregate.is_some(), "{kind:?} is not an aggregate");
        let Some(aggregate) = aggregate else {
            return;
        };
        let guard = self.expand_guard();
        let key_len = self.key_len_for_memory(key);
        let fresh_lru = self.fresh_lru();
        let database = &mut self.dbs[db as usize];
        database.add(key, key_len, kind, 0, &guard);
        database.insert_aggregate(key, aggregate);
        let slot = database.slot_mut(key);
        slot.actor = request.client;
        slot.set_lru(fresh_lru);
        self.track_new_key(db, key, request.next_use_or_never());
    }

    /// Removing the last element deletes the key; replicas receive the command itself (HDEL,
    /// LPOP...), which deletes it there.
    pub(super) fn remove_emptied(&mut self, request: &Request, ledger: &mut Ledger) {
        let Request {
            db,
            key,
            command,
            client,
            ..
        } = *request;
        let detail = Detail::Command {
            command,
            by: client,
        };
        let propagated = propagated_bytes(request, self.keys.key_len(key), false);
        self.remove_key_propagated_as(
            db,
            key,
            Cause::Emptied,
            client,
            detail,
            Some(propagated),
            ledger,
        );
        self.write_modified = Some(false);
    }
}

/// An empty value of an aggregate `kind`; None for the string kinds.
fn empty_aggregate(kind: ValueKind, key: KeyId) -> Option<Aggregate> {
    match kind {
        ValueKind::Hash => Some(Aggregate::Hash(HashValue::new())),
        ValueKind::List => Some(Aggregate::List(ListValue::new())),
        ValueKind::Set => Some(Aggregate::Set(SetValue::new())),
        ValueKind::Zset => Some(Aggregate::Zset(ZsetValue::with_seed(u64::from(key.0)))),
        ValueKind::Absent
        | ValueKind::Embstr
        | ValueKind::Raw
        | ValueKind::Int
        | ValueKind::SharedInt => None,
    }
}

/// Whether the command creates a missing key: the adding ones but the "only if it exists"
/// list commands.
fn creates_key(command: CommandKind) -> bool {
    command.behaviour() == Behaviour::Add
        && !matches!(
            command,
            CommandKind::Lpushx | CommandKind::Rpushx | CommandKind::Linsert
        )
}

/// Applies the command to the value: (the reply's count, whether the value changed). HSET of an
/// existing field and ZADD of a new score change it with a reply of 0.
fn apply(
    aggregate: &mut Aggregate,
    command: CommandKind,
    argument: Argument,
    limits: &EncodingLimits,
) -> (bool, bool) {
    let behaviour = command.behaviour();
    if behaviour == Behaviour::Pop {
        let popped = match aggregate {
            Aggregate::Hash(_) => false,
            Aggregate::List(list) => list.lpop().is_some(),
            Aggregate::Set(set) => set.pop_any().is_some(),
            Aggregate::Zset(zset) => zset.pop_any().is_some(),
        };
        return (popped, popped);
    }
    let adds = behaviour == Behaviour::Add;
    match (aggregate, argument) {
        (Aggregate::Hash(hash), Argument::Field { id, len }) => {
            if !adds {
                let removed = hash.hdel(id);
                (removed, removed)
            } else if command == CommandKind::Hsetnx && hash.hget(id).is_some() {
                (false, false)
            } else {
                (hash.hset(id, len, limits), true)
            }
        }
        (Aggregate::List(list), Argument::Value { len, .. }) => {
            list.lpush(len, limits);
            (true, true)
        }
        (Aggregate::List(list), _) => {
            let popped = list.lpop().is_some();
            (popped, popped)
        }
        (Aggregate::Set(set), Argument::Member { id, .. }) => {
            let changed = if adds {
                set.sadd(id, limits)
            } else {
                set.srem(id)
            };
            (changed, changed)
        }
        (Aggregate::Zset(zset), Argument::Member { id, score }) => {
            if adds {
                let same_score = zset.has_score(id, score) == Some(true);
                (zset.zadd(id, score, limits), !same_score)
            } else {
                let removed = zset.zrem(id);
                (removed, removed)
            }
        }
        _ => (false, false),
    }
}
