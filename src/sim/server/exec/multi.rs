//! Commands whose one call a replay spreads over several records, one per key: the `*STORE`
//! commands (each source, then the destination), LMOVE and SMOVE (the source, then the
//! destination) and LMPOP / ZMPOP (each key until one pops); what the earlier records gathered
//! waits in the node's `CallResult` for the later ones of the same call. Also the commands that
//! remove a range of elements (LTRIM, LREM, ZREMRANGEBY*) and SWAPDB.

use crate::sim::cluster::replication::{resp_bytes, write_bytes, ReplOp};
use crate::sim::keyspace::db::ValueKind;
use crate::sim::keyspace::value::{Aggregate, SetValue, ZsetValue};
use crate::sim::ledger::{Actor, KeyId, Ledger};
use crate::sim::reference::exact::NEVER;
use crate::sim::server::command::{Behaviour, CommandKind, KeyType};
use crate::sim::server::node::Node;
use crate::sim::server::protocol::{part, Argument, ErrorReply, Reply, Request};

/// What the records of one spread call have gathered so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallResult {
    /// Whose call it is: a record of another client's call starts afresh.
    client: Option<Actor>,
    /// Members and scores (a set's score is 0); a list element's length is its member.
    elements: Vec<(u32, i64)>,
    /// LMPOP has popped, LMOVE or SMOVE has taken its element.
    found: bool,
    /// A source had the wrong type: the whole command fails.
    refused: bool,
}

/// The step and numbers of a spread record.
fn part_of(request: &Request) -> (u8, i32, i32) {
    assert!(
        matches!(request.argument, Argument::Part { .. }),
        "{} carries a part: {request:?}",
        request.command.name()
    );
    match request.argument {
        Argument::Part { step, low, high } => (step, low, high),
        _ => (part::FIRST, 0, -1),
    }
}

/// Redis's range of ranks `[start, end]` on `len` elements (LTRIM, ZREMRANGEBYRANK,
/// ZRANGESTORE), or None when it is empty.
fn rank_range(start: i32, end: i32, len: u64) -> Option<(u64, u64)> {
    let len = len as i64;
    let (mut start, mut end) = (i64::from(start), i64::from(end));
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    if start > end || start >= len {
        return None;
    }
    Some((start as u64, end.min(len - 1) as u64))
}

impl Node {
    /// Whether the record needs no lookup of its key: a later LMPOP key once one has popped,
    /// LMOVE's destination when the source gave nothing (Redis looks neither up).
    pub(super) fn skips_lookup(&self, request: &Request) -> bool {
        let (step, ..) = part_of(request);
        let mine = self.call.client == Some(request.client);
        match request.command.behaviour() {
            Behaviour::MultiPop => step == part::NEXT && mine && self.call.found,
            Behaviour::Transfer => {
                step == part::DESTINATION
                    && request.command.key_type() == KeyType::List
                    && !(mine && self.call.found)
            }
            _ => false,
        }
    }

    /// Starts gathering for a new call on its first record.
    fn begin_call(&mut self, request: &Request, step: u8) {
        if step == part::FIRST || self.call.client != Some(request.client) {
            self.call = CallResult {
                client: Some(request.client),
                ..CallResult::default()
            };
        }
    }

    /// A source's elements as the command's type reads them; None if it has another type.
    fn source_elements(&self, db: u32, key: KeyId, key_type: KeyType) -> Option<Vec<(u32, i64)>> {
        match (self.dbs[db as usize].aggregate(key), key_type) {
            (Some(Aggregate::Set(set)), KeyType::Set | KeyType::Zset) => {
                let score = i64::from(key_type == KeyType::Zset);
                Some(set.members().into_iter().map(|m| (m, score)).collect())
            }
            (Some(Aggregate::Zset(zset)), KeyType::Zset) => Some(zset.members()),
            _ => None,
        }
    }

    /// SUNIONSTORE, SINTERSTORE, SDIFFSTORE, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE.
    pub(super) fn store(&mut self, request: &Request, present: bool, ledger: &mut Ledger) -> Reply {
        let (step, low, high) = part_of(request);
        self.write_modified = Some(false);
        if step == part::DESTINATION {
            return self.store_destination(request, present, ledger);
        }
        self.begin_call(request, step);
        let members = if present {
            self.source_elements(request.db, request.key, request.command.key_type())
        } else {
            Some(Vec::new())
        };
        let Some(members) = members else {
            self.call.refused = true;
            return Reply::Error(ErrorReply::WrongType);
        };
        let gathered = std::mem::take(&mut self.call.elements);
        self.call.elements = combine(request.command, step, gathered, members, (low, high));
        Reply::Continued
    }

