//! The replay kernel against the full engine: random eligible scenarios (seeds, trace sizes and
//! shapes, cache sizes, every kind of policy, read-through on and off, several
//! clients, sample intervals, start and stop times) give the same `RunOutput` and the same
//! ledger rows in the same order on both paths.

use std::sync::Arc;

use vanish::sim::config::*;
use vanish::sim::engine::reference_replay::eligible;
use vanish::sim::engine::{run_full_engine, run_with, NoProgress, RunOptions};
use vanish::sim::ledger::LedgerEntry;
use vanish::sim::random::rng::Stream;

fn random_trace(stream: &mut Stream, timed: bool) -> Arc<Trace> {
    let objects = stream.between(20, 2_000);
    let requests = stream.between(100, 12_000);
    let numbered = stream.below(3) != 0;
    let sizes = [1, 100, stream.between(1, 900) as u32];
    let size_kind = stream.below(3);
    let skew_hot = objects.div_ceil(10).max(1);
    let mut time_us = 0;
    let records = (0..requests)
        .map(|_| {
            // A hot tenth of the keys gets half the requests.
            let key = if stream.below(2) == 0 {
                stream.below(skew_hot)
            } else {
                stream.below(objects)
            };
            if timed {
                time_us += [0, 1, 250, 20_000][stream.below(4) as usize];
            }
            TraceRecord {
                time_us,
                key: key as u32,
                db: 0,
                op: TraceOp::Get,
                flags: 0,
                value_size: match size_kind {
                    0 => sizes[0],
                    1 => sizes[2],
                    _ => stream.between(1, 900) as u32,
                },
                ttl_ms: 0,
            }
        })
        .collect();
    let mut key_names = KeyNames::new();
    for id in 0..objects {
        if numbered {
            key_names.push_number(id);
        } else {
            key_names.push_text(&format!("{}:{id}", ["user", "item"][(id % 2) as usize]));
        }
    }
    Arc::new(Trace {
        source: "random".into(),
        key_names,
        records,
        read_through: stream.below(4) != 0,
        per_record_db: false,
        notes: Default::default(),
        prefix_separator: ":".to_string(),
    })
}

fn random_scenario(seed: u64) -> SimConfig {
    let mut stream = Stream::new(seed, "replay-kernel-test");
    // The reference policies run in the kernel's keyspace; the others on the node.
    let policy = [
        MaxmemoryPolicy::LruExact,
        MaxmemoryPolicy::Opt,
        MaxmemoryPolicy::AllkeysLru,
        MaxmemoryPolicy::AllkeysLfu,
        MaxmemoryPolicy::AllkeysRandom,
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::NoEviction,
    ][stream.below(7) as usize];
    let maxmemory = [0, 1_000, stream.between(900, 60_000)][stream.below(3) as usize];
    let server = ServerConfig {
        memory_model: MemoryModel::Raw,
        maxmemory_bytes: maxmemory,
        maxmemory_policy: policy,
        hz: [1, 10, 37][stream.below(3) as usize],
        ..ServerConfig::default()
    };
    let shared = random_trace(&mut stream, true);
    let client_count = stream.between(1, 3);
    let clients = (0..client_count)
        .map(|index| {
            let timed = stream.below(2) == 0;
            let trace = if stream.below(3) == 0 {
                shared.clone()
            } else {
                random_trace(&mut stream, timed)
            };
            let rate = (!timed || stream.below(3) == 0)
                .then(|| [1_000.0, 20_000.0, 333.0][stream.below(3) as usize]);
            let mut client = ClientConfig::new(
                format!("replay-{index}"),
                Workload::Trace(TraceWorkload { trace, rate }),
            );
            if stream.below(4) == 0 {
                client.start_us = stream.between(1, 3_000_000);
            }
            if stream.below(4) == 0 {
                client.stop_us = Some(client.start_us + stream.between(1, 8_000_000));
            }
            client
        })
        .collect();
    SimConfig {
        name: format!("kernel-{seed}"),
        seed,
        duration_us: stream.between(500_000, 15_000_000),
        sample_every_us: [100_000, 1_000_000, stream.between(50_000, 3_000_000)]
            [stream.below(3) as usize],
        server,
        persistence: Default::default(),
        replicas: vec![],
        sentinel: None,
        clients,
        events: vec![],
    }
}

