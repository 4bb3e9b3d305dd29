//! What idle connections cost: used_memory, mem_clients_normal and connected_clients of an
//! empty Redis 7.0.15 with 1, 10, 100 and 1,000 idle connections, each of which sent one PING,
//! against a simulated client whose pool has as many (plus the one the test talks through).
//!
//! The real connections are left idle until clientsCron has trimmed them: it visits every client
//! once a second, shrinks the query buffer of one idle for over two seconds to an empty sds and,
//! once a five-second peak window has seen less than half of it used, the 16 KB reply buffer to
//! 1 KB; it also refreshes mem_clients_normal, which INFO reads from the cron's running totals.
//! The measuring connection stays in use, as the client's one active connection does in vanish.
//! Latency histograms are off so that only startup memory and the connections count.

use std::thread;
use std::time::Duration;

use vanish::sim::config::{CommandKind, MaxmemoryClients, ServerConfig};
use vanish::sim::server::{Argument, Reply};

use crate::redis::{Connection, RedisServer};
use crate::sim::{Family, SimNode};
use crate::table::{diff_percent, within_percent, Table};

/// Long enough for two cron visits after the two idle seconds (the query buffer) and after the
/// first peak reset (the reply buffer): measured settled after 7 s, not yet after 3.5 s.
const SETTLE: Duration = Duration::from_secs(7);
/// clientsCron visits every client within a second.
const CRON_VISIT: Duration = Duration::from_millis(1100);
/// The brief's tolerance on used_memory, and on mem_clients_normal.
const TOLERANCE_PERCENT: f64 = 2.0;
const POOLS: [u32; 4] = [1, 10, 100, 1_000];

#[test]
fn used_memory_of_an_empty_server_with_idle_connections() {
    let server = RedisServer::start(&[("latency-tracking", "no")]);
    let mut measuring = server.connect();
    measuring.must(&["PING"]);
    let maxclients = maxclients_of(&mut measuring);
    let mut idle: Vec<Connection> = Vec::new();
    let mut table = Table::new(
        "an empty server with N idle connections (each sent one PING) and the measuring one",
        &["N", "figure", "real", "vanish", "vanish−real"],
    );
    for pool in POOLS {
        while idle.len() < pool as usize {
            let mut connection = server.connect();
            connection.must(&["PING"]);
            idle.push(connection);
        }
        thread::sleep(SETTLE);
        // INFO reads mem_clients_normal from clientsCron's running totals: let the cron see the
        // measuring connection in use (it visits each client once a second) before reading.
        measuring.must(&["PING"]);
        thread::sleep(CRON_VISIT);
        let memory = measuring.info("memory");
        let clients = measuring.info("clients");
        let mut sim = SimNode::with_pool(
            ServerConfig {
                latency_tracking: false,
                maxclients,
                ..ServerConfig::default()
            },
            &[Family {
                prefix: "k",
                count: 1,
            }],
            pool + 1,
        );
        // The same life on the virtual clock: the idle ones trimmed by clientsCron, the
        // measuring one in use when the cron last saw it.
        sim.advance_ms(SETTLE.as_millis() as u64);
        let key = sim.key(0, 0);
        sim.get(key);
        sim.advance_ms(CRON_VISIT.as_millis() as u64);
        sim.get(key);
        let simulated = sim.node.snapshot();
        let figures = [
            (
                "connected_clients",
                clients.u64("connected_clients"),
                simulated.connected_clients,
                0.0,
            ),
            (
                "used_memory",
                memory.u64("used_memory"),
                simulated.used_memory,
                TOLERANCE_PERCENT,
            ),
            (
                "used_memory − startup",
                memory.u64("used_memory") - memory.u64("used_memory_startup"),
                simulated.used_memory - simulated.used_memory_startup,
                TOLERANCE_PERCENT,
            ),
            (
                "mem_clients_normal",
                memory.u64("mem_clients_normal"),
                simulated.mem_clients_normal,
                TOLERANCE_PERCENT,
            ),
            (
                "used_memory_overhead",
                memory.u64("used_memory_overhead"),
                simulated.used_memory_overhead,
                TOLERANCE_PERCENT,
            ),
        ];
        for (name, real, vanish, tolerance) in figures {
            table.row(
                vec![
                    pool.to_string(),
                    name.to_string(),
                    real.to_string(),
                    vanish.to_string(),
                    diff_percent(vanish as f64, real as f64),
                ],
                within_percent(vanish as f64, real as f64, tolerance),
            );
        }
    }
    table.check("connected_clients exact; used_memory, its part over startup, mem_clients_normal and used_memory_overhead within 2 %");
}