    /// The destination of a `*STORE`: overwritten by the result, deleted when it is empty.
    fn store_destination(
        &mut self,
        request: &Request,
        present: bool,
        ledger: &mut Ledger,
    ) -> Reply {
        let (db, key) = (request.db, request.key);
        if self.call.refused {
            return Reply::Error(ErrorReply::WrongType);
        }
        let elements = std::mem::take(&mut self.call.elements);
        if present {
            self.lose_to(request, db, key, ledger);
        }
        if elements.is_empty() {
            return Reply::Integer(0);
        }
        let limits = self.limits;
        let (kind, aggregate) = match request.command.key_type() {
            KeyType::Set => {
                let mut set = SetValue::new();
                for &(member, _) in &elements {
                    set.sadd(member, &limits);
                }
                (ValueKind::Set, Aggregate::Set(set))
            }
            _ => {
                let mut zset = ZsetValue::with_seed(u64::from(key.0));
                for &(member, score) in &elements {
                    zset.zadd(member, score, &limits);
                }
                (ValueKind::Zset, Aggregate::Zset(zset))
            }
        };
        self.store_aggregate(request, kind, aggregate);
        let bytes = write_bytes(request.command.name(), self.keys.key_len(key), &[1]);
        self.propagate_key(db, key, bytes);
        Reply::Integer(elements.len() as i64)
    }

    /// Stores a new aggregate value under the request's key, which holds none.
    fn store_aggregate(&mut self, request: &Request, kind: ValueKind, aggregate: Aggregate) {
        let (db, key) = (request.db, request.key);
        let bytes = aggregate.bytes().min(u64::from(u32::MAX)) as u32;
        let guard = self.expand_guard();
        let key_len = self.key_len_for_memory(key);
        let fresh_lru = self.fresh_lru();
        let database = &mut self.dbs[db as usize];
        database.add(key, key_len, kind, 0, &guard);
        database.insert_aggregate(key, aggregate);
        database.replace_value(key, kind, bytes);
        let slot = database.slot_mut(key);
        slot.actor = request.client;
        slot.set_lru(fresh_lru);
        self.track_new_key(db, key, request.next_use_or_never());
    }

    /// LMOVE, RPOPLPUSH, BLMOVE, BRPOPLPUSH, SMOVE.
    pub(super) fn transfer(
        &mut self,
        request: &Request,
        present: bool,
        ledger: &mut Ledger,
    ) -> Reply {
        let (step, low, _) = part_of(request);
        let (db, key) = (request.db, request.key);
        let key_type = request.command.key_type();
        self.write_modified = Some(false);
        if present && !key_type.admits(self.dbs[db as usize].slot(key).kind()) {
            self.call.refused = true;
            return Reply::Error(ErrorReply::WrongType);
        }
        match step {
            part::SAME_KEY => Reply::Integer(i64::from(present)),
            part::DESTINATION => {
                let taken = self.call.found && !self.call.refused;
                let element = self.call.elements.pop();
                let (true, Some((element, _))) = (taken, element) else {
                    return Reply::Integer(0);
                };
                if !present {
                    self.create_aggregate(request, key_type_kind(key_type));
                }
                let limits = self.limits;
                if let Some(aggregate) = self.dbs[db as usize].aggregate_mut(key) {
                    match aggregate {
                        Aggregate::List(list) => list.lpush(element, &limits),
                        Aggregate::Set(set) => {
                            set.sadd(element, &limits);
                        }
                        _ => {}
                    }
                }
                self.refresh_value_bytes(db, key);
                self.propagate_key(db, key, 0);
                Reply::Integer(1)
            }
            _ => {
                self.begin_call(request, part::FIRST);
                if !present {
                    return Reply::Continued;
                }
                let taken = match self.dbs[db as usize].aggregate_mut(key) {
                    Some(Aggregate::List(list)) => list.lpop(),
                    Some(Aggregate::Set(set)) => set.srem(low as u32).then_some(low as u32),
                    _ => None,
                };
                let Some(element) = taken else {
                    return Reply::Continued;
                };
                self.call.found = true;
                self.call.elements.push((element, 0));
                self.after_removal(request, ledger, true);
                Reply::Continued
            }
        }
    }

