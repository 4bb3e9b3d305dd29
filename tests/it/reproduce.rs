//! A run can be repeated from its own folder: `scenario.toml` there is the effective scenario
//! (overrides and seed applied, trace paths absolute), and report.json records the command line
//! and the version of vanish.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::cli::{temp_dir, vanish, write_scenario, SMALL};

fn run(args: &[&str]) {
    let output = vanish(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn report(out: &Path) -> Value {
    serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// report.json without what records how it was made, as text.
fn figures(mut report: Value) -> String {
    let object = report.as_object_mut().unwrap();
    object.remove("command_line").expect("a command line");
    object.remove("vanish_version").expect("a version");
    serde_json::to_string_pretty(&report).unwrap()
}

/// The two texts must be equal; on failure, the first line that differs.
fn assert_same(got: &str, expected: &str, what: &str) {
    if let Some((line, (a, b))) = got
        .lines()
        .zip(expected.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        panic!(
            "{what} differs at line {}: {a:?} instead of {b:?}",
            line + 1
        );
    }
    assert_eq!(got.len(), expected.len(), "{what} differs in length");
}

#[test]
fn the_copied_scenario_repeats_a_run_with_overrides_and_seed() {
    let dir = temp_dir("reproduce");
    let path = write_scenario(&dir, SMALL);
    let first = dir.join("first");
    let args = [
        "run",
        &path,
        "--set",
        "client.app.rate=800",
        "--set",
        "server.maxmemory=64kb",
        "--seed",
        "9",
        "--out",
        first.to_str().unwrap(),
        "--quiet",
    ];
    run(&args);
    let recorded = report(&first);
    let mut expected = vec![env!("CARGO_BIN_EXE_vanish").to_string()];
    expected.extend(args.iter().map(|arg| arg.to_string()));
    assert_eq!(recorded["command_line"], serde_json::json!(expected));
    assert_eq!(recorded["vanish_version"], env!("CARGO_PKG_VERSION"));
    let scenario = fs::read_to_string(first.join("scenario.toml")).unwrap();
    assert!(scenario.contains("seed = 9\n"), "{scenario}");

    let again = dir.join("again");
    let copied = first.join("scenario.toml");
    run(&[
        "run",
        copied.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--quiet",
    ]);
    assert_same(&figures(report(&again)), &figures(recorded), "report.json");
    for name in ["ledger.csv", "timeseries.csv", "info-primary.txt"] {
        let read = |dir: &Path| fs::read_to_string(dir.join(name)).unwrap();
        assert_same(&read(&again), &read(&first), name);
    }
}

#[test]
fn the_copied_scenario_finds_its_trace_from_another_folder() {
    let dir = temp_dir("reproduce-trace");
    let first = dir.join("first");
    run(&[
        "run",
        "scenarios/trace-replay.toml",
        "--seed",
        "3",
        "--out",
        first.to_str().unwrap(),
        "--quiet",
    ]);
    // Moved away from the scenarios folder, the copy still reads its trace.
    let moved = dir.join("moved");
    fs::create_dir_all(&moved).unwrap();
    fs::copy(first.join("scenario.toml"), moved.join("scenario.toml")).unwrap();
    let again = dir.join("again");
    run(&[
        "run",
        moved.join("scenario.toml").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--quiet",
    ]);
    // The trace's keys are grouped by their own prefixes (`cart:`), not by the trace's path,
    // which the copy writes absolute: the reports are the same.
    let (before, after) = (report(&first), report(&again));
    assert_eq!(before["key_prefixes"][0]["prefix"], "cart:");
    assert_same(&figures(after), &figures(before), "report.json");
}
