//! Throughput and memory of the simulator on the reference workloads:
//! - single node, generated: 1 M keys, Zipf 0.99, 80/20 GET/SET, 10 M commands;
//! - trace replay: a 10 M-request Zipf(1.0) trace over 1 M objects (generated here), read-through,
//!   under exact LRU in raw mode and under allkeys-lru with 5 samples, cache at 10 % of objects;
//! - the single-node workload with a primary and two replicas (1 ms links).
//!
//! Run with `cargo bench --bench throughput` (set VANISH_BENCH_COMMANDS to shorten). Prints
//! simulated commands per second (best of three runs) and simulator heap bytes per live key (a
//! counting allocator tracks the peak).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use std::sync::Arc;

use vanish::sim::config::*;
use vanish::sim::engine::{run, run_full_engine, NoProgress, RunOptions};
use vanish::sim::ledger::DiscardLedger;
use vanish::sim::random::dist::Zipf;
use vanish::sim::random::rng::Stream;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn reference_scenario(commands: u64) -> SimConfig {
    let rate = 100_000.0;
    SimConfig {
        name: "bench".into(),
        seed: 1,
        duration_us: commands * 1_000_000 / rate as u64,
        sample_every_us: 1_000_000,
        server: ServerConfig::default(),
        persistence: Default::default(),
        replicas: vec![],
        sentinel: None,
        clients: vec![ClientConfig::new(
            "bench",
            Workload::Generated(GeneratedWorkload {
                rate,
                arrivals: Arrivals::Poisson,
                keyspace: KeyspaceConfig {
                    keys: 1_000_000,
                    prefix: "key:".into(),
                    popularity: Popularity::Zipf { skew: 0.99 },
                },
                commands: vec![(CommandKind::Get, 80), (CommandKind::Set, 20)],
                value_size: ValueSize::Fixed(100),
                ttl: None,
                on_miss: OnMiss::None,
                fields: 16,
            }),
        )],
        events: vec![],
    }
}

/// A read-through Zipf(1.0) trace over `objects` objects of 100 bytes.
fn zipf_trace(requests: u64, objects: u64) -> Arc<Trace> {
    let zipf = Zipf::new(objects, 1.0);
    let mut stream = Stream::new(1, "bench-trace");
    let records = (0..requests)
        .map(|_| TraceRecord {
            time_us: 0,
            key: (zipf.sample(&mut stream) - 1) as u32,
            db: 0,
            op: TraceOp::Get,
            flags: 0,
            value_size: 100,
            ttl_ms: 0,
        })
        .collect();
    Arc::new(Trace {
        source: "zipf-1.0".into(),
        // Numbered objects, as oracleGeneral traces have them.
        key_names: {
            let mut names = KeyNames::new();
            (0..objects).for_each(|id| names.push_number(id));
            names
        },
        records,
        read_through: true,
        per_record_db: false,
        notes: Default::default(),
        prefix_separator: ":".to_string(),
    })
}

fn replay_scenario(trace: Arc<Trace>, server: ServerConfig) -> SimConfig {
    let mut config = reference_scenario(0);
    let requests = trace.records.len() as u64;
    config.server = server;
    // The trace is untimed: paced at a million requests per second.
    config.clients[0].workload = Workload::Trace(TraceWorkload {
        trace,
        rate: Some(1_000_000.0),
    });
    config.duration_us = requests + 1_000_000;
    config
}

fn measure(label: &str, config: &SimConfig) {
    measure_with(label, config, false);
}

/// `full_engine`: bypass the reference replay kernel.
fn measure_with(label: &str, config: &SimConfig, full_engine: bool) {
    let mut best = f64::MAX;
    let mut live_keys = 0;
    let mut simulated = 0;
    let mut per_key = 0.0;
    for _ in 0..3 {
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let started = Instant::now();
        let output = if full_engine {
            let options = RunOptions {
                check_invariants: false,
            };
            run_full_engine(config, &mut DiscardLedger, &mut NoProgress, options)
        } else {
            run(config, &mut DiscardLedger, &mut NoProgress)
        };
        best = best.min(started.elapsed().as_secs_f64());
        simulated = output.commands;
        live_keys = output.nodes[0]
            .keyspace
            .iter()
            .map(|db| db.keys)
            .sum::<u64>();
        let peak = PEAK.load(Ordering::Relaxed) - baseline;
        per_key = peak as f64 / live_keys.max(1) as f64;
    }
    let rate = match config.clients[0].trace() {
        Some(trace) => format!(
            "{:.2} M trace requests/s ({:.2} M simulated commands/s with the read-through SETs)",
            trace.records.len() as f64 / best / 1e6,
            simulated as f64 / best / 1e6
        ),
        None => format!(
            "{:.2} M simulated commands/s",
            simulated as f64 / best / 1e6
        ),
    };
    println!(
        "{label}: {rate}, best of 3; {live_keys} live keys, {per_key:.1} B of simulator heap per live key"
    );
}