/// Both paths' output (as its full Debug text) and ledger rows.
fn both(config: &SimConfig) -> ((String, Vec<LedgerEntry>), (String, Vec<LedgerEntry>)) {
    let options = RunOptions {
        check_invariants: true,
    };
    let mut kernel_rows = Vec::new();
    let kernel = run_with(config, &mut kernel_rows, &mut NoProgress, options);
    let mut full_rows = Vec::new();
    let full = run_full_engine(config, &mut full_rows, &mut NoProgress, options);
    (
        (format!("{kernel:#?}"), kernel_rows),
        (format!("{full:#?}"), full_rows),
    )
}

fn assert_same(config: &SimConfig) {
    let ((kernel, kernel_rows), (full, full_rows)) = both(config);
    assert_eq!(
        kernel_rows.len(),
        full_rows.len(),
        "{}: ledger rows",
        config.name
    );
    for (index, (mine, theirs)) in kernel_rows.iter().zip(&full_rows).enumerate() {
        assert_eq!(mine, theirs, "{}: ledger row {index}", config.name);
    }
    if kernel != full {
        let first = kernel
            .lines()
            .zip(full.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let show = |text: &str| {
            text.lines()
                .skip(first.saturating_sub(5))
                .take(12)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{}: outputs differ at line {first}\nkernel:\n{}\nfull engine:\n{}",
            config.name,
            show(&kernel),
            show(&full)
        );
    }
}

#[test]
fn random_eligible_scenarios_give_the_full_engines_output_and_ledger() {
    let (mut evicting, mut on_node, mut evicting_on_node) = (0, 0, 0);
    let seeds: u64 = std::env::var("VANISH_KERNEL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    for seed in 1..=seeds {
        let config = random_scenario(seed);
        assert_eq!(eligible(&config), Ok(()), "seed {seed}");
        assert_same(&config);
        let mut rows = Vec::new();
        let output = run_with(&config, &mut rows, &mut NoProgress, RunOptions::default());
        let evicted = output.totals.removals_by_cause.total() > 0;
        evicting += u64::from(evicted);
        if !config.server.maxmemory_policy.is_reference() {
            on_node += 1;
            evicting_on_node += u64::from(evicted);
        }
    }
    // Redis's own policies (run by the node) among them, evicting too.
    assert!(
        on_node >= 20 && evicting_on_node >= 5,
        "{on_node} on the node, {evicting_on_node} evicting"
    );
    // The scenarios must exercise evictions, not only fills.
    assert!(evicting >= 15, "only {evicting} scenarios evicted");
}

#[test]
fn ineligible_shapes_go_to_the_full_engine() {
    let base = random_scenario(7);
    let mut modelled = base.clone();
    modelled.server.memory_model = MemoryModel::Redis;
    let mut pipelined = base.clone();
    pipelined.clients[0].pipeline = 4;
    let mut generated = base.clone();
    generated.clients[0].workload = Workload::Generated(GeneratedWorkload {
        rate: 1_000.0,
        arrivals: Arrivals::Poisson,
        keyspace: KeyspaceConfig {
            keys: 100,
            prefix: "key:".into(),
            popularity: Popularity::Uniform,
        },
        commands: vec![(CommandKind::Get, 1)],
        value_size: ValueSize::Fixed(10),
        ttl: None,
        on_miss: OnMiss::Set,
        fields: 1,
    });
    let mut with_event = base.clone();
    with_event.events.push(EventConfig {
        at_us: 1_000,
        action: EventAction::FlushAll,
    });
    let mut refused = base.clone();
    refused.server.maxclients = 0;
    for (config, why) in [
        (refused, "more connections than maxclients"),
        (modelled, "a memory model other than raw"),
        (pipelined, "a pool or a pipeline"),
        (generated, "a generated workload"),
        (with_event, "operator events or faults"),
    ] {
        assert_eq!(eligible(&config), Err(why));
    }
}
