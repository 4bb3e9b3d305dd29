//! Recorded workloads from file to run: scenarios whose clients replay traces, read through the
//! public API (`scenario::load`, `trace::load`) and run by the engine.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;

use vanish::scenario::{load, Overrides};
use vanish::sim::config::SimConfig;
use vanish::sim::engine::{run, NoProgress, RunOutput};
use vanish::sim::ledger::{DiscardLedger, KeyId};
use vanish::trace::{self, TraceFormat};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vanish-it-trace-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("traces")).expect("temp dir");
    dir
}

/// Writes the scenario and its trace files into `dir`, then loads the scenario.
fn scenario(dir: &Path, text: &str, files: &[(&str, &str)]) -> SimConfig {
    for (name, contents) in files {
        fs::write(dir.join(name), contents).expect("write trace");
    }
    let path = dir.join("scenario.toml");
    fs::write(&path, text).expect("write scenario");
    load(&path, &Overrides::default()).unwrap_or_else(|error| panic!("{error}"))
}

fn replay(config: &SimConfig) -> RunOutput {
    run(config, &mut DiscardLedger, &mut NoProgress)
}

#[test]
fn a_csv_trace_replays_its_writes_reads_and_expiries() {
    let dir = temp_dir("csv");
    let config = scenario(
        &dir,
        r#"
[scenario]
name = "csv-replay"
seed = 1
duration = "1s"

[[client]]
name = "app"
trace = "traces/app.csv"
format = "csv"
"#,
        &[(
            "traces/app.csv",
            "t_ms,op,key,value_size,ttl_ms\n\
             0,SET,user:1,100,0\n\
             10,GET,user:1,0,0\n\
             20,GET,\"odd,key\",0,0\n\
             30,EXPIRE,user:1,0,5\n\
             100,GET,user:1,0,0\n",
        )],
    );
    let output = replay(&config);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!((output.reads, output.hits, output.misses), (3, 1, 2));
    assert_eq!(output.keys.name(KeyId(0)), "user:1");
    assert_eq!(output.keys.name(KeyId(1)), "odd,key");
    assert_eq!(output.keys.key_len(KeyId(1)), 7);
}

#[test]
fn an_untimed_gz_trace_is_paced_by_rate_and_reads_through() {
    let dir = temp_dir("lirs");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(b"1\n2\n*\n1\n2\n").expect("in memory");
    fs::write(
        dir.join("traces/loop.trace.gz"),
        encoder.finish().expect("in memory"),
    )
    .expect("write trace");
    let text = r#"
[scenario]
name = "lirs-replay"
seed = 1
duration = "1s"

[server]
maxmemory-policy = "lru-exact"
memory-model = "raw"

[[client]]
name = "loop"
trace = "traces/loop.trace.gz"
format = "lirs"
rate = 4
"#;
    // Four records at 0, 250, 500 and 750 ms: two cold misses that insert, then two hits.
    let all = replay(&scenario(&dir, text, &[]));
    assert_eq!((all.reads, all.hits, all.misses), (4, 2, 2));
    // At 1.5 per second only the records at 0 and 667 ms arrive within the second.
    let overrides = Overrides {
        seed: None,
        sets: vec!["client.loop.rate=1.5".to_string()],
    };
    let slow =
        load(&dir.join("scenario.toml"), &overrides).unwrap_or_else(|error| panic!("{error}"));
    let slow = replay(&slow);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!((slow.reads, slow.misses), (2, 2));
}

#[test]
fn a_broken_trace_is_refused_at_the_scenario_line_with_the_trace_line() {
    let dir = temp_dir("broken");
    fs::write(
        dir.join("traces/app.csv"),
        "t_ms,op,key,value_size,ttl_ms\n0,PUT,k,1,0\n",
    )
    .expect("write trace");
    let path = dir.join("scenario.toml");
    let text = "[scenario]\nname = \"x\"\nseed = 1\nduration = \"1s\"\n[[client]]\nname = \"app\"\ntrace = \"traces/app.csv\"\nformat = \"csv\"\n";
    fs::write(&path, text).expect("write scenario");
    let error = load(&path, &Overrides::default()).expect_err("bad op");
    let direct = trace::load(&dir.join("traces/app.csv"), TraceFormat::Csv).expect_err("bad op");
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(
        (error.line(), error.column(), error.field()),
        (Some(7), Some(9), "client[0].trace")
    );
    let summary = error.to_string();
    assert!(
        summary.contains(&format!("cannot load the trace: {direct}")),
        "{summary}"
    );
    assert!(direct.to_string().ends_with(
        "app.csv:2: expected an op such as SET, GET, DEL, UNLINK, GETDEL, EXPIRE, RENAME, \
                    FLUSHDB or FLUSHALL (README: trace formats), found \"PUT\""
    ));
}

#[test]
fn a_monitor_trace_replays_removals_with_their_causes() {
    use vanish::report::summary::summary_text;
    use vanish::sim::ledger::{Cause, EntryKind, LedgerEntry};
    let dir = temp_dir("monitor-causes");
    let line = |micros: u32, db: u32, arguments: &str| {
        format!("1795438220.{micros:06} [{db} 127.0.0.1:5000] {arguments}\n")
    };
    let capture = [
        "OK\n".to_string(),
        line(1, 0, r#""set" "user:1" "v""#),
        line(2, 0, r#""rename" "user:1" "user:2""#),
        line(3, 0, r#""get" "user:1""#),
        line(4, 0, r#""move" "user:2" "1""#),
        line(5, 0, r#""get" "user:2""#),
        line(6, 0, r#""hset" "h:1" "f" "v""#),
        line(7, 0, r#""hdel" "h:1" "f""#),
        line(8, 0, r#""hget" "h:1" "f""#),
        line(9, 0, r#""set" "g:1" "v""#),
        line(10, 0, r#""getdel" "g:1""#),
        line(11, 0, r#""get" "g:1""#),
        line(12, 1, r#""flushall" "ASYNC""#),
        line(13, 1, r#""get" "user:2""#),
        line(14, 1, r#""xadd" "s" "*" "f" "v""#),
        line(15, 1, r#""ping""#),
    ]
    .concat();
    let config = scenario(
        &dir,
        "[scenario]\nname = \"monitor-causes\"\nseed = 1\nduration = \"1s\"\n\n\
         [[client]]\nname = \"app\"\ntrace = \"traces/capture.txt\"\nformat = \"monitor\"\n",
        &[("traces/capture.txt", &capture)],
    );
    let mut ledger: Vec<LedgerEntry> = Vec::new();
    let output = run(&config, &mut ledger, &mut NoProgress);
    let _ = fs::remove_dir_all(&dir);
    let rows: Vec<(EntryKind, Cause)> = ledger.iter().map(|e| (e.kind, e.cause)).collect();
    use EntryKind::{Miss, Removal};
    assert_eq!(
        rows,
        [
            (Removal, Cause::Renamed),
            (Miss, Cause::Renamed),
            (Removal, Cause::Moved),
            (Miss, Cause::Moved),
            (Removal, Cause::Emptied),
            (Miss, Cause::Emptied),
            (Removal, Cause::Deleted),
            (Miss, Cause::Deleted),
            (Removal, Cause::Flushed),
            (Miss, Cause::Flushed),
        ]
    );
    let summary = summary_text(&config, &output);
    assert!(summary.contains("unknown commands: XADD ×1"), "{summary}");
    assert!(summary.contains("1 command touching no key"), "{summary}");
    assert!(
        summary.contains("1 line not a MONITOR line, the first at line 1: \"OK\""),
        "{summary}"
    );
}
