//! The reference policies against numbers other people published for public cache traces
//! (../shared/traces/README.md). Skipped, saying so, when the traces are not beside the project.

use std::path::PathBuf;
use std::sync::Arc;

use vanish::sim::config::*;
use vanish::sim::engine::{run, NoProgress, RunOutput};
use vanish::sim::ledger::DiscardLedger;
use vanish::trace::{load_trace, TraceFormat};

use crate::support::trace_client;

fn traces_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/traces");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared/traces not found beside the project");
        None
    }
}

/// Replays `trace` as a read-through cache with `policy` and a capacity of `capacity` bytes of
/// values (raw memory model).
fn replay(trace: &Arc<Trace>, policy: MaxmemoryPolicy, capacity: u64) -> RunOutput {
    // An untimed trace is paced at a million requests per second.
    let untimed = trace.records.iter().all(|r| r.time_us == 0);
    let reader = trace_client("trace", trace.clone(), untimed.then_some(1_000_000.0));
    let last_us = trace.records.iter().map(|r| r.time_us).max().unwrap_or(0);
    let config = SimConfig {
        name: "crosscheck".into(),
        seed: 1,
        duration_us: last_us + trace.records.len() as u64 + 1_000_000,
        sample_every_us: 1_000_000_000,
        server: ServerConfig {
            memory_model: MemoryModel::Raw,
            maxmemory_bytes: capacity,
            maxmemory_policy: policy,
            ..ServerConfig::default()
        },
        persistence: Default::default(),
        replicas: vec![],
        sentinel: None,
        clients: vec![reader],
        events: vec![],
    };
    let output = run(&config, &mut DiscardLedger, &mut NoProgress);
    assert_eq!(
        output.reads,
        trace.records.len() as u64,
        "every request replayed"
    );
    output
}

#[test]
fn exact_lru_reproduces_libcachesim_on_cloudphysics() {
    let Some(dir) = traces_dir() else { return };
    let trace = Arc::new(
        load_trace(
            &dir.join("cloudPhysicsIO.oracleGeneral.bin"),
            TraceFormat::OracleGeneral,
        )
        .unwrap(),
    );
    // libCacheSim test/test_evictionAlgo.c: LRU misses at 128..1024 MiB.
    let published = [
        93_374, 89_783, 83_572, 81_722, 72_494, 72_104, 71_972, 71_704,
    ];
    let simulated: Vec<u64> = (1..=8)
        .map(|step| replay(&trace, MaxmemoryPolicy::LruExact, step * 128 * 1_048_576).misses)
        .collect();
    assert_eq!(simulated, published, "LRU misses at 128..1024 MiB");
}

#[test]
fn exact_lru_reproduces_the_published_gli_hit_ratios() {
    let Some(dir) = traces_dir() else { return };
    let trace = Arc::new(load_trace(&dir.join("gli.trace.gz"), TraceFormat::Lirs).unwrap());
    // BitFaster.Caching's classic hit-rate tests, in percent with two decimals.
    let published = [0.91, 0.95, 1.15, 11.21, 21.25, 36.56, 45.04, 57.41];
    let simulated: Vec<f64> = (1..=8)
        .map(|step| {
            let output = replay(&trace, MaxmemoryPolicy::LruExact, step * 250);
            (output.hits as f64 * 10_000.0 / output.reads as f64).round() / 100.0
        })
        .collect();
    assert_eq!(
        simulated, published,
        "LRU hit ratio (%) at 250..2000 entries"
    );
}

#[test]
fn opt_reproduces_the_clairvoyant_result_on_multi1() {
    let Some(dir) = traces_dir() else { return };
    let trace = Arc::new(load_trace(&dir.join("multi1.trace.gz"), TraceFormat::Lirs).unwrap());
    let output = replay(&trace, MaxmemoryPolicy::Opt, 500);
    assert!(
        (9_322..=9_323).contains(&output.hits),
        "OPT at 500 entries: {} hits",
        output.hits
    );
}

#[test]
fn lru_and_opt_regression_table() {
    // LRU / OPT hit ratios (%) from the traces' README, computed with independent
    // implementations. LRU must match to the published two decimals. vanish's OPT may also skip
    // caching the incoming object when it is used furthest ahead (Belady with bypass, as
    // Caffeine's clairvoyant policy does, which the multi1 test above pins); the table's
    // implementation differs by a few hits at some points (multi1 c=100: 47.97 vs 47.92), so
    // OPT is held to 0.1 percentage point.
    let Some(dir) = traces_dir() else { return };
    type Row = (u64, f64, f64);
    let table: [(&str, [Row; 2]); 3] = [
        ("multi1", [(100, 18.17, 47.92), (2000, 83.21, 83.57)]),
        ("sprite", [(250, 48.84, 74.48), (1000, 90.64, 93.24)]),
        ("loop", [(500, 0.00, 49.36), (2000, 99.80, 99.80)]),
    ];
    let mut mismatches = Vec::new();
    for (name, rows) in table {
        let trace =
            Arc::new(load_trace(&dir.join(format!("{name}.trace.gz")), TraceFormat::Lirs).unwrap());
        for (capacity, lru, opt) in rows {
            for (policy, expected, tolerance) in [
                (MaxmemoryPolicy::LruExact, lru, 0.005),
                (MaxmemoryPolicy::Opt, opt, 0.1),
            ] {
                let output = replay(&trace, policy, capacity);
                let got = (output.hits as f64 * 10_000.0 / output.reads as f64).round() / 100.0;
                if (got - expected).abs() > tolerance + 1e-9 {
                    mismatches.push(format!(
                        "{name} c={capacity} {}: {got:.2} vs {expected:.2}",
                        policy.as_str()
                    ));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
