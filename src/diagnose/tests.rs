//! The reasoning on hand-written INFO pairs: one per cause, the first cause named.

use crate::diagnose::info::InfoDump;
use crate::diagnose::reason::{diagnose, Diagnosis};
use crate::diagnose::snapshot::Snapshot;

/// A minimal dump: `fields` are `name:value` lines added to a quiet server's.
fn dump(fields: &[&str]) -> Snapshot {
    let mut text = String::from(
        "# Server\r\nrun_id:aaa\r\nuptime_in_seconds:100\r\n# Memory\r\nused_memory:1000000\r\n\
         maxmemory:0\r\nmaxmemory_policy:noeviction\r\n# Persistence\r\nrdb_last_load_keys_loaded:0\r\n\
         # Stats\r\n# Replication\r\nrole:master\r\nmaster_replid:r1\r\nmaster_replid2:0000\r\n\
         master_repl_offset:0\r\nsecond_repl_offset:-1\r\n# Commandstats\r\n# Errorstats\r\n# Keyspace\r\n",
    );
    // Later lines replace earlier ones of the same name.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for field in fields {
        let (name, _) = field.split_once(':').unwrap();
        let section = section_for(name);
        if let Some(at) = lines
            .iter()
            .position(|l| l.starts_with(&format!("{name}:")))
        {
            lines[at] = format!("{field}\r");
        } else {
            let at = lines.iter().position(|l| l.trim_end() == section).unwrap();
            lines.insert(at + 1, format!("{field}\r"));
        }
    }
    text = lines.join("\n") + "\n";
    Snapshot::from_dump(&InfoDump::parse("test", &text).unwrap()).unwrap()
}

fn section_for(name: &str) -> &'static str {
    if name.starts_with("cmdstat_") {
        "# Commandstats"
    } else if name.starts_with("errorstat_") {
        "# Errorstats"
    } else if name.starts_with("db") {
        "# Keyspace"
    } else if name.starts_with("slave") || name.starts_with("master") || name == "role" {
        "# Replication"
    } else {
        "# Stats"
    }
}

fn first(diagnosis: &Diagnosis) -> &str {
    diagnosis.causes.first().map_or("none", |c| c.cause)
}

fn pair(before: &[&str], after: &[&str]) -> Diagnosis {
    diagnose(Some(&dump(before)), &dump(after), 0)
}

#[test]
fn nothing_vanished_lists_no_cause() {
    let d = pair(
        &["db0:keys=10,expires=0,avg_ttl=0"],
        &["uptime_in_seconds:160", "db0:keys=12,expires=0,avg_ttl=0"],
    );
    assert!(d.causes.is_empty(), "{d:?}");
    assert_eq!(d.interval_s, Some(60));
}

#[test]
fn expiry_names_the_rate_and_the_ttl() {
    let d = pair(
        &["expired_keys:10"],
        &[
            "uptime_in_seconds:160",
            "expired_keys:2410",
            "db0:keys=5,expires=5,avg_ttl=2000",
        ],
    );
    assert_eq!(first(&d), "expired");
    assert_eq!(d.causes[0].keys, Some(2400));
    assert!(
        d.causes[0]
            .next_step
            .contains("40.0/s while avg_ttl is 2.0 s"),
        "{}",
        d.causes[0].next_step
    );
}

#[test]
fn the_larger_cause_comes_first() {
    let d = pair(
        &["expired_keys:0", "evicted_keys:0"],
        &[
            "expired_keys:50",
            "evicted_keys:500",
            "maxmemory:1000000",
            "maxmemory_policy:allkeys-lru",
        ],
    );
    let causes: Vec<&str> = d.causes.iter().map(|c| c.cause).collect();
    assert_eq!(causes, ["evicted", "expired"]);
}

