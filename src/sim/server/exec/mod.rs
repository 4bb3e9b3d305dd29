//! Command execution, as `processCommand` + `call()` run it: the refusals before a command
//! (replication, memory), the key lookup with lazy expiry and the LRU/LFU touch, the read's hit
//! or miss and its classification, the write by value type (`string.rs`, `aggregate.rs`), and
//! what follows (dirty counter, propagation). The operator's commands are in `admin.rs`.

mod admin;
mod aggregate;
mod keys;
mod multi;
pub(crate) mod string;

pub(crate) use multi::CallResult;

use crate::sim::cluster::replication::write_bytes;
use crate::sim::config::record_flags;
use crate::sim::config::MaxmemoryPolicy;
use crate::sim::keyspace::lru;
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, Ledger};
use crate::sim::server::argv;
use crate::sim::server::command::{Behaviour, CommandKind};
use crate::sim::server::evict::{self, EvictResult, Incoming};
use crate::sim::server::node::Node;
use crate::sim::server::protocol::{Argument, ErrorReply, Reply, Request};
use crate::sim::server::stats::StatSlot;

impl Node {
    /// Executes one client command (`processCommand` + `call`). The engine has already set the
    /// time.
    pub fn execute(&mut self, request: &Request, ledger: &mut Ledger) -> Reply {
        let slot = StatSlot::Command(request.command);
        self.receive_arguments(request);
        let refused = self.refusal(request, ledger);
        self.argv_bytes = 0;
        if let Some(refused) = refused {
            return refused;
        }
        if !request.continues_call() {
            self.count_call(slot);
        }
        let read = request.command.is_read();
        let reply = if read {
            self.execute_read(request, ledger)
        } else {
            self.execute_write(request, ledger)
        };
        if let Reply::Error(error) = reply {
            self.count_error(slot, error, false);
        }
        if !read && matches!(reply, Reply::Ok | Reply::Integer(_)) {
            if let Some(durability) = self.durability.as_mut() {
                durability.dirty += 1;
                durability.acknowledged_write();
            }
        }
        if self.stream().is_some() && !read && propagates_key_state(request.command) {
            self.propagate_write(request, reply);
        }
        if self.config.maxmemory_policy == MaxmemoryPolicy::Opt && self.config.maxmemory_bytes != 0
        {
            evict::shed_reference_victims(self, ledger);
        }
        reply
    }

    /// The refusals `processCommand` answers before `call`. It runs performEvictions (and may
    /// answer -OOM) before its replication checks (-NOREPLICAS, -READONLY, -MASTERDOWN): a
    /// write refused for its replicas still evicts. The reference policies make room for the
    /// write itself, so only a write that will be stored makes room.
    fn refusal(&mut self, request: &Request, ledger: &mut Ledger) -> Option<Reply> {
        let reference = self.config.maxmemory_policy.is_reference();
        if !reference && self.out_of_memory(request, ledger) {
            return Some(self.reject_oom(request, ledger));
        }
        if let Some(refused) = self.replication_refusal(request, ledger) {
            return Some(refused);
        }
        if reference && self.out_of_memory(request, ledger) {
            return Some(self.reject_oom(request, ledger));
        }
        None
    }

    /// A client's arguments are in memory before processCommand looks at it (`argv.rs`; a
    /// value of `PROTO_MBULK_BIG_ARG` or more is its connection's, `connections.rs`). Reference
    /// policies count only the keyspace, as the cache simulators they stand for.
    #[inline]
    fn receive_arguments(&mut self, request: &Request) {
        if self.raw_memory()
            || self.config.maxmemory_policy.is_reference()
            || request.client.client_index().is_none()
        {
            return;
        }
        // Only eviction looks at memory while a command is being decided on.
        if self.config.maxmemory_bytes != 0 {
            self.argv_bytes = argv::argv_bytes(request, self.keys.key_len(request.key));
        }
    }

