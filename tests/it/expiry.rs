//! Expiry as Redis 7.0 does it (redis-fidelity.md 2 and tests/unit/expire.tcl).

use vanish::sim::config::{CommandKind, ServerConfig};
use vanish::sim::ledger::{Cause, Detail, EntryKind, KeyId};
use vanish::sim::server::{Argument, Reply};

use crate::support::Bench;

fn dbsize(bench: &Bench) -> u64 {
    bench.node.total_keys()
}

/// Runs cron ticks at hz 10 for `ms` of virtual time.
fn run_cron_for(bench: &mut Bench, ms: u64) {
    for _ in 0..ms / 100 {
        bench.advance_ms(100);
        bench.cron();
    }
}

#[test]
fn keys_are_expired_actively_and_incrementally() {
    // "Redis should actively expire keys incrementally": 3 × PSETEX 500 → DBSIZE 0 within 2 s.
    let mut bench = Bench::new(ServerConfig::default(), "key", 3);
    for key in 0..3 {
        bench.set(key, 3, Some(500));
    }
    run_cron_for(&mut bench, 400);
    assert_eq!(dbsize(&bench), 3, "nothing expires before its deadline");
    run_cron_for(&mut bench, 1600);
    assert_eq!(dbsize(&bench), 0);
    assert_eq!(bench.node.stats.expired_keys, 3);
    assert!(bench.ledger.iter().all(|e| matches!(
        e.detail,
        Detail::Expiry {
            lazy: false,
            ttl_ms: 500,
            ..
        }
    )));
}

#[test]
fn keys_are_expired_lazily_when_active_expiry_is_off() {
    // "Redis should lazy expire keys": {3 3 0}.
    let server = ServerConfig {
        active_expire_enabled: false,
        ..ServerConfig::default()
    };
    let mut bench = Bench::new(server, "key", 3);
    for key in 0..3 {
        bench.set(key, 3, Some(500));
    }
    run_cron_for(&mut bench, 1000);
    assert_eq!(dbsize(&bench), 3);
    for key in 0..3 {
        assert_eq!(
            bench.run(CommandKind::Get, key, Argument::None),
            Reply::Miss
        );
    }
    assert_eq!(dbsize(&bench), 0);
    assert_eq!(bench.node.stats.expired_keys, 3);
    assert_eq!(bench.node.stats.keyspace_misses, 3);
    let misses: Vec<_> = bench
        .ledger
        .iter()
        .filter(|e| e.kind == EntryKind::Miss)
        .collect();
    assert_eq!(misses.len(), 3);
    assert!(misses.iter().all(|e| e.cause == Cause::Expired));
}

#[test]
fn a_deadline_is_passed_only_strictly_after_it() {
    let server = ServerConfig {
        active_expire_enabled: false,
        ..ServerConfig::default()
    };
    let mut bench = Bench::new(server, "key", 1);
    bench.set(0, 3, Some(100));
    bench.advance_ms(100);
    assert_eq!(
        bench.run(CommandKind::Get, 0, Argument::None),
        Reply::Hit,
        "now == deadline"
    );
    bench.advance_ms(1);
    assert_eq!(bench.run(CommandKind::Get, 0, Argument::None), Reply::Miss);
}

#[test]
fn expire_does_not_resurrect_an_expired_key() {
    let server = ServerConfig {
        active_expire_enabled: false,
        ..ServerConfig::default()
    };
    let mut bench = Bench::new(server, "foo", 1);
    bench.set(0, 3, Some(500));
    bench.advance_ms(1000);
    // The write lookup expires the key first (counted), then EXPIRE finds nothing.
    assert_eq!(
        bench.run(CommandKind::Expire, 0, Argument::Ttl { ms: 10_000 }),
        Reply::Integer(0)
    );
    assert_eq!(
        bench.run(CommandKind::Exists, 0, Argument::None),
        Reply::Miss
    );
    assert_eq!(bench.node.stats.expired_keys, 1);
}

