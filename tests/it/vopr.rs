//! Random worlds checked against every invariant (`src/vopr.rs`): a fixed budget of seeds in
//! CI; `cargo run --release --example vopr -- --count N` is the long soak.

/// Seeds every run checks; a failure prints its seed and scenario.
const SEEDS: u64 = 200;

#[test]
fn random_worlds_keep_every_invariant() {
    let mut commands = 0;
    for seed in 0..SEEDS {
        match vanish::vopr::check(seed) {
            Ok(outcome) => commands += outcome.commands,
            Err(failure) => panic!("{failure}"),
        }
    }
    // The worlds do work: a generator that produced empty runs would check nothing.
    assert!(
        commands > 100_000,
        "only {commands} commands in {SEEDS} worlds"
    );
}

#[test]
fn an_exact_lru_primary_restarted_from_its_rdb_keeps_its_order_true() {
    // Found by the random worlds: a restart's rollback bypassed exact LRU's order, which then
    // named absent keys as victims and took their bytes off used_memory a second time.
    let text = r#"
[scenario]
name = "lru-exact-restart"
seed = 3
duration = "12s"

[server]
maxmemory = "1200kb"
maxmemory-policy = "lru-exact"

[persistence]
save = "1 1"

[[client]]
name = "writer"
rate = 400
keyspace = { keys = 3000, prefix = "k:", popularity = "zipf", skew = 0.8 }
commands = { GET = 50, SET = 50 }
value-size = { dist = "uniform", min = 100, max = 900 }

[[event]]
at = "5500ms"
do = "restart"
node = "primary"
"#;
    let output = run_checked("lru-exact-restart.toml", text);
    let evicted = output.totals.removals_by_cause[vanish::sim::ledger::Cause::Evicted];
    assert!(
        evicted > 1_000,
        "the cache stayed full after the restart: {evicted} evictions"
    );
}

/// A scenario run with every invariant checked.
fn run_checked(name: &str, text: &str) -> vanish::sim::engine::RunOutput {
    let config = vanish::scenario::parse(name, text, &Default::default()).expect("valid scenario");
    let options = vanish::sim::engine::RunOptions {
        check_invariants: true,
    };
    vanish::sim::engine::run_with(
        &config,
        &mut vanish::sim::ledger::DiscardLedger,
        &mut vanish::sim::engine::NoProgress,
        options,
    )
}

#[test]
fn a_write_lost_to_a_restart_is_not_lost_again_at_the_next_failover() {
    // Found by the random worlds: r2, promoted, restarts (losing what it acknowledged since its
    // last save) while partitioned from r1; the Sentinels then promote r1, and the writes r2
    // had queued for r1 were counted lost a second time.
    let text = r#"
[scenario]
name = "restart-then-failover"
seed = 4364
duration = "12s"
sample-every = "250ms"
[server]
memory-model = "redis"
maxmemory = "1686kb"
maxmemory-policy = "volatile-ttl"
maxmemory-samples = 6
hz = 100
databases = 4
[[replica]]
name = "r1"
lag = "37ms"
[[replica]]
name = "r2"
lag = "32ms"
[sentinel]
hosts = ["primary", "r1", "r2"]
quorum = 2
down-after-milliseconds = 1511
[[client]]
name = "c0"
rate = 250
db = 0
start = "1809ms"
keyspace = { keys = 553, prefix = "k:", popularity = "hotset", hot-keys = 0.05, hot-share = 0.9 }
commands = { GET = 60, SET = 40 }
value-size = { dist = "uniform", min = 1, max = 860 }
fields = 18
[[client]]
name = "c1"
rate = 279
db = 1
start = "3080ms"
keyspace = { keys = 492, prefix = "shared:", popularity = "uniform" }
commands = { GET = 80, SET = 20 }
value-size = { dist = "uniform", min = 1, max = 282 }
fields = 10
[[event]]
at = "1002ms"
do = "heal"
[[event]]
at = "2539ms"
do = "failover"
to = "r2"
[[event]]
at = "5428ms"
do = "partition"
sides = [["primary", "r1", "c0"], ["r2", "c1"]]
[[event]]
at = "6910ms"
do = "restart"
node = "r2"
[[event]]
at = "8901ms"
do = "link-down"
node = "r1"
"#;
    let output = run_checked("restart-then-failover.toml", text);
    assert!(output.acknowledged_writes_lost > 0);
    assert!(
        output.acknowledged_writes_lost <= output.acknowledged_writes,
        "{} lost of {} acknowledged",
        output.acknowledged_writes_lost,
        output.acknowledged_writes
    );
}
