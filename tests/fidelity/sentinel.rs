//! Sentinel: how long after its primary dies a replica is promoted, which one, and that the
//! other replica follows it (redis-fidelity.md 5).
//!
//! A real primary P with replicas R1 and R2 (R2 at `replica-priority 50`), watched by three
//! Sentinels (quorum 2, `down-after-milliseconds 2000`, `failover-timeout 10000`); once every
//! Sentinel knows both replicas, their priorities and the two other Sentinels, P is killed
//! (SIGKILL) and the test polls every 20 ms until a replica reports `role:master`, every
//! Sentinel answers `SENTINEL get-master-addr-by-name` with it, the other replica follows it
//! and the leader ends the failover. Each Sentinel's events (`+sdown`, `+odown`,
//! `+selected-slave`…) are heard on its pub/sub channels and stamped as they arrive. The real
//! story runs three times with fresh processes; the simulator runs the same cluster as a
//! scenario (Sentinels beside the replicas and on the application's machine, so all three
//! survive the primary, as the real processes do) over 20 seeds.
//!
//! Like is compared with like: the real replica's role flips when the leader's
//! `SLAVEOF NO ONE` reaches it, which in vanish is the timeline's `promoted r2` (the tick after
//! `+selected-slave`); `+promoted-slave` and `+switch-master` are when the Sentinels notice,
//! later in both. The real primary is SIGKILLed and the scenario's event is `kill` (the
//! process dies, the machine stays: the Sentinels' reconnection is refused at once).
//!
//! Judged: the promoted replica and that the other one follows it, in every run and seed; and
//! for SDOWN, ODOWN, the replica's `role:master`, the first Sentinel naming it, the other
//! replica following it and `+failover-end`, every real run's time within the simulator's
//! range over the seeds, widened by 0.2 s of real measurement noise. The real times vary by
//! about 0.1 s between runs, so a whole second of slack (enough to hide a systematic error) is
//! not given. The other rows are shown.
//!
//! Measured on 7.0.15 (loopback, 2 cores), seconds after the kill (vanish over 20 seeds):
//!
//! * `+sdown` 2.02–2.11 in all three Sentinels within 30 ms (vanish 2.01–2.08): the kill closes
//!   the Sentinels' connections, the next tick reconnects and "sends a PING ASAP", and that
//!   PING, never answered, is the one SDOWN is timed from (`act_ping_time`, src/sentinel.c
//!   `sentinelCheckSubjectivelyDown`).
//! * `+odown` and `+try-failover` 0.07–0.16 later, `+elected-leader` one tick after: the votes
//!   are asked at once (`SENTINEL_ASK_FORCED`); the random 0–1 s of `SENTINEL_MAX_DESYNC` only
//!   moves `failover_start_time`, which gates retries and the election timeout. Two Sentinels
//!   sometimes try in the same epoch and vote for themselves; the third's vote decides.
//! * `role:master` 2.34–2.48 (vanish 2.23–2.38): `+selected-slave` the tick after the
//!   election, `SLAVEOF NO ONE` the tick after that.
//! * `+promoted-slave` ~0.8 after the flip (the next INFO, 1 s apart), the other Sentinels
//!   switch ~0.07 later (forced hello), `+slave-reconf-sent` the next tick.
//! * `+failover-end` 4.26–4.41 (vanish 4.35–4.53): when an INFO shows the reconfigured
//!   replica's link up (`+slave-reconf-done`).
//! * A primary stopped with SIGSTOP instead (a hang; or a machine failure, no connection
//!   reset) is SDOWN 2.03–3.03 after, `role:master` 2.46–3.39: the oldest unanswered PING is the
//!   first one sent after the last PONG, up to a ping period after it. vanish's `crash` and
//!   `pause` work that way; this test kills the process, as `kill` does.
//! * The failover's `CLIENT KILL TYPE normal` drops every ordinary connection to the replicas,
//!   the test's pollers included, which reconnect.