#[test]
fn expire_with_zero_deletes_as_a_del_and_is_not_counted_as_expired() {
    let mut bench = Bench::new(ServerConfig::default(), "foo", 1);
    bench.set(0, 3, None);
    assert_eq!(
        bench.run(CommandKind::Expire, 0, Argument::Ttl { ms: 0 }),
        Reply::Integer(1)
    );
    assert_eq!(dbsize(&bench), 0);
    assert_eq!(bench.node.stats.expired_keys, 0);
    let removal = bench
        .ledger
        .iter()
        .find(|e| e.kind == EntryKind::Removal)
        .unwrap();
    assert_eq!(removal.cause, Cause::Deleted);
    let rows = bench.node.commandstats_rows();
    assert!(rows
        .iter()
        .any(|(name, stat)| name == "expire" && stat.calls == 1));
    assert!(!rows.iter().any(|(name, _)| name == "del"));
}

#[test]
fn set_clears_a_ttl_and_persist_removes_it() {
    let mut bench = Bench::new(ServerConfig::default(), "k", 2);
    bench.set(0, 3, Some(100_000));
    assert!(bench.node.expire_unix_ms(0, KeyId(0)).is_some());
    bench.set(0, 3, None);
    assert_eq!(
        bench.node.expire_unix_ms(0, KeyId(0)),
        None,
        "SET without EX/KEEPTTL clears the TTL"
    );
    bench.set(1, 3, Some(100_000));
    assert_eq!(
        bench.run(CommandKind::Persist, 1, Argument::None),
        Reply::Integer(1)
    );
    assert_eq!(
        bench.run(CommandKind::Persist, 1, Argument::None),
        Reply::Integer(0)
    );
    assert_eq!(bench.node.total_volatile(), 0);
}

#[test]
fn the_sweep_reclaims_a_few_stale_keys_per_second_among_many_live_ones() {
    // MEASURED on 7.0.15: 100,000 long-TTL + 5,000 short-TTL keys; once the 5,000 had expired only
    // ~10–11 were reclaimed per second (≈ 200 checks/s × 4.8 %), and DBSIZE stayed ≈ 104,9xx.
    let mut bench = Bench::new(ServerConfig::default(), "key:", 105_000);
    for key in 0..105_000u32 {
        // Every 21st key is short-lived: 5,000 of them, spread over the table.
        let ttl = if key % 21 == 0 { 1_000 } else { 10_000_000 };
        bench.set(key, 3, Some(ttl));
    }
    run_cron_for(&mut bench, 2_000);
    let start = bench.node.stats.expired_keys;
    run_cron_for(&mut bench, 60_000);
    let per_second = (bench.node.stats.expired_keys - start) as f64 / 60.0;
    assert!(
        (5.0..20.0).contains(&per_second),
        "{per_second:.1} reclaimed per second"
    );
    assert!(dbsize(&bench) > 104_000);
}

#[test]
fn avg_ttl_is_a_slow_moving_average_of_sampled_keys() {
    // MEASURED: 50 keys TTL 1000 s + 50 keys TTL 100 s → avg_ttl 992749, then 912026 (1 s later),
    // 790907 (3 s), 630061 (8 s): starts near the first samples and drifts toward ≈ 550 s.
    let mut bench = Bench::new(ServerConfig::default(), "k", 100);
    for key in 0..100u32 {
        let ttl = if key < 50 { 1_000_000 } else { 100_000 };
        bench.set(key, 3, Some(ttl));
    }
    run_cron_for(&mut bench, 100);
    let first = bench.node.db(0).avg_ttl_ms;
    run_cron_for(&mut bench, 8_000);
    let later = bench.node.db(0).avg_ttl_ms;
    assert!(
        first > 100_000 && first < 1_000_000,
        "first estimate {first}"
    );
    assert!(
        later < first || first < 600_000,
        "drifts toward the mean: {first} → {later}"
    );
    assert!((450_000..800_000).contains(&later), "after 8 s: {later}");
}
