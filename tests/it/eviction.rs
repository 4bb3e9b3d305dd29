//! Eviction under maxmemory as Redis 7.0 does it (redis-fidelity.md 1, tests/unit/maxmemory.tcl).

use vanish::sim::config::{CommandKind, ConfigChange, MaxmemoryPolicy, MemoryModel, ServerConfig};
use vanish::sim::ledger::Ledger;
use vanish::sim::ledger::{Cause, Detail, EntryKind, KeyId};
use vanish::sim::server::{Argument, Reply};

use crate::support::Bench;

/// A node holding `keys` possible keys, with maxmemory set `headroom` bytes above its current
/// (empty) usage.
fn limited(policy: MaxmemoryPolicy, headroom: u64, keys: u64) -> Bench {
    let mut bench = Bench::new(ServerConfig::default(), "key:", keys);
    let limit = bench.node.used_memory() + headroom;
    bench.node.config.maxmemory_bytes = limit;
    bench.node.config.maxmemory_policy = policy;
    bench
}

fn limit(bench: &Bench) -> u64 {
    bench.node.config.maxmemory_bytes
}

/// SETEX (or SET) keys from `first` until used_memory + 4096 > limit; returns how many.
fn fill(bench: &mut Bench, first: u32, ttl: bool) -> u32 {
    let mut added = 0;
    while bench.node.used_memory() + 4096 <= limit(bench) {
        bench.set(first + added, 1, ttl.then_some(10_000_000));
        added += 1;
    }
    added
}

#[test]
fn the_memory_limit_is_honoured_by_every_evicting_policy() {
    // maxmemory.tcl "is the memory limit honoured? (policy P)".
    for policy in [
        MaxmemoryPolicy::AllkeysRandom,
        MaxmemoryPolicy::AllkeysLru,
        MaxmemoryPolicy::AllkeysLfu,
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileLfu,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
    ] {
        let mut bench = limited(policy, 100_000, 100_000);
        let added = fill(&mut bench, 0, true);
        assert!(added > 10, "{policy:?}: {added} keys fit");
        for key in added..2 * added {
            assert_eq!(bench.set(key, 1, Some(10_000_000)), Reply::Ok, "{policy:?}");
        }
        assert!(
            bench.node.used_memory() < limit(&bench) + 4096,
            "{policy:?}: used {} > limit {} + 4096",
            bench.node.used_memory(),
            limit(&bench)
        );
        assert!(bench.node.stats.evicted_keys > 0, "{policy:?}");
    }
}

#[test]
fn only_allkeys_policies_remove_non_volatile_keys() {
    // maxmemory.tcl "only allkeys-* should remove non-volatile keys (P)".
    for policy in [
        MaxmemoryPolicy::AllkeysRandom,
        MaxmemoryPolicy::AllkeysLru,
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
    ] {
        let mut bench = limited(policy, 100_000, 100_000);
        let added = fill(&mut bench, 0, false);
        let mut oom = 0;
        for key in added..2 * added {
            if bench.set(key, 1, None) == Reply::Error(vanish::sim::server::ErrorReply::Oom) {
                oom += 1;
            }
        }
        if policy.is_volatile() {
            assert!(
                oom > 0,
                "{policy:?}: a volatile policy with no volatile keys refuses writes"
            );
            assert_eq!(bench.node.stats.evicted_keys, 0);
        } else {
            assert_eq!(oom, 0, "{policy:?}");
            assert!(
                bench.node.used_memory() < limit(&bench) + 4096,
                "{policy:?}"
            );
        }
    }
}

#[test]
fn volatile_policies_only_remove_volatile_keys() {
    // maxmemory.tcl "policy P should only remove volatile keys".
    for policy in [
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileLfu,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
    ] {
        let mut bench = limited(policy, 100_000, 200_000);
        let mut key = 0;
        while bench.node.used_memory() + 4096 <= limit(&bench) {
            let ttl = (key % 2 == 1).then_some(10_000_000);
            bench.set(key, 1, ttl);
            key += 1;
        }
        let written = key;
        for extra in 0..written {
            bench.set(100_000 + extra, 1, Some(10_000_000));
        }
        assert!(
            bench.node.used_memory() < limit(&bench) + 4096,
            "{policy:?}"
        );
        for even in (0..written).step_by(2) {
            assert!(
                bench.node.contains(0, KeyId(even)),
                "{policy:?}: non-volatile key {even} was evicted"
            );
        }
    }
}

