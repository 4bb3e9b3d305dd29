//! MONITOR replay against the server it was captured from (issue 12). One connection runs
//! MONITOR while another removes keys in every way the replay knows (DEL, UNLINK, GETDEL, a
//! TTL running out, the last element of a hash, list, set and sorted set, RENAME, MOVE, the
//! `*STORE` commands, LMOVE, SMOVE, LTRIM, LREM, ZREMRANGEBY*, LMPOP, ZMPOP, SWAPDB, GETEX with
//! a past deadline, a MULTI body, a script's DEL, FLUSHDB, FLUSHALL) and reads each key back. The capture is
//! replayed by vanish as a `format = "monitor"` trace client: every read's hit or miss and
//! every cause must be exactly what the script did, and the replayed node's keyspace_hits,
//! keyspace_misses, expired_keys and the Commandstats calls of every command vanish knows must
//! equal the real server's (tolerance: none).

use std::fs;
use std::time::Duration;

use vanish::scenario::{load, Overrides};
use vanish::sim::config::CommandKind;
use vanish::sim::engine::{run, NoProgress};
use vanish::sim::keyspace::keys::KeyTable;
use vanish::sim::ledger::{Cause, Detail, EntryKind, LedgerEntry};

use crate::redis::{RedisServer, Reply};
use crate::table::Table;

/// The script: (command, what the read in it must find: None for a write, Some(None) for a
/// hit, Some(Some(cause)) for a miss and its cause).
type Step = (&'static [&'static str], Option<Option<Cause>>);

const WRITE: Option<Option<Cause>> = None;
const HIT: Option<Option<Cause>> = Some(None);
const fn miss(cause: Cause) -> Option<Option<Cause>> {
    Some(Some(cause))
}