    /// Counts one execution in INFO and Commandstats.
    pub(super) fn count_call(&mut self, slot: StatSlot) {
        self.stats.total_commands_processed += 1;
        let first = self.commands.count_call(slot);
        if first && self.config.latency_tracking {
            self.latency_histograms += 1;
        }
    }

    /// A command refused before execution: `rejected_calls`, not `calls`.
    pub(crate) fn count_rejected(&mut self, slot: StatSlot, error: ErrorReply) {
        self.count_error(slot, error, true);
    }

    fn count_error(&mut self, slot: StatSlot, error: ErrorReply, rejected: bool) {
        self.commands.count_error(slot, error, rejected);
        self.stats.total_error_replies += 1;
    }

    /// `performEvictions` before the command (or, for reference policies, room made for the
    /// write); true if a DENYOOM command must be refused.
    fn out_of_memory(&mut self, request: &Request, ledger: &mut Ledger) -> bool {
        // replica-ignore-maxmemory yes (the default): replicas never evict.
        let evicts = self.replica().is_none() || !self.config.replica_ignore_maxmemory;
        if self.config.maxmemory_bytes == 0 || !evicts {
            return false;
        }
        let denyoom = request.command.is_denyoom();
        let failed = if self.config.maxmemory_policy.is_reference() {
            denyoom && !evict::make_room(self, self.incoming(request), ledger)
        } else {
            evict::perform_evictions(self, ledger) == EvictResult::Fail
        };
        failed && denyoom
    }

    /// What a write brings, for a reference policy's `make_room`.
    fn incoming(&self, request: &Request) -> Incoming {
        let value_bytes = match request.argument {
            Argument::Value { len, .. } => u64::from(self.string_value(len).1),
            _ => 0,
        };
        let key_len = self.key_len_for_memory(request.key);
        Incoming {
            db: request.db,
            key: request.key,
            replaces_value: request.command == CommandKind::Set,
            value_bytes,
            entry_bytes: self.entry_overhead(key_len),
        }
    }

    /// An OOM rejection: counted as Redis counts it, reported in the ledger, and remembered on
    /// the key so that a later miss names it.
    fn reject_oom(&mut self, request: &Request, ledger: &mut Ledger) -> Reply {
        self.count_rejected(StatSlot::Command(request.command), ErrorReply::Oom);
        let now_us = self.now_us;
        let database = &mut self.dbs[request.db as usize];
        if database.is_allocated() && !database.contains(request.key) {
            database.mark_absent_cause(request.key, Cause::OomRejected, request.client, now_us);
        }
        let detail = Detail::Command {
            command: request.command,
            by: request.client,
        };
        let entry = self.entry(
            request.db,
            request.key,
            EntryKind::Rejected,
            Cause::OomRejected,
            request.client,
            detail,
        );
        ledger.record(entry, self.keys.group_of(request.key));
        Reply::Error(ErrorReply::Oom)
    }

    /// `expireIfNeeded`: true if the key is logically expired. A master deletes it; a replica
    /// only hides it and waits for the master's DEL.
    #[inline]
    fn expire_if_needed(&mut self, db: u32, key: KeyId, ledger: &mut Ledger) -> bool {
        let slot = self.dbs[db as usize].slot(key);
        if slot.is_present() && slot.is_volatile() && self.unix_ms() > slot.expire_unix_ms {
            if self.replica().is_none() {
                self.expire_key(db, key, true, ledger);
            }
            return true;
        }
        false
    }

    /// `lookupKey`: lazy expiry, rehash step, and the LRU/LFU touch unless `no_touch`.
    /// Returns whether the key exists afterwards.
    pub(super) fn lookup(
        &mut self,
        db: u32,
        key: KeyId,
        no_touch: bool,
        next_use: u64,
        ledger: &mut Ledger,
    ) -> bool {
        self.db_mut(db).main.on_lookup();
        let expired = self.expire_if_needed(db, key, ledger);
        let present = !expired && self.dbs[db as usize].contains(key);
        if present && !no_touch {
            self.touch(db, key);
            self.evictor.on_access(db, key, next_use);
        }
        present
    }

