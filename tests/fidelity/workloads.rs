//! Workload shapes the `eviction` test leaves out, each replayed against real Redis 7.0.15
//! servers and a simulated node (redis-fidelity.md 1 and 2): large values rewritten (and read)
//! among small keys under both LFU and LRU, over 30 s and across LFU decay minutes, mixed
//! short TTLs under the volatile policies with many OOM refusals, and noeviction with
//! overwrites of changing sizes, DEL and PEXPIRE over several connections, with refused
//! writes retried or not.
//!
//! One deterministic request sequence per shape, paced in batches of 10 ms as in `eviction`:
//! the real replay sends each batch spread over the connections (every connection's part is
//! written before any reply is read, so the server interleaves them), then a second pipeline
//! with the cache-aside fills of the batch's misses. The simulated node runs each connection's
//! part in turn at the batch's virtual time.
//!
//! Both sides get the same room for data: the real server's maxmemory is the simulated one
//! plus the difference of their used_memory once every connection has run every command of
//! the replay once (latency histograms, the harness's own commands, CONFIG SET's included),
//! both have carried two seconds of the replay's traffic (client buffers as that traffic
//! keeps them) and flushed it, so the test judges eviction and refusals alone. Each connection's share
//! of a batch is one pipelined round trip on both sides, and both resize their reply buffers
//! in clientsCron: under noeviction-like pressure a buffer grown by 3 KB after the baseline
//! decides which writes pass. What does count, and what first showed up here, is
//! that a command's arguments are in memory when eviction looks (`argv.rs`): near the limit a
//! long value is refused where a short one passes, so a full server holds shorter values.
//!
//! Each figure is the mean of several real runs against the mean of several simulated runs
//! (with their own node seeds) where one run is a lottery (`MIXED_TTLS`). A simulated run
//! starts as far into a minute as the real runs did: under LFU, whether the minute turns
//! during the replay (every counter decays) moves the hit ratio by a point.

use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use vanish::sim::config::{CommandKind, ConfigChange, MaxmemoryPolicy, ServerConfig};
use vanish::sim::ledger::{Actor, DiscardLedger, KeyId, Ledger};
use vanish::sim::random::dist::Zipf;
use vanish::sim::random::rng::Stream;
use vanish::sim::server::{Argument, ErrorReply, Reply};

use crate::redis::{Connection, RedisServer, Reply as Resp};
use crate::sim::{Family, SimNode, SEED};
use crate::table::Table;
use crate::table::{COUNT_TOLERANCE_ABSOLUTE, COUNT_TOLERANCE_PERCENT, HIT_RATIO_TOLERANCE_PP};

const BATCH_MS: u64 = 10;
/// The most requested keys, whose presence at the end is shown: under Zipf they take a large
/// share of the GETs, so whether a handful of them is held moves the hit ratio by points.
const HOTTEST: u64 = 30;
/// The small keys' family; the large values' family is 1.
const SMALL: usize = 0;
const LARGE: usize = 1;

/// A workload shape.
#[derive(Debug, Clone, Copy)]
struct Shape {
    name: &'static str,
    small_keys: u64,
    skew: f64,
    /// Per mille of small-key requests: GET (a miss is filled with a SET), DEL, PEXPIRE; the
    /// rest are SETs.
    get_per_mille: u64,
    del_per_mille: u64,
    pexpire_per_mille: u64,
    /// A small SET's value length, uniform in this range (bytes).
    small_len: (u32, u32),
    /// Percent of small SETs (fills included) carrying PX, uniform in `ttl_ms`.
    ttl_percent: u64,
    ttl_ms: (u64, u64),
    /// PEXPIRE's TTL, uniform in this range (ms).
    pexpire_ms: (u64, u64),
    large_keys: u64,
    large_len: (u32, u32),
    /// One large value is rewritten every this many ms (0: never).
    large_every_ms: u64,
    /// One large value is read (GET, a miss filled) every this many ms (0: never).
    large_get_every_ms: u64,
    /// A write refused with -OOM is sent once more at the start of the next batch.
    retry_refused: bool,
    requests_per_second: u64,
    duration_s: u64,
    connections: usize,
    /// maxmemory = empty + this share of the small keys' working set (every key once).
    maxmemory_share: f64,
    /// Real servers replayed per policy, and simulated runs (each with its own node seed and
    /// start within the minute) averaged against them.
    real_runs: usize,
    sim_runs: u64,
}

#[derive(Debug, Clone, Copy)]
struct Write {
    family: usize,
    id: u64,
    len: u32,
    ttl_ms: Option<u64>,
    /// Sent again after an OOM refusal (`Shape::retry_refused`); a retry is not retried.
    retry: bool,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// GET of the fill's key; a miss is filled with the fill.
    Get {
        fill: Write,
    },
    Set(Write),
    Del {
        id: u64,
    },
    Pexpire {
        id: u64,
        ms: u64,
    },
}

fn range(stream: &mut Stream, (low, high): (u64, u64)) -> u64 {
    stream.between(low, high)
}

fn small_write(shape: &Shape, stream: &mut Stream, id: u64) -> Write {
    let len = range(
        stream,
        (u64::from(shape.small_len.0), u64::from(shape.small_len.1)),
    ) as u32;
    let ttl_ms = (stream.below(100) < shape.ttl_percent).then(|| range(stream, shape.ttl_ms));
    Write {
        family: SMALL,
        id,
        len,
        ttl_ms,
        retry: false,
    }
}

/// One of the large values, of a length drawn from `large_len`.
fn large_write(shape: &Shape, stream: &mut Stream) -> Write {
    let id = stream.below(shape.large_keys);
    let (low, high) = shape.large_len;
    let len = range(stream, (u64::from(low), u64::from(high))) as u32;
    Write {
        family: LARGE,
        id,
        len,
        ttl_ms: None,
        retry: false,
    }
}

/// The batches of the run, each a list of operations.
fn workload(shape: &Shape) -> Vec<Vec<Op>> {
    let zipf = Zipf::new(shape.small_keys, shape.skew);
    let mut stream = Stream::new(SEED, &format!("fidelity:workloads:{}", shape.name));
    let per_batch = shape.requests_per_second * BATCH_MS / 1000;
    let batches = shape.duration_s * 1000 / BATCH_MS;
    (0..batches)
        .map(|index| {
            let mut batch: Vec<Op> = (0..per_batch)
                .map(|_| {
                    let id = zipf.sample(&mut stream) - 1;
                    let draw = stream.below(1000);
                    let (get, del, pexpire) = (
                        shape.get_per_mille,
                        shape.get_per_mille + shape.del_per_mille,
                        shape.get_per_mille + shape.del_per_mille + shape.pexpire_per_mille,
                    );
                    if draw < get {
                        Op::Get {
                            fill: small_write(shape, &mut stream, id),
                        }
                    } else if draw < del {
                        Op::Del { id }
                    } else if draw < pexpire {
                        Op::Pexpire {
                            id,
                            ms: range(&mut stream, shape.pexpire_ms),
                        }
                    } else {
                        Op::Set(small_write(shape, &mut stream, id))
                    }
                })
                .collect();
            let due = |every_ms: u64| {
                let every = every_ms / BATCH_MS;
                shape.large_keys > 0 && every > 0 && index % every == 0
            };
            if due(shape.large_every_ms) {
                batch.push(Op::Set(large_write(shape, &mut stream)));
            }
            if due(shape.large_get_every_ms) {
                // First in the batch: the commands after it run while its reply is unsent.
                let fill = large_write(shape, &mut stream);
                batch.insert(0, Op::Get { fill });
            }
            batch
        })
        .collect()
}