const STEPS: &[Step] = &[
    (&["SET", "k:1", "v"], WRITE),
    (&["SET", "k:2", "v"], WRITE),
    (&["SET", "k:3", "v"], WRITE),
    (&["MSET", "k:4", "v", "k:5", "v"], WRITE),
    (&["GET", "k:1"], HIT),
    (&["DEL", "k:1"], WRITE),
    (&["GET", "k:1"], miss(Cause::Deleted)),
    (&["UNLINK", "k:2"], WRITE),
    (&["EXISTS", "k:2"], miss(Cause::Deleted)),
    (&["GETDEL", "k:3"], WRITE),
    (&["STRLEN", "k:3"], miss(Cause::Deleted)),
    (&["GET", "never:1"], miss(Cause::NeverWritten)),
    (&["HSET", "h:1", "f", "v", "g", "w"], WRITE),
    (&["HGET", "h:1", "f"], HIT),
    (&["HDEL", "h:1", "f", "g"], WRITE),
    (&["HGETALL", "h:1"], miss(Cause::Emptied)),
    (&["RPUSH", "l:1", "a", "b"], WRITE),
    (&["LPOP", "l:1"], WRITE),
    (&["LLEN", "l:1"], HIT),
    (&["RPOP", "l:1"], WRITE),
    (&["LRANGE", "l:1", "0", "-1"], miss(Cause::Emptied)),
    (&["SADD", "s:1", "m"], WRITE),
    (&["SPOP", "s:1"], WRITE),
    (&["SISMEMBER", "s:1", "m"], miss(Cause::Emptied)),
    (&["ZADD", "z:1", "1", "m"], WRITE),
    (&["ZREM", "z:1", "m"], WRITE),
    (&["ZSCORE", "z:1", "m"], miss(Cause::Emptied)),
    (&["SET", "r:1", "v", "EX", "1000"], WRITE),
    (&["RENAME", "r:1", "r:2"], WRITE),
    (&["GET", "r:1"], miss(Cause::Renamed)),
    (&["TTL", "r:2"], HIT),
    (&["SET", "m:1", "v"], WRITE),
    (&["MOVE", "m:1", "1"], WRITE),
    (&["GET", "m:1"], miss(Cause::Moved)),
    (&["SELECT", "1"], WRITE),
    (&["GET", "m:1"], HIT),
    (&["SELECT", "0"], WRITE),
    (&["SET", "x:1", "v"], WRITE),
    (&["EXPIRE", "x:1", "100", "XX"], WRITE),
    (&["EXPIRE", "x:1", "100", "NX"], WRITE),
    (&["EXPIRE", "x:1", "200", "LT"], WRITE),
    (&["PERSIST", "x:1"], WRITE),
    (&["EXPIRE", "x:1", "0"], WRITE),
    (&["TYPE", "x:1"], miss(Cause::Deleted)),
    (&["SET", "c:1", "v"], WRITE),
    (&["COPY", "c:1", "c:2"], WRITE),
    (&["GET", "c:2"], HIT),
    (&["INCR", "n:1"], WRITE),
    (&["INCRBY", "n:1", "5"], WRITE),
    (&["GETSET", "n:1", "x"], WRITE),
    (&["SETNX", "n:1", "y"], WRITE),
    (&["APPEND", "n:1", "yz"], WRITE),
    (&["MULTI"], WRITE),
    (&["SET", "t:1", "v"], WRITE),
    (&["DEL", "t:1"], WRITE),
    (&["EXEC"], WRITE),
    (&["GET", "t:1"], miss(Cause::Deleted)),
    (
        &["EVAL", "return redis.call('DEL', KEYS[1])", "1", "k:4"],
        WRITE,
    ),
    (&["GET", "k:4"], miss(Cause::Deleted)),
    (&["SET", "e:1", "v", "PX", "30"], WRITE),
    // (the script sleeps here, then reads e:1)
    (&["GET", "e:1"], miss(Cause::Expired)),
    (&["SADD", "sa:1", "a", "b"], WRITE),
    (&["SADD", "sb:1", "b", "c"], WRITE),
    (&["SINTERSTORE", "sd:1", "sa:1", "sb:1"], WRITE),
    (&["SCARD", "sd:1"], HIT),
    (&["SDIFFSTORE", "sd:1", "sa:1", "sa:1"], WRITE),
    (&["SCARD", "sd:1"], miss(Cause::Overwritten)),
    (&["SUNIONSTORE", "sd:2", "sa:1", "never:3"], WRITE),
    (&["ZADD", "za:1", "1", "a", "2", "b"], WRITE),
    (&["ZUNIONSTORE", "zd:1", "2", "za:1", "sb:1"], WRITE),
    (&["ZINTERSTORE", "zd:1", "1", "never:4"], WRITE),
    (&["ZCARD", "zd:1"], miss(Cause::Overwritten)),
    (&["ZRANGESTORE", "zd:2", "za:1", "0", "0"], WRITE),
    (&["ZDIFFSTORE", "zd:3", "2", "za:1", "zd:2"], WRITE),
    (&["ZCARD", "zd:3"], HIT),
    (&["RPUSH", "lm:1", "x"], WRITE),
    (&["LMOVE", "lm:1", "lm:2", "LEFT", "RIGHT"], WRITE),
    (&["LLEN", "lm:1"], miss(Cause::Emptied)),
    (&["LLEN", "lm:2"], HIT),
    (&["RPOPLPUSH", "lm:2", "lm:2"], WRITE),
    (&["SMOVE", "sb:1", "sm:1", "c"], WRITE),
    (&["SMOVE", "sb:1", "sm:1", "b"], WRITE),
    (&["SCARD", "sb:1"], miss(Cause::Emptied)),
    (&["RPUSH", "lt:1", "a", "b", "c"], WRITE),
    (&["LTRIM", "lt:1", "1", "-1"], WRITE),
    (&["LREM", "lt:1", "0", "b"], WRITE),
    (&["LLEN", "lt:1"], HIT),
    (&["LTRIM", "lt:1", "5", "10"], WRITE),
    (&["LLEN", "lt:1"], miss(Cause::Emptied)),
    (
        &["ZADD", "zr:1", "1", "a", "2", "b", "3", "c", "4", "d"],
        WRITE,
    ),
    (&["ZREMRANGEBYRANK", "zr:1", "0", "0"], WRITE),
    (&["ZREMRANGEBYSCORE", "zr:1", "2", "(3"], WRITE),
    (&["ZCARD", "zr:1"], HIT),
    (&["ZREMRANGEBYLEX", "zr:1", "-", "+"], WRITE),
    (&["ZCARD", "zr:1"], miss(Cause::Emptied)),
    (&["RPUSH", "lp:2", "a"], WRITE),
    (&["LMPOP", "2", "lp:1", "lp:2", "LEFT"], WRITE),
    (&["LLEN", "lp:2"], miss(Cause::Emptied)),
    (&["ZADD", "zp:1", "1", "a", "2", "b"], WRITE),
    (&["ZMPOP", "1", "zp:1", "MIN", "COUNT", "5"], WRITE),
    (&["ZCARD", "zp:1"], miss(Cause::Emptied)),
    (&["SET", "sw:1", "v"], WRITE),
    (&["SWAPDB", "0", "2"], WRITE),
    (&["GET", "sw:1"], miss(Cause::WrongDb)),
    (&["SWAPDB", "2", "0"], WRITE),
    (&["GET", "sw:1"], HIT),
    (&["SET", "gx:1", "v"], WRITE),
    (&["GETEX", "gx:1", "PXAT", "1"], WRITE),
    (&["GET", "gx:1"], miss(Cause::Deleted)),
    (&["MGET", "k:5", "c:1", "never:2"], WRITE),
    (&["FLUSHDB", "ASYNC"], WRITE),
    (&["GET", "k:5"], miss(Cause::Flushed)),
    (&["SET", "f:1", "v"], WRITE),
    (&["FLUSHALL"], WRITE),
    (&["GET", "f:1"], miss(Cause::Flushed)),
    (&["PING"], WRITE),
];