    /// A key was added: reference policies start tracking it.
    pub(super) fn track_new_key(&mut self, db: u32, key: KeyId, next_use: u64) {
        self.evictor.on_insert(db, key, next_use);
    }

    fn touch(&mut self, db: u32, key: KeyId) {
        let unix_ms = self.unix_ms();
        let policy = self.config.maxmemory_policy;
        let clock = self.lru_clock;
        let (decay, factor) = (self.config.lfu_decay_time, self.config.lfu_log_factor);
        let field = self.dbs[db as usize].slot(key).lru();
        let updated = if policy.uses_lfu() {
            lru::lfu_touch(unix_ms, field, decay, factor, &mut self.lfu_stream)
        } else {
            clock
        };
        self.dbs[db as usize].slot_mut(key).set_lru(updated);
    }

    /// The access metadata of a newly created object.
    pub(super) fn fresh_lru(&self) -> u32 {
        if self.config.maxmemory_policy.uses_lfu() {
            lru::lfu_initial(self.unix_ms())
        } else {
            self.lru_clock
        }
    }

    /// Why a read found nothing (the ledger's miss classification).
    fn classify_miss(&self, request: &Request) -> (Cause, Detail) {
        let (db, key) = (request.db, request.key);
        if request.primary_has_key {
            return (Cause::ReplicaLag, Detail::None);
        }
        let slot = self.dbs[db as usize].slot(key);
        if let Some(cause) = slot.gone_cause() {
            let detail = Detail::RemovedEarlier {
                at_us: slot.removed_since_start_us(),
                by: slot.actor,
            };
            return (cause, detail);
        }
        let now = self.unix_ms();
        for other in &self.dbs {
            if other.index != db && other.is_allocated() {
                let found = other.slot(key);
                if found.is_present() && !(found.is_volatile() && now > found.expire_unix_ms) {
                    return (Cause::WrongDb, Detail::FoundInDb { db: other.index });
                }
            }
        }
        (Cause::NeverWritten, Detail::None)
    }

    fn execute_read(&mut self, request: &Request, ledger: &mut Ledger) -> Reply {
        let Request {
            db, key, command, ..
        } = *request;
        // TTL, EXISTS and TYPE look keys up with LOOKUP_NOTOUCH.
        let no_touch = command.behaviour() == Behaviour::ReadNoTouch;
        let expired_now = {
            let slot = self.dbs[db as usize].slot(key);
            slot.is_present() && slot.is_volatile() && self.unix_ms() > slot.expire_unix_ms
        };
        let lazy_detail =
            expired_now.then(|| Self::expiry_detail(self.dbs[db as usize].slot(key), true));
        let next_use = request.next_use_or_never();
        if !self.lookup(db, key, no_touch, next_use, ledger) {
            self.stats.keyspace_misses += 1;
            let (cause, detail) = match lazy_detail {
                Some(detail) => (Cause::Expired, detail),
                None => self.classify_miss(request),
            };
            let entry = self.entry(db, key, EntryKind::Miss, cause, request.client, detail);
            ledger.record(entry, self.keys.group_of(key));
            return Reply::Miss;
        }
        self.stats.keyspace_hits += 1;
        self.note_overwritten_hit(request, ledger);
        if command
            .key_type()
            .admits(self.dbs[db as usize].slot(key).kind())
        {
            Reply::Hit
        } else {
            Reply::Error(ErrorReply::WrongType)
        }
    }

