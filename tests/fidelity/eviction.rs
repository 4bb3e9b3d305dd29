//! Eviction under a Zipf read-heavy cache-aside workload, for each of Redis's eight policies:
//! one deterministic request sequence replayed against a real Redis 7.0.15 in real time and
//! through a simulated node at the same virtual times (redis-fidelity.md 1).
//!
//! The replay is paced: Redis's LRU clock has a resolution of one second and the LFU decay one
//! minute, so the rate of requests per second shapes what the policies see. Requests go out in
//! pipelined batches of 10 ms; a GET that misses is followed by a SET of its key (cache-aside)
//! in a second pipeline right after its batch. The simulated node runs the same batches at the
//! batch's virtual time, the fills after them, and serverCron every 100 ms.
//!
//! Both sides get the same room for keys: the real server's maxmemory is the simulated one plus
//! the difference of their empty used_memory (latency histograms and client buffers that
//! vanish does not model, measured separately in `memory`), so this test judges eviction alone.

use std::thread;
use std::time::{Duration, Instant};

use vanish::sim::config::{MaxmemoryPolicy, ServerConfig};
use vanish::sim::random::dist::Zipf;
use vanish::sim::random::rng::Stream;
use vanish::sim::server::{ErrorReply, Reply};

use crate::redis::{RedisServer, Reply as Resp};
use crate::sim::{Family, SimNode, SEED};
use crate::table::Table;
use crate::table::{COUNT_TOLERANCE_ABSOLUTE, COUNT_TOLERANCE_PERCENT, HIT_RATIO_TOLERANCE_PP};

const KEYS: u64 = 20_000;
const SKEW: f64 = 0.99;
const REQUESTS_PER_SECOND: u64 = 5_000;
const BATCH_MS: u64 = 10;
/// 20 s: with half the writes lacking a TTL, the volatile-* policies run out of volatile keys
/// at about 23.5 s, after which Redis refuses every write and the hit ratio freezes on whatever
/// keys happened to be resident. Past that point two runs of the real server disagree by up to
/// 1.5 percentage points of hit ratio and 20 % of OOM rejections, so the comparison stops before.
const DURATION_S: u64 = 20;
const VALUE_LEN: u32 = 100;
const TTL_MS: u64 = 3_600_000;
/// maxmemory = empty + this share of the working set's used_memory above empty.
const MAXMEMORY_SHARE: f64 = 0.40;

/// One generated request: GET (90 %) or SET (10 %) of a Zipf-chosen key; `ttl` says whether
/// the SET — or the cache-aside SET after a GET miss — carries PX 1 h (half of them).
#[derive(Clone, Copy, Debug)]
struct Op {
    key: u64,
    set: bool,
    ttl: bool,
}

fn workload() -> Vec<Op> {
    let zipf = Zipf::new(KEYS, SKEW);
    let mut stream = Stream::new(SEED, "fidelity:eviction-workload");
    (0..REQUESTS_PER_SECOND * DURATION_S)
        .map(|_| Op {
            key: zipf.sample(&mut stream) - 1,
            set: stream.below(10) == 0,
            ttl: stream.below(2) == 0,
        })
        .collect()
}

fn batches(ops: &[Op]) -> std::slice::Chunks<'_, Op> {
    ops.chunks((REQUESTS_PER_SECOND * BATCH_MS / 1000) as usize)
}

/// What one side did.
#[derive(Debug, Default, Clone)]
struct Outcome {
    gets: u64,
    hits: u64,
    sets: u64,
    oom_rejections: u64,
    /// When the first SET was refused, ms into the run.
    first_oom_ms: Option<u64>,
    evicted_keys: u64,
    keys_at_end: u64,
    volatile_keys_at_end: u64,
    used_memory_at_end: u64,
    maxmemory: u64,
    /// Real replay only: how far behind schedule the worst batch went out, ms.
    max_lag_ms: u64,
}

impl Outcome {
    fn hit_ratio(&self) -> f64 {
        self.hits as f64 / self.gets.max(1) as f64
    }

    fn write_replied(&mut self, accepted: bool, at_ms: u64) {
        self.sets += 1;
        if !accepted {
            self.oom_rejections += 1;
            self.first_oom_ms.get_or_insert(at_ms);
        }
    }
}