/// The batch with the writes refused in the previous one sent first.
fn with_retries(retries: &mut Vec<Write>, batch: &[Op]) -> Vec<Op> {
    retries
        .drain(..)
        .map(Op::Set)
        .chain(batch.iter().copied())
        .collect()
}

/// The batch's operations in the order a server runs them: each connection's part in turn
/// (operation i goes to connection i mod connections).
fn by_connection(batch: &[Op], connections: usize) -> Vec<Vec<Op>> {
    let mut parts = vec![Vec::new(); connections];
    for (index, op) in batch.iter().enumerate() {
        parts[index % connections].push(*op);
    }
    parts
}

/// What one side did.
#[derive(Debug, Default, Clone)]
struct Outcome {
    gets: u64,
    hits: u64,
    /// GETs of large values, and their hits (a miss: the value was evicted since written).
    large_gets: u64,
    large_hits: u64,
    writes: u64,
    oom_rejections: u64,
    dels_removing: u64,
    pexpires_applied: u64,
    evicted_keys: u64,
    expired_keys: u64,
    keys_at_end: u64,
    volatile_keys_at_end: u64,
    used_memory_at_end: u64,
    /// used_memory_overhead at the end less the empty server's.
    overhead_growth: u64,
    /// used_memory − used_memory_overhead at the end.
    dataset_at_end: u64,
    /// The small keys' value objects at the end (robj and sds, in jemalloc's classes), summed.
    small_values_bytes_at_end: u64,
    mem_clients_normal_at_start: u64,
    mem_clients_normal_at_end: u64,
    main_buckets_at_end: u64,
    expires_buckets_at_end: u64,
    maxmemory: u64,
    max_lag_ms: u64,
    /// How many of the 30 most requested keys are held at the end.
    hottest_held_at_end: u64,
}

impl Outcome {
    fn hit_ratio(&self) -> f64 {
        self.hits as f64 / self.gets.max(1) as f64
    }

    /// A GET's reply.
    fn read(&mut self, key: Write, hit: bool) {
        self.gets += 1;
        self.hits += u64::from(hit);
        if key.family == LARGE {
            self.large_gets += 1;
            self.large_hits += u64::from(hit);
        }
    }

    /// A write's reply; a refused one is kept for retrying when the shape retries.
    fn write_replied(
        &mut self,
        shape: &Shape,
        retries: &mut Vec<Write>,
        write: Write,
        accepted: bool,
    ) {
        self.writes += 1;
        if !accepted {
            self.oom_rejections += 1;
            if shape.retry_refused && !write.retry {
                retries.push(Write {
                    retry: true,
                    ..write
                });
            }
        }
    }
}

fn families(shape: &Shape) -> [Family<'static>; 2] {
    [
        Family {
            prefix: "key:",
            count: shape.small_keys,
        },
        Family {
            prefix: "big:",
            count: shape.large_keys.max(1),
        },
    ]
}

fn key_name(family: usize, id: u64) -> String {
    match family {
        SMALL => format!("key:{id}"),
        _ => format!("big:{id}"),
    }
}

fn server_config(policy: MaxmemoryPolicy, maxmemory: u64) -> ServerConfig {
    ServerConfig {
        maxmemory_bytes: maxmemory,
        maxmemory_policy: policy,
        ..ServerConfig::default()
    }
}

/// A simulated node in the state the real one is in when its baseline is taken
/// (`real_server`): every command of the replay run once, the warm-up's traffic without the
/// large values and without a limit, every key flushed; then the limit, as CONFIG SET sets it.
/// The warm-up matters: clientsCron has shrunk the connections' 16 KB reply buffers by then,
/// and a baseline taken before gave vanish 15 KB more room than Redis (77 more keys under
/// `MIXED_TTLS`).
fn warmed_sim(
    shape: &Shape,
    config: ServerConfig,
    seed: u64,
    batches: &[Vec<Op>],
    phase_ms: u64,
) -> SimNode {
    let unlimited = ServerConfig {
        maxmemory_bytes: 0,
        ..config.clone()
    };
    let connections = shape.connections as u32;
    // The warm-up ends where the replay starts, `phase_ms` into a minute: connections left
    // idle in between would have their buffers trimmed by clientsCron, as the real ones are not.
    let warm_up_us = WARM_UP_BATCHES as u64 * BATCH_MS * 1000;
    let start_us = (phase_ms * 1000 + MINUTE_US - warm_up_us) % MINUTE_US;
    let mut sim =
        SimNode::with_connections_seeded(unlimited, &families(shape), connections, seed, start_us);
    // The harness's first commands, each connection in turn, one round trip each.
    let key = sim.key(SMALL, 0);
    let first = [
        (
            CommandKind::Set,
            key,
            Argument::Value {
                len: 1,
                ttl_ms: Some(1000),
            },
        ),
        (CommandKind::Get, key, Argument::None),
        (CommandKind::Expire, key, Argument::Ttl { ms: 1000 }),
        (CommandKind::Del, key, Argument::None),
    ];
    for owner in 0..connections {
        for command in first {
            sim.pipeline(owner, &[command]);
        }
    }
    let mut sink = DiscardLedger;
    let mut ledger = Ledger::new(&mut sink, sim.keys.families().len());
    // `CONFIG SET maxmemory 0`, as the real harness sends it before its baseline: CONFIG's
    // latency histogram (24,688 bytes) is then in both baselines.
    sim.node.config_set(ConfigChange::Maxmemory(0), &mut ledger);
    let start_us = sim.now_us;
    for (index, batch) in batches.iter().take(WARM_UP_BATCHES).enumerate() {
        sim.advance_to(start_us + index as u64 * BATCH_MS * 1000);
        let small: Vec<Op> = batch
            .iter()
            .copied()
            .filter(|op| !is_large_write(op))
            .collect();
        for (number, part) in by_connection(&small, shape.connections).iter().enumerate() {
            let commands: Vec<_> = part.iter().map(|op| sim_command(&sim, op)).collect();
            sim.pipeline(number as u32, &commands);
        }
    }
    sim.node.flush_all(Actor::client(0), &mut ledger);
    if config.maxmemory_bytes > 0 {
        let limit = ConfigChange::Maxmemory(config.maxmemory_bytes);
        sim.node.config_set(limit, &mut ledger);
    }
    sim
}

