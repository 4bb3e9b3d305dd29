//! What large values cost while they move, step by step, on one connection as the `workloads`
//! shape with large values drives it: a 200 KB SET (its argument and the fresh query buffer
//! Redis keeps "for the next fat argument"), a pipeline opening with a GET of it (the reply
//! waiting in the connection's reply list while the pipeline's other commands run), and what
//! is left once clientsCron has visited. used_memory_peak is recorded after every command
//! (src/server.c `call`), so the peak of a pipeline is the memory its commands saw.

use std::thread;
use std::time::Duration;

use vanish::sim::config::{CommandKind, ServerConfig};
use vanish::sim::server::Argument;

use crate::redis::{Connection, RedisServer};
use crate::sim::{Family, SimNode};
use crate::table::{diff_percent, within_percent, Table};

const LARGE: u32 = 200_000;
const SMALL: u32 = 100;
const SMALL_PER_PIPELINE: u64 = 40;
/// Several clientsCron visits (hz 10, every client each 100 ms at most).
const CRON_VISITS: Duration = Duration::from_millis(500);
const TOLERANCE_PERCENT: f64 = 5.0;

fn used(measuring: &mut Connection) -> (u64, u64) {
    let memory = measuring.info("memory");
    (memory.u64("used_memory"), memory.u64("used_memory_peak"))
}

/// The steps, as (name, real bytes, simulated bytes).
fn steps() -> Vec<(&'static str, u64, u64)> {
    let server = RedisServer::start(&[("latency-tracking", "no")]);
    let mut measuring = server.connect();
    measuring.must(&["PING"]);
    let mut app = server.connect();
    app.must(&["PING"]);
    let large = "v".repeat(LARGE as usize);
    let small = "v".repeat(SMALL as usize);
    measuring.must(&["CONFIG", "RESETSTAT"]);
    let (empty, _) = used(&mut measuring);
    app.must(&["SET", "big:0", &large]);
    let (after_set, _) = used(&mut measuring);
    thread::sleep(CRON_VISITS);
    let (after_set_settled, _) = used(&mut measuring);
    measuring.must(&["CONFIG", "RESETSTAT"]);
    app.queue(&["GET", "big:0"]);
    for id in 0..SMALL_PER_PIPELINE {
        app.queue(&["SET", &format!("key:{id}"), &small]);
    }
    app.flush().expect("the pipeline's replies");
    let (after_pipeline, pipeline_peak) = used(&mut measuring);
    thread::sleep(CRON_VISITS);
    let (after_pipeline_settled, _) = used(&mut measuring);

    let mut sim = SimNode::with_pool(
        ServerConfig {
            latency_tracking: false,
            ..ServerConfig::default()
        },
        &[
            Family {
                prefix: "key:",
                count: SMALL_PER_PIPELINE,
            },
            Family {
                prefix: "big:",
                count: 1,
            },
        ],
        2,
    );
    sim.pipeline(1, &[(CommandKind::Get, sim.key(0, 0), Argument::None)]);
    let big = sim.key(1, 0);
    let sim_empty = sim.used_memory();
    let value = |len| Argument::Value { len, ttl_ms: None };
    sim.pipeline(1, &[(CommandKind::Set, big, value(LARGE))]);
    let sim_after_set = sim.used_memory();
    sim.advance_ms(CRON_VISITS.as_millis() as u64);
    let sim_after_set_settled = sim.used_memory();
    sim.node.used_memory_peak = 0;
    let mut pipeline = vec![(CommandKind::Get, big, Argument::None)];
    for id in 0..SMALL_PER_PIPELINE {
        pipeline.push((CommandKind::Set, sim.key(0, id), value(SMALL)));
    }
    sim.pipeline(1, &pipeline);
    let sim_after_pipeline = sim.used_memory();
    let sim_pipeline_peak = sim.node.used_memory_peak;
    sim.advance_ms(CRON_VISITS.as_millis() as u64);
    let sim_after_pipeline_settled = sim.used_memory();
    vec![
        (
            "SET of 200 KB: used_memory − empty",
            after_set - empty,
            sim_after_set - sim_empty,
        ),
        (
            "… 500 ms later − empty",
            after_set_settled - empty,
            sim_after_set_settled - sim_empty,
        ),
        (
            "GET of it + 40 SETs: peak − empty",
            pipeline_peak - empty,
            sim_pipeline_peak - sim_empty,
        ),
        (
            "… after the pipeline − empty",
            after_pipeline - empty,
            sim_after_pipeline - sim_empty,
        ),
        (
            "… 500 ms later − empty",
            after_pipeline_settled - empty,
            sim_after_pipeline_settled - sim_empty,
        ),
    ]
}

