//! `vanish diagnose`, `watch` and `from-info` against a real Redis 7.0.15.
//!
//! One INFO pair per cause, each taken around a real server doing what causes it (expiry,
//! eviction, deletes, a flush, a restart, a promotion, a stopped replica seen from its
//! primary, OOM refusals, the wrong database, expiry and eviction mixed, and nothing at all):
//! the diagnosis must name the right cause first. Then the binary on a live server: `diagnose
//! redis://…` over a one-second interval, an unreachable server (exit 3), and `watch` writing
//! ledger rows for expired, evicted and deleted keys and restoring notify-keyspace-events.
//! Last the `from-info` round trip: a known workload on a real server, its INFO dumps, the
//! scenario written from them, run by the simulator, and the INFO deltas compared.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use vanish::diagnose::from_info;
use vanish::diagnose::info::InfoDump;
use vanish::diagnose::reason::{diagnose, Diagnosis};
use vanish::diagnose::snapshot::Snapshot;
use vanish::report::info::info_text;
use vanish::scenario::{self, Overrides};
use vanish::sim::engine::{run, NoProgress};
use vanish::sim::ledger::DiscardLedger;

use crate::redis::{Connection, RedisServer};
use crate::table::Table;

fn snapshot(connection: &mut Connection, name: &str) -> Snapshot {
    let text = connection.must(&["INFO", "all"]).text();
    Snapshot::from_dump(&InfoDump::parse(name, &text).unwrap()).unwrap()
}

/// INFO before, `action`, INFO after, diagnosed for reads in db 0.
fn around(server: &RedisServer, action: impl FnOnce(&mut Connection)) -> Diagnosis {
    let mut connection = server.connect();
    let before = snapshot(&mut connection, "before");
    action(&mut connection);
    let after = snapshot(&mut connection, "after");
    diagnose(Some(&before), &after, 0)
}

fn causes(diagnosis: &Diagnosis) -> Vec<&'static str> {
    diagnosis.causes.iter().map(|c| c.cause).collect()
}

fn set_many(connection: &mut Connection, prefix: &str, count: u32, value: &str, px: Option<u32>) {
    for i in 0..count {
        let key = format!("{prefix}{i}");
        match px {
            Some(ms) => connection.queue(&["SET", &key, value, "PX", &ms.to_string()]),
            None => connection.queue(&["SET", key.as_str(), value]),
        }
    }
    connection.flush().unwrap();
}

fn get_many(connection: &mut Connection, prefix: &str, count: u32) {
    for i in 0..count {
        connection.queue(&["GET", &format!("{prefix}{i}")]);
    }
    connection.flush().unwrap();
}

fn assert_first(diagnosis: &Diagnosis, cause: &str) {
    assert_eq!(
        causes(diagnosis).first().copied(),
        Some(cause),
        "the first cause; the diagnosis: {diagnosis:#?}"
    );
}