use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use vanish::scenario::{self, Overrides};
use vanish::sim::engine::{run, NoProgress};
use vanish::sim::ledger::DiscardLedger;
use vanish::sim::server::info::Role;

use crate::redis::{Connection, RedisServer, Reply};
use crate::table::Table;

const MASTER_NAME: &str = "mymaster";
const SENTINELS: usize = 3;
const QUORUM: u32 = 2;
const DOWN_AFTER_MS: u64 = 2000;
const FAILOVER_TIMEOUT_MS: u64 = 10_000;
/// R2's priority: lower than R1's default 100, so both sides must promote R2.
const R2_PRIORITY: u32 = 50;
/// Real runs, each with fresh processes.
const REAL_RUNS: usize = 3;
/// Simulated runs (seeds 1..=SEEDS).
const SEEDS: u64 = 20;
/// When the simulated primary's machine fails.
const CRASH_AT_US: u64 = 20_000_000;
/// How often the real replicas and Sentinels are asked.
const POLL: Duration = Duration::from_millis(20);
/// Replication and Sentinel discovery (hello every 2 s) must be done within this.
const SETUP_TIMEOUT: Duration = Duration::from_secs(20);
/// From the kill to the end of the failover.
const FAILOVER_DEADLINE: Duration = Duration::from_secs(20);
/// How far outside the simulator's range a real time may lie: what the real measurement
/// adds, the poll period (20 ms), an INFO round trip and the scheduling noise of a loaded
/// machine. Not a margin for Sentinel behaviour vanish leaves out (see the module comment).
const SLACK_US: u64 = 200_000;

/// What one failover looked like, times in µs after the primary died.
#[derive(Debug, Default)]
struct Failover {
    /// The first Sentinel's `+sdown`, `+odown`, `+try-failover` and `+elected-leader`.
    sdown_us: Option<u64>,
    odown_us: Option<u64>,
    try_failover_us: Option<u64>,
    elected_us: Option<u64>,
    /// The replica's role flips to master (real: first poll showing `role:master`; vanish:
    /// `+selected-slave`, when the engine runs `REPLICAOF NO ONE`).
    promoted_us: Option<u64>,
    /// "r1" or "r2".
    promoted: Option<String>,
    /// The leader's `+promoted-slave`: it sees the new role in the replica's INFO.
    promoted_seen_us: Option<u64>,
    /// The first, and the last, Sentinel to name the promoted replica as the primary.
    first_switched_us: Option<u64>,
    all_switched_us: Option<u64>,
    /// The other replica is told to follow the new primary (real: its `master_port` changes;
    /// vanish: `+slave-reconf-sent`).
    reconfigured_us: Option<u64>,
    failover_end_us: Option<u64>,
    /// At the end, the other replica replicates from the promoted one with its link up.
    other_follows: bool,
}

fn replica_name(index: usize) -> String {
    format!("r{}", index + 1)
}

// ---------------------------------------------------------------------------------------------
// The real cluster.

/// A Sentinel event as heard on its pub/sub channel, stamped on arrival.
struct Heard {
    at: Instant,
    sentinel: usize,
    /// `+sdown`, `+odown`, …
    event: String,
    /// `master mymaster 127.0.0.1 6379`, `slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster …`
    detail: String,
}

/// Subscribes to every channel of Sentinel `index` (`PSUBSCRIBE *`) and forwards what it
/// publishes until the Sentinel dies.
fn listen(index: usize, port: u16, sink: mpsc::Sender<Heard>) -> JoinHandle<()> {
    let mut connection = Connection::open(port)
        .unwrap_or_else(|e| panic!("connect to the Sentinel on port {port}: {e}"));
    let subscribed = connection.must(&["PSUBSCRIBE", "*"]);
    assert!(
        matches!(&subscribed, Reply::Array(Some(parts)) if parts.len() == 3),
        "PSUBSCRIBE * → {subscribed:?}"
    );
    thread::spawn(move || {
        // Ends with an error when the Sentinel is killed (end of file).
        while let Ok(message) = connection.next_message() {
            let Reply::Array(Some(parts)) = message else {
                continue;
            };
            // pmessage, pattern, channel, payload
            if let [_, _, channel, payload] = parts.as_slice() {
                let heard = Heard {
                    at: Instant::now(),
                    sentinel: index,
                    event: channel.text(),
                    detail: payload.text(),
                };
                if sink.send(heard).is_err() {
                    return;
                }
            }
        }
    })
}