/// Keys written after the pool has settled: more than fit, so the policy evicts.
const KEYS_WRITTEN: u64 = 30_000;
const VALUE_BYTES: usize = 100;
/// Room for keys and connections above an empty server's startup memory.
const MAXMEMORY: u64 = 3 * 1024 * 1024;
/// Keys left, and keys the larger pool costs, against real Redis.
const KEYS_TOLERANCE_PERCENT: f64 = 2.0;
const COST_TOLERANCE_PERCENT: f64 = 10.0;

/// Keys that fit under `MAXMEMORY` with `pool` idle connections open, on a real server and in
/// vanish: (real, simulated).
fn keys_that_fit(pool: u32) -> (u64, u64) {
    let maxmemory = MAXMEMORY.to_string();
    let server = RedisServer::start(&[
        ("latency-tracking", "no"),
        ("maxmemory-policy", "allkeys-lru"),
        ("maxmemory", maxmemory.as_str()),
    ]);
    let mut writer = server.connect();
    writer.must(&["PING"]);
    let idle: Vec<Connection> = (0..pool)
        .map(|_| {
            let mut connection = server.connect();
            connection.must(&["PING"]);
            connection
        })
        .collect();
    thread::sleep(SETTLE);
    let value = "x".repeat(VALUE_BYTES);
    for id in 0..KEYS_WRITTEN {
        writer.must(&["SET", &format!("k{id}"), &value]);
    }
    let real = writer.must(&["DBSIZE"]).integer() as u64;
    drop(idle);

    let mut sim = SimNode::with_pool(
        ServerConfig {
            latency_tracking: false,
            maxmemory_bytes: MAXMEMORY,
            maxmemory_policy: vanish::sim::config::MaxmemoryPolicy::AllkeysLru,
            ..ServerConfig::default()
        },
        &[Family {
            prefix: "k",
            count: KEYS_WRITTEN,
        }],
        pool + 1,
    );
    // The same seconds of idleness, for clientsCron to trim the pool as it trimmed the real one.
    sim.advance_ms(SETTLE.as_millis() as u64);
    for id in 0..KEYS_WRITTEN {
        let key = sim.key(0, id);
        sim.set(key, VALUE_BYTES as u32, None);
    }
    (real, sim.node.total_keys())
}

#[test]
fn idle_connections_take_the_room_of_keys_under_maxmemory() {
    // A shape the memory tests lack: connections and data together against maxmemory. Adding
    // a pool of idle connections must cost the keys that their memory displaces, as on a real
    // server (users see evictions rise when they add connections).
    let mut table = Table::new(
        "keys left after 30,000 SETs of 100 B under maxmemory 3 MB (allkeys-lru)",
        &["idle connections", "real", "vanish", "vanish−real"],
    );
    let (real_few, sim_few) = keys_that_fit(1);
    let (real_many, sim_many) = keys_that_fit(500);
    for (pool, real, sim) in [(1, real_few, sim_few), (500, real_many, sim_many)] {
        table.row(
            vec![
                pool.to_string(),
                real.to_string(),
                sim.to_string(),
                diff_percent(sim as f64, real as f64),
            ],
            within_percent(sim as f64, real as f64, KEYS_TOLERANCE_PERCENT),
        );
    }
    let (real_cost, sim_cost) = (real_few - real_many, sim_few.saturating_sub(sim_many));
    table.row(
        vec![
            "keys 499 more cost".to_string(),
            real_cost.to_string(),
            sim_cost.to_string(),
            diff_percent(sim_cost as f64, real_cost as f64),
        ],
        within_percent(sim_cost as f64, real_cost as f64, COST_TOLERANCE_PERCENT),
    );
    table.check("keys left within 2 %; the keys a pool of 500 costs within 10 %");
}