#[test]
fn one_info_pair_per_cause_names_it_first() {
    let value = "v".repeat(1000);
    let plain = RedisServer::start(&[]);

    let d = around(&plain, |c| {
        set_many(c, "n:", 50, "v", None);
        get_many(c, "n:", 50);
    });
    assert!(d.causes.is_empty(), "nothing vanished: {d:#?}");

    let d = around(&plain, |c| {
        set_many(c, "e:", 200, "v", Some(20));
        thread::sleep(Duration::from_millis(60));
        get_many(c, "e:", 200);
    });
    assert_first(&d, "expired");
    assert_eq!(d.causes[0].keys, Some(200));

    let d = around(&plain, |c| {
        set_many(c, "d:", 100, "v", None);
        for i in 0..100 {
            c.queue(&["DEL", &format!("d:{i}")]);
        }
        c.flush().unwrap();
    });
    assert_first(&d, "deleted");
    assert_eq!(d.causes[0].keys, Some(100));

    set_many(&mut plain.connect(), "f:", 300, "v", None);
    let d = around(&plain, |c| {
        c.must(&["FLUSHALL"]);
    });
    assert_first(&d, "flushed");

    let d = around(&plain, |c| {
        c.must(&["SELECT", "1"]);
        set_many(c, "w:", 40, "v", None);
        c.must(&["SELECT", "0"]);
        get_many(c, "w:", 40);
    });
    assert_first(&d, "wrong-db");
    assert_eq!(d.causes[0].keys, Some(40));

    let lru = RedisServer::start(&[("maxmemory", "2mb"), ("maxmemory-policy", "allkeys-lru")]);
    let d = around(&lru, |c| set_many(c, "big:", 5000, &value, None));
    assert_first(&d, "evicted");

    let d = around(&lru, |c| {
        set_many(c, "t:", 300, "v", Some(20));
        thread::sleep(Duration::from_millis(60));
        get_many(c, "t:", 300);
        set_many(c, "big2:", 5000, &value, None);
    });
    assert_eq!(causes(&d)[..2], ["evicted", "expired"], "{d:#?}");

    let full = RedisServer::start(&[("maxmemory", "2mb"), ("maxmemory-policy", "noeviction")]);
    let d = around(&full, |c| set_many(c, "o:", 3000, &value, None));
    assert_first(&d, "oom-rejected");
}

#[test]
fn a_restart_is_seen_by_its_new_run_id() {
    // No persistence: the node that comes back is a new process with nothing loaded, as the
    // same server restarted without persistence would be.
    let first = RedisServer::start(&[]);
    let mut connection = first.connect();
    set_many(&mut connection, "r:", 500, "v", None);
    let before = snapshot(&mut connection, "before");
    drop(first);
    let second = RedisServer::start(&[]);
    let after = snapshot(&mut second.connect(), "after");
    let d = diagnose(Some(&before), &after, 0);
    assert!(d.restarted);
    assert_first(&d, "restart");
    assert_eq!(d.causes[0].keys, Some(500));
}

/// A replica of `primary`, in sync.
fn replica_of(primary: &RedisServer) -> RedisServer {
    let replica = RedisServer::start(&[]);
    let mut connection = replica.connect();
    connection.must(&["REPLICAOF", "127.0.0.1", &primary.port.to_string()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while connection.info("replication").get("master_link_status") != Some("up") {
        assert!(Instant::now() < deadline, "the replica never synced");
        thread::sleep(Duration::from_millis(50));
    }
    replica
}

#[test]
fn a_promotion_and_a_stopped_replica() {
    let primary = RedisServer::start(&[("repl-diskless-sync-delay", "0")]);
    let replica = replica_of(&primary);
    set_many(&mut primary.connect(), "p:", 100, "v", None);

    let d = around(&replica, |c| {
        c.must(&["REPLICAOF", "NO", "ONE"]);
    });
    assert_first(&d, "failover");

    let primary = RedisServer::start(&[("repl-diskless-sync-delay", "0")]);
    let replica = replica_of(&primary);
    let d = around(&primary, |c| {
        let stop = Command::new("kill")
            .args(["-STOP", &replica.pid().to_string()])
            .status();
        assert!(stop.is_ok_and(|s| s.success()));
        set_many(c, "l:", 2000, "v", None);
        // INFO's lag is the age of the replica's last ACK, sent once a second.
        thread::sleep(Duration::from_millis(3200));
    });
    let _ = Command::new("kill")
        .args(["-CONT", &replica.pid().to_string()])
        .status();
    assert_first(&d, "replica-lag");
}

fn vanish() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vanish"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vanish-diagnose-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_live_mode_reads_the_server_twice() {
    let server = RedisServer::start(&[]);
    let url = format!("redis://127.0.0.1:{}", server.port);
    set_many(&mut server.connect(), "x:", 300, "v", None);
    let child = vanish()
        .args(["diagnose", &url, "--interval", "2s", "--json", "--quiet"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(700));
    let mut connection = server.connect();
    for i in 0..300 {
        connection.queue(&["DEL", &format!("x:{i}")]);
    }
    connection.flush().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["causes"][0]["cause"], "deleted", "{json:#}");
    assert_eq!(json["causes"][0]["keys"], 300);

    let closed = vanish()
        .args(["diagnose", "redis://127.0.0.1:1", "--interval", "1s"])
        .output()
        .unwrap();
    assert_eq!(closed.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&closed.stderr).contains("cannot reach"));
}

