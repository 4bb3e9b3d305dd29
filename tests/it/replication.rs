//! Asynchronous replication (redis-fidelity.md 4): offsets, the replica applying the stream,
//! replicas that never expire, and reads that outrun the stream.

use std::sync::Arc;

use vanish::sim::cluster::replication::{PrimaryStream, ReplicaState};
use vanish::sim::config::{CommandKind, ServerConfig};
use vanish::sim::keyspace::keys::KeyTable;
use vanish::sim::ledger::Ledger;
use vanish::sim::ledger::{Actor, KeyId, LedgerEntry, NodeId};
use vanish::sim::server::{Argument, Node, Reply, Request, Role};

use crate::support::client;

struct Pair {
    primary: Node,
    replica: Node,
    ledger: Vec<LedgerEntry>,
}

impl Pair {
    fn new(prefix: &str, keys: u64) -> Pair {
        let (table, _) = KeyTable::from_clients(&[client("c", prefix, keys)]);
        let keys = Arc::new(table);
        let mut primary = Node::new(
            NodeId(0),
            "primary",
            ServerConfig::default(),
            keys.clone(),
            1,
        );
        primary.set_role(Role::Primary(PrimaryStream::new(2, 0, 0)));
        let mut replica = Node::new(NodeId(1), "replica", ServerConfig::default(), keys, 1);
        replica.set_role(Role::Replica(ReplicaState::default()));
        Pair {
            primary,
            replica,
            ledger: Vec::new(),
        }
    }

    fn request(command: CommandKind, key: u32, argument: Argument) -> Request {
        Request {
            client: Actor::client(0),
            db: 0,
            command,
            key: KeyId(key),
            argument,
            client_wrote_key: false,
            next_use: 0,
            primary_has_key: false,
            flags: 0,
        }
    }

    fn on_primary(
        &mut self,
        now_ms: u64,
        command: CommandKind,
        key: u32,
        argument: Argument,
    ) -> Reply {
        self.primary.set_time(now_ms * 1000);
        let mut ledger = Ledger::new(&mut self.ledger, 1);
        self.primary
            .execute(&Self::request(command, key, argument), &mut ledger)
    }

    fn read_on_replica(&mut self, now_ms: u64, key: u32) -> Reply {
        self.replica.set_time(now_ms * 1000);
        self.primary.set_time(now_ms * 1000);
        let mut request = Self::request(CommandKind::Get, key, Argument::None);
        request.primary_has_key = self.primary.is_alive(0, KeyId(key));
        let mut ledger = Ledger::new(&mut self.ledger, 1);
        self.replica.execute(&request, &mut ledger)
    }

    /// Delivers everything streamed so far.
    fn sync(&mut self, now_ms: u64) {
        self.replica.set_time(now_ms * 1000);
        let entries = std::mem::take(&mut self.primary.stream_mut().unwrap().outbox);
        let mut ledger = Ledger::new(&mut self.ledger, 1);
        for entry in entries {
            self.replica
                .apply_replicated(&entry.op, entry.offset, &mut ledger);
        }
    }
}

#[test]
fn offsets_count_resp_bytes_with_a_select_first() {
    // MEASURED on 7.0: SELECT 0 = 23 bytes, `set foo bar` = 31.
    let mut pair = Pair::new("fo", 10);
    pair.on_primary(
        0,
        CommandKind::Set,
        0,
        Argument::Value {
            len: 3,
            ttl_ms: None,
        },
    );
    assert_eq!(pair.primary.stream().unwrap().offset, 23 + 31);
    // DEL fo0 = *2 $3 DEL $3 fo0 = 22 bytes; no second SELECT.
    pair.on_primary(1, CommandKind::Del, 0, Argument::None);
    assert_eq!(pair.primary.stream().unwrap().offset, 23 + 31 + 22);
    pair.sync(2);
    assert_eq!(pair.replica.snapshot().master_repl_offset, 23 + 31 + 22);
}