    /// A hit on a value another client wrote over the reader's own write.
    fn note_overwritten_hit(&mut self, request: &Request, ledger: &mut Ledger) {
        let (db, key) = (request.db, request.key);
        let writer = self.dbs[db as usize].slot(key).actor;
        if !request.client_wrote_key || writer == request.client || writer.client_index().is_none()
        {
            return;
        }
        let entry = self.entry(
            db,
            key,
            EntryKind::OverwrittenHit,
            Cause::Overwritten,
            request.client,
            Detail::WrittenBy { writer },
        );
        ledger.record(entry, self.keys.group_of(key));
    }

    fn execute_write(&mut self, request: &Request, ledger: &mut Ledger) -> Reply {
        let Request {
            db,
            key,
            command,
            client,
            ..
        } = *request;
        assert!(!command.is_read(), "{} is a read", command.name());
        let behaviour = command.behaviour();
        match behaviour {
            Behaviour::FlushDb => {
                self.flush_db(db, false, client, ledger);
                return Reply::Ok;
            }
            Behaviour::FlushAll => {
                self.flush_all(client, ledger);
                return Reply::Ok;
            }
            Behaviour::Select => return Reply::Ok,
            Behaviour::SwapDb => {
                let Argument::Part { low, high, .. } = request.argument else {
                    return Reply::Error(ErrorReply::NotAnInteger);
                };
                return self.swap_db(low as u32, high as u32);
            }
            Behaviour::MultiPop | Behaviour::Transfer if self.skips_lookup(request) => {
                self.write_modified = Some(false);
                return Reply::Continued;
            }
            _ => {}
        }
        self.db_mut(db);
        self.before_change(db, key);
        let next_use = request.next_use_or_never();
        let present = self.lookup(db, key, false, next_use, ledger);
        if reads_value(request) {
            // lookupKeyRead: GETDEL, GETEX, GETSET and SET ... GET count in keyspace_hits and
            // keyspace_misses like GET, but the ledger treats them as writes.
            if present {
                self.stats.keyspace_hits += 1;
            } else {
                self.stats.keyspace_misses += 1;
            }
        }
        match behaviour {
            Behaviour::Set => self.set_command(request, present, ledger),
            Behaviour::Incr => {
                let reply = self.incr(request, present);
                if !present {
                    self.track_new_key(db, key, next_use);
                }
                reply
            }
            Behaviour::Append => self.append(request, present),
            Behaviour::GetDel => self.del(request, present, ledger),
            Behaviour::GetEx => self.getex(request, present, ledger),
            Behaviour::Del => self.del(request, present, ledger),
            Behaviour::Expire => self.expire(request, present, ledger),
            Behaviour::Persist => {
                let removed = present && self.dbs[db as usize].persist(key);
                Reply::Integer(i64::from(removed))
            }
            Behaviour::Add | Behaviour::Remove | Behaviour::Pop => {
                self.aggregate_write(request, present, ledger)
            }
            Behaviour::Rename => self.rename(request, present, ledger),
            Behaviour::Copy => self.copy(request, present, ledger),
            Behaviour::Move => self.move_key(request, present, ledger),
            Behaviour::Store => self.store(request, present, ledger),
            Behaviour::Transfer => self.transfer(request, present, ledger),
            Behaviour::Trim => self.trim(request, present, ledger),
            Behaviour::MultiPop => self.multi_pop(request, present, ledger),
            Behaviour::Read
            | Behaviour::ReadNoTouch
            | Behaviour::FlushDb
            | Behaviour::FlushAll
            // Excluded above.
            | Behaviour::Select
            | Behaviour::SwapDb => Reply::Error(ErrorReply::WrongType),
        }
    }

    /// DEL / UNLINK of one key.
    fn del(&mut self, request: &Request, present: bool, ledger: &mut Ledger) -> Reply {
        let Request {
            db,
            key,
            command,
            client,
            ..
        } = *request;
        if present {
            let detail = Detail::Command {
                command,
                by: client,
            };
            // GETDEL propagates as DEL; UNLINK as itself.
            let propagated = (command == CommandKind::Unlink)
                .then(|| write_bytes("UNLINK", self.keys.key_len(key), &[]));
            self.remove_key_propagated_as(
                db,
                key,
                Cause::Deleted,
                client,
                detail,
                propagated,
                ledger,
            );
        }
        Reply::Integer(i64::from(present))
    }