/// A connection that reopens itself: a failover kills every normal client of the replicas it
/// reconfigures (`CLIENT KILL TYPE normal`), the poller's included.
struct Poller {
    port: u16,
    connection: Option<Connection>,
}

impl Poller {
    fn new(port: u16) -> Poller {
        Poller {
            port,
            connection: None,
        }
    }

    /// The reply, or `None` if the connection failed (it is reopened next time).
    fn call(&mut self, args: &[&str]) -> Option<Reply> {
        if self.connection.is_none() {
            self.connection = Connection::open(self.port).ok();
        }
        match self.connection.as_mut()?.call(args) {
            Ok(reply) => Some(reply),
            Err(_) => {
                self.connection = None;
                None
            }
        }
    }

    /// INFO replication as (role, master_port, master_link_status).
    fn replication(&mut self) -> Option<(String, Option<u16>, Option<String>)> {
        let reply = self.call(&["INFO", "replication"])?;
        if reply.is_error() {
            return None;
        }
        let info = crate::redis::Info::parse(&reply.text());
        Some((
            info.get("role")?.to_string(),
            info.get("master_port").and_then(|p| p.parse().ok()),
            info.get("master_link_status").map(str::to_string),
        ))
    }

    /// The port a Sentinel names for `mymaster`.
    fn master_port(&mut self) -> Option<u16> {
        match self.call(&["SENTINEL", "get-master-addr-by-name", MASTER_NAME])? {
            Reply::Array(Some(parts)) if parts.len() == 2 => parts[1].text().parse().ok(),
            _ => None,
        }
    }
}

/// A reply of `SENTINEL replicas|sentinels <name>`: one flat name/value list per instance.
fn instances(reply: &Reply) -> Vec<Vec<(String, String)>> {
    let Reply::Array(Some(items)) = reply else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Reply::Array(Some(fields)) => Some(
                fields
                    .chunks(2)
                    .filter(|pair| pair.len() == 2)
                    .map(|pair| (pair[0].text(), pair[1].text()))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn field<'a>(instance: &'a [(String, String)], name: &str) -> Option<&'a str> {
    instance
        .iter()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value.as_str())
}

/// Polls `ready` every [`POLL`] until it holds; panics with `what` and its last state after
/// `timeout`.
fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + timeout;
    loop {
        match ready() {
            Ok(()) => return,
            Err(state) => assert!(
                Instant::now() < deadline,
                "{what}: not within {timeout:?} ({state})"
            ),
        }
        thread::sleep(POLL);
    }
}

fn since_us(t0: Instant, at: Instant) -> u64 {
    at.saturating_duration_since(t0).as_micros() as u64
}