fn is_large_write(op: &Op) -> bool {
    matches!(op, Op::Set(Write { family: LARGE, .. }))
}

/// An operation as the simulated node takes it.
fn sim_command(sim: &SimNode, op: &Op) -> (CommandKind, KeyId, Argument) {
    match *op {
        Op::Get { fill } => (
            CommandKind::Get,
            sim.key(fill.family, fill.id),
            Argument::None,
        ),
        Op::Set(write) => (
            CommandKind::Set,
            sim.key(write.family, write.id),
            Argument::Value {
                len: write.len,
                ttl_ms: write.ttl_ms,
            },
        ),
        Op::Del { id } => (CommandKind::Del, sim.key(SMALL, id), Argument::None),
        Op::Pexpire { id, ms } => (
            CommandKind::Expire,
            sim.key(SMALL, id),
            Argument::Ttl { ms },
        ),
    }
}

/// The simulated node's used_memory empty (warmed) and with every small key written once at
/// the middle of its length range, a share `ttl_percent` of them volatile, settled.
fn simulated_working_set(shape: &Shape, batches: &[Vec<Op>]) -> (u64, u64) {
    let mut sim = warmed_sim(shape, ServerConfig::default(), SEED, batches, 0);
    let empty = sim.used_memory();
    let len = (shape.small_len.0 + shape.small_len.1) / 2;
    for id in 0..shape.small_keys {
        let key = sim.key(SMALL, id);
        let ttl = (id % 100 < shape.ttl_percent).then_some(3_600_000);
        sim.set(key, len, ttl);
    }
    sim.advance_ms(1500);
    (empty, sim.used_memory())
}

fn sim_accepted(reply: Reply) -> bool {
    match reply {
        Reply::Ok => true,
        Reply::Error(ErrorReply::Oom) => false,
        other => panic!("SET replied {other:?}"),
    }
}

fn replay_simulated(
    shape: &Shape,
    policy: MaxmemoryPolicy,
    maxmemory: u64,
    batches: &[Vec<Op>],
    run: u64,
    phase_ms: u64,
) -> Outcome {
    let config = server_config(policy, maxmemory);
    let mut sim = warmed_sim(shape, config, SEED + run, batches, phase_ms);
    let empty_overhead = sim.node.snapshot().used_memory_overhead;
    let clients_at_start = sim.node.mem_clients_normal();
    // The real replays began `phase_ms` into a wall-clock minute: starting as far into a
    // minute of its own clock, the simulated node's LFU minute and LRU second turn over at the
    // same points of the replay (a turn of the minute decays every LFU counter).
    let phase_us = phase_ms * 1000;
    let into_minute = sim.now_us % MINUTE_US;
    sim.advance_to(
        sim.now_us - into_minute + phase_us + u64::from(phase_us < into_minute) * MINUTE_US,
    );
    let start_us = sim.now_us;
    let mut outcome = Outcome {
        maxmemory,
        mem_clients_normal_at_start: clients_at_start,
        ..Outcome::default()
    };
    let mut retries = Vec::new();
    for (index, batch) in batches.iter().enumerate() {
        sim.advance_to(start_us + index as u64 * BATCH_MS * 1000);
        let batch = with_retries(&mut retries, batch);
        let mut fills = Vec::new();
        // Each connection's part is one pipelined round trip, as the real harness sends it:
        // part `i` on connection `i`.
        for (number, part) in by_connection(&batch, shape.connections)
            .into_iter()
            .enumerate()
        {
            let commands: Vec<_> = part.iter().map(|op| sim_command(&sim, op)).collect();
            let replies = sim.pipeline(number as u32, &commands);
            let mut part_fills = Vec::new();
            for (op, reply) in part.iter().zip(replies) {
                match *op {
                    Op::Get { fill, .. } => {
                        outcome.read(fill, reply == Reply::Hit);
                        match reply {
                            Reply::Hit => {}
                            Reply::Miss => part_fills.push(Op::Set(fill)),
                            other => panic!("GET replied {other:?}"),
                        }
                    }
                    Op::Set(write) => {
                        outcome.write_replied(shape, &mut retries, write, sim_accepted(reply))
                    }
                    Op::Del { .. } => {
                        if reply == Reply::Integer(1) {
                            outcome.dels_removing += 1;
                        }
                    }
                    Op::Pexpire { .. } => {
                        if reply == Reply::Integer(1) {
                            outcome.pexpires_applied += 1;
                        }
                    }
                }
            }
            fills.push(part_fills);
        }
        // The fills go as the real harness sends them: one pipeline on each connection.
        for (number, part) in fills.into_iter().enumerate() {
            let writes: Vec<Write> = part
                .iter()
                .filter_map(|op| match op {
                    Op::Set(write) => Some(*write),
                    _ => None,
                })
                .collect();
            if writes.is_empty() {
                continue;
            }
            let commands: Vec<(CommandKind, KeyId, Argument)> = writes
                .iter()
                .map(|write| {
                    let argument = Argument::Value {
                        len: write.len,
                        ttl_ms: write.ttl_ms,
                    };
                    (CommandKind::Set, sim.key(write.family, write.id), argument)
                })
                .collect();
            let replies = sim.pipeline(number as u32, &commands);
            for (write, reply) in writes.into_iter().zip(replies) {
                outcome.write_replied(shape, &mut retries, write, sim_accepted(reply));
            }
        }
    }
    sim.advance_to(start_us + shape.duration_s * 1_000_000);
    outcome.evicted_keys = sim.node.stats.evicted_keys;
    outcome.expired_keys = sim.node.stats.expired_keys;
    outcome.keys_at_end = sim.node.total_keys();
    outcome.volatile_keys_at_end = sim.node.total_volatile();
    outcome.used_memory_at_end = sim.used_memory();
    let overhead = sim.node.snapshot().used_memory_overhead;
    outcome.overhead_growth = overhead - empty_overhead;
    outcome.dataset_at_end = outcome.used_memory_at_end - overhead;
    outcome.mem_clients_normal_at_end = sim.node.mem_clients_normal();
    outcome.small_values_bytes_at_end = (0..shape.small_keys)
        .map(|id| sim.node.db(0).slot(sim.key(SMALL, id)).value_bytes())
        .sum();
    outcome.hottest_held_at_end = (0..HOTTEST)
        .filter(|&id| {
            let key = sim.key(SMALL, id);
            sim.node.contains(0, key)
        })
        .count() as u64;
    outcome.main_buckets_at_end = sim.node.db(0).main.slots();
    outcome.expires_buckets_at_end = sim.node.db(0).expires.slots();
    outcome
}