#[test]
fn watch_writes_a_ledger_of_real_removals() {
    let server = RedisServer::start(&[("maxmemory-policy", "allkeys-lru")]);
    let url = format!("redis://127.0.0.1:{}", server.port);
    let out = scratch("watch").join("out");
    let mut connection = server.connect();
    let refused = vanish()
        .args(["watch", &url, "--duration", "1s", "--out"])
        .arg(&out)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        refused.status.code(),
        Some(2),
        "off a terminal, without the flag"
    );
    let child = vanish()
        .args([
            "watch",
            &url,
            "--duration",
            "4s",
            "--enable-notifications",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while connection.must(&["CONFIG", "GET", "notify-keyspace-events"]) == empty_flags() {
        assert!(
            Instant::now() < deadline,
            "watch never enabled notifications"
        );
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(300)); // the subscription follows the CONFIG SET
    set_many(&mut connection, "gone:", 10, "v", Some(10));
    thread::sleep(Duration::from_millis(50));
    get_many(&mut connection, "gone:", 10);
    set_many(&mut connection, "del:", 5, "v", None);
    connection.must(&["DEL", "del:0", "del:1", "del:2"]);
    let used = connection.info("memory").u64("used_memory");
    connection.must(&["CONFIG", "SET", "maxmemory", &(used + 200_000).to_string()]);
    set_many(&mut connection, "big:", 1000, &"v".repeat(1000), None);
    let status = child.wait_with_output().unwrap().status;
    assert!(status.success());
    assert_eq!(
        connection.must(&["CONFIG", "GET", "notify-keyspace-events"]),
        empty_flags(),
        "the flags are restored"
    );
    let ledger = std::fs::read_to_string(out.join("ledger.csv")).unwrap();
    let count = |cause: &str| {
        ledger
            .lines()
            .filter(|line| line.split(',').nth(6) == Some(cause))
            .count()
    };
    assert_eq!(count("expired"), 10, "{ledger}");
    assert_eq!(count("deleted"), 3, "{ledger}");
    assert!(count("evicted") > 100, "{ledger}");
    assert!(ledger.starts_with("time_us,time_s,node,db,key,event,cause,actor,detail\n"));
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap();
    assert!(summary.contains("gone:"), "{summary}");
}

fn empty_flags() -> crate::redis::Reply {
    use crate::redis::Reply;
    Reply::Array(Some(vec![
        Reply::Bulk(Some(b"notify-keyspace-events".to_vec())),
        Reply::Bulk(Some(Vec::new())),
    ]))
}

/// The round trip's workload: Zipf(0.9) over 3,000 keys, 75 % GET, 25 % SET of 200 bytes, a
/// third of the SETs with a 2 s TTL, paced over about 6 s.
const ROUND_TRIP_KEYS: u32 = 3000;
const ROUND_TRIP_SKEW: f64 = 0.9;
const ROUND_TRIP_BATCHES: u32 = 60;
const ROUND_TRIP_BATCH: u32 = 400;

fn zipf_sampler(keys: u32, skew: f64) -> Vec<f64> {
    let mut cdf = Vec::with_capacity(keys as usize);
    let mut total = 0.0;
    for rank in 1..=keys {
        total += 1.0 / f64::from(rank).powf(skew);
        cdf.push(total);
    }
    cdf.iter().map(|c| c / total).collect()
}

fn drive(connection: &mut Connection) {
    let cdf = zipf_sampler(ROUND_TRIP_KEYS, ROUND_TRIP_SKEW);
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let value = "v".repeat(200);
    for _ in 0..ROUND_TRIP_BATCHES {
        for _ in 0..ROUND_TRIP_BATCH {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let key = format!("k:{}", cdf.partition_point(|c| *c < u));
            let roll = rng.next_u64() % 12;
            match roll {
                0 => connection.queue(&["SET", key.as_str(), value.as_str(), "PX", "2000"]),
                1 | 2 => connection.queue(&["SET", key.as_str(), value.as_str()]),
                _ => connection.queue(&["GET", key.as_str()]),
            }
        }
        connection.flush().unwrap();
        thread::sleep(Duration::from_millis(100));
    }
}

/// A figure of the real interval against the simulated run, as the test judges it.
fn relative_gap(real: f64, simulated: f64) -> f64 {
    (simulated - real).abs() / real.max(1.0)
}

#[test]
fn from_info_round_trip_reproduces_the_info_deltas() {
    let server = RedisServer::start(&[]);
    let mut connection = server.connect();
    let before = snapshot(&mut connection, "before");
    drive(&mut connection);
    let after = snapshot(&mut connection, "after");
    let fitted = from_info::from_info(Some(&before), &after, None, "round-trip").unwrap();
    let config = scenario::parse("round-trip.toml", &fitted.toml, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", fitted.toml));
    let output = run(&config, &mut DiscardLedger, &mut NoProgress);
    let sim = Snapshot::from_dump(&InfoDump::parse("sim", &info_text(&output.nodes[0])).unwrap())
        .unwrap();
    let real =
        |name: &str| (after.counter(name).unwrap() - before.counter(name).unwrap_or(0)) as f64;
    let simulated = |name: &str| sim.counter(name).unwrap() as f64;
    let ratio = |hits: f64, misses: f64| hits / (hits + misses);
    let real_ratio = ratio(real("keyspace_hits"), real("keyspace_misses"));
    let sim_ratio = ratio(simulated("keyspace_hits"), simulated("keyspace_misses"));
    let real_keys = after.keys_total() as f64;
    let sim_keys = sim.keys_total() as f64;
    let per_key =
        |s: &Snapshot| s.counter("used_memory_dataset").unwrap() as f64 / s.keys_total() as f64;
    let mut table = Table::new(
        "from-info round trip: INFO deltas, real interval vs the fitted scenario's run",
        &["figure", "real", "vanish", "tolerance"],
    );
    let rows = [
        (
            "hit ratio (points)",
            real_ratio * 100.0,
            sim_ratio * 100.0,
            1.0,
        ),
        (
            "commands",
            real("total_commands_processed"),
            simulated("total_commands_processed"),
            0.05,
        ),
        ("keys at the end", real_keys, sim_keys, 0.10),
        (
            "expired_keys",
            real("expired_keys"),
            simulated("expired_keys"),
            0.35,
        ),
        (
            "dataset bytes per key",
            per_key(&after),
            per_key(&sim),
            0.05,
        ),
    ];
    for (index, (name, real, vanish, tolerance)) in rows.into_iter().enumerate() {
        // The hit ratio is judged in points, the rest relative to the real figure.
        let (ok, shown) = if index == 0 {
            (
                (real - vanish).abs() <= tolerance,
                format!("{tolerance} point"),
            )
        } else {
            (
                relative_gap(real, vanish) <= tolerance,
                format!("{:.0} %", tolerance * 100.0),
            )
        };
        table.row(
            vec![
                name.to_string(),
                format!("{real:.1}"),
                format!("{vanish:.1}"),
                shown,
            ],
            ok,
        );
    }
    println!("{}", fitted.toml);
    table.check("per row");
}