    /// LTRIM, LREM, ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX.
    pub(super) fn trim(&mut self, request: &Request, present: bool, ledger: &mut Ledger) -> Reply {
        let (_, low, high) = part_of(request);
        let (db, key, command) = (request.db, request.key, request.command);
        if !present {
            return Reply::Integer(0);
        }
        if !command
            .key_type()
            .admits(self.dbs[db as usize].slot(key).kind())
        {
            return Reply::Error(ErrorReply::WrongType);
        }
        let removed = match self.dbs[db as usize].aggregate_mut(key) {
            Some(Aggregate::List(list)) => {
                let len = list.len();
                if command == CommandKind::Lrem {
                    u64::from(list.lpop().is_some())
                } else {
                    let (start, end) = rank_range(low, high, len).unwrap_or((len, len));
                    let tail = len.saturating_sub(end + 1).min(len - start.min(len));
                    for _ in 0..start.min(len) {
                        list.lpop();
                    }
                    for _ in 0..tail {
                        list.rpop();
                    }
                    start.min(len) + tail
                }
            }
            Some(Aggregate::Zset(zset)) => {
                let victims: Vec<u32> = if command == CommandKind::Zremrangebyscore {
                    let range = i64::from(low)..=i64::from(high);
                    zset.members()
                        .into_iter()
                        .filter(|(_, score)| range.contains(score))
                        .map(|(member, _)| member)
                        .collect()
                } else {
                    let members = zset.members();
                    match rank_range(low, high, members.len() as u64) {
                        Some((start, end)) => members[start as usize..=end as usize]
                            .iter()
                            .map(|(member, _)| *member)
                            .collect(),
                        None => Vec::new(),
                    }
                };
                for &member in &victims {
                    zset.zrem(member);
                }
                victims.len() as u64
            }
            _ => 0,
        };
        self.write_modified = Some(removed > 0);
        if removed > 0 {
            self.after_removal(request, ledger, false);
        }
        Reply::Integer(removed as i64)
    }

    /// LMPOP, BLMPOP, ZMPOP, BZMPOP: the first key that holds elements loses up to `low`.
    pub(super) fn multi_pop(
        &mut self,
        request: &Request,
        present: bool,
        ledger: &mut Ledger,
    ) -> Reply {
        let (step, count, _) = part_of(request);
        let (db, key) = (request.db, request.key);
        self.begin_call(request, step);
        self.write_modified = Some(false);
        if !present || self.call.found {
            return Reply::Continued;
        }
        if !request
            .command
            .key_type()
            .admits(self.dbs[db as usize].slot(key).kind())
        {
            return Reply::Error(ErrorReply::WrongType);
        }
        let mut popped = 0;
        if let Some(aggregate) = self.dbs[db as usize].aggregate_mut(key) {
            while popped < count.max(1) {
                let taken = match aggregate {
                    Aggregate::List(list) => list.lpop().is_some(),
                    Aggregate::Zset(zset) => zset.pop_any().is_some(),
                    _ => false,
                };
                if !taken {
                    break;
                }
                popped += 1;
            }
        }
        self.call.found = popped > 0;
        self.write_modified = Some(popped > 0);
        if popped > 0 {
            self.after_removal(request, ledger, false);
        }
        Reply::Integer(i64::from(popped))
    }

    /// After elements left the request's key: the key goes if it is empty (`emptied`), else
    /// its size is updated; `propagate` sends its state to the replicas.
    fn after_removal(&mut self, request: &Request, ledger: &mut Ledger, propagate: bool) {
        let (db, key) = (request.db, request.key);
        let empty = self.dbs[db as usize]
            .aggregate(key)
            .is_none_or(|aggregate| aggregate.is_empty());
        if empty {
            self.remove_emptied(request, ledger);
            return;
        }
        self.refresh_value_bytes(db, key);
        if propagate {
            let bytes = write_bytes(request.command.name(), self.keys.key_len(key), &[1]);
            self.propagate_key(db, key, bytes);
        }
    }

    /// The slot's value size after its aggregate changed.
    fn refresh_value_bytes(&mut self, db: u32, key: KeyId) {
        let database = &mut self.dbs[db as usize];
        if let Some(aggregate) = database.aggregate(key) {
            let bytes = aggregate.bytes().min(u64::from(u32::MAX)) as u32;
            let kind = database.slot(key).kind();
            database.replace_value(key, kind, bytes);
        }
    }