fn real_accepted(reply: &Resp) -> bool {
    match reply {
        Resp::Simple(ok) if ok == "OK" => true,
        Resp::Error(error) if error.starts_with("OOM") => false,
        other => panic!("SET replied {other:?}"),
    }
}

fn queue_op(connection: &mut Connection, op: &Op, values: &Values) {
    match op {
        Op::Get { fill } => connection.queue(&["GET".to_string(), key_name(fill.family, fill.id)]),
        Op::Set(write) => {
            let key = key_name(write.family, write.id);
            let value = values.get(write.len);
            match write.ttl_ms {
                Some(ms) => {
                    let ms = ms.to_string();
                    connection.queue(&[
                        &b"SET"[..],
                        key.as_bytes(),
                        value,
                        &b"PX"[..],
                        ms.as_bytes(),
                    ])
                }
                None => connection.queue(&[&b"SET"[..], key.as_bytes(), value]),
            }
        }
        Op::Del { id } => connection.queue(&["DEL".to_string(), key_name(SMALL, *id)]),
        Op::Pexpire { id, ms } => {
            connection.queue(&["PEXPIRE".to_string(), key_name(SMALL, *id), ms.to_string()])
        }
    }
}

/// Value bytes of every length, cut from one buffer.
struct Values(Vec<u8>);

impl Values {
    fn new(shape: &Shape) -> Values {
        let longest = shape.small_len.1.max(shape.large_len.1);
        Values(vec![b'v'; longest as usize])
    }

    fn get(&self, len: u32) -> &[u8] {
        &self.0[..len as usize]
    }
}

/// Sends each connection's part, then reads every reply, in connection order.
fn exchange(connections: &mut [Connection], parts: &[Vec<Op>], values: &Values) -> Vec<Resp> {
    for (connection, part) in connections.iter_mut().zip(parts) {
        for op in part {
            queue_op(connection, op, values);
        }
        connection.send().expect("send");
    }
    let mut replies = Vec::new();
    for connection in connections.iter_mut() {
        replies.extend(connection.receive().expect("receive"));
    }
    replies
}

/// Batches of traffic the real server runs before its baseline is taken (2 s).
const WARM_UP_BATCHES: usize = 200;
const MINUTE_US: u64 = 60_000_000;

/// Starts a server and brings it to the state the simulated one starts from; returns it with
/// its connections and its baseline. The connections first carry the replay's own traffic for
/// a while (large values left out, with no limit), so that their query buffers have the size
/// they keep under that traffic when the baseline is taken; the keys are then flushed.
/// The real server's baseline.
struct Empty {
    used_memory: u64,
    used_memory_overhead: u64,
    mem_clients_normal: u64,
}

fn real_server(
    shape: &Shape,
    policy: MaxmemoryPolicy,
    batches: &[Vec<Op>],
) -> (RedisServer, Vec<Connection>, Empty) {
    let server = RedisServer::start(&[("maxmemory-policy", policy.as_str())]);
    let mut connections: Vec<Connection> =
        (0..shape.connections).map(|_| server.connect()).collect();
    for connection in &mut connections {
        connection.must(&["SET", "warm-up", "x", "PX", "1000"]);
        connection.must(&["GET", "warm-up"]);
        connection.must(&["PEXPIRE", "warm-up", "1000"]);
        connection.must(&["DEL", "warm-up"]);
    }
    // CONFIG SET's latency histogram (24,688 bytes) must exist before the baseline, as INFO's
    // and FLUSHALL's do: the maxmemory set after it would otherwise leave ~130 keys less room.
    connections[0].must(&["CONFIG", "SET", "maxmemory", "0"]);
    connections[0].info("everything");
    let values = Values::new(shape);
    let start = Instant::now();
    for (index, batch) in batches.iter().take(WARM_UP_BATCHES).enumerate() {
        let due = start + Duration::from_millis(index as u64 * BATCH_MS);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let small: Vec<Op> = batch
            .iter()
            .copied()
            .filter(|op| !is_large_write(op))
            .collect();
        exchange(
            &mut connections,
            &by_connection(&small, shape.connections),
            &values,
        );
    }
    connections[0].must(&["FLUSHALL", "SYNC"]);
    let memory = connections[0].info("memory");
    let empty = Empty {
        used_memory: memory.u64("used_memory"),
        mem_clients_normal: memory.u64("mem_clients_normal"),
        used_memory_overhead: memory.u64("used_memory_overhead"),
    };
    (server, connections, empty)
}

/// ms into the current minute of Unix time.
fn minute_phase_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    (since_epoch.as_millis() % 60_000) as u64
}