/// Connections that each wrote one value this large keep a query buffer of its size
/// (`sdsnewlen(bulklen + 2)`, 229,376 bytes allocated) until clientsCron trims it.
const FAT_VALUE_BYTES: u32 = 200_000;
const FAT_WRITERS: u64 = 20;
/// `maxmemory-clients` of the eviction test.
const CLIENTS_LIMIT: u64 = 1 << 20;
/// Evicted clients, real against vanish.
const EVICTED_TOLERANCE: u64 = 1;

/// `maxmemory-clients`: connections each holding a fat query buffer after one SET of 200 KB,
/// written one after the other within a few milliseconds (before clientsCron trims them).
/// Once their recorded memory reaches the limit, evictClients frees the oldest of the top
/// bucket, each new writer pushing one more out; the writer itself always gets its OK.
#[test]
fn maxmemory_clients_evicts_connections_holding_fat_query_buffers() {
    let limit = CLIENTS_LIMIT.to_string();
    let server = RedisServer::start(&[("latency-tracking", "no"), ("maxmemory-clients", &limit)]);
    let mut measuring = server.connect();
    measuring.must(&["PING"]);
    let value = "x".repeat(FAT_VALUE_BYTES as usize);
    let mut writers = Vec::new();
    for id in 0..FAT_WRITERS {
        let mut writer = server.connect();
        writer.must(&["SET", &format!("k{id}"), &value]);
        writers.push(writer);
    }
    let real = measuring.info("stats").u64("evicted_clients");
    let real_connected = measuring.info("clients").u64("connected_clients");
    drop(writers);

    let mut sim = SimNode::with_pool(
        ServerConfig {
            latency_tracking: false,
            maxmemory_clients: MaxmemoryClients::Bytes(CLIENTS_LIMIT),
            ..ServerConfig::default()
        },
        &[Family {
            prefix: "k",
            count: FAT_WRITERS,
        }],
        FAT_WRITERS as u32 + 1,
    );
    sim.get(sim.key(0, 0));
    for id in 0..FAT_WRITERS {
        sim.advance_ms(1);
        let key = sim.key(0, id);
        let argument = Argument::Value {
            len: FAT_VALUE_BYTES,
            ttl_ms: None,
        };
        let replies = sim.pipeline(1, &[(CommandKind::Set, key, argument)]);
        assert_eq!(replies, vec![Reply::Ok], "the writer gets its OK");
    }
    let simulated = sim.node.snapshot();
    let mut table = Table::new(
        "20 connections each SET one 200 KB value under maxmemory-clients 1 MB",
        &["figure", "real", "vanish", "vanish−real"],
    );
    for (name, real, vanish) in [
        ("evicted_clients", real, simulated.evicted_clients),
        (
            "connected_clients",
            real_connected,
            simulated.connected_clients,
        ),
    ] {
        table.row(
            vec![
                name.to_string(),
                real.to_string(),
                vanish.to_string(),
                format!("{:+}", vanish as i64 - real as i64),
            ],
            real.abs_diff(vanish) <= EVICTED_TOLERANCE,
        );
    }
    table.check("evicted and connected clients within 1");
}

/// The pipelined burst: keys of this size, read back in one pipeline of this many GETs.
const BURST_KEYS: u64 = 1_000;
const BURST_VALUE_BYTES: u32 = 1_024;
/// The big write: one SET of this many bytes.
const BIG_VALUE_BYTES: u32 = 6 << 20;
/// Long enough for clientsCron's two visits to settle a connection's buffers between phases.
const BETWEEN_PHASES: Duration = Duration::from_millis(500);
/// Long enough for an idle fat query buffer to be emptied (idle over 2 s, then a visit).
const FAT_BUFFER_TRIMMED: Duration = Duration::from_millis(3500);
const BURST_TOLERANCE_PERCENT: f64 = 2.0;

