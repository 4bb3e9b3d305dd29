//! Throughput and memory of the simulator on the reference single-node workload:
//! 1 M keys, Zipf 0.99, 80/20 GET/SET, 10 M commands.
//!
//! Run with `cargo bench --bench throughput`. Prints simulated commands per second (best of
//! three runs) and simulator heap bytes per live key (a counting allocator tracks the peak).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use vanish::sim::config::*;
use vanish::sim::engine::{run, NoProgress};
use vanish::sim::ledger::DiscardLedger;

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
        clients: vec![ClientConfig {
            name: "bench".into(),
            rate,
            arrivals: Arrivals::Poisson,
            db: 0,
            start_us: 0,
            stop_us: None,
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
            trace: None,
        }],
        events: vec![],
    }
}

fn main() {
    let commands: u64 = std::env::var("VANISH_BENCH_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
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