/// Replays `batches` on a real server; tells `started` how far into its minute it began.
fn replay_real(
    shape: &Shape,
    policy: MaxmemoryPolicy,
    simulated_maxmemory: u64,
    batches: &[Vec<Op>],
    started: Sender<u64>,
) -> Outcome {
    let (_server, mut connections, real_empty) = real_server(shape, policy, batches);
    let simulated_empty =
        warmed_sim(shape, server_config(policy, 0), SEED, batches, 0).used_memory();
    let maxmemory = simulated_maxmemory + real_empty.used_memory - simulated_empty;
    connections[0].must(&["CONFIG", "SET", "maxmemory", &maxmemory.to_string()]);
    let values = Values::new(shape);
    let mut outcome = Outcome {
        maxmemory,
        mem_clients_normal_at_start: real_empty.mem_clients_normal,
        ..Outcome::default()
    };
    let start = Instant::now();
    // The other runs of the policy may have told it already.
    let _ = started.send(minute_phase_ms());
    let mut retries = Vec::new();
    for (index, batch) in batches.iter().enumerate() {
        let due = start + Duration::from_millis(index as u64 * BATCH_MS);
        let now = Instant::now();
        if now < due {
            thread::sleep(due - now);
        } else {
            outcome.max_lag_ms = outcome.max_lag_ms.max((now - due).as_millis() as u64);
        }
        let batch = with_retries(&mut retries, batch);
        let parts = by_connection(&batch, shape.connections);
        let replies = exchange(&mut connections, &parts, &values);
        let mut fills: Vec<Vec<Op>> = vec![Vec::new(); shape.connections];
        let ops = parts
            .iter()
            .enumerate()
            .flat_map(|(c, part)| part.iter().map(move |op| (c, op)));
        for ((connection, op), reply) in ops.zip(&replies) {
            match op {
                Op::Get { fill, .. } => {
                    outcome.read(*fill, matches!(reply, Resp::Bulk(Some(_))));
                    match reply {
                        Resp::Bulk(Some(_)) => {}
                        Resp::Bulk(None) => fills[connection].push(Op::Set(*fill)),
                        other => panic!("GET replied {other:?}"),
                    }
                }
                Op::Set(write) => {
                    outcome.write_replied(shape, &mut retries, *write, real_accepted(reply))
                }
                Op::Del { .. } => outcome.dels_removing += u64::from(reply == &Resp::Integer(1)),
                Op::Pexpire { .. } => {
                    outcome.pexpires_applied += u64::from(reply == &Resp::Integer(1))
                }
            }
        }
        if fills.iter().any(|part| !part.is_empty()) {
            let writes = fills.iter().flatten().filter_map(|op| match op {
                Op::Set(write) => Some(*write),
                _ => None,
            });
            let replies = exchange(&mut connections, &fills, &values);
            for (write, reply) in writes.zip(replies) {
                outcome.write_replied(shape, &mut retries, write, real_accepted(&reply));
            }
        }
    }
    let info = connections[0].info("everything");
    outcome.evicted_keys = info.u64("evicted_keys");
    outcome.expired_keys = info.u64("expired_keys");
    outcome.used_memory_at_end = info.u64("used_memory");
    let overhead = info.u64("used_memory_overhead");
    outcome.overhead_growth = overhead - real_empty.used_memory_overhead;
    outcome.dataset_at_end = outcome.used_memory_at_end - overhead;
    outcome.mem_clients_normal_at_end = info.u64("mem_clients_normal");
    let db0 = info.subfields("db0");
    let count = |name: &str| db0.get(name).map_or(0, |n| n.parse().unwrap_or(0));
    outcome.keys_at_end = count("keys");
    outcome.volatile_keys_at_end = count("expires");
    (outcome.main_buckets_at_end, outcome.expires_buckets_at_end) = real_buckets(
        &mut connections[0],
        outcome.keys_at_end,
        outcome.volatile_keys_at_end,
    );
    outcome.hottest_held_at_end = real_hottest_held(&mut connections[0]);
    outcome.small_values_bytes_at_end = real_small_values_bytes(&mut connections[0], shape);
    let errorstat_oom: u64 = info
        .subfields("errorstat_OOM")
        .get("count")
        .map_or(0, |c| c.parse().unwrap_or(0));
    assert_eq!(
        errorstat_oom, outcome.oom_rejections,
        "OOM replies seen by the client and errorstat_OOM agree"
    );
    outcome
}

/// Buckets of db0's main and expires tables (both tables while rehashing), from MEMORY STATS'
/// `overhead.hashtable.main` (keys × (dictEntry + robj) + buckets × 8) and `.expires` (keys ×
/// dictEntry + buckets × 8), src/object.c `getMemoryOverheadData`.
fn real_buckets(connection: &mut Connection, keys: u64, volatile: u64) -> (u64, u64) {
    let Resp::Array(Some(stats)) = connection.must(&["MEMORY", "STATS"]) else {
        panic!("MEMORY STATS is an array")
    };
    let db0 = stats
        .chunks(2)
        .find(|pair| {
            pair[0] == Resp::Simple("db.0".into()) || pair[0] == Resp::Bulk(Some(b"db.0".to_vec()))
        })
        .map(|pair| pair[1].clone());
    let Some(Resp::Array(Some(fields))) = db0 else {
        return (0, 0);
    };
    let field = |index: usize| match &fields[index] {
        Resp::Integer(n) => *n as u64,
        other => panic!("MEMORY STATS db.0 field {other:?}"),
    };
    ((field(1) - keys * 40) / 8, (field(3) - volatile * 24) / 8)
}

/// The small keys' value objects: MEMORY USAGE less the dictEntry (24) and the key's sds (16
/// for every `key:N` name), src/object.c `memoryCommand`.
fn real_small_values_bytes(connection: &mut Connection, shape: &Shape) -> u64 {
    for id in 0..shape.small_keys {
        connection.queue(&[
            "MEMORY".to_string(),
            "USAGE".to_string(),
            key_name(SMALL, id),
        ]);
    }
    connection.send().expect("send");
    let replies = connection.receive().expect("receive");
    replies
        .iter()
        .map(|reply| match reply {
            Resp::Integer(n) => *n as u64 - 40,
            _ => 0,
        })
        .sum()
}

/// How many of the `HOTTEST` most requested keys (ids 0..) the real server holds.
fn real_hottest_held(connection: &mut Connection) -> u64 {
    for id in 0..HOTTEST {
        connection.queue(&["EXISTS".to_string(), key_name(SMALL, id)]);
    }
    connection.send().expect("send");
    let replies = connection.receive().expect("receive");
    replies
        .iter()
        .filter(|reply| **reply == Resp::Integer(1))
        .count() as u64
}

type Figure = fn(&Outcome) -> u64;

fn counts_agree(simulated: u64, real: u64) -> bool {
    let difference = simulated.abs_diff(real);
    difference <= COUNT_TOLERANCE_ABSOLUTE
        || difference as f64 <= real as f64 * COUNT_TOLERANCE_PERCENT / 100.0
}

/// Whether `value` lies between the lowest and the highest of the real runs: vanish is not
/// asked to be closer to their mean than they are to each other.
fn within_runs(value: f64, runs: &[f64]) -> bool {
    let low = runs.iter().copied().fold(f64::INFINITY, f64::min);
    let high = runs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (low..=high).contains(&value)
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    sum / count.max(1) as f64
}

/// Runs `shape`'s real replays of every policy at once (they are paced, so their threads
/// mostly wait), then its simulated runs; per policy the real outcomes and the simulated. The
/// simulated runs of a policy start as far into their minute as its real runs did. They run
/// once the real replays are over: run alongside, each (a debug build) kept a core busy while
/// the real servers and their clients shared the other, and a large reply drained more slowly
/// there (the large-value shapes leaned +1.2 to +1.4 pp in clean-clone CI, +0.1 to +0.4 alone).
fn replay_all(
    shape: &Shape,
    policies: &[MaxmemoryPolicy],
    maxmemory: u64,
    batches: &[Vec<Op>],
) -> Vec<(MaxmemoryPolicy, Vec<Outcome>, Vec<Outcome>)> {
    thread::scope(|scope| {
        let jobs: Vec<_> = policies
            .iter()
            .map(|&policy| {
                let (started, phase) = mpsc::channel();
                let real: Vec<_> = (0..shape.real_runs)
                    .map(|_| {
                        let started = started.clone();
                        scope.spawn(move || replay_real(shape, policy, maxmemory, batches, started))
                    })
                    .collect();
                (policy, real, phase)
            })
            .collect();
        let reals: Vec<_> = jobs
            .into_iter()
            .map(|(policy, real, phase)| {
                let phase_ms = phase.recv().expect("a real replay started");
                let real: Vec<Outcome> = real
                    .into_iter()
                    .map(|job| job.join().expect("real replay"))
                    .collect();
                (policy, real, phase_ms)
            })
            .collect();
        reals
            .into_iter()
            .map(|(policy, real, phase_ms)| {
                let simulated = (0..shape.sim_runs)
                    .map(|run| replay_simulated(shape, policy, maxmemory, batches, run, phase_ms))
                    .collect();
                (policy, real, simulated)
            })
            .collect()
    })
}