/// A pipelined burst's peak: 1,000 GETs of 1 KB values sent at once. Redis reads what its
/// query buffer holds (about 880 GETs), queues their replies (c->buf, then 16 KB blocks),
/// writes one event's worth (NET_MAX_WRITES_PER_EVENT: c->buf and four blocks), reads the rest
/// and queues theirs: used_memory_peak sees nearly all replies at once. Then one SET of 6 MB:
/// the value (as argv) and the fresh query buffer of its size, 7 MiB each in jemalloc's class,
/// and what is left once clientsCron has emptied the idle buffer.
#[test]
fn a_pipelined_burst_and_a_big_write_peak_as_in_redis() {
    let server = RedisServer::start(&[("latency-tracking", "no")]);
    let mut measuring = server.connect();
    measuring.must(&["PING"]);
    let mut app = server.connect();
    let value = "x".repeat(BURST_VALUE_BYTES as usize);
    for id in 0..BURST_KEYS {
        app.must(&["SET", &format!("k{id}"), &value]);
    }
    thread::sleep(BETWEEN_PHASES);
    let before = measuring.info("memory").u64("used_memory");
    for id in 0..BURST_KEYS {
        app.queue(&["GET", &format!("k{id}")]);
    }
    app.flush().expect("the burst's replies");
    let memory = measuring.info("memory");
    let real_burst = memory.u64("used_memory_peak") - before;
    let real_output = measuring
        .info("clients")
        .u64("client_recent_max_output_buffer");
    thread::sleep(BETWEEN_PHASES);
    let before_big = measuring.info("memory").u64("used_memory");
    app.must(&["SET", "big", &"x".repeat(BIG_VALUE_BYTES as usize)]);
    let real_big = measuring.info("memory").u64("used_memory") - before_big;
    thread::sleep(FAT_BUFFER_TRIMMED);
    let real_big_settled = measuring.info("memory").u64("used_memory") - before_big;

    let mut sim = SimNode::with_pool(
        ServerConfig {
            latency_tracking: false,
            ..ServerConfig::default()
        },
        &[
            Family {
                prefix: "k",
                count: BURST_KEYS,
            },
            Family {
                prefix: "big",
                count: 1,
            },
        ],
        2,
    );
    sim.get(sim.key(0, 0));
    let set = |id| {
        let argument = Argument::Value {
            len: BURST_VALUE_BYTES,
            ttl_ms: None,
        };
        (CommandKind::Set, id, argument)
    };
    for id in 0..BURST_KEYS {
        let command = set(sim.key(0, id));
        sim.pipeline(1, &[command]);
    }
    sim.advance_ms(BETWEEN_PHASES.as_millis() as u64);
    sim.get(sim.key(0, 0));
    let before = sim.used_memory();
    let gets: Vec<_> = (0..BURST_KEYS)
        .map(|id| (CommandKind::Get, sim.key(0, id), Argument::None))
        .collect();
    sim.pipeline(1, &gets);
    let snapshot = sim.node.snapshot();
    let sim_burst = snapshot.used_memory_peak - before;
    let sim_output = snapshot.client_recent_max_output_buffer;
    sim.advance_ms(BETWEEN_PHASES.as_millis() as u64);
    sim.get(sim.key(0, 0));
    let before_big = sim.used_memory();
    let big = Argument::Value {
        len: BIG_VALUE_BYTES,
        ttl_ms: None,
    };
    sim.pipeline(1, &[(CommandKind::Set, sim.key(1, 0), big)]);
    let sim_big = sim.used_memory() - before_big;
    sim.advance_ms(FAT_BUFFER_TRIMMED.as_millis() as u64);
    sim.get(sim.key(0, 0));
    let sim_big_settled = sim.used_memory() - before_big;

    let mut table = Table::new(
        "a pipeline of 1,000 GETs of 1 KB, then one SET of 6 MB",
        &["figure", "real", "vanish", "vanish−real"],
    );
    for (name, real, vanish) in [
        (
            "burst: used_memory_peak − used_memory before",
            real_burst,
            sim_burst,
        ),
        ("6 MB SET: used_memory after − before", real_big, sim_big),
        (
            "6 MB SET: 3.5 s later − before",
            real_big_settled,
            sim_big_settled,
        ),
    ] {
        table.row(
            vec![
                name.to_string(),
                real.to_string(),
                vanish.to_string(),
                diff_percent(vanish as f64, real as f64),
            ],
            within_percent(vanish as f64, real as f64, BURST_TOLERANCE_PERCENT),
        );
    }
    table.row(
        vec![
            "client_recent_max_output_buffer".to_string(),
            real_output.to_string(),
            sim_output.to_string(),
            format!("{:+}", sim_output as i64 - real_output as i64),
        ],
        real_output == sim_output,
    );
    table.check("memory figures within 2 %; client_recent_max_output_buffer exact (the cron never sees the burst's replies: they are written within the event loop's turn)");
}