    /// SWAPDB a b: the two databases exchange their keys (no key is removed; a client that
    /// reads a key from the other database then misses it as `wrong-db`).
    pub(crate) fn swap_db(&mut self, a: u32, b: u32) -> Reply {
        let count = self.dbs.len() as u32;
        if a >= count || b >= count {
            return Reply::Error(ErrorReply::NotAnInteger);
        }
        if let Some(stream) = self.role.stream_mut() {
            let digits = |db: u32| u64::from(db.max(1).ilog10() + 1);
            stream.push(
                ReplOp::SwapDb { a, b },
                resp_bytes(&[6, digits(a), digits(b)]),
            );
        }
        if a == b {
            return Reply::Ok;
        }
        self.db_mut(a);
        self.db_mut(b);
        let keys_a = self.dbs[a as usize].keys_in_bucket_order();
        let keys_b = self.dbs[b as usize].keys_in_bucket_order();
        for &key in keys_a.iter().chain(&keys_b) {
            // The undo log must bring back both databases as they were.
            self.before_change(a, key);
            self.before_change(b, key);
        }
        for &key in &keys_a {
            self.evictor.on_remove(a, key);
        }
        for &key in &keys_b {
            self.evictor.on_remove(b, key);
        }
        self.dbs.swap(a as usize, b as usize);
        self.dbs[a as usize].index = a;
        self.dbs[b as usize].index = b;
        for &key in &keys_a {
            self.evictor.on_insert(b, key, NEVER);
        }
        for &key in &keys_b {
            self.evictor.on_insert(a, key, NEVER);
        }
        Reply::Ok
    }
}

/// The value kind of an aggregate key type.
fn key_type_kind(key_type: KeyType) -> ValueKind {
    key_type.aggregate_kind().unwrap_or(ValueKind::List)
}

/// Combines a source's members into what the call gathered: union, intersection or difference
/// by member (the first score kept), or ZRANGESTORE's ranks.
fn combine(
    command: CommandKind,
    step: u8,
    gathered: Vec<(u32, i64)>,
    members: Vec<(u32, i64)>,
    range: (i32, i32),
) -> Vec<(u32, i64)> {
    if command == CommandKind::Zrangestore {
        return match rank_range(range.0, range.1, members.len() as u64) {
            Some((start, end)) => members[start as usize..=end as usize].to_vec(),
            None => Vec::new(),
        };
    }
    if step == part::FIRST {
        return members;
    }
    let holds =
        |list: &[(u32, i64)], member: u32| list.binary_search_by_key(&member, |&(m, _)| m).is_ok();
    match command {
        CommandKind::Sunionstore | CommandKind::Zunionstore => {
            let extra: Vec<(u32, i64)> = members
                .into_iter()
                .filter(|&(m, _)| !holds(&gathered, m))
                .collect();
            let mut union = gathered;
            union.extend(extra);
            union.sort_unstable();
            union
        }
        CommandKind::Sinterstore | CommandKind::Zinterstore => gathered
            .into_iter()
            .filter(|&(m, _)| holds(&members, m))
            .collect(),
        _ => gathered
            .into_iter()
            .filter(|&(m, _)| !holds(&members, m))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_redis_normalisation() {
        assert_eq!(rank_range(0, -1, 3), Some((0, 2)));
        assert_eq!(rank_range(1, -1, 3), Some((1, 2)));
        assert_eq!(rank_range(-10, 10, 3), Some((0, 2)));
        assert_eq!(rank_range(5, 10, 3), None);
        assert_eq!(rank_range(2, 1, 3), None);
        assert_eq!(rank_range(0, -1, 0), None);
    }

    #[test]
    fn sources_combine_by_member() {
        let a = vec![(1, 0), (2, 0)];
        let b = vec![(2, 0), (3, 0)];
        let union = combine(
            CommandKind::Sunionstore,
            part::NEXT,
            a.clone(),
            b.clone(),
            (0, -1),
        );
        assert_eq!(union, [(1, 0), (2, 0), (3, 0)]);
        let inter = combine(
            CommandKind::Sinterstore,
            part::NEXT,
            a.clone(),
            b.clone(),
            (0, -1),
        );
        assert_eq!(inter, [(2, 0)]);
        let diff = combine(CommandKind::Sdiffstore, part::NEXT, a.clone(), b, (0, -1));
        assert_eq!(diff, [(1, 0)]);
        let first = combine(
            CommandKind::Zinterstore,
            part::FIRST,
            Vec::new(),
            a.clone(),
            (0, -1),
        );
        assert_eq!(first, a);
        let ranks = combine(CommandKind::Zrangestore, part::FIRST, Vec::new(), a, (1, 5));
        assert_eq!(ranks, [(2, 0)]);
    }
}