#[test]
fn deletes_flushes_and_oom() {
    let d = pair(
        &[],
        &["cmdstat_del:calls=7,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0"],
    );
    assert_eq!(first(&d), "deleted");
    assert_eq!(d.causes[0].keys, Some(7));
    let d = pair(
        &["db0:keys=300,expires=0,avg_ttl=0"],
        &["cmdstat_flushall:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0"],
    );
    assert_eq!(first(&d), "flushed");
    assert_eq!(d.causes[0].keys, Some(300));
    let d = pair(
        &[],
        &[
            "errorstat_OOM:count=12",
            "cmdstat_set:calls=12,usec=1,usec_per_call=1.00,rejected_calls=12,failed_calls=0",
        ],
    );
    assert_eq!(first(&d), "oom-rejected");
    assert_eq!(d.causes[0].keys, Some(12));
}

#[test]
fn a_restart_resets_the_baseline() {
    let d = pair(
        &["expired_keys:1000", "db0:keys=500,expires=0,avg_ttl=0"],
        &[
            "run_id:bbb",
            "uptime_in_seconds:5",
            "expired_keys:3",
            "rdb_last_load_keys_loaded:100",
        ],
    );
    assert!(d.restarted);
    assert_eq!(first(&d), "restart");
    assert_eq!(d.causes[0].keys, Some(400));
    let expired = d.causes.iter().find(|c| c.cause == "expired").unwrap();
    assert_eq!(expired.keys, Some(3));
}

#[test]
fn a_promotion_a_lagging_replica_and_the_wrong_database() {
    let d = pair(
        &["role:slave", "master_replid:old"],
        &[
            "role:master",
            "master_replid:new",
            "master_replid2:old",
            "second_repl_offset:500",
        ],
    );
    assert_eq!(first(&d), "failover");
    let d = pair(
        &[],
        &[
            "master_repl_offset:9000",
            "slave0:ip=127.0.0.1,port=7001,state=online,offset=100,lag=5",
        ],
    );
    assert_eq!(first(&d), "replica-lag");
    assert!(d.causes[0].next_step.contains("8900 bytes behind"));
    let d = pair(
        &["keyspace_misses:0", "keyspace_hits:0"],
        &[
            "keyspace_misses:40",
            "keyspace_hits:0",
            "db1:keys=30,expires=0,avg_ttl=0",
        ],
    );
    assert_eq!(first(&d), "wrong-db");
    assert_eq!(d.causes[0].keys, Some(40));
}

#[test]
fn a_missing_section_is_not_available() {
    let text = "# Server\nrun_id:a\nuptime_in_seconds:3\n# Stats\nexpired_keys:4\n";
    let after = Snapshot::from_dump(&InfoDump::parse("t", text).unwrap()).unwrap();
    let d = diagnose(None, &after, 0);
    assert!(d.single);
    assert_eq!(first(&d), "expired");
    assert!(d.not_available.contains(&"Commandstats".to_string()));
}

#[test]
fn a_memory_figure_the_dump_lacks_is_said_not_shown_as_zero() {
    let d = pair(
        &["evicted_keys:0"],
        &[
            "evicted_keys:40",
            "maxmemory:1000000",
            "mem_clients_normal:2097152",
        ],
    );
    let step = &d.causes[0].next_step;
    assert!(step.contains("clients take 2.0 MiB"), "{step}");
    assert!(
        step.contains("(mem_clients_slaves + mem_replication_backlog not in the dump)"),
        "{step}"
    );
}

#[test]
fn a_line_missing_a_figure_redis_always_prints_is_refused_with_its_line() {
    let text = "# Server\nrun_id:a\n# Keyspace\ndb0:expires=1,avg_ttl=0\n";
    let error = Snapshot::from_dump(&InfoDump::parse("t", text).unwrap()).unwrap_err();
    assert_eq!(error.line, 4);
    assert!(error.message.contains("`keys=`"), "{}", error.message);
    // Redis before 6.2 printed no rejected or failed calls: those are none, not an error.
    let text = "# Commandstats\ncmdstat_get:calls=3,usec=9,usec_per_call=3.00\n";
    let old = Snapshot::from_dump(&InfoDump::parse("t", text).unwrap()).unwrap();
    assert_eq!(
        old.calls("get").map(|c| (c.calls, c.rejected)),
        Some((3, 0))
    );
}