    /// EXPIRE key ttl: a positive TTL sets the deadline, zero deletes the key.
    fn expire(&mut self, request: &Request, present: bool, ledger: &mut Ledger) -> Reply {
        let Request {
            db,
            key,
            command,
            client,
            ..
        } = *request;
        assert!(
            matches!(request.argument, Argument::Ttl { .. }),
            "EXPIRE carries a TTL: {request:?}"
        );
        let Argument::Ttl { ms: ttl_ms } = request.argument else {
            return Reply::Integer(0);
        };
        if !present || !self.expire_condition_holds(request, ttl_ms) {
            return Reply::Integer(0);
        }
        if ttl_ms == 0 {
            // A non-positive TTL deletes as a DEL: not counted in expired_keys.
            let detail = Detail::Command {
                command,
                by: client,
            };
            self.remove_key(db, key, Cause::Deleted, client, detail, ledger);
        } else {
            self.apply_ttl(db, key, client, ttl_ms);
        }
        Reply::Integer(1)
    }

    /// EXPIRE's NX / XX / GT / LT against the key's current deadline (no TTL is an infinite
    /// one, as `expireGenericCommand` treats it). A TTL of 0 stands for "already past".
    fn expire_condition_holds(&self, request: &Request, ttl_ms: u64) -> bool {
        let slot = self.dbs[request.db as usize].slot(request.key);
        let volatile = slot.is_volatile();
        let new_deadline = self.unix_ms().saturating_add(ttl_ms);
        if request.has_flag(record_flags::NX) && volatile {
            return false;
        }
        if request.has_flag(record_flags::XX) && !volatile {
            return false;
        }
        if request.has_flag(record_flags::GT) && (!volatile || new_deadline <= slot.expire_unix_ms)
        {
            return false;
        }
        if request.has_flag(record_flags::LT) && volatile && new_deadline >= slot.expire_unix_ms {
            return false;
        }
        true
    }

    /// Sets a key's deadline `ttl_ms` from now.
    pub(super) fn apply_ttl(&mut self, db: u32, key: KeyId, by: Actor, ttl_ms: u64) {
        let deadline = self.unix_ms() + ttl_ms;
        let guard = self.expand_guard();
        let since_start_ms = self.now_since_start_ms();
        self.dbs[db as usize].set_expire(key, deadline, by, since_start_ms, &guard);
    }
}

/// Whether the write looks its key up as a read (`lookupKeyRead`: GETDEL, GETEX, COPY's
/// source, GETSET and SET ... GET), which counts in keyspace_hits and keyspace_misses.
fn reads_value(request: &Request) -> bool {
    match request.command.behaviour() {
        Behaviour::GetDel | Behaviour::GetEx | Behaviour::Copy => true,
        // The sources of the *STORE commands (lookupKeyRead), not the destination.
        Behaviour::Store => !matches!(
            request.argument,
            Argument::Part {
                step: crate::sim::server::protocol::part::DESTINATION,
                ..
            }
        ),
        Behaviour::Set => request.has_flag(record_flags::GET),
        _ => false,
    }
}

/// Whether the replicas learn the write as the key's resulting state; the commands that move
/// or flush keys propagate themselves.
fn propagates_key_state(command: CommandKind) -> bool {
    !matches!(
        command.behaviour(),
        Behaviour::Rename
            | Behaviour::Copy
            | Behaviour::Move
            | Behaviour::FlushDb
            | Behaviour::FlushAll
            | Behaviour::Select
            | Behaviour::SwapDb
            | Behaviour::Store
            | Behaviour::Transfer
    )
}