fn server_config(policy: MaxmemoryPolicy, maxmemory: u64) -> ServerConfig {
    ServerConfig {
        maxmemory_bytes: maxmemory,
        maxmemory_policy: policy,
        ..ServerConfig::default()
    }
}

fn family() -> [Family<'static>; 1] {
    [Family {
        prefix: "key:",
        count: KEYS,
    }]
}

/// used_memory of the simulated node when empty and when it holds the whole working set (every
/// key once, half with a TTL), settled.
fn simulated_working_set() -> (u64, u64) {
    let mut sim = SimNode::new(ServerConfig::default(), &family());
    let empty = sim.used_memory();
    for id in 0..KEYS {
        let key = sim.key(0, id);
        sim.set(key, VALUE_LEN, (id % 2 == 0).then_some(TTL_MS));
    }
    sim.advance_ms(1500);
    (empty, sim.used_memory())
}

fn replay_simulated(policy: MaxmemoryPolicy, maxmemory: u64, ops: &[Op]) -> Outcome {
    let mut sim = SimNode::new(server_config(policy, maxmemory), &family());
    let mut outcome = Outcome {
        maxmemory,
        ..Outcome::default()
    };
    let mut fills = Vec::new();
    for (index, batch) in batches(ops).enumerate() {
        let at_ms = index as u64 * BATCH_MS;
        sim.advance_to(at_ms * 1000);
        fills.clear();
        for op in batch {
            let key = sim.key(0, op.key);
            if op.set {
                let reply = sim.set(key, VALUE_LEN, op.ttl.then_some(TTL_MS));
                outcome.write_replied(set_accepted(reply), at_ms);
            } else {
                outcome.gets += 1;
                match sim.get(key) {
                    Reply::Hit => outcome.hits += 1,
                    Reply::Miss => fills.push(*op),
                    other => panic!("GET replied {other:?}"),
                }
            }
        }
        for op in &fills {
            let key = sim.key(0, op.key);
            let reply = sim.set(key, VALUE_LEN, op.ttl.then_some(TTL_MS));
            outcome.write_replied(set_accepted(reply), at_ms);
        }
    }
    sim.advance_to(DURATION_S * 1_000_000);
    outcome.evicted_keys = sim.node.stats.evicted_keys;
    outcome.keys_at_end = sim.node.total_keys();
    outcome.volatile_keys_at_end = sim.node.total_volatile();
    outcome.used_memory_at_end = sim.used_memory();
    outcome
}

fn set_accepted(reply: Reply) -> bool {
    match reply {
        Reply::Ok => true,
        Reply::Error(ErrorReply::Oom) => false,
        other => panic!("SET replied {other:?}"),
    }
}

fn real_set_accepted(reply: &Resp) -> bool {
    match reply {
        Resp::Simple(ok) if ok == "OK" => true,
        Resp::Error(error) if error.starts_with("OOM") => false,
        other => panic!("SET replied {other:?}"),
    }
}