/// One real failover with fresh processes; returns what happened, the Sentinels' events in
/// the order heard, and the server's version line.
fn real_failover() -> (Failover, String, &'static str) {
    // Disk-based sync: a diskless one would wait `repl-diskless-sync-delay` (5 s) first.
    let mut primary = RedisServer::start(&[("repl-diskless-sync", "no")]);
    let priority = R2_PRIORITY.to_string();
    let replicas = [
        RedisServer::start(&[]),
        RedisServer::start(&[("replica-priority", priority.as_str())]),
    ];
    let primary_port = primary.port.to_string();
    for replica in &replicas {
        replica
            .connect()
            .must(&["REPLICAOF", "127.0.0.1", primary_port.as_str()]);
    }
    let mut watch = primary.connect();
    wait_until("both replicas online and in sync", SETUP_TIMEOUT, || {
        let info = watch.info("replication");
        let offset = info.get("master_repl_offset").unwrap_or("?").to_string();
        let online = (0..2)
            .filter(|i| {
                let slave = info.subfields(&format!("slave{i}"));
                slave.get("state").map(String::as_str) == Some("online")
                    && slave.get("offset") == Some(&offset)
            })
            .count();
        if online == 2 {
            Ok(())
        } else {
            Err(format!("{online} online at offset {offset}: {info:?}"))
        }
    });

    let config = [
        format!(
            "sentinel monitor {MASTER_NAME} 127.0.0.1 {} {QUORUM}",
            primary.port
        ),
        format!("sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}"),
        format!("sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}"),
        format!("sentinel parallel-syncs {MASTER_NAME} 1"),
    ];
    let sentinels: Vec<RedisServer> = (0..SENTINELS)
        .map(|_| RedisServer::start_sentinel(&config))
        .collect();
    let priority_of = |port: u16| {
        let priority = if port == replicas[1].port {
            R2_PRIORITY
        } else {
            100
        };
        priority.to_string()
    };
    for sentinel in &sentinels {
        let mut connection = sentinel.connect();
        wait_until(
            "every Sentinel knows both replicas, their priorities and the other Sentinels",
            SETUP_TIMEOUT,
            || {
                let known = instances(&connection.must(&["SENTINEL", "replicas", MASTER_NAME]));
                let peers = instances(&connection.must(&["SENTINEL", "sentinels", MASTER_NAME]));
                let ready = known.iter().filter(|replica| {
                    let port = field(replica, "port").and_then(|p| p.parse().ok());
                    field(replica, "flags") == Some("slave")
                        && port.is_some_and(|p| {
                            field(replica, "slave-priority") == Some(priority_of(p).as_str())
                        })
                });
                if ready.count() == 2 && peers.len() == SENTINELS - 1 {
                    Ok(())
                } else {
                    Err(format!("replicas {known:?}, Sentinels {peers:?}"))
                }
            },
        );
    }

    let (sink, heard) = mpsc::channel();
    let listeners: Vec<JoinHandle<()>> = sentinels
        .iter()
        .enumerate()
        .map(|(index, sentinel)| listen(index, sentinel.port, sink.clone()))
        .collect();
    drop(sink);
    let mut replica_pollers: Vec<Poller> = replicas.iter().map(|r| Poller::new(r.port)).collect();
    let mut sentinel_pollers: Vec<Poller> = sentinels.iter().map(|s| Poller::new(s.port)).collect();

    let t0 = Instant::now();
    primary.kill();

    let mut failover = Failover::default();
    let mut promoted: Option<usize> = None;
    let mut switched: Vec<Option<u64>> = vec![None; SENTINELS];
    let mut events: Vec<Heard> = Vec::new();
    let deadline = t0 + FAILOVER_DEADLINE;
    loop {
        for (index, poller) in replica_pollers.iter_mut().enumerate() {
            let now = since_us(t0, Instant::now());
            if let Some((role, _, _)) = poller.replication() {
                if role == "master" && promoted.is_none() {
                    promoted = Some(index);
                    failover.promoted_us = Some(now);
                }
            }
        }
        if let Some(new) = promoted {
            let new_port = replicas[new].port;
            for (index, poller) in sentinel_pollers.iter_mut().enumerate() {
                let now = since_us(t0, Instant::now());
                if switched[index].is_none() && poller.master_port() == Some(new_port) {
                    switched[index] = Some(now);
                }
            }
            let other = 1 - new;
            let now = since_us(t0, Instant::now());
            if let Some((role, port, link)) = replica_pollers[other].replication() {
                let follows = role == "slave" && port == Some(new_port);
                if follows && failover.reconfigured_us.is_none() {
                    failover.reconfigured_us = Some(now);
                }
                failover.other_follows = follows && link.as_deref() == Some("up");
            }
        }
        events.extend(heard.try_iter());
        let ended = events.iter().any(|e| e.event == "+failover-end");
        if (switched.iter().all(Option::is_some) && failover.other_follows && ended)
            || Instant::now() > deadline
        {
            break;
        }
        thread::sleep(POLL);
    }
    failover.promoted = promoted.map(replica_name);
    failover.first_switched_us = switched.iter().flatten().min().copied();
    failover.all_switched_us = if switched.iter().all(Option::is_some) {
        switched.iter().flatten().max().copied()
    } else {
        None
    };

    // The listeners end when their Sentinel dies.
    drop(sentinels);
    for listener in listeners {
        let _ = listener.join();
    }
    events.extend(heard.try_iter());
    events.sort_by_key(|e| e.at);
    let first = |event: &str, on_master: bool| {
        events
            .iter()
            .filter(|e| e.event == event && (!on_master || e.detail.starts_with("master ")))
            .map(|e| since_us(t0, e.at))
            .min()
    };
    failover.sdown_us = first("+sdown", true);
    failover.odown_us = first("+odown", true);
    failover.try_failover_us = first("+try-failover", true);
    failover.elected_us = first("+elected-leader", true);
    failover.promoted_seen_us = first("+promoted-slave", false);
    failover.failover_end_us = first("+failover-end", true);
    // What the leader selected must be what flipped.
    if let Some(selected) = events.iter().find(|e| e.event == "+selected-slave") {
        let port: Option<u16> = selected
            .detail
            .split_whitespace()
            .nth(3)
            .and_then(|p| p.parse().ok());
        let name = replicas
            .iter()
            .position(|r| Some(r.port) == port)
            .map(replica_name);
        assert_eq!(
            name, failover.promoted,
            "+selected-slave {} vs the replica that reported role:master",
            selected.detail
        );
    }
    let narrative: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{:>8.3} s  sentinel {}  {} {}",
                since_us(t0, e.at) as f64 / 1e6,
                e.sentinel,
                e.event,
                e.detail
            )
        })
        .collect();
    let report = format!(
        "ports: primary {}, r1 {}, r2 {}\n{}",
        primary.port,
        replicas[0].port,
        replicas[1].port,
        narrative.join("\n")
    );
    (failover, report, primary.version())
}

