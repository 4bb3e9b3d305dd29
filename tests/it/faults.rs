//! Faults and Sentinel, end to end through the engine: automatic failover after a crash,
//! partitions and split brain, min-replicas-to-write, pauses, broken links and their resync,
//! WAIT, and the time a full resync takes.

use crate::support::generated;
use vanish::scenario::{parse, Overrides};
use vanish::sim::config::{
    Discovery, EventAction, EventConfig, Partition, SentinelConfig, SimConfig, WaitConfig,
};
use vanish::sim::engine::{run, NoProgress, RunOutput};
use vanish::sim::ledger::{Cause, DiscardLedger};
use vanish::sim::server::info::Role;

const S: u64 = 1_000_000;

/// A primary, two replicas 1 ms behind, and two writers of fresh keys at 500 writes/s each.
fn cluster(duration: &str) -> SimConfig {
    let text = format!(
        r#"
[scenario]
name = "faults"
seed = 5
duration = "{duration}"

[[replica]]
name = "r1"
lag = "1ms"

[[replica]]
name = "r2"
lag = "1ms"

[[client]]
name = "a"
rate = 500
rate-kind = "fixed"
keyspace = {{ keys = 1000000, prefix = "a:", popularity = "sequential" }}
commands = {{ SET = 1 }}

[[client]]
name = "b"
rate = 500
rate-kind = "fixed"
keyspace = {{ keys = 1000000, prefix = "b:", popularity = "sequential" }}
commands = {{ SET = 1 }}
"#
    );
    parse("faults.toml", &text, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn at(config: &mut SimConfig, seconds: u64, action: EventAction) {
    config.events.push(EventConfig {
        at_us: seconds * S,
        action,
    });
}

fn simulate(config: &SimConfig) -> RunOutput {
    run(config, &mut DiscardLedger, &mut NoProgress)
}

fn first(output: &RunOutput, event: &str) -> Option<u64> {
    output
        .sentinel_log
        .iter()
        .find(|e| e.event == event)
        .map(|e| e.time_us)
}

fn keys(output: &RunOutput, node: usize) -> u64 {
    output.nodes[node].keyspace.iter().map(|d| d.keys).sum()
}

/// The replica holds what the primary (node 0) holds, but for the last few writes in flight.
fn assert_caught_up(output: &RunOutput, replica: usize) {
    let (replica_keys, primary_keys) = (keys(output, replica), keys(output, 0));
    assert!(
        primary_keys - replica_keys < 50,
        "{replica_keys} vs {primary_keys}"
    );
}

fn is_primary(output: &RunOutput, node: usize) -> bool {
    matches!(output.nodes[node].role, Role::Master)
}

#[test]
fn sentinel_promotes_a_replica_about_thirty_seconds_after_the_primary_dies() {
    let mut config = cluster("2m");
    config.sentinel = Some(SentinelConfig::beside_each(3));
    at(&mut config, 30, EventAction::Crash { node: 0 });
    let output = simulate(&config);
    let odown = first(&output, "+odown").expect("+odown");
    let promoted = first(&output, "+promoted-slave").expect("+promoted-slave");
    // SDOWN 30 s after the last PONG (at most 1 s before the crash), ODOWN at once with the
    // other Sentinel agreeing, then up to 1 s of desync and 1 s until INFO shows the promotion.
    assert!((59 * S..=61 * S).contains(&odown), "odown at {odown}");
    assert!(
        (odown..=odown + 3 * S).contains(&promoted),
        "promoted at {promoted}"
    );
    let new = (1..3)
        .find(|&n| is_primary(&output, n))
        .expect("a promoted replica");
    let other = 3 - new;
    assert!(
        matches!(&output.nodes[other].role, Role::Replica(link) if link.master_port == 6379 + new as u16)
    );
    // Writes during the ~31 s without a primary were refused, not lost; only those in flight
    // (1 ms of lag at 1,000/s) were.
    let errors: u64 = output.clients.iter().map(|(_, c)| c.errors).sum();
    assert!((29_000..=34_000).contains(&errors), "{errors} refused");
    assert!(
        output.acknowledged_writes_lost <= 5,
        "{}",
        output.acknowledged_writes_lost
    );
    // Clients found the new primary and kept writing.
    let primary_keys: u64 = output.nodes[new].keyspace.iter().map(|d| d.keys).sum();
    assert!(primary_keys > 80_000, "{primary_keys}");
}

/// Sides {primary, a} | {r1, r2, b}, healed at `heal_s`.
fn partitioned(heal_s: u64) -> SimConfig {
    let mut config = cluster("3m");
    config.sentinel = Some(SentinelConfig::beside_each(3));
    at(
        &mut config,
        30,
        EventAction::Partition(Partition {
            node_side: vec![0, 1, 1],
            client_side: vec![0, 1],
        }),
    );
    at(&mut config, heal_s, EventAction::Heal);
    config
}

#[test]
fn an_isolated_primary_keeps_acknowledging_writes_that_the_heal_discards() {
    let config = partitioned(120);
    let output = simulate(&config);
    let promoted = first(&output, "+promoted-slave").expect("majority promotes");
    let converted = output
        .sentinel_log
        .iter()
        .find(|e| e.event == "+convert-to-slave" && e.node == 0)
        .map(|e| e.time_us)
        .expect("old primary converted");
    // Converted once it has answered for 8 s after the heal.
    assert!(
        (128 * S..=131 * S).contains(&converted),
        "converted at {converted}"
    );
    assert!(!is_primary(&output, 0));
    // Client a wrote to the isolated primary from 30 s until it re-resolved after the heal:
    // everything it acknowledged from the partition on is lost (split brain after the
    // promotion, failover before it).
    let split = output.totals.lost_writes_by_cause[Cause::SplitBrain];
    let failover = output.totals.lost_writes_by_cause[Cause::Failover];
    // After the heal, a's Sentinel hears of the new primary by hello (≤ 2 s) and a asks it
    // within a second.
    let expected_split = (120 * S - promoted) / 2_000; // 500/s
    assert!(
        (expected_split..expected_split + 2_000).contains(&split),
        "split-brain {split}, expected about {expected_split}"
    );
    assert!(
        failover.abs_diff((promoted - 30 * S) / 2_000) < 1_500,
        "failover {failover}"
    );
    assert_eq!(output.acknowledged_writes_lost, split + failover);
    assert!(output.totals.removals_by_cause[Cause::SplitBrain] > 0);
}

#[test]
fn min_replicas_to_write_bounds_the_split_brain_window() {
    let mut config = partitioned(120);
    config.server.min_replicas_to_write = 1;
    config.server.min_replicas_max_lag_s = 10;
    let output = simulate(&config);
    let unbounded = simulate(&partitioned(120)).acknowledged_writes_lost;
    // The isolated primary stops accepting writes about 10–12 s into the partition.
    let lost = output.acknowledged_writes_lost;
    assert!(
        (4_500..=6_500).contains(&lost),
        "{lost} lost (unbounded: {unbounded})"
    );
    assert!(lost * 4 < unbounded);
    assert!(output.totals.rejected_by_cause[Cause::NoreplicasRejected] > 10_000);
    let info = &output.nodes[0];
    assert!(info
        .errorstats
        .iter()
        .any(|(name, _)| name.contains("NOREPLICAS")));
}

#[test]
fn a_paused_primary_is_replaced_and_loses_what_it_accepts_after_resuming() {
    let mut config = cluster("2m");
    config.sentinel = Some(SentinelConfig::beside_each(3));
    // Client a has a fixed address: it keeps writing to the old primary.
    config.clients[0].connection.discovery = Discovery::Fixed;
    at(&mut config, 20, EventAction::Pause { node: 0 });
    at(&mut config, 70, EventAction::Resume { node: 0 });
    let output = simulate(&config);
    let promoted = first(&output, "+promoted-slave").expect("promotion");
    assert!(promoted < 70 * S);
    // From the resume until the Sentinels convert it 8 s later, a's writes are accepted there
    // and then discarded; afterwards they are refused with READONLY.
    let split = output.totals.lost_writes_by_cause[Cause::SplitBrain];
    assert!((3_500..=4_600).contains(&split), "{split}");
    assert!(output.nodes[0]
        .errorstats
        .iter()
        .any(|(name, count)| name.contains("READONLY") && *count > 10_000));
}

#[test]
fn a_short_link_outage_resumes_from_the_backlog_and_a_long_one_resyncs_in_full() {
    let mut short = cluster("1m");
    at(&mut short, 10, EventAction::LinkDown { node: 1 });
    at(&mut short, 11, EventAction::LinkUp { node: 1 });
    let output = simulate(&short);
    assert_eq!(output.nodes[0].sync_partial_ok, 1);
    assert_eq!(output.nodes[0].sync_full, 0);
    let primary_offset = output.nodes[0].master_repl_offset;
    assert!(
        matches!(&output.nodes[1].role, Role::Replica(link) if link.link_up && link.slave_repl_offset + 1_000 > primary_offset)
    );

    // 1,000 writes/s of ~50 bytes outrun a 64 KB backlog in about a second.
    let mut long = cluster("1m");
    long.server.repl_backlog_size = 64 * 1024;
    at(&mut long, 10, EventAction::LinkDown { node: 1 });
    at(&mut long, 20, EventAction::LinkUp { node: 1 });
    let output = simulate(&long);
    assert_eq!(output.nodes[0].sync_full, 1);
    assert_eq!(output.nodes[0].sync_partial_ok, 0);
    assert_caught_up(&output, 1);
}

#[test]
fn a_full_resync_takes_the_diskless_delay_plus_the_transfer() {
    // An empty restart of the primary: the replicas keep their data until the snapshot lands.
    let mut config = cluster("1m");
    config.persistence.save_points.clear();
    config.replicas[0].bandwidth_bytes_per_s = 1_000_000; // 1 MB/s
    at(&mut config, 20, EventAction::Crash { node: 0 });
    at(&mut config, 21, EventAction::Restart { node: 0 });
    config.duration_us = 25 * S;
    let early = simulate(&config);
    // r2 (1 Gbit/s) is wiped 5 s after the restart; r1 at 1 MB/s is still loading.
    assert!(early.totals.removals_by_cause[Cause::ResyncFlush] == 0);
    config.duration_us = 27 * S;
    let later = simulate(&config);
    let r2_keys: u64 = later.nodes[2].keyspace.iter().map(|d| d.keys).sum();
    let r1_keys: u64 = later.nodes[1].keyspace.iter().map(|d| d.keys).sum();
    assert!(r2_keys < 10_000, "r2 holds {r2_keys}");
    assert!(r1_keys >= 19_000, "r1 holds {r1_keys}");
    assert!(matches!(&later.nodes[1].role, Role::Replica(link) if link.sync.is_some()));
}

#[test]
fn wait_lowers_the_writes_lost_to_a_failover() {
    let scenario = |wait: Option<WaitConfig>| {
        let mut config = cluster("1m");
        config.replicas[0].lag = vanish::sim::config::LinkLag::Fixed { us: 200_000 };
        config.replicas[1].lag = vanish::sim::config::LinkLag::Fixed { us: 200_000 };
        for client in &mut config.clients {
            client.connection.wait = wait;
        }
        at(&mut config, 30, EventAction::Crash { node: 0 });
        at(&mut config, 31, EventAction::Failover { to: None });
        simulate(&config)
    };
    let without = scenario(None);
    let with = scenario(Some(WaitConfig {
        replicas: 1,
        timeout_us: 1_000_000,
    }));
    // 200 ms of lag at 1,000 writes/s: about 200 writes in flight; a client blocked in WAIT
    // has at most one unconfirmed write.
    assert!(
        (150..=250).contains(&without.acknowledged_writes_lost),
        "{}",
        without.acknowledged_writes_lost
    );
    assert!(
        with.acknowledged_writes_lost <= 2,
        "{}",
        with.acknowledged_writes_lost
    );
    assert!(with.acknowledged_writes < without.acknowledged_writes / 10);
}

#[test]
fn a_replica_that_must_not_serve_stale_data_refuses_reads_while_its_link_is_down() {
    let mut config = cluster("30s");
    config.server.replica_serve_stale_data = false;
    generated(&mut config.clients[1]).commands = vec![(vanish::sim::config::CommandKind::Get, 1)];
    config.clients[1].read_from = vanish::sim::config::ReadFrom::Replica(0);
    at(&mut config, 10, EventAction::LinkDown { node: 1 });
    at(&mut config, 15, EventAction::LinkUp { node: 1 });
    let output = simulate(&config);
    let masterdown = output.nodes[1]
        .errorstats
        .iter()
        .find(|(name, _)| name.contains("MASTERDOWN"))
        .map_or(0, |(_, n)| *n);
    assert!((2_400..=2_600).contains(&masterdown), "{masterdown}");
}

#[test]
fn faults_and_sentinels_are_deterministic() {
    let config = partitioned(100);
    let a = simulate(&config);
    let b = simulate(&config);
    assert_eq!(a.sentinel_log, b.sentinel_log);
    assert_eq!(a.acknowledged_writes_lost, b.acknowledged_writes_lost);
    assert_eq!(a.nodes, b.nodes);
}

#[test]
fn the_report_shows_writes_lost_and_the_sentinel_timeline() {
    let config = partitioned(120);
    let output = simulate(&config);
    let page = vanish::report::html::report_html(&config, "", &output, &[]);
    assert!(page.contains("<section id=\"writes-lost\">"));
    let lost = vanish::report::summary::thousands(output.acknowledged_writes_lost);
    assert!(page.contains(&format!("<p>{lost} of ")), "{lost}");
    assert!(page.contains("<section id=\"sentinel\">"));
    assert!(page.contains("<code>+promoted-slave</code>"));
    assert!(page.contains("<code>+convert-to-slave</code>"));
    let text = vanish::report::summary::summary_text(&config, &output);
    assert!(text.contains("acknowledged writes lost: "));
    assert!(text.contains("+promoted-slave r"), "{text}");
}

#[test]
fn a_replica_paused_past_repl_timeout_is_dropped_and_resyncs_when_it_resumes() {
    let mut config = cluster("2m");
    config.server.repl_backlog_size = 64 * 1024;
    at(&mut config, 10, EventAction::Pause { node: 1 });
    at(&mut config, 90, EventAction::Resume { node: 1 });
    let output = simulate(&config);
    // Dropped about 60 s after its last ACK; the backlog could not cover 80 s of writes.
    assert_eq!(output.nodes[0].sync_full, 1);
    assert_caught_up(&output, 1);
}

#[test]
fn faults_and_promotions_are_on_the_timeline_and_marked_on_the_charts() {
    let config = partitioned(120);
    let output = simulate(&config);
    let events: Vec<&str> = output.timeline.iter().map(|(_, e)| e.as_str()).collect();
    assert_eq!(events[0], "partition");
    assert!(events[1].starts_with("promoted r"), "{events:?}");
    assert_eq!(events[2], "heal");
    assert_eq!(events[3], "demoted primary");
    assert_eq!(output.timeline[0].0, 30 * S);
    let charts =
        vanish::report::charts::run_charts(&output, 0, config.sample_every_us).expect("charts");
    let misses = charts
        .iter()
        .find(|c| c.file_stem == "misses-by-cause")
        .expect("misses chart");
    assert!(misses.svg.contains("partition") && misses.svg.contains("demoted primary"));
}

#[test]
fn random_fault_schedules_never_panic_and_keep_the_books_straight() {
    use vanish::sim::random::rng::Stream;
    for schedule in 0..40u64 {
        let mut config = cluster("40s");
        for client in &mut config.clients {
            generated(client).rate = 100.0;
        }
        generated(&mut config.clients[1]).commands = vec![
            (vanish::sim::config::CommandKind::Get, 1),
            (vanish::sim::config::CommandKind::Set, 1),
        ];
        config.clients[1].read_from = vanish::sim::config::ReadFrom::AnyReplica;
        config.clients[0].connection.discovery = if schedule % 2 == 0 {
            Discovery::Fixed
        } else {
            Discovery::Sentinel { every_us: 500_000 }
        };
        if schedule % 3 != 0 {
            let mut sentinel = SentinelConfig::beside_each(3);
            sentinel.down_after_us = 3_000_000;
            config.sentinel = Some(sentinel);
        }
        if schedule % 4 == 1 {
            config.server.min_replicas_to_write = 1;
            config.server.repl_backlog_size = 16 * 1024;
        }
        // Expiry and eviction on every node, so counters move while nodes restart and swap.
        generated(&mut config.clients[1]).ttl = Some(vanish::sim::config::TtlConfig {
            share_ppm: 500_000,
            min_us: S,
            max_us: 5 * S,
        });
        if schedule % 5 == 2 {
            config.server.maxmemory_bytes = 3 * 1024 * 1024;
            config.server.maxmemory_policy = vanish::sim::config::MaxmemoryPolicy::AllkeysLru;
        }
        let mut draw = Stream::new(schedule, "fault schedule");
        for _ in 0..12 {
            let node = draw.below(3) as usize;
            let action = match draw.below(10) {
                0 => EventAction::Crash { node },
                1 => EventAction::Restart { node },
                2 => EventAction::Pause { node },
                3 => EventAction::Resume { node },
                4 => EventAction::Partition(Partition {
                    node_side: (0..3).map(|_| draw.below(2) as u8).collect(),
                    client_side: (0..2).map(|_| draw.below(2) as u8).collect(),
                }),
                5 => EventAction::Heal,
                6 => EventAction::LinkDown { node },
                7 => EventAction::LinkUp { node },
                8 => EventAction::Failover {
                    to: (draw.below(2) == 0).then_some(node),
                },
                _ => EventAction::FlushAll,
            };
            config.events.push(EventConfig {
                at_us: draw.below(40 * S),
                action,
            });
        }
        config.events.sort_by_key(|e| e.at_us);
        let mut ledger = Vec::new();
        let output = run(&config, &mut ledger, &mut NoProgress);
        let context = format!("schedule {schedule}: {:?}", config.events);
        assert!(
            output.acknowledged_writes_lost <= output.acknowledged_writes,
            "{context}"
        );
        let lost_rows = ledger
            .iter()
            .filter(|e| e.kind == vanish::sim::ledger::EntryKind::LostWrite)
            .count() as u64;
        assert_eq!(
            lost_rows,
            output.totals.lost_writes_by_cause.iter().sum::<u64>(),
            "{context}"
        );
        assert_eq!(output.totals.misses(), output.misses, "{context}");
        // Some node always acts as a primary (more than one during a split brain).
        let primaries = output
            .nodes
            .iter()
            .filter(|n| matches!(n.role, Role::Master))
            .count();
        assert!(primaries >= 1, "{context}");
    }
}

#[test]
fn the_unavailability_window_is_in_the_time_series_and_charted() {
    let mut config = cluster("1m");
    config.sentinel = Some(SentinelConfig::beside_each(3));
    at(&mut config, 10, EventAction::Crash { node: 0 });
    let output = simulate(&config);
    // 1,000 writes a second refused from the crash to the promotion and re-resolution.
    let failing: Vec<u64> = output
        .samples
        .iter()
        .filter(|s| s.errors > 0)
        .map(|s| s.time_us)
        .collect();
    let first = failing.first().copied().expect("errors");
    let last = failing.last().copied().expect("errors");
    assert!((10 * S..=11 * S).contains(&first), "{first}");
    assert!((40 * S..=44 * S).contains(&last), "{last}");
    let total: u64 = output.samples.iter().map(|s| s.errors).sum();
    let refused: u64 = output.clients.iter().map(|(_, c)| c.errors).sum();
    assert_eq!(total, refused);
    let charts =
        vanish::report::charts::run_charts(&output, 0, config.sample_every_us).expect("charts");
    assert!(charts.iter().any(|c| c.file_stem == "client-errors"));
    let mut csv = Vec::new();
    vanish::report::timeseries::write_timeseries(
        &mut csv,
        &output.samples,
        config.sample_every_us,
        &["r1".to_string(), "r2".to_string()],
    )
    .expect("csv");
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(csv
        .lines()
        .next()
        .expect("header")
        .contains(",errors,lag_bytes_r1"));
}

#[test]
fn a_killed_process_keeps_its_aof_and_is_noticed_sooner_than_a_dead_machine() {
    let scenario = |action: EventAction| {
        let mut config = cluster("1m");
        config.persistence.appendonly = true;
        config.persistence.appendfsync = vanish::sim::config::AppendFsync::Everysec;
        let mut sentinel = SentinelConfig::beside_each(3);
        sentinel.down_after_us = 5 * S;
        config.sentinel = Some(sentinel);
        at(&mut config, 20, action);
        at(&mut config, 50, EventAction::Restart { node: 0 });
        simulate(&config)
    };
    let killed = scenario(EventAction::Kill { node: 0 });
    let crashed = scenario(EventAction::Crash { node: 0 });
    // The page cache had every acknowledged write: a process kill loses none of them to the
    // restart; a power loss loses what was not fsynced yet (up to a second).
    assert_eq!(killed.totals.removals_by_cause[Cause::Restart], 0);
    let rolled_back = crashed.totals.removals_by_cause[Cause::Restart];
    assert!((1..=1_100).contains(&rolled_back), "{rolled_back}");
    // The Sentinels' reconnection is refused at once after a kill: SDOWN 5 s after it. A dead
    // machine leaves the next periodic PING unanswered, up to a second later.
    let sdown = |output: &RunOutput| first(output, "+sdown").expect("+sdown") - 20 * S;
    assert!(
        (5 * S..5 * S + 150_000).contains(&sdown(&killed)),
        "{}",
        sdown(&killed)
    );
    assert!(
        (5 * S..=6 * S + 150_000).contains(&sdown(&crashed)),
        "{}",
        sdown(&crashed)
    );
    assert_eq!(killed.timeline[0].1, "kill primary");
}