/// The maxclients the server runs with: 10000 unless `ulimit -n` is below 10,032, when
/// `adjustOpenFilesLimit` lowers it to the limit less 32 (and 1,000 connections need a limit
/// of at least 1,033 fds: raise it with `ulimit -n` before running the suite).
fn maxclients_of(connection: &mut Connection) -> u32 {
    match connection.must(&["CONFIG", "GET", "maxclients"]) {
        crate::redis::Reply::Array(Some(pair)) if pair.len() == 2 => pair[1]
            .text()
            .parse()
            .unwrap_or_else(|_| panic!("CONFIG GET maxclients: {pair:?}")),
        other => panic!("CONFIG GET maxclients: {other:?}"),
    }
}

/// used_memory_startup against maxclients: the event loop's three per-descriptor arrays
/// (aeFileEvent, aeFiredEvent, epoll_event) are sized maxclients + 128.
#[test]
fn used_memory_startup_follows_maxclients() {
    let mut table = Table::new(
        "used_memory_startup of an empty server by maxclients",
        &["maxclients", "real", "vanish", "vanish−real"],
    );
    for maxclients in [100u32, 1_000, 10_000] {
        let setting = maxclients.to_string();
        let server = RedisServer::start(&[("maxclients", setting.as_str())]);
        let mut connection = server.connect();
        let running = maxclients_of(&mut connection);
        let real = connection.info("memory").u64("used_memory_startup");
        let vanish = vanish::sim::keyspace::memory::used_memory_startup(running);
        table.row(
            vec![
                running.to_string(),
                real.to_string(),
                vanish.to_string(),
                diff_percent(vanish as f64, real as f64),
            ],
            within_percent(vanish as f64, real as f64, STARTUP_TOLERANCE_PERCENT),
        );
    }
    table.check("within 0.1 %");
}

const STARTUP_TOLERANCE_PERCENT: f64 = 0.1;

/// `maxclients`: a connection past it is accepted by the kernel, answered "-ERR max number of
/// clients reached" and closed (src/networking.c `acceptCommonHandler`), and counted in
/// `rejected_connections`; the pool of a simulated client keeps the connections it got.
#[test]
fn connections_past_maxclients_are_refused_as_in_redis() {
    const MAXCLIENTS: u32 = 10;
    const POOL: u32 = 11;
    let setting = MAXCLIENTS.to_string();
    let server = RedisServer::start(&[("maxclients", setting.as_str())]);
    let mut measuring = server.connect();
    measuring.must(&["PING"]);
    let mut pool: Vec<Connection> = (0..POOL).map(|_| server.connect()).collect();
    // The server accepts in the order of the listen queue: the last ones are refused, with
    // the error written before the close.
    let admitted = (MAXCLIENTS - 1) as usize;
    for connection in &mut pool[..admitted] {
        connection.must(&["PING"]);
    }
    for connection in &mut pool[admitted..] {
        let reply = connection.next_message().expect("the refusal");
        assert_eq!(reply.text(), "ERR max number of clients reached");
    }
    let clients = measuring.info("clients").u64("connected_clients");
    let rejected = measuring.info("stats").u64("rejected_connections");
    let mut sim = SimNode::with_pool(
        ServerConfig {
            maxclients: MAXCLIENTS,
            ..ServerConfig::default()
        },
        &[Family {
            prefix: "k",
            count: 1,
        }],
        1 + POOL,
    );
    sim.get(sim.key(0, 0));
    let snapshot = sim.node.snapshot();
    let mut table = Table::new(
        &format!("maxclients {MAXCLIENTS}: one measuring connection and a pool of {POOL}"),
        &["figure", "real", "vanish"],
    );
    for (name, real, vanish) in [
        ("connected_clients", clients, snapshot.connected_clients),
        (
            "rejected_connections",
            rejected,
            snapshot.rejected_connections,
        ),
    ] {
        table.row(
            vec![name.to_string(), real.to_string(), vanish.to_string()],
            real == vanish,
        );
    }
    table.check("exact");
}