// ---------------------------------------------------------------------------------------------
// The simulated cluster.

fn scenario_text() -> String {
    format!(
        r#"
[scenario]
name = "sentinel-failover"
duration = "40s"

[[replica]]
name = "r1"
lag = "1ms"

[[replica]]
name = "r2"
lag = "1ms"
replica-priority = {R2_PRIORITY}

# The real Sentinels are processes apart from the primary's: none dies with it.
[sentinel]
hosts = ["r1", "r2", "app"]
quorum = {QUORUM}
down-after-milliseconds = {DOWN_AFTER_MS}
failover-timeout = {FAILOVER_TIMEOUT_MS}
parallel-syncs = 1

[[client]]
name = "app"
rate = 10
rate-kind = "fixed"
keyspace = {{ keys = 1000, prefix = "k:" }}
commands = {{ SET = 1 }}

[[event]]
at = "{CRASH_AT_US}us"
do = "kill"
node = "primary"
"#
    )
}

fn simulate(seed: u64) -> Failover {
    let overrides = Overrides {
        seed: Some(seed),
        sets: Vec::new(),
    };
    let config = scenario::parse("sentinel-failover.toml", &scenario_text(), &overrides)
        .unwrap_or_else(|e| panic!("{e}"));
    let output = run(&config, &mut DiscardLedger, &mut NoProgress);
    let after = |time_us: u64| time_us.checked_sub(CRASH_AT_US);
    let first = |event: &str, node: Option<usize>| {
        output
            .sentinel_log
            .iter()
            .filter(|e| e.event == event && node.is_none_or(|n| e.node == n))
            .map(|e| e.time_us)
            .min()
            .and_then(after)
    };
    let mut failover = Failover {
        sdown_us: first("+sdown", Some(0)),
        odown_us: first("+odown", Some(0)),
        try_failover_us: first("+try-failover", Some(0)),
        elected_us: first("+elected-leader", Some(0)),
        promoted_us: output
            .timeline
            .iter()
            .find(|(_, what)| what.starts_with("promoted "))
            .and_then(|(at, _)| after(*at)),
        promoted_seen_us: first("+promoted-slave", None),
        reconfigured_us: first("+slave-reconf-sent", None),
        failover_end_us: first("+failover-end", None),
        ..Failover::default()
    };
    let selected = output
        .sentinel_log
        .iter()
        .find(|e| e.event == "+selected-slave")
        .map(|e| e.node);
    if let Some(node) = selected {
        failover.promoted = Some(replica_name(node - 1));
        // Each Sentinel's first +switch-master names the new primary.
        let mut switched = [None; SENTINELS];
        for e in output
            .sentinel_log
            .iter()
            .filter(|e| e.event == "+switch-master")
        {
            if e.node == node && switched[e.sentinel].is_none() {
                switched[e.sentinel] = after(e.time_us);
            }
        }
        failover.first_switched_us = switched.iter().flatten().min().copied();
        if switched.iter().all(Option::is_some) {
            failover.all_switched_us = switched.iter().flatten().max().copied();
        }
        let new_port = output.nodes[node].tcp_port;
        let other = if node == 1 { 2 } else { 1 };
        failover.other_follows = matches!(
            &output.nodes[other].role,
            Role::Replica(link) if link.master_port == new_port && link.link_up
        );
        // SLAVEOF NO ONE goes out the tick after +selected-slave.
        let selected_us = first("+selected-slave", None);
        assert!(
            failover.promoted_us > selected_us,
            "seed {seed}: promoted at {:?}, selected at {selected_us:?}",
            failover.promoted_us
        );
    }
    failover
}