/// The reads MGET makes: k:5 and c:1 hit, never:2 is a cold miss.
const MGET_READS: [Option<Cause>; 3] = [None, None, Some(Cause::NeverWritten)];

#[test]
fn a_monitor_capture_replays_every_removal_with_its_cause() {
    let server = RedisServer::start(&[]);
    let capture = capture(&server);
    let mut info = server.connect();
    let real = info.info("all");

    let dir = std::env::temp_dir().join(format!("vanish-fidelity-monitor-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("temp dir");
    fs::write(dir.join("capture.txt"), &capture).expect("write capture");
    let scenario = dir.join("scenario.toml");
    fs::write(
        &scenario,
        "[scenario]\nname = \"monitor-fidelity\"\nseed = 1\nduration = \"30s\"\n\n\
         [[client]]\nname = \"app\"\ntrace = \"capture.txt\"\nformat = \"monitor\"\n",
    )
    .expect("write scenario");
    let config = load(&scenario, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut ledger: Vec<LedgerEntry> = Vec::new();
    let output = run(&config, &mut ledger, &mut NoProgress);
    let _ = fs::remove_dir_all(&dir);

    // Every read, in order: hit or miss, and the miss's cause.
    let mut expected: Vec<Option<Cause>> = Vec::new();
    for (command, outcome) in STEPS {
        if command[0] == "MGET" {
            expected.extend(MGET_READS);
        } else if let Some(outcome) = outcome {
            expected.push(*outcome);
        }
    }
    let misses: Vec<Cause> = ledger
        .iter()
        .filter(|entry| entry.kind == EntryKind::Miss)
        .map(|entry| entry.cause)
        .collect();
    let expected_misses: Vec<Cause> = expected.iter().flatten().copied().collect();
    assert_eq!(misses, expected_misses, "capture:\n{capture}");
    let hits = expected.iter().filter(|outcome| outcome.is_none()).count() as u64;
    assert_eq!(
        (output.hits, output.misses),
        (hits, expected_misses.len() as u64)
    );

    // Every removal: its cause and the command its detail names, in order; the flushes then
    // take the keys left in db0, and FLUSHALL f:1 and the moved m:1 in db1.
    let removals: Vec<(Cause, String)> = ledger
        .iter()
        .filter(|entry| entry.kind == EntryKind::Removal)
        .map(|entry| (entry.cause, detail_command(&entry.detail, &output.keys)))
        .collect();
    let named = |cause, command: &str| (cause, command.to_string());
    let mut expected_removals = vec![
        named(Cause::Deleted, "DEL"),
        named(Cause::Deleted, "UNLINK"),
        named(Cause::Deleted, "GETDEL"),
        named(Cause::Emptied, "HDEL"),
        named(Cause::Emptied, "RPOP"),
        named(Cause::Emptied, "SPOP"),
        named(Cause::Emptied, "ZREM"),
        named(Cause::Renamed, "RENAME to r:2 in db0"),
        named(Cause::Moved, "MOVE to m:1 in db1"),
        named(Cause::Deleted, "EXPIRE"),
        named(Cause::Deleted, "DEL"),
        named(Cause::Deleted, "DEL"),
        named(Cause::Expired, "ttl 30 ms"),
        named(Cause::Overwritten, "SDIFFSTORE"),
        named(Cause::Overwritten, "ZINTERSTORE"),
        named(Cause::Emptied, "LMOVE"),
        named(Cause::Emptied, "SMOVE"),
        named(Cause::Emptied, "LTRIM"),
        named(Cause::Emptied, "ZREMRANGEBYLEX"),
        named(Cause::Emptied, "LMPOP"),
        named(Cause::Emptied, "ZMPOP"),
        named(Cause::Deleted, "GETEX"),
    ];
    // Left in db0: the 5 keys above and sa:1, sd:2, za:1, zd:2, zd:3, lm:2, sm:1, sw:1.
    expected_removals.extend(vec![named(Cause::Flushed, "FLUSHDB"); 13]);
    expected_removals.extend(vec![named(Cause::Flushed, "FLUSHALL"); 2]);
    assert_eq!(removals, expected_removals);

    let node = &output.nodes[0];
    let mut table = Table::new(
        "MONITOR replay: the captured server's counters against the replay's",
        &["figure", "real", "vanish"],
    );
    let mut compare = |name: &str, real: u64, simulated: u64| {
        table.row(
            vec![name.to_string(), real.to_string(), simulated.to_string()],
            real == simulated,
        );
    };
    compare(
        "keyspace_hits",
        real.u64("keyspace_hits"),
        node.keyspace_hits,
    );
    compare(
        "keyspace_misses",
        real.u64("keyspace_misses"),
        node.keyspace_misses,
    );
    compare("expired_keys", real.u64("expired_keys"), node.expired_keys);
    for stat in &node.commandstats {
        let real_calls = real
            .subfields(&format!("cmdstat_{}", stat.name))
            .get("calls")
            .map_or(0, |calls| calls.parse().expect("calls"));
        compare(&format!("{} calls", stat.name), real_calls, stat.calls);
    }
    // Every command vanish knows that the real server ran is in vanish's Commandstats.
    for name in real.names("commandstats") {
        let name = name.trim_start_matches("cmdstat_");
        if CommandKind::parse(name).is_some() {
            assert!(
                node.commandstats.iter().any(|stat| stat.name == name),
                "{name} ran on the real server but not in the replay"
            );
        }
    }
    table.check("exact");
}

/// The command a removal's detail names (with where a relocated value went).
fn detail_command(detail: &Detail, keys: &KeyTable) -> String {
    match *detail {
        Detail::Command { command, .. } => command.name().to_string(),
        Detail::Relocated {
            command, to, to_db, ..
        } => format!("{} to {} in db{to_db}", command.name(), keys.name(to)),
        Detail::Flush { all, .. } => if all { "FLUSHALL" } else { "FLUSHDB" }.to_string(),
        Detail::Expiry { ttl_ms, .. } => format!("ttl {ttl_ms} ms"),
        other => format!("{other:?}"),
    }
}

/// Runs the script with MONITOR on a second connection; returns what MONITOR printed, as
/// redis-cli prints it (`OK` first).
fn capture(server: &RedisServer) -> String {
    let mut monitor = server.connect();
    assert_eq!(monitor.must(&["MONITOR"]), Reply::Simple("OK".to_string()));
    let mut client = server.connect();
    for (command, _) in STEPS {
        if command == &["GET", "e:1"] {
            std::thread::sleep(Duration::from_millis(120));
        }
        client.must(command);
    }
    let mut text = String::from("OK\n");
    loop {
        let line = monitor.next_message().expect("a MONITOR line").text();
        text.push_str(&line);
        text.push('\n');
        if line.ends_with("\"PING\"") {
            return text;
        }
    }
}