/// Replays `shape` under each policy on `real_runs` real servers and in `sim_runs` simulated
/// runs, and judges the mean of the simulated runs against the mean of the real ones.
///
/// Where a workload freezes (no key left to evict, every new key refused), which of the
/// hottest keys happen to be held at that moment decides the hit ratio from then on, by
/// points; identical real runs differ by up to 2.5 points, and a simulated run by as much
/// with its seed. Means over runs compare the model rather than one draw.
fn compare(shape: &Shape, policies: &[MaxmemoryPolicy]) {
    crate::redis::require_server();
    let batches = workload(shape);
    let (empty, full) = simulated_working_set(shape, &batches);
    let maxmemory = empty + ((full - empty) as f64 * shape.maxmemory_share) as u64;
    let outcomes = replay_all(shape, policies, maxmemory, &batches);
    let requests: usize = batches.iter().map(Vec::len).sum();
    let mut table = Table::new(
        &format!(
            "{}: {requests} requests over {} s on {} connection(s); vanish maxmemory {maxmemory} \
             (empty {empty} + {:.0} % of the small keys' {}); real maxmemory = vanish's + the \
             difference of the empty servers; {} real runs, vanish the mean of {} runs",
            shape.name,
            shape.duration_s,
            shape.connections,
            shape.maxmemory_share * 100.0,
            full - empty,
            shape.real_runs,
            shape.sim_runs,
        ),
        &[
            "policy",
            "figure",
            "real runs",
            "real mean",
            "vanish runs",
            "vanish mean",
            "vanish−real",
        ],
    );
    let joined = |values: Vec<String>| values.join(" / ");
    for (policy, real, simulated) in &outcomes {
        let name = policy.as_str().to_string();
        let ratios =
            |runs: &[Outcome]| -> Vec<f64> { runs.iter().map(|o| o.hit_ratio() * 100.0).collect() };
        let percent = |values: &[f64]| joined(values.iter().map(|v| format!("{v:.2}%")).collect());
        let (real_ratios, simulated_ratios) = (ratios(real), ratios(simulated));
        let (real_ratio, simulated_ratio) = (
            mean(real_ratios.iter().copied()),
            mean(simulated_ratios.iter().copied()),
        );
        let hit_pp = simulated_ratio - real_ratio;
        table.row(
            vec![
                name.clone(),
                "hit ratio".into(),
                percent(&real_ratios),
                format!("{real_ratio:.2}%"),
                percent(&simulated_ratios),
                format!("{simulated_ratio:.2}%"),
                format!("{hit_pp:+.2} pp"),
            ],
            hit_pp.abs() <= HIT_RATIO_TOLERANCE_PP || within_runs(simulated_ratio, &real_ratios),
        );
        let judged: [(&str, Figure); 2] = [
            ("evicted_keys", |o| o.evicted_keys),
            ("OOM rejections", |o| o.oom_rejections),
        ];
        let informative: [(&str, Figure); 20] = [
            ("GETs", |o| o.gets),
            ("GETs of large values", |o| o.large_gets),
            ("… hits", |o| o.large_hits),
            ("writes (with fills)", |o| o.writes),
            ("DELs removing a key", |o| o.dels_removing),
            ("PEXPIREs applied", |o| o.pexpires_applied),
            ("expired_keys", |o| o.expired_keys),
            ("keys at end", |o| o.keys_at_end),
            ("volatile keys at end", |o| o.volatile_keys_at_end),
            ("hottest 30 keys held at end", |o| o.hottest_held_at_end),
            ("used_memory at end", |o| o.used_memory_at_end),
            ("overhead at end − empty's", |o| o.overhead_growth),
            ("dataset at end", |o| o.dataset_at_end),
            ("small values' bytes at end", |o| {
                o.small_values_bytes_at_end
            }),
            ("main buckets at end", |o| o.main_buckets_at_end),
            ("expires buckets at end", |o| o.expires_buckets_at_end),
            ("mem_clients_normal at start", |o| {
                o.mem_clients_normal_at_start
            }),
            ("mem_clients_normal at end", |o| o.mem_clients_normal_at_end),
            ("maxmemory", |o| o.maxmemory),
            ("replay max lag ms", |o| o.max_lag_ms),
        ];
        let rows = judged
            .iter()
            .map(|row| (row, true))
            .chain(informative.iter().map(|row| (row, false)));
        for ((figure, get), is_judged) in rows {
            let counts = |runs: &[Outcome]| -> Vec<u64> { runs.iter().map(get).collect() };
            let (real_counts, simulated_counts) = (counts(real), counts(simulated));
            let average = |counts: &[u64]| mean(counts.iter().map(|&n| n as f64)).round() as u64;
            let (real_mean, simulated_mean) = (average(&real_counts), average(&simulated_counts));
            let listed = |counts: &[u64]| joined(counts.iter().map(u64::to_string).collect());
            let cells = vec![
                name.clone(),
                figure.to_string(),
                listed(&real_counts),
                real_mean.to_string(),
                listed(&simulated_counts),
                simulated_mean.to_string(),
                format!("{:+}", simulated_mean as i64 - real_mean as i64),
            ];
            if is_judged {
                let reals: Vec<f64> = real_counts.iter().map(|&n| n as f64).collect();
                let agree = counts_agree(simulated_mean, real_mean)
                    || within_runs(simulated_mean as f64, &reals);
                table.row(cells, agree);
            } else {
                table.note(cells, "");
            }
        }
    }
    table.check(
        "vanish's mean vs the real runs' mean: hit ratio within 1 percentage point; evicted_keys \
         and OOM rejections within 5 % or ±50; or else between the lowest and the highest real \
         run; other rows informative",
    );
}

/// 20,000 small keys under Zipf 0.9, 70 % GET (cache-aside) / 30 % SET, and 16 keys of
/// 50–200 KB, one rewritten every 100 ms: the shape of the recorded allkeys-lfu run
/// (vanish 18 % fewer evictions, +3.1 pp), which none of these replays reproduces.
const LARGE_VALUES: Shape = Shape {
    name: "large values rewritten among small keys",
    small_keys: 20_000,
    skew: 0.9,
    get_per_mille: 700,
    del_per_mille: 0,
    pexpire_per_mille: 0,
    small_len: (50, 150),
    ttl_percent: 0,
    ttl_ms: (0, 0),
    pexpire_ms: (0, 0),
    large_keys: 16,
    large_len: (50_000, 200_000),
    large_every_ms: 100,
    large_get_every_ms: 0,
    retry_refused: false,
    requests_per_second: 4_000,
    duration_s: 30,
    connections: 1,
    maxmemory_share: 0.5,
    // Two real runs' mean moved by up to a point between sessions: four.
    real_runs: 4,
    sim_runs: 4,
};