fn replay_real(policy: MaxmemoryPolicy, simulated_maxmemory: u64, ops: &[Op]) -> Outcome {
    let server = RedisServer::start(&[("maxmemory-policy", policy.as_str())]);
    let mut connection = server.connect();
    // Call every command of the run once, so that their latency histograms (24,688 bytes each,
    // kept for the life of the process) all exist before the baseline is taken; then let cron
    // trim the client's buffers. No CONFIG RESETSTAT: it would free the histograms again. The
    // counters read at the end start at zero anyway: nothing was evicted or refused before.
    connection.must(&["SET", "warm-up", "x", "PX", "1000"]);
    connection.must(&["GET", "warm-up"]);
    connection.must(&["CONFIG", "SET", "maxmemory", "0"]);
    connection.must(&["FLUSHALL"]);
    connection.info("everything");
    thread::sleep(Duration::from_millis(1500));
    let real_empty = connection.info("memory").u64("used_memory");
    // vanish models the histograms too, but allocates GET's and SET's on their first call in
    // the replay, and has none for the harness's own CONFIG, FLUSHALL and INFO: count the two
    // the replay will add into the simulated fixed overhead.
    let simulated_empty = SimNode::new(server_config(policy, 0), &family()).used_memory()
        + 2 * vanish::sim::keyspace::memory::LATENCY_HISTOGRAM_BYTES;
    let maxmemory = simulated_maxmemory + real_empty - simulated_empty;
    connection.must(&["CONFIG", "SET", "maxmemory", &maxmemory.to_string()]);

    let value = "v".repeat(VALUE_LEN as usize);
    let ttl = TTL_MS.to_string();
    let queue_set = |connection: &mut crate::redis::Connection, op: &Op| {
        let key = format!("key:{}", op.key);
        if op.ttl {
            connection.queue(&["SET", &key, &value, "PX", &ttl]);
        } else {
            connection.queue(&["SET", &key, &value]);
        }
    };
    let mut outcome = Outcome {
        maxmemory,
        ..Outcome::default()
    };
    let mut fills = Vec::new();
    let start = Instant::now();
    for (index, batch) in batches(ops).enumerate() {
        let at_ms = index as u64 * BATCH_MS;
        let due = start + Duration::from_millis(at_ms);
        let now = Instant::now();
        if now < due {
            thread::sleep(due - now);
        } else {
            outcome.max_lag_ms = outcome.max_lag_ms.max((now - due).as_millis() as u64);
        }
        for op in batch {
            if op.set {
                queue_set(&mut connection, op);
            } else {
                connection.queue(&["GET", &format!("key:{}", op.key)]);
            }
        }
        let replies = connection.flush().expect("batch");
        fills.clear();
        for (op, reply) in batch.iter().zip(&replies) {
            if op.set {
                outcome.write_replied(real_set_accepted(reply), at_ms);
            } else {
                outcome.gets += 1;
                match reply {
                    Resp::Bulk(Some(_)) => outcome.hits += 1,
                    Resp::Bulk(None) => fills.push(*op),
                    other => panic!("GET replied {other:?}"),
                }
            }
        }
        if !fills.is_empty() {
            for op in &fills {
                queue_set(&mut connection, op);
            }
            for reply in connection.flush().expect("fills") {
                outcome.write_replied(real_set_accepted(&reply), at_ms);
            }
        }
    }
    let info = connection.info("everything");
    outcome.evicted_keys = info.u64("evicted_keys");
    outcome.used_memory_at_end = info.u64("used_memory");
    let db0 = info.subfields("db0");
    let count = |name: &str| db0.get(name).map_or(0, |n| n.parse().unwrap_or(0));
    outcome.keys_at_end = count("keys");
    outcome.volatile_keys_at_end = count("expires");
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

/// One number read off an outcome.
type Figure = fn(&Outcome) -> u64;

fn counts_agree(simulated: u64, real: u64) -> bool {
    let difference = simulated.abs_diff(real);
    difference <= COUNT_TOLERANCE_ABSOLUTE
        || difference as f64 <= real as f64 * COUNT_TOLERANCE_PERCENT / 100.0
}

fn mean(a: u64, b: u64) -> u64 {
    (a + b).div_ceil(2)
}

fn seconds(ms: Option<u64>) -> String {
    ms.map_or("never".to_string(), |ms| {
        format!("{:.2}", ms as f64 / 1000.0)
    })
}

#[test]
fn hit_ratio_evictions_and_oom_rejections_for_each_policy() {
    crate::redis::require_server();
    let ops = workload();
    let (empty, full) = simulated_working_set();
    let maxmemory = empty + ((full - empty) as f64 * MAXMEMORY_SHARE) as u64;
    // Two real servers per policy, all at once (the replay is paced, so the threads mostly
    // wait): Redis's own run-to-run spread is part of the table, and the simulator is judged
    // against the mean of the two runs.
    let outcomes: Vec<(MaxmemoryPolicy, Outcome, [Outcome; 2])> = thread::scope(|scope| {
        let ops = &ops;
        let real_jobs: Vec<_> = MaxmemoryPolicy::ALL
            .into_iter()
            .map(|policy| {
                let first = scope.spawn(move || replay_real(policy, maxmemory, ops));
                let second = scope.spawn(move || replay_real(policy, maxmemory, ops));
                (policy, first, second)
            })
            .collect();
        let real: Vec<_> = real_jobs
            .into_iter()
            .map(|(policy, first, second)| {
                let first = first.join().expect("real replay");
                let second = second.join().expect("real replay");
                (policy, [first, second])
            })
            .collect();
        // The simulations are CPU-bound: run them once the paced replays are over.
        let simulated: Vec<_> = real
            .iter()
            .map(|(policy, _)| {
                let policy = *policy;
                scope.spawn(move || replay_simulated(policy, maxmemory, ops))
            })
            .collect();
        real.into_iter()
            .zip(simulated)
            .map(|((policy, real), simulated)| {
                (policy, simulated.join().expect("simulated replay"), real)
            })
            .collect()
    });

    let mut table = Table::new(
        &format!(
            "{} requests over {DURATION_S} s, {KEYS} keys, Zipf {SKEW}, 90 % GET / 10 % SET of \
             {VALUE_LEN} B, cache-aside, half the SETs PX 1 h; vanish maxmemory {maxmemory} \
             (empty {empty} + 40 % of the working set's {}); real maxmemory = vanish's + the \
             difference of the empty servers",
            ops.len(),
            full - empty
        ),
        &[
            "policy",
            "figure",
            "real 1",
            "real 2",
            "real mean",
            "vanish",
            "vanish−mean",
        ],
    );
    for (policy, simulated, [real1, real2]) in &outcomes {
        let name = policy.as_str().to_string();
        let real_ratio = (real1.hit_ratio() + real2.hit_ratio()) / 2.0;
        let hit_pp = (simulated.hit_ratio() - real_ratio) * 100.0;
        table.row(
            vec![
                name.clone(),
                "hit ratio".into(),
                format!("{:.2}%", real1.hit_ratio() * 100.0),
                format!("{:.2}%", real2.hit_ratio() * 100.0),
                format!("{:.2}%", real_ratio * 100.0),
                format!("{:.2}%", simulated.hit_ratio() * 100.0),
                format!("{hit_pp:+.2} pp"),
            ],
            hit_pp.abs() <= HIT_RATIO_TOLERANCE_PP,
        );
        let judged = |figure: Figure| {
            let (r1, r2, s) = (figure(real1), figure(real2), figure(simulated));
            let m = mean(r1, r2);
            let cells = [r1, r2, m, s].map(|n| n.to_string()).to_vec();
            (
                cells,
                format!("{:+}", s as i64 - m as i64),
                counts_agree(s, m),
            )
        };
        let informative: [(&str, Figure); 7] = [
            ("GETs", |o| o.gets),
            ("SETs (with fills)", |o| o.sets),
            ("keys at end", |o| o.keys_at_end),
            ("volatile keys at end", |o| o.volatile_keys_at_end),
            ("used_memory at end", |o| o.used_memory_at_end),
            ("maxmemory", |o| o.maxmemory),
            ("replay max lag ms", |o| o.max_lag_ms),
        ];
        let measured: [(&str, Figure); 2] = [
            ("evicted_keys", |o| o.evicted_keys),
            ("OOM rejections", |o| o.oom_rejections),
        ];
        for (figure, get) in measured {
            let (cells, difference, ok) = judged(get);
            let mut row = vec![name.clone(), figure.to_string()];
            row.extend(cells);
            row.push(difference);
            table.row(row, ok);
        }
        table.row(
            vec![
                name.clone(),
                "first OOM, s".into(),
                seconds(real1.first_oom_ms),
                seconds(real2.first_oom_ms),
                String::new(),
                seconds(simulated.first_oom_ms),
                String::new(),
            ],
            true,
        );
        for (figure, get) in informative {
            let (cells, difference, _) = judged(get);
            let mut row = vec![name.clone(), figure.to_string()];
            row.extend(cells);
            row.push(difference);
            table.row(row, true);
        }
    }
    table.check(
        "vs the mean of two real runs: hit ratio within 1 percentage point; evicted_keys and \
         OOM rejections within 5 % or ±50; other rows informative",
    );
}