// ---------------------------------------------------------------------------------------------
// The comparison.

fn seconds(us: Option<u64>) -> String {
    us.map_or("-".to_string(), |us| format!("{:.3}", us as f64 / 1e6))
}

/// (min, median, max) of the values every seed produced; `None` if a seed lacked one.
fn spread(values: &[Option<u64>]) -> Option<(u64, u64, u64)> {
    let mut sorted: Vec<u64> = values.iter().copied().collect::<Option<_>>()?;
    sorted.sort_unstable();
    Some((
        sorted[0],
        sorted[(sorted.len() - 1) / 2],
        sorted[sorted.len() - 1],
    ))
}

/// Whether a timing row is asserted, or shown for context.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Judged {
    /// Every real run within the simulator's range over the seeds, widened by [`SLACK_US`].
    Range,
    Shown,
}

type Pick = fn(&Failover) -> Option<u64>;

/// The timing rows, in the order things happen.
const TIMINGS: [(&str, Pick, Judged); 10] = [
    ("first +sdown", |f| f.sdown_us, Judged::Range),
    ("first +odown", |f| f.odown_us, Judged::Range),
    ("first +try-failover", |f| f.try_failover_us, Judged::Shown),
    ("+elected-leader", |f| f.elected_us, Judged::Shown),
    ("replica role:master", |f| f.promoted_us, Judged::Range),
    ("+promoted-slave", |f| f.promoted_seen_us, Judged::Shown),
    (
        "first Sentinel names it",
        |f| f.first_switched_us,
        Judged::Range,
    ),
    (
        "all Sentinels name it",
        |f| f.all_switched_us,
        Judged::Shown,
    ),
    (
        "other replica follows it",
        |f| f.reconfigured_us,
        Judged::Range,
    ),
    ("+failover-end", |f| f.failover_end_us, Judged::Range),
];