#[test]
fn large_values_rewritten_under_lru() {
    compare(&LARGE_VALUES, &[MaxmemoryPolicy::AllkeysLru]);
}

/// Once ignored at −1.1 pp (two pairs of real runs, 61.4–62.7 % against 61.0–61.1 %). Two
/// later sessions agreed: −0.34 pp (61.65 % real, 61.31 % vanish; evictions 44,527 against
/// 44,468) and +0.35 pp (61.48 % against 61.84 %; evictions 44,495 against 43,595, −2.0 %),
/// and with four real runs −0.53 pp (61.80 / 61.27 %; evictions 43,728 / 44,641, +2.1 %);
/// with both baselines prepared alike (`warmed_sim`) +0.51 pp (61.67 / 62.18 %; evictions
/// 44,508 / 43,637, −2.0 %).
/// The real runs' own spread (up to 1.3 points between identical runs) was the gap; four
/// real runs are now averaged.
#[test]
fn large_values_rewritten_under_lfu() {
    compare(&LARGE_VALUES, &[MaxmemoryPolicy::AllkeysLfu]);
}

/// 30 % of writes with a TTL of 2–60 s, under pressure: the volatile keys run short and, from
/// about a third of the run on, every write of a new key is refused. Zipf 0.7 rather than 0.9:
/// once the keyspace freezes, the hit ratio is whatever share of the GETs the keys held at
/// that moment draw, and under 0.9 the ten hottest keys draw a quarter of them, so whether two
/// of them were volatile at the freeze moves it by 3 points between identical real runs.
const MIXED_TTLS: Shape = Shape {
    name: "mixed TTLs under pressure",
    small_keys: 20_000,
    skew: 0.7,
    get_per_mille: 700,
    del_per_mille: 0,
    pexpire_per_mille: 0,
    small_len: (50, 150),
    ttl_percent: 30,
    ttl_ms: (2_000, 60_000),
    pexpire_ms: (0, 0),
    large_keys: 0,
    large_len: (0, 0),
    large_every_ms: 0,
    large_get_every_ms: 0,
    retry_refused: false,
    requests_per_second: 4_000,
    duration_s: 30,
    connections: 1,
    maxmemory_share: 0.5,
    real_runs: 3,
    sim_runs: 8,
};

/// Measured against real runs, these shapes first pointed at a per-key memory difference
/// (vanish held 1.4 % more persistent keys in the same room). It was the harness: CONFIG SET's
/// latency histogram was allocated after the baseline, and reply buffers grew by 3 KB as
/// hits began. With both fixed, the keys held agree within 0.1 %; the hit ratio differs by
/// run as described on `MIXED_TTLS`.
///
/// Ignored for a while after connections' buffers were modelled over their life: vanish held
/// 75–79 keys more (0.7 %) in every policy and run, refused 2.6–4.0 % fewer writes and hit
/// 1.0–1.7 points more under volatile-lfu and -ttl. Not the keys' own cost (the values held
/// weighed the same per key, MEMORY USAGE less entry and name: 130.08 B real, 130.18 B vanish;
/// a plain fill of 10,600 keys leaves the same non-key memory, 69.4 KB real, 68.6 KB vanish):
/// the harness again. vanish's baseline was taken on fresh connections, whose 16 KB reply
/// buffers clientsCron shrinks to 1 KB in the first seconds (15 KB of room vanish gained and
/// Redis, warmed up, did not), and without the `CONFIG SET maxmemory 0` the real side sends
/// first (CONFIG's 24,688-byte latency histogram, which then appeared in vanish only once its
/// limit was set). With the simulated node prepared exactly as the real one (`warmed_sim`):
/// keys at end 10,589–10,594 against 10,593–10,594, client memory 23,296 → 25,344 bytes on
/// both; volatile-lfu −0.74 pp (OOM +1.5 %), -lru −0.09 pp (+0.2 %), -ttl −0.57 pp (+1.2 %),
/// -random −0.14 pp (+0.3 %), evictions within 0.4 %.
#[test]
fn mixed_ttls_under_the_volatile_policies() {
    compare(
        &MIXED_TTLS,
        &[
            MaxmemoryPolicy::VolatileLfu,
            MaxmemoryPolicy::VolatileLru,
            MaxmemoryPolicy::VolatileTtl,
            MaxmemoryPolicy::VolatileRandom,
        ],
    );
}

/// Overwrites with values of changing sizes, DEL and PEXPIRE over four connections.
const OVERWRITES: Shape = Shape {
    name: "overwrites, DEL and PEXPIRE on four connections",
    small_keys: 20_000,
    skew: 0.9,
    get_per_mille: 550,
    del_per_mille: 50,
    pexpire_per_mille: 100,
    small_len: (20, 200),
    ttl_percent: 10,
    ttl_ms: (2_000, 30_000),
    pexpire_ms: (1_000, 30_000),
    large_keys: 0,
    large_len: (0, 0),
    large_every_ms: 0,
    large_get_every_ms: 0,
    retry_refused: false,
    requests_per_second: 4_000,
    duration_s: 30,
    connections: 4,
    maxmemory_share: 0.5,
    real_runs: 2,
    sim_runs: 1,
};

#[test]
fn overwrites_deletes_and_pexpire_under_noeviction() {
    compare(
        &OVERWRITES,
        &[MaxmemoryPolicy::NoEviction, MaxmemoryPolicy::VolatileLru],
    );
}

/// A shape no other test has: a pool of 32 connections, each batch's share pipelined, values
/// of 500 B to 4 KB (raw strings across many jemalloc classes), DEL and PEXPIRE traffic, and 8
/// values of 40–80 KB (each a big argument on its connection) rewritten every 200 ms.
const POOLED: Shape = Shape {
    name: "a pool of 32 connections, mid-size values and big arguments",
    small_keys: 12_000,
    skew: 0.8,
    get_per_mille: 600,
    del_per_mille: 50,
    pexpire_per_mille: 50,
    small_len: (500, 4_000),
    ttl_percent: 30,
    ttl_ms: (5_000, 60_000),
    pexpire_ms: (2_000, 30_000),
    large_keys: 8,
    large_len: (40_000, 80_000),
    large_every_ms: 200,
    large_get_every_ms: 0,
    retry_refused: false,
    requests_per_second: 4_000,
    duration_s: 20,
    connections: 32,
    maxmemory_share: 0.5,
    real_runs: 2,
    sim_runs: 2,
};