fn main() {
    let commands: u64 = std::env::var("VANISH_BENCH_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    // VANISH_BENCH_ONLY=lru-exact|lru-exact-full|allkeys-lru|allkeys-lru-redis|replicas|single runs one benchmark (for profiling).
    let only = std::env::var("VANISH_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only == name;
    let objects = 1_000_000;
    // Built only when a trace benchmark runs, so that a profile of `single` shows its run alone.
    let trace = std::sync::LazyLock::new(|| zipf_trace(commands, objects));
    let exact = ServerConfig {
        memory_model: MemoryModel::Raw,
        maxmemory_bytes: objects / 10 * 100,
        maxmemory_policy: MaxmemoryPolicy::LruExact,
        ..ServerConfig::default()
    };
    if wanted("lru-exact") {
        // Eligible for the reference replay kernel (`engine/reference_replay`).
        measure(
            "replay kernel: trace replay, lru-exact, raw memory",
            &replay_scenario(trace.clone(), exact.clone()),
        );
    }
    if wanted("lru-exact-full") {
        measure_with(
            "trace replay, lru-exact, raw memory, full engine",
            &replay_scenario(trace.clone(), exact),
            true,
        );
    }
    let sampled = ServerConfig {
        memory_model: MemoryModel::Raw,
        maxmemory_bytes: objects / 10 * 100,
        maxmemory_policy: MaxmemoryPolicy::AllkeysLru,
        ..ServerConfig::default()
    };
    if wanted("allkeys-lru") {
        measure(
            "trace replay, allkeys-lru, 5 samples, raw memory",
            &replay_scenario(trace.clone(), sampled),
        );
    }
    let sampled_redis = ServerConfig {
        // The fixed memory (an empty server and the one client's connection) plus the cache.
        maxmemory_bytes: vanish::sim::keyspace::memory::USED_MEMORY_STARTUP
            + vanish::sim::keyspace::memory::client_pool_bytes(1)
            + objects / 10 * 200,
        maxmemory_policy: MaxmemoryPolicy::AllkeysLru,
        ..ServerConfig::default()
    };
    if wanted("allkeys-lru-redis") {
        measure(
            "trace replay, allkeys-lru, 5 samples, Redis's memory",
            &replay_scenario(trace.clone(), sampled_redis),
        );
    }
    if wanted("replicas") {
        let mut replicated = reference_scenario(commands);
        replicated.replicas = ["replica-1", "replica-2"]
            .iter()
            .map(|name| ReplicaConfig {
                name: name.to_string(),
                priority: 100,
                lag: LinkLag::Fixed { us: 1_000 },
                bandwidth_bytes_per_s: vanish::sim::config::DEFAULT_BANDWIDTH_BYTES_PER_S,
                buffers: vanish::sim::config::SocketBuffers::LOOPBACK,
            })
            .collect();
        measure("primary + 2 replicas, same workload", &replicated);
    }
    if !wanted("single") {
        return;
    }

    let config = reference_scenario(commands);
    let mut best = f64::MAX;
    let mut live_keys = 0;
    let mut simulated = 0;
    for _ in 0..3 {
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let started = Instant::now();
        let output = run(&config, &mut DiscardLedger, &mut NoProgress);
        let seconds = started.elapsed().as_secs_f64();
        best = best.min(seconds);
        simulated = output.commands;
        live_keys = output.nodes[0]
            .keyspace
            .iter()
            .map(|db| db.keys)
            .sum::<u64>();
        let peak = PEAK.load(Ordering::Relaxed) - baseline;
        println!(
            "run: {simulated} commands in {seconds:.3} s, {live_keys} live keys, peak heap {peak} B = {:.1} B per live key",
            peak as f64 / live_keys.max(1) as f64
        );
    }
    println!(
        "single node, 1M keys, zipf 0.99, 80/20 GET/SET: {:.2} M simulated commands/s (best of 3), {} live keys",
        simulated as f64 / best / 1e6,
        live_keys
    );
}