#[test]
fn the_replica_ends_where_the_primary_was() {
    let mut pair = Pair::new("k", 200);
    for step in 0..2000u32 {
        let key = step.wrapping_mul(7919) % 200;
        let (command, argument) = match step % 5 {
            0 => (CommandKind::Del, Argument::None),
            1 => (
                CommandKind::Hset,
                Argument::Field {
                    id: step % 7,
                    len: 20,
                },
            ),
            2 => (CommandKind::Incr, Argument::None),
            _ => (
                CommandKind::Set,
                Argument::Value {
                    len: step % 90,
                    ttl_ms: Some(3_600_000),
                },
            ),
        };
        pair.on_primary(u64::from(step), command, key, argument);
    }
    pair.sync(3000);
    for key in 0..200 {
        assert_eq!(
            pair.primary.contains(0, KeyId(key)),
            pair.replica.contains(0, KeyId(key)),
            "key {key}"
        );
        assert_eq!(
            pair.primary.expire_unix_ms(0, KeyId(key)),
            pair.replica.expire_unix_ms(0, KeyId(key))
        );
    }
    assert_eq!(pair.primary.total_keys(), pair.replica.total_keys());
    let (primary, replica) = (pair.primary.snapshot(), pair.replica.snapshot());
    assert_eq!(
        primary.keyspace,
        replica
            .keyspace
            .iter()
            .map(|db| vanish::sim::server::info::DbInfo {
                avg_ttl: db.avg_ttl,
                ..db.clone()
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(primary.master_repl_offset, replica.master_repl_offset);
}

#[test]
fn a_replica_hides_expired_keys_but_keeps_them_until_the_master_deletes_them() {
    // redis-fidelity 2.6, MEASURED: replica GET → nil, DBSIZE still counts the key.
    let mut pair = Pair::new("k", 2);
    pair.on_primary(
        0,
        CommandKind::Set,
        0,
        Argument::Value {
            len: 3,
            ttl_ms: Some(100),
        },
    );
    pair.sync(1);
    assert_eq!(pair.read_on_replica(50, 0), Reply::Hit);
    assert_eq!(pair.read_on_replica(200, 0), Reply::Miss);
    assert_eq!(
        pair.replica.total_keys(),
        1,
        "still there until the DEL arrives"
    );
    assert_eq!(pair.replica.stats.expired_keys, 0);
    // The primary expires it lazily on a read; the DEL travels to the replica.
    assert_eq!(
        pair.on_primary(300, CommandKind::Get, 0, Argument::None),
        Reply::Miss
    );
    assert_eq!(pair.primary.stats.expired_keys, 1);
    pair.sync(301);
    assert_eq!(pair.replica.total_keys(), 0);
}

#[test]
fn a_read_that_outruns_the_stream_is_replica_lag() {
    let mut pair = Pair::new("k", 2);
    pair.on_primary(
        0,
        CommandKind::Set,
        1,
        Argument::Value {
            len: 3,
            ttl_ms: None,
        },
    );
    assert_eq!(pair.read_on_replica(1, 1), Reply::Miss);
    let miss = pair
        .ledger
        .iter()
        .rev()
        .find(|e| e.kind == vanish::sim::ledger::EntryKind::Miss)
        .unwrap();
    assert_eq!(miss.cause, vanish::sim::ledger::Cause::ReplicaLag);
    pair.sync(5);
    assert_eq!(pair.read_on_replica(6, 1), Reply::Hit);
}

#[test]
fn a_replica_evicts_only_when_told_not_to_ignore_maxmemory() {
    for ignore in [true, false] {
        let mut pair = Pair::new("k", 20_000);
        // The replica alone gets a limit its primary does not have.
        pair.replica.config.maxmemory_bytes = 2 * 1024 * 1024;
        pair.replica.config.maxmemory_policy = vanish::sim::config::MaxmemoryPolicy::AllkeysLru;
        pair.replica.config.replica_ignore_maxmemory = ignore;
        for key in 0..20_000 {
            pair.on_primary(
                1,
                CommandKind::Set,
                key,
                Argument::Value {
                    len: 100,
                    ttl_ms: None,
                },
            );
        }
        pair.sync(2);
        assert!(pair.replica.used_memory() > 2 * 1024 * 1024);
        // Applying the stream never evicts; a client's command runs performEvictions.
        assert_eq!(pair.replica.stats.evicted_keys, 0);
        // Each command evicts for a bounded time (tenacity), so it takes a few.
        for read in 0..200 {
            pair.read_on_replica(3 + read, 7);
        }
        let evicted = pair.replica.stats.evicted_keys;
        if ignore {
            assert_eq!(evicted, 0);
        } else {
            assert!(evicted > 1_000, "{evicted}");
            assert_eq!(pair.replica.total_keys(), 20_000 - evicted);
        }
    }
}
