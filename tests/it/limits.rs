//! Absurd work is refused up front: the run limits with their estimate, traces that never end,
//! worker threads beyond the cores, grids too large, names that cannot name a folder. Every
//! refusal must come at once (exit 2 within seconds), before anything large is allocated.

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::cli::{temp_dir, vanish, write_scenario, SMALL};

/// Runs the binary and asserts it refused the input (exit 2) quickly.
fn refused(args: &[&str]) -> String {
    let started = Instant::now();
    let output = vanish(args);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(took < Duration::from_secs(20), "{args:?} took {took:?}");
    stderr
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const READS_AT_TEN_MILLION: &str = r#"
[scenario]
name = "reads"
seed = 1
duration = "60s"

[[client]]
name = "reader"
rate = 10000000
keyspace = { keys = 1000000, prefix = "k:" }
commands = { GET = 1 }
"#;

#[test]
fn check_prints_the_estimate() {
    let output = vanish(&["check", "scenarios/capacity-planning.toml"]);
    assert!(output.status.success());
    assert!(
        stdout(&output).contains(
            "estimate: up to 3.51 M commands; a ledger of up to 5.31 M rows (557 MiB as CSV, \
             81.0 MiB as Parquet); simulator memory up to 10.5 MiB (100 k keys per node × 1 \
             node); the run writes ledger.csv"
        ),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_rate_with_extra_digits_is_refused_with_the_estimate() {
    let dir = temp_dir("limits-rate");
    let out = dir.join("out");
    let stderr = refused(&[
        "run",
        "scenarios/capacity-planning.toml",
        "--set",
        "client.shop.rate=9200491.93",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr.contains("the commands sent could reach 16.1 G, past the limit of 1.00 G"),
        "{stderr}"
    );
    // Past 10 M rows, the ledger would be Parquet.
    assert!(stderr.contains("ledger.parquet could reach"), "{stderr}");
    assert!(
        stderr.contains("estimate: up to 16.1 G commands"),
        "{stderr}"
    );
    assert!(stderr.contains("pass --force"), "{stderr}");
    assert!(!out.exists(), "nothing is written for a refused run");

    let text = fs::read_to_string("scenarios/capacity-planning.toml")
        .unwrap()
        .replace("rate = 2000", "rate = 9200491.93");
    let path = write_scenario(&dir, &text);
    let stderr = refused(&["check", &path]);
    assert!(stderr.contains("past the limit"), "{stderr}");
    let forced = vanish(&["check", &path, "--force"]);
    assert!(forced.status.success());
    assert!(stdout(&forced).contains("estimate: up to 16.1 G commands"));
}

#[test]
fn reads_at_ten_million_a_second_are_refused_for_their_ledger() {
    let dir = temp_dir("limits-reads");
    let path = write_scenario(&dir, READS_AT_TEN_MILLION);
    let out = dir.join("out");
    let stderr = refused(&[
        "run",
        &path,
        "--out",
        out.to_str().unwrap(),
        "--ledger",
        "csv",
    ]);
    assert!(
        stderr.contains("ledger.csv could reach 61.5 GiB, past the limit of 10.0 GiB"),
        "{stderr}"
    );
    assert!(!stderr.contains("commands sent"), "{stderr}");
    // Unless told CSV, such a run writes Parquet, which stays inside the limit.
    let automatic = vanish(&["check", &path]);
    assert!(automatic.status.success());
    assert!(
        stdout(&automatic).contains("8.94 GiB as Parquet); simulator")
            && stdout(&automatic).contains("the run writes ledger.parquet"),
        "{}",
        stdout(&automatic)
    );
}

#[test]
fn twenty_million_keys_on_seventeen_nodes_are_refused_for_memory() {
    let mut text = READS_AT_TEN_MILLION
        .replace("rate = 10000000", "rate = 100")
        .replace("keys = 1000000", "keys = 20000000");
    for replica in 1..=16 {
        text.push_str(&format!("\n[[replica]]\nname = \"r{replica}\"\n"));
    }
    let dir = temp_dir("limits-replicas");
    let path = write_scenario(&dir, &text);
    let stderr = refused(&["run", &path, "--out", dir.join("out").to_str().unwrap()]);
    assert!(
        stderr.contains("the simulator's memory could reach 31.7 GiB, past the limit of 8.00 GiB"),
        "{stderr}"
    );
    assert!(
        stderr.contains("20.0 M keys per node × 17 nodes"),
        "{stderr}"
    );
}

#[test]
fn a_sweep_or_compare_refuses_a_variant_past_the_limits() {
    let dir = temp_dir("limits-variant");
    let path = write_scenario(&dir, SMALL);
    let out = dir.join("out");
    for command in ["sweep", "compare"] {
        let stderr = refused(&[
            command,
            &path,
            "--vary",
            "client.app.rate=500,1000000",
            "--vary",
            "scenario.duration=20s,1h",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            stderr.contains("variant 1000000 1h: this run is too large: the commands sent"),
            "{stderr}"
        );
    }
}

#[test]
fn grids_past_ten_thousand_runs_are_refused_unless_forced() {
    let dir = temp_dir("limits-grid");
    let path = write_scenario(&dir, SMALL);
    for command in ["sweep", "compare"] {
        let stderr = refused(&[
            command,
            &path,
            "--vary",
            "server.maxmemory=1mb..1gb:500",
            "--vary",
            "client.app.rate=10..1000:500",
        ]);
        assert!(
            stderr.contains("the grid has 250000 runs") && stderr.contains("--force"),
            "{stderr}"
        );
    }
}

#[test]
fn threads_are_bounded_by_the_cores_with_a_note() {
    let dir = temp_dir("limits-threads");
    let path = write_scenario(&dir, SMALL);
    let started = Instant::now();
    let output = vanish(&[
        "compare",
        &path,
        "--policies",
        "allkeys-lru,allkeys-lfu",
        "--threads",
        "10000",
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("note: using "), "{stderr}");
    assert!(stderr.contains("not the 10000 asked for"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_trace_that_never_ends_is_refused_at_once() {
    let dir = temp_dir("limits-zero");
    let text = r#"
[scenario]
name = "zero"
seed = 1
duration = "10s"

[[client]]
name = "replay"
trace = "/dev/zero"
format = "lirs"
rate = 100
"#;
    let path = write_scenario(&dir, text);
    let stderr = refused(&["check", &path]);
    assert!(stderr.contains(":9:9: client[0].trace"), "{stderr}");
    assert!(
        stderr.contains("/dev/zero: expected a regular file"),
        "{stderr}"
    );
}

#[test]
fn a_long_scenario_name_is_refused_where_it_is_written() {
    let dir = temp_dir("limits-name");
    let long = "n".repeat(300);
    let path = write_scenario(
        &dir,
        &SMALL.replace("name = \"small\"", &format!("name = \"{long}\"")),
    );
    let stderr = refused(&["check", &path]);
    assert!(stderr.contains(":3:8: scenario.name"), "{stderr}");
    assert!(
        stderr.contains("it has 300 characters; at most 100 make a folder name"),
        "{stderr}"
    );
    assert!(Path::new(&path).exists());
}