#[test]
fn shared_integers_depend_on_the_policy() {
    // maxmemory.tcl: without maxmemory, or with a non-LRU policy, small integers are shared.
    let cost_of_one_integer = |policy: Option<MaxmemoryPolicy>| {
        let mut bench = Bench::new(ServerConfig::default(), "a", 1);
        if let Some(policy) = policy {
            bench.node.config.maxmemory_bytes = 1 << 30;
            bench.node.config.maxmemory_policy = policy;
        }
        let before = bench.node.used_memory();
        bench.run(
            CommandKind::Set,
            0,
            Argument::Integer {
                value: 1,
                ttl_ms: None,
            },
        );
        bench.node.used_memory() - before
    };
    let shared = cost_of_one_integer(None);
    assert_eq!(
        cost_of_one_integer(Some(MaxmemoryPolicy::AllkeysRandom)),
        shared
    );
    assert_eq!(
        cost_of_one_integer(Some(MaxmemoryPolicy::AllkeysLru)),
        shared + 16
    );
    assert_eq!(
        cost_of_one_integer(Some(MaxmemoryPolicy::VolatileLru)),
        shared + 16
    );
}

#[test]
fn no_rehash_when_the_new_table_would_exceed_maxmemory() {
    // maxmemory.tcl "Don't rehash if used memory exceeds maxmemory after rehash".
    let mut bench = Bench::new(ServerConfig::default(), "k", 5000);
    bench.node.config.maxmemory_policy = MaxmemoryPolicy::AllkeysRandom;
    for key in 0..4096 {
        bench.set(key, 1, None);
    }
    bench.advance_ms(100);
    bench.cron();
    bench.node.config.maxmemory_bytes = bench.node.used_memory() + 10 * 1024;
    bench.set(4096, 1, None);
    bench.set(4097, 1, None);
    assert_eq!(bench.node.total_keys(), 4098);
    assert_eq!(bench.node.stats.evicted_keys, 0);
}

#[test]
fn noeviction_rejects_writes_but_serves_reads_and_deletes() {
    let mut bench = limited(MaxmemoryPolicy::NoEviction, 100_000, 10_000);
    let mut key = 0;
    while bench.set(key, 1, None) == Reply::Ok {
        key += 1;
        assert!(
            key < 5_000,
            "noeviction must refuse writes once over the limit"
        );
    }
    // Over the limit now: the refused write left nothing behind.
    let reply = bench.set(9_999, 100, None);
    assert_eq!(reply, Reply::Error(vanish::sim::server::ErrorReply::Oom));
    assert_eq!(bench.node.stats.evicted_keys, 0);
    assert_eq!(bench.run(CommandKind::Get, 0, Argument::None), Reply::Hit);
    assert_eq!(
        bench.run(CommandKind::Del, 1, Argument::None),
        Reply::Integer(1)
    );
    let rows = bench.node.commandstats_rows();
    let set = rows.iter().find(|(name, _)| name == "set").unwrap().1;
    assert!(set.rejected_calls >= 1);
    assert!(bench
        .node
        .errorstats()
        .iter()
        .any(|(prefix, count)| *prefix == "OOM" && *count >= 1));
    // The refused key's later miss names the refusal.
    assert_eq!(
        bench.run(CommandKind::Get, 9_999, Argument::None),
        Reply::Miss
    );
    let miss = bench
        .ledger
        .iter()
        .rev()
        .find(|e| e.kind == EntryKind::Miss)
        .unwrap();
    assert_eq!(miss.cause, Cause::OomRejected);
    assert!(bench.ledger.iter().any(|e| e.kind == EntryKind::Rejected));
}

#[test]
fn eviction_runs_before_reads_too_and_records_the_policy_and_score() {
    let mut bench = limited(MaxmemoryPolicy::AllkeysLru, 50_000, 10_000);
    fill(&mut bench, 0, false);
    bench.node.config.maxmemory_bytes -= 10_000;
    let before = bench.node.stats.evicted_keys;
    bench.run(CommandKind::Get, 0, Argument::None);
    assert!(
        bench.node.stats.evicted_keys > before,
        "a GET evicts when over the limit"
    );
    let eviction = bench
        .ledger
        .iter()
        .find(|e| e.cause == Cause::Evicted)
        .unwrap();
    assert!(matches!(
        eviction.detail,
        Detail::Eviction {
            policy: MaxmemoryPolicy::AllkeysLru,
            ..
        }
    ));
}