/// With both baselines prepared alike (see `mixed_ttls_under_the_volatile_policies`):
/// allkeys-lru 72.67 % real, 72.90 % vanish (+0.23 pp), evictions within 5 %.
#[test]
fn a_pool_of_connections_with_mid_size_values_and_big_arguments() {
    compare(&POOLED, &[MaxmemoryPolicy::AllkeysLru]);
}

/// noeviction on the pool. It diverged (−1.4 to −2.2 pp, OOM refusals +5 to +9 %) while the
/// simulated side took its connections from a pool in turn and left them idle for up to a
/// minute between warm-up and replay: every big SET went to a different connection (4–5 of
/// them held 57–82 KB query buffers where Redis, whose harness sends part `i` of a batch on
/// connection `i`, has the one connection 8 getting them all), and the idle gap let
/// clientsCron trim every query buffer and shrink every reply buffer to 1 KB (vanish kept
/// 4 KB query buffers that never grew back, and reply buffers of exact powers of two).
/// With part `i` on connection `i` and the replay right after the warm-up, CLIENT LIST at
/// the end agrees connection by connection on the query buffers: 20,474 bytes of room on 31,
/// 81,910 on connection 8 (`query_buffer.rs` follows each read as `readQueryFromClient`
/// makes room). Measured: 66.74 / 66.80 % (+0.06 pp), OOM refusals 23,547 / 23,022 (−2.2 %);
/// another session 67.02 / 66.80 % (−0.22 pp), 23,332 / 23,022 (−1.3 %). mem_clients_normal
/// at the end: 932,352 real, 897,024 vanish; 16 KB of it is connection 8 last seen by the
/// cron before or after the last fat SET (a matter of where the rotation stands), the rest
/// reply buffers, which each run resizes from its own peaks.
#[test]
fn a_pool_of_connections_under_noeviction() {
    compare(&POOLED, &[MaxmemoryPolicy::NoEviction]);
}

/// `LARGE_VALUES` with the large values also read: a GET of one every 20 ms, first in its
/// batch, so the commands after it run while its 50–200 KB reply waits in the connection's
/// reply list, counted in used_memory (src/networking.c `_addReplyProtoToList`; the steps
/// are checked one by one in `large_values`). Measured over four real runs: allkeys-lfu
/// 44.21 % real, 44.23 % vanish (evictions 67,591 / 67,340); allkeys-lru 44.77 % against
/// 45.47 % (+0.70 pp; evictions 66,093 / 65,258, −1.3 %); large GETs hit 988 / 1,015 (LFU)
/// and 942 / 977 (LRU) times of 1,500. Another session: +0.93 pp under both (44.05 / 44.98 %,
/// 44.36 / 45.30 %), evictions −1.7 and −1.8 %. With two real runs the means had been +1.59
/// and +0.36 pp (LFU), +1.04 and +1.25 pp (LRU). vanish sits 0.7–1.0 point high when large
/// values are read, near the tolerance, evicting 1–2 % fewer keys: the in-flight costs agree
/// step by step (`large_values`), so what is left is in their timing over a run. With both
/// baselines prepared alike (`warmed_sim`): allkeys-lfu 44.45 / 44.86 % (+0.41 pp, evictions
/// 67,298 / 66,605, −1.0 %), allkeys-lru 44.79 / 45.30 % (+0.51 pp, 66,061 / 65,380, −1.0 %).
/// With the simulated runs after the real replays (`replay_all`; debug build, beside the
/// rewritten shape as CI runs them): allkeys-lfu 43.82 / 43.85 % (+0.03 pp, evictions 68,012 /
/// 67,984), allkeys-lru 44.76 / 44.72 % (−0.04 pp, 66,149 / 66,211): the lean was the real
/// servers draining large replies on a contended core.
const LARGE_VALUES_READ: Shape = Shape {
    name: "large values rewritten and read among small keys",
    large_get_every_ms: 20,
    ..LARGE_VALUES
};

#[test]
fn large_values_read_under_lfu_and_lru() {
    compare(
        &LARGE_VALUES_READ,
        &[MaxmemoryPolicy::AllkeysLfu, MaxmemoryPolicy::AllkeysLru],
    );
}

/// `LARGE_VALUES_READ` for 150 s: the replay crosses two or three turns of the LFU minute
/// (`lfu-decay-time 1`), each decaying every counter by one when next read.
///
/// 2.5 minutes of real time. Measured with two real runs and vanish's old baseline: 44.03 /
/// 43.72 % real, 45.18 / 44.96 % vanish (+1.19 pp), evictions −2.0 %. With both baselines
/// prepared alike and four real runs: 44.19 % real, 45.05 % vanish (+0.86 pp), evictions
/// 339,136 / 333,991 (−1.5 %), large GETs hitting 5,054 / 5,152 times of 7,500: the same lean
/// as the 30-second shape with large values read, no more, so the decay minutes add nothing.
/// Two simulated runs were too few for that lean: a clean-clone CI run drew 46.08 and 44.57 %
/// (real 43.64–44.46 %), a mean 1.21 pp over; four, as the 30-second shape has, halve the
/// variance of vanish's mean (they run while the real replays wait on their pacing).
const LFU_MINUTES: Shape = Shape {
    name: "large values among small keys across LFU decay minutes",
    duration_s: 150,
    sim_runs: 4,
    real_runs: 4,
    ..LARGE_VALUES_READ
};

#[test]
fn large_values_across_lfu_decay_minutes() {
    compare(&LFU_MINUTES, &[MaxmemoryPolicy::AllkeysLfu]);
}

/// `OVERWRITES` where a client retries each refused write once, at its next batch. Measured:
/// noeviction 70.97 % real, 70.70 % vanish, OOM 54,218 / 54,281; volatile-lru 68.18 / 68.34 %,
/// OOM 37,295 / 36,723 (−1.5 %); volatile-lfu 68.38 / 68.33 %, OOM 36,990 / 36,710. With both
/// baselines prepared alike: noeviction 71.43 / 71.72 % (OOM 52,458 / 51,500, −1.8 %),
/// volatile-lru 68.89 / 68.85 % (34,644 / 34,806), volatile-lfu 68.73 / 68.96 % (34,982 /
/// 34,606, −1.1 %).
const RETRIED: Shape = Shape {
    name: "overwrites, DEL and PEXPIRE, refused writes retried",
    retry_refused: true,
    ..OVERWRITES
};

#[test]
fn refused_writes_retried_under_noeviction_and_volatile_policies() {
    compare(
        &RETRIED,
        &[
            MaxmemoryPolicy::NoEviction,
            MaxmemoryPolicy::VolatileLru,
            MaxmemoryPolicy::VolatileLfu,
        ],
    );
}