#[test]
fn a_dead_primary_is_replaced_by_the_replica_and_in_the_time_real_sentinels_take() {
    crate::redis::require_server();
    let mut reals = Vec::new();
    let mut version = "";
    for run in 1..=REAL_RUNS {
        let (failover, report, server) = real_failover();
        println!("real run {run}: {failover:?}\n{report}");
        reals.push(failover);
        version = server;
    }
    let sims: Vec<Failover> = (1..=SEEDS).map(simulate).collect();
    for (seed, sim) in (1..=SEEDS).zip(&sims) {
        println!("seed {seed}: {sim:?}");
    }

    let mut header = vec!["s after the primary died".to_string()];
    header.extend((1..=REAL_RUNS).map(|run| format!("real {run}")));
    header.extend(["vanish min", "median", "max", "real - vanish medians"].map(str::to_string));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(
        &format!(
            "Sentinel failover after SIGKILL of the primary: {SENTINELS} Sentinels, quorum \
             {QUORUM}, down-after {DOWN_AFTER_MS} ms; {REAL_RUNS} real runs ({version}), \
             vanish over {SEEDS} seeds"
        ),
        &header,
    );
    for (name, pick, judged) in TIMINGS {
        let real: Vec<Option<u64>> = reals.iter().map(pick).collect();
        let mut cells = vec![name.to_string()];
        cells.extend(real.iter().map(|&us| seconds(us)));
        let Some((min, median, max)) = spread(&sims.iter().map(pick).collect::<Vec<_>>()) else {
            cells.extend(["-", "-", "-", "-"].map(str::to_string));
            table.row(cells, judged == Judged::Shown);
            continue;
        };
        cells.extend([min, median, max].map(|us| seconds(Some(us))));
        let real_median = spread(&real);
        cells.push(real_median.map_or("-".to_string(), |(_, real_median, _)| {
            format!("{:+.3}", (real_median as f64 - median as f64) / 1e6)
        }));
        let inside = real
            .iter()
            .all(|us| us.is_some_and(|us| us + SLACK_US >= min && us <= max + SLACK_US));
        match judged {
            Judged::Range => table.row(cells, inside),
            Judged::Shown => table.note(
                cells,
                if inside {
                    "shown (inside)"
                } else {
                    "shown (OUTSIDE)"
                },
            ),
        }
    }

    let names = |failovers: &[Failover]| -> Vec<String> {
        failovers
            .iter()
            .map(|f| f.promoted.clone().unwrap_or_else(|| "none".to_string()))
            .collect()
    };
    let (real_names, sim_names) = (names(&reals), names(&sims));
    let expected = replica_name(1);
    let all_expected = |names: &[String]| names.iter().all(|name| *name == expected);
    let mut cells = vec![format!(
        "promoted replica (r2 has replica-priority {R2_PRIORITY})"
    )];
    cells.extend(real_names.iter().cloned());
    let sim_count = sim_names.iter().filter(|name| **name == expected).count();
    cells.push(format!("{expected} in {sim_count}/{SEEDS}"));
    cells.extend(["", "", ""].map(str::to_string));
    table.row(cells, all_expected(&real_names) && all_expected(&sim_names));

    let mut cells = vec!["other replica replicates from it, link up".to_string()];
    let yes_no = |follows: bool| if follows { "yes" } else { "no" }.to_string();
    cells.extend(reals.iter().map(|f| yes_no(f.other_follows)));
    let sim_follow = sims.iter().filter(|f| f.other_follows).count();
    cells.push(format!("yes in {sim_follow}/{SEEDS}"));
    cells.extend(["", "", ""].map(str::to_string));
    let all_follow = reals.iter().chain(&sims).all(|f| f.other_follows);
    table.row(cells, all_follow);

    table.check(&format!(
        "the same replica promoted and followed in every real run and seed; each judged \
         time of every real run within vanish's [min - {slack:.1} s, max + {slack:.1} s] over \
         the seeds",
        slack = SLACK_US as f64 / 1e6
    ));
}