#[test]
fn a_large_value_written_then_read_in_a_pipeline() {
    crate::redis::require_server();
    let mut table = Table::new(
        "one connection: SET of 200 KB, then a pipeline of its GET and 40 SETs of 100 B",
        &["figure", "real", "vanish", "vanish−real"],
    );
    for (name, real, vanish) in steps() {
        table.row(
            vec![
                name.to_string(),
                real.to_string(),
                vanish.to_string(),
                diff_percent(vanish as f64, real as f64),
            ],
            within_percent(vanish as f64, real as f64, TOLERANCE_PERCENT),
        );
    }
    table.check("each figure within 5 %");
}

/// The same key in two databases with values of different sizes, then the pipeline of
/// `a_large_value_written_then_read_in_a_pipeline` reading it in the first: the GET's reply,
/// waiting in the reply list, carries the first database's value (a length kept per node, the
/// last SET's whatever its database, would size it from the other).
fn two_databases() -> Vec<(&'static str, u64, u64)> {
    const OTHER: u32 = 120_000;
    let server = RedisServer::start(&[("latency-tracking", "no")]);
    let mut measuring = server.connect();
    measuring.must(&["PING"]);
    let mut app = server.connect();
    app.must(&["PING"]);
    let (empty, _) = used(&mut measuring);
    app.must(&["SET", "big:0", &"v".repeat(LARGE as usize)]);
    app.must(&["SELECT", "1"]);
    app.must(&["SET", "big:0", &"w".repeat(OTHER as usize)]);
    app.must(&["SELECT", "0"]);
    thread::sleep(CRON_VISITS);
    let (settled, _) = used(&mut measuring);
    measuring.must(&["CONFIG", "RESETSTAT"]);
    let small = "v".repeat(SMALL as usize);
    app.queue(&["GET", "big:0"]);
    for id in 0..SMALL_PER_PIPELINE {
        app.queue(&["SET", &format!("key:{id}"), &small]);
    }
    let replies = app.flush().expect("the pipeline's replies");
    let (_, pipeline_peak) = used(&mut measuring);

    let mut sim = SimNode::with_pool(
        ServerConfig {
            latency_tracking: false,
            ..ServerConfig::default()
        },
        &[
            Family {
                prefix: "key:",
                count: SMALL_PER_PIPELINE,
            },
            Family {
                prefix: "big:",
                count: 1,
            },
        ],
        2,
    );
    sim.pipeline(1, &[(CommandKind::Get, sim.key(0, 0), Argument::None)]);
    let big = sim.key(1, 0);
    let sim_empty = sim.used_memory();
    let value = |len| Argument::Value { len, ttl_ms: None };
    sim.pipeline(1, &[(CommandKind::Set, big, value(LARGE))]);
    sim.db = 1;
    sim.pipeline(1, &[(CommandKind::Set, big, value(OTHER))]);
    sim.db = 0;
    sim.advance_ms(CRON_VISITS.as_millis() as u64);
    let sim_settled = sim.used_memory();
    sim.node.used_memory_peak = 0;
    let mut pipeline = vec![(CommandKind::Get, big, Argument::None)];
    for id in 0..SMALL_PER_PIPELINE {
        pipeline.push((CommandKind::Set, sim.key(0, id), value(SMALL)));
    }
    sim.pipeline(1, &pipeline);
    let sim_peak = sim.node.used_memory_peak;
    let read_back = match &replies[0] {
        crate::redis::Reply::Bulk(Some(bytes)) => bytes.len() as u64,
        other => panic!("GET big:0 answered {other:?}"),
    };
    vec![
        (
            "GET big:0 in db 0: value bytes",
            read_back,
            u64::from(LARGE),
        ),
        (
            "both SETs, 500 ms later: used_memory − empty",
            settled - empty,
            sim_settled - sim_empty,
        ),
        (
            "GET of db 0's + 40 SETs: peak − settled",
            pipeline_peak - settled,
            sim_peak - sim_settled,
        ),
    ]
}

#[test]
fn the_same_key_in_two_databases_replies_with_its_own_length() {
    crate::redis::require_server();
    let mut table = Table::new(
        "one connection: big:0 of 200 KB in db 0 and of 120 KB in db 1, then db 0's GET of it \
         and 40 SETs of 100 B in a pipeline",
        &["figure", "real", "vanish", "vanish−real"],
    );
    for (name, real, vanish) in two_databases() {
        table.row(
            vec![
                name.to_string(),
                real.to_string(),
                vanish.to_string(),
                diff_percent(vanish as f64, real as f64),
            ],
            within_percent(vanish as f64, real as f64, TOLERANCE_PERCENT),
        );
    }
    table.check("each figure within 5 %");
}
