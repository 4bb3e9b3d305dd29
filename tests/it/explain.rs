//! `vanish explain`: a key's story re-run from a bundled scenario, for each cause, is the story
//! of the full run (the removal's time and numbers are those in the bundled run's ledger); and
//! the CLI reads a finished run's ledger back, by key and by cause.

use std::fs;
use std::path::Path;

use vanish::report::explain::story_text;
use vanish::scenario::{load, Overrides};
use vanish::sim::engine::{run_explaining, NoProgress};
use vanish::sim::ledger::DiscardLedger;

use crate::cli::{temp_dir, vanish};

/// The story of `key` in a bundled scenario, as `vanish explain scenarios/<file> KEY` prints it.
fn story(file: &str, key: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let config = load(&path, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    let (output, events) = run_explaining(&config, &mut DiscardLedger, &mut NoProgress, key);
    story_text(key, &config, &output, &events)
}

fn assert_tells(story: &str, lines: &[&str]) {
    for line in lines {
        assert!(story.contains(line), "expected {line:?} in\n{story}");
    }
}

#[test]
fn an_expired_key_tells_its_ttl_and_who_set_it() {
    let story = story("ttl-too-short.toml", "product:8");
    assert_tells(
        &story,
        &[
            "miss never-written by shop",
            "SET by shop",
            "ttl 31320 ms  → OK",
            "31.950691s  primary  db0  removal expired by server  ttl_ms=31320 set_by=shop via=lazy \
             set_at=0.155s",
        ],
    );
    // The TTL was set by the SET at 0.155673s (the slot keeps ms); 0.155s + 31.320s is before
    // the read at 31.950691s that found the key expired.
    assert_tells(
        &story,
        &["0.155673s  primary  db0  SET by shop  1715 bytes  ttl 31320 ms"],
    );
}

/// The number after `prefix` in `text`.
fn number_after(text: &str, prefix: &str) -> u64 {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix:?} in\n{text}"))
        + prefix.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("a number after {prefix:?} in\n{text}"))
}

#[test]
fn an_evicted_key_tells_the_pool_it_was_chosen_from() {
    let story = story("evicted-bulk-load.toml", "import:5");
    assert_tells(
        &story,
        &[
            "120.002713s  primary  db0  SET by import  300 bytes  → OK",
            "138.287119s  primary  db0  removal evicted by server  policy=allkeys-lru \
             idle_ms=18000 used_memory=25165980 maxmemory=25165824",
            "the eviction pool's other candidates then (scores as above): session:4257 (db0) \
             14000, import:",
        ],
    );
}

#[test]
fn deleted_flushed_and_overwritten_keys_name_who_did_it() {
    assert_tells(
        &story("deleted-while-read.toml", "flags:1169"),
        &["264.167611s  primary  db0  removal deleted by cleanup-job  command=DEL by=cleanup-job"],
    );
    assert_tells(
        &story("operator-flushdb.toml", "user:49887"),
        &["300.000000s  primary  db0  removal flushed by operator  command=FLUSHDB by=operator"],
    );
    assert_tells(
        &story("overwritten.toml", "result:2"),
        &[
            "0.653651s  primary  db0  removal overwritten by service-v1  by=service-v1 \
           previous_writer=service-v2",
        ],
    );
}

#[test]
fn a_write_lost_in_a_failover_never_arrived_on_the_promoted_replica() {
    let story = story("failover-loses-writes.toml", "order:119829");
    assert_tells(
        &story,
        &[
            "SET by orders",
            "→ OK  (replication offset ",
            "150.928670s  replica-1 db0  write-lost failover by server",
            "150.928670s           the write was at replication offset ",
        ],
    );
    assert!(!story.contains("replica-1 arrived"), "{story}");
    // The lost write is the SET acknowledged at that offset, which the promoted replica had not
    // reached.
    let acknowledged = number_after(&story, "→ OK  (replication offset ");
    let lost = number_after(&story, "the write was at replication offset ");
    let promoted = number_after(&story, "the promoted replica had reached offset ");
    assert_eq!(lost, acknowledged, "{story}");
    assert!(lost > promoted, "{story}");
}

#[test]
fn the_cli_reads_a_finished_run_back() {
    let dir = temp_dir("explain");
    let out = dir.join("run");
    let out_text = out.to_string_lossy().into_owned();
    let run = vanish(&[
        "run",
        "scenarios/trace-replay.toml",
        "--out",
        &out_text,
        "--quiet",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let ledger = fs::read_to_string(out.join("ledger.csv")).expect("ledger");
    let removal = ledger
        .lines()
        .find(|line| line.contains(",removal,"))
        .expect("a removal");
    let key = removal.split(',').nth(4).expect("key column");

    let by_key = vanish(&["explain", &out_text, key]);
    let text = String::from_utf8_lossy(&by_key.stdout);
    assert!(by_key.status.success());
    assert!(text.starts_with(&format!("key {key}: ")), "{text}");
    let cause = removal.split(',').nth(6).expect("cause column");
    let top = vanish(&[
        "explain", &out_text, "--cause", cause, "--top", "3", "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&top.stdout).expect("json");
    assert_eq!(json["cause"], cause);
    assert!(json["keys"]
        .as_array()
        .is_some_and(|keys| !keys.is_empty() && keys.len() <= 3));

    for (args, message) in [
        (
            vec!["explain", &out_text, "--cause", "vanished"],
            "--cause: expected one of",
        ),
        (vec!["explain", &out_text], "give a KEY, or --cause"),
        (
            vec!["explain", &out_text, key, "--seed", "3"],
            "--seed and --set apply",
        ),
        (vec!["explain", "scenarios/quickstart.toml"], "needs a KEY"),
    ] {
        let refused = vanish(&args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let _ = fs::remove_dir_all(&dir);
}

/// For every cause the bundled scenarios below produce, the first key it cost, explained by a
/// re-run, tells that cause at the moment the full run's ledger recorded it.
#[test]
fn every_cause_in_the_bundled_scenarios_is_told_at_its_time() {
    use std::collections::BTreeMap;
    use vanish::sim::engine::run;
    use vanish::sim::ledger::LedgerEntry;

    let files = [
        "wrong-db.toml",
        "replica-lag.toml",
        "volatile-lru-without-ttls.toml",
        "restart-wipes-replicas.toml",
        "jepsen-partition.toml",
        "jepsen-min-replicas.toml",
        "crash-without-persistence.toml",
    ];
    let mut told = BTreeMap::new();
    for file in files {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(file);
        let config = load(&path, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
        let mut rows: Vec<LedgerEntry> = Vec::new();
        let output = run(&config, &mut rows, &mut NoProgress);
        let mut first = BTreeMap::new();
        for row in &rows {
            first.entry(row.cause.name()).or_insert(*row);
        }
        for (cause, row) in first {
            let key = output.keys.name(row.key);
            let story = story(file, &key);
            let at = format!(
                "{}.{:06}s",
                row.time_us / 1_000_000,
                row.time_us % 1_000_000
            );
            assert!(
                story
                    .lines()
                    .any(|line| line.trim_start().starts_with(&at) && line.contains(cause)),
                "{file} {key}: no {cause} at {at} in\n{story}"
            );
            told.insert(cause, file);
        }
    }
    for cause in [
        "wrong-db",
        "replica-lag",
        "oom-rejected",
        "resync-flush",
        "split-brain",
        "noreplicas-rejected",
        "restart",
        "never-written",
    ] {
        assert!(told.contains_key(cause), "{cause} not produced: {told:?}");
    }
}