#[test]
fn lowering_maxmemory_evicts_at_once() {
    // maxmemory.tcl "propagation with eviction": CONFIG SET maxmemory 1 evicts every key.
    let mut bench = Bench::new(ServerConfig::default(), "asdf", 4);
    bench.node.config.maxmemory_policy = MaxmemoryPolicy::AllkeysLru;
    for key in 1..4 {
        bench.set(key, 1, None);
    }
    let mut ledger = Ledger::new(&mut bench.ledger, 1);
    bench
        .node
        .config_set(ConfigChange::Maxmemory(1), &mut ledger);
    assert_eq!(bench.node.total_keys(), 0);
    assert_eq!(bench.node.stats.evicted_keys, 3);
}

#[test]
fn lru_prefers_the_longest_idle_keys() {
    // 1,000 keys written one per second, the first half idle since; the limit then drops so that
    // about half must go: sampled LRU evicts mostly the older half.
    let mut bench = limited(MaxmemoryPolicy::AllkeysLru, 10_000_000, 2_000);
    for key in 0..1000 {
        bench.set(key, 10, None);
        bench.advance_ms(1000);
        bench.cron();
    }
    for key in 500..1000 {
        bench.run(CommandKind::Get, key, Argument::None);
    }
    bench.advance_ms(1000);
    bench.cron();
    let full = bench.node.used_memory();
    bench.node.config.maxmemory_bytes = full - (full - 876_216) / 2;
    bench.run(CommandKind::Get, 999, Argument::None);
    let old_evicted = (0..500)
        .filter(|k| !bench.node.contains(0, KeyId(*k)))
        .count();
    let new_evicted = (500..1000)
        .filter(|k| !bench.node.contains(0, KeyId(*k)))
        .count();
    assert!(
        old_evicted > 4 * new_evicted,
        "old {old_evicted} vs recent {new_evicted}"
    );
}

#[test]
fn exact_lru_in_raw_mode_is_a_classic_cache() {
    // Capacity 3 values of 1 byte: 0 1 2 0 3 → 3 evicts 1; then 1 misses.
    let server = ServerConfig {
        memory_model: MemoryModel::Raw,
        maxmemory_bytes: 3,
        maxmemory_policy: MaxmemoryPolicy::LruExact,
        ..ServerConfig::default()
    };
    let mut bench = Bench::new(server, "k", 10);
    for key in [0, 1, 2] {
        bench.set(key, 1, None);
    }
    assert_eq!(bench.node.used_memory(), 3);
    assert_eq!(bench.run(CommandKind::Get, 0, Argument::None), Reply::Hit);
    bench.set(3, 1, None);
    assert_eq!(bench.run(CommandKind::Get, 1, Argument::None), Reply::Miss);
    assert_eq!(bench.run(CommandKind::Get, 0, Argument::None), Reply::Hit);
    assert_eq!(bench.run(CommandKind::Get, 2, Argument::None), Reply::Hit);
    // A value larger than the whole cache is not stored.
    assert_eq!(
        bench.set(5, 4, None),
        Reply::Error(vanish::sim::server::ErrorReply::Oom)
    );
    assert_eq!(bench.node.used_memory(), 3);
}

#[test]
fn a_write_refused_on_a_read_only_replica_still_evicts_first() {
    // processCommand runs performEvictions before its replication checks: a replica that does
    // not ignore maxmemory, over its limit, evicts on a client's write and then answers
    // -READONLY. (Refusing first, as vanish once did, evicted nothing.)
    let mut bench = Bench::new(ServerConfig::default(), "k:", 100);
    for key in 0..100 {
        bench.set(key, 200, None);
    }
    let used = bench.node.used_memory();
    bench.node.config.maxmemory_policy = MaxmemoryPolicy::AllkeysLru;
    bench.node.config.maxmemory_bytes = used - 4_000;
    bench.node.config.replica_ignore_maxmemory = false;
    bench
        .node
        .set_role(vanish::sim::server::Role::Replica(Default::default()));
    let reply = bench.set(0, 200, None);
    assert_eq!(
        reply,
        Reply::Error(vanish::sim::server::ErrorReply::ReadOnly)
    );
    assert!(
        bench.node.stats.evicted_keys > 0,
        "nothing evicted before -READONLY"
    );
    assert!(bench.node.used_memory() <= used - 4_000);
}
