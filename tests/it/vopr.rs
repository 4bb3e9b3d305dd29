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
fn the_worlds_that_once_broke_an_invariant_keep_them_all() {
    // tests/worlds/ keeps each random world that found a bug, with a note on what it was.
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/worlds");
    let mut worlds: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    worlds.sort();
    assert!(worlds.len() >= 6, "{worlds:?}");
    for path in worlds {
        let text = std::fs::read_to_string(&path).unwrap();
        let output = run_checked(&path.display().to_string(), &text);
        assert!(output.commands > 0, "{}", path.display());
    }
}
