//! The `vanish` binary: exit codes, error messages, output files, determinism.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn vanish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vanish"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vanish-it-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

pub const SMALL: &str = r#"
[scenario]
name = "small"
seed = 1
duration = "20s"

[[client]]
name = "app"
rate = 500
keyspace = { keys = 500, prefix = "k:", popularity = "zipf" }
commands = { GET = 80, SET = 15, DEL = 5 }
ttl = { share = 0.5, min = "2s", max = "5s" }
on-miss = "set"

[[event]]
at = "10s"
do = "flushall"
"#;

pub fn write_scenario(dir: &Path, text: &str) -> String {
    let path = dir.join("scenario.toml");
    fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

pub fn output_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn version_and_help() {
    let output = vanish(&["--version"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("vanish "));
    let help = vanish(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("run") && text.contains("check"));
}

#[test]
fn check_accepts_every_bundled_scenario() {
    for entry in fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let output = vanish(&["check", path.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let jepsen = vanish(&["check", "scenarios/jepsen-partition.toml"]);
    let line = String::from_utf8_lossy(&jepsen.stdout);
    assert!(
        line.contains("4 replica(s), 5 Sentinel(s) with quorum 3, 6 client(s)"),
        "{line}"
    );
}

#[test]
fn a_bad_scenario_names_file_line_column_and_field_and_exits_2() {
    let dir = temp_dir("bad");
    let path = write_scenario(&dir, &SMALL.replace("rate = 500", "rate = -5"));
    for command in ["check", "run"] {
        let output = vanish(
            &[command, &path, "--out", dir.join("out").to_str().unwrap()]
                [..if command == "check" { 2 } else { 4 }],
        );
        assert_eq!(output.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("{path}:9:8: client[0].rate: expected")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(
        !dir.join("out").exists(),
        "nothing is written for a bad scenario"
    );
}

#[test]
fn a_missing_file_and_a_bad_flag_exit_2() {
    assert_eq!(
        vanish(&["check", "no/such/file.toml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        vanish(&["run", "scenarios/quickstart.toml", "--set", "server.hz=abc"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        vanish(&["run", "scenarios/quickstart.toml", "--seed", "x"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(vanish(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn run_writes_the_report_files() {
    let dir = temp_dir("files");
    let path = write_scenario(&dir, SMALL);
    let out = dir.join("out");
    let output = vanish(&["run", &path, "--out", out.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("diagnosis:") && stdout.contains("misses by cause"),
        "{stdout}"
    );
    let names: Vec<String> = output_files(&out).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "evictions-expirations.png",
            "evictions-expirations.svg",
            "info-primary.txt",
            "ledger.csv",
            "memory.png",
            "memory.svg",
            "misses-by-cause.png",
            "misses-by-cause.svg",
            "report.html",
            "report.json",
            "scenario.toml",
            "timeseries.csv"
        ]
    );
    assert!(
        output.stderr.is_empty(),
        "no progress bar when stderr is not a terminal"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    for field in [
        "scenario",
        "seed",
        "duration_us",
        "commands",
        "reads",
        "hits",
        "misses",
        "misses_by_cause",
        "removals_by_cause",
        "nodes",
    ] {
        assert!(report.get(field).is_some(), "report.json lacks {field}");
    }
    let info = &report["nodes"][0]["info"];
    for field in [
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "used_memory",
    ] {
        assert!(info.get(field).is_some(), "info lacks {field}");
    }
    assert!(report["misses_by_cause"]["flushed"].as_u64().unwrap() > 0);
    let text = fs::read_to_string(out.join("info-primary.txt")).unwrap();
    assert!(text.starts_with("# Server\r\n") && text.contains("\r\n# Keyspace\r\n"));
    let quiet = vanish(&["run", &path, "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(quiet.status.success() && quiet.stdout.is_empty());
}

#[test]
fn same_seed_same_bytes_and_another_seed_differs() {
    let dir = temp_dir("determinism");
    let path = write_scenario(&dir, SMALL);
    // The same command twice (report.json records the command line, so the folder is the same).
    let out = dir.join("a");
    for ledger in ["csv", "parquet"] {
        let runs: Vec<Vec<(String, Vec<u8>)>> = (0..2)
            .map(|_| {
                let args = ["run", &path, "--out", out.to_str().unwrap(), "--quiet"];
                let ledger = ["--ledger", ledger];
                assert!(vanish(&[&args[..], &ledger[..]].concat()).status.success());
                output_files(&out)
            })
            .collect();
        assert!(runs[0].iter().any(|(name, _)| name.starts_with("ledger.")));
        assert_eq!(
            runs[0], runs[1],
            "two runs of the same scenario and seed are byte-identical ({ledger})"
        );
    }
    let other = dir.join("c");
    assert!(vanish(&[
        "run",
        &path,
        "--seed",
        "2",
        "--out",
        other.to_str().unwrap(),
        "--quiet"
    ])
    .status
    .success());
    assert!(
        vanish(&["run", &path, "--out", out.to_str().unwrap(), "--quiet"])
            .status
            .success()
    );
    assert_ne!(
        fs::read(out.join("ledger.csv")).unwrap(),
        fs::read(other.join("ledger.csv")).unwrap(),
        "another seed gives another run"
    );
}

#[test]
fn a_failed_run_leaves_the_previous_report_untouched() {
    let dir = temp_dir("atomic");
    let path = write_scenario(&dir, SMALL);
    let out = dir.join("out");
    assert!(
        vanish(&["run", &path, "--out", out.to_str().unwrap(), "--quiet"])
            .status
            .success()
    );
    let before = output_files(&out);
    fs::write(
        &path,
        SMALL.replace("duration = \"20s\"", "duration = \"twenty\""),
    )
    .unwrap();
    assert_eq!(
        vanish(&["run", &path, "--out", out.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(output_files(&out), before);
}

#[test]
fn an_output_folder_that_cannot_be_used_is_bad_input() {
    let dir = temp_dir("unwritable");
    let path = write_scenario(&dir, SMALL);
    let file = dir.join("file");
    fs::write(&file, "not a folder").unwrap();
    let inside_file = file.join("out");
    let cases = [
        (file.to_str().unwrap(), "is a file, not a folder"),
        ("/dev/null", "is not a folder"),
        (inside_file.to_str().unwrap(), "is a file, not a folder"),
    ];
    for (out, reason) in cases {
        let output = vanish(&["run", &path, "--out", out, "--quiet"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "--out {out}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: --out {out}: ")) && stderr.contains(reason),
            "--out {out}: {stderr}"
        );
    }
    assert_eq!(fs::read(&file).unwrap(), b"not a folder");
}

#[test]
fn compare_is_identical_whatever_the_thread_count() {
    let dir = temp_dir("compare");
    let path = write_scenario(
        &dir,
        &SMALL.replace("[[client]]", "[server]\nmaxmemory = \"1mb\"\n\n[[client]]"),
    );
    let results: Vec<Vec<(String, Vec<u8>)>> = ["1", "2", "3"]
        .iter()
        .map(|threads| {
            let out = dir.join(format!("threads-{threads}"));
            let output = vanish(&[
                "compare",
                &path,
                "--policies",
                "allkeys-lru,allkeys-lfu,allkeys-random,noeviction",
                "--vary",
                "server.maxmemory-samples=3,10",
                "--threads",
                threads,
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            output_files(&out)
        })
        .collect();
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
    let csv = String::from_utf8_lossy(
        &results[0]
            .iter()
            .find(|(n, _)| n == "compare.csv")
            .unwrap()
            .1,
    )
    .into_owned();
    assert_eq!(csv.lines().count(), 1 + 8, "a 4 × 2 grid: {csv}");
    assert!(
        csv.lines().nth(1).unwrap().starts_with("allkeys-lru 3,"),
        "{csv}"
    );
}

#[test]
fn compare_without_variants_is_bad_input() {
    let output = vanish(&["compare", "scenarios/quickstart.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let output = vanish(&[
        "compare",
        "scenarios/quickstart.toml",
        "--policies",
        "allkeys-lru,lifo",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("maxmemory-policy"));
}

#[test]
fn compare_shows_the_writes_each_variant_loses() {
    let dir = temp_dir("compare-loss");
    let output = vanish(&[
        "compare",
        "scenarios/jepsen-partition.toml",
        "--vary",
        "server.min-replicas-to-write=0,1",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("writes lost"), "{table}");
    assert!(table.contains("3,018 (24.8%)"), "{table}");
    assert!(table.contains("405 (4.2%)"), "{table}");
    let csv = std::fs::read_to_string(dir.join("compare.csv")).unwrap();
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with("acknowledged_writes,acknowledged_writes_lost,loss_rate"));
}

#[test]
fn check_takes_the_same_overrides_as_run() {
    let dir = temp_dir("check-overrides");
    let scenario = write_scenario(&dir, SMALL);
    let plain = vanish(&["check", &scenario]);
    assert!(plain.status.success());
    let text = |output: &std::process::Output| String::from_utf8_lossy(&output.stdout).to_string();
    assert!(text(&plain).contains("seed 1"), "{}", text(&plain));
    let overridden = vanish(&[
        "check",
        &scenario,
        "--seed",
        "9",
        "--set",
        "client.app.rate=50",
    ]);
    assert!(overridden.status.success());
    assert!(
        text(&overridden).contains("seed 9"),
        "{}",
        text(&overridden)
    );
    assert_ne!(
        text(&plain),
        text(&overridden),
        "the rate changes the estimate"
    );
    // The override is checked like a value in the file.
    let refused = vanish(&["check", &scenario, "--set", "client.app.rate=-1"]);
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn a_run_reports_the_same_figures_whatever_its_ledger() {
    let dir = temp_dir("ledger-off");
    let scenario = write_scenario(&dir, SMALL);
    let formats = ["csv", "parquet", "off", "auto"];
    for ledger in formats {
        let output = vanish(&[
            "run",
            &scenario,
            "--out",
            dir.join(ledger).to_str().unwrap(),
            "--quiet",
            "--ledger",
            ledger,
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let files = |ledger: &str| {
        ["ledger.csv", "ledger.parquet"].map(|name| dir.join(ledger).join(name).exists())
    };
    assert_eq!(files("csv"), [true, false]);
    assert_eq!(files("parquet"), [false, true]);
    assert_eq!(files("off"), [false, false]);
    // A small run's ledger stays CSV, which grep and an editor read.
    assert_eq!(files("auto"), [true, false]);
    let csv_rows = fs::read_to_string(dir.join("csv/ledger.csv"))
        .unwrap()
        .lines()
        .count() as u64
        - 1;
    assert!(csv_rows > 100, "{csv_rows}");
    let figures = |ledger: &str| {
        let mut report: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join(ledger).join("report.json")).unwrap())
                .unwrap();
        report.as_object_mut().unwrap().remove("command_line");
        assert_eq!(report["ledger"]["rows"], csv_rows, "{ledger}");
        let file = report["ledger"].as_object_mut().unwrap().remove("file");
        (report, file.unwrap())
    };
    let (csv, file) = figures("csv");
    assert_eq!(file, "ledger.csv");
    let (parquet, file) = figures("parquet");
    assert_eq!(file, "ledger.parquet");
    let (off, file) = figures("off");
    assert!(file.is_null());
    assert_eq!(csv, parquet);
    assert_eq!(csv, off);
    // explain reads either file back to the same story.
    let key = fs::read_to_string(dir.join("csv/ledger.csv"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .to_string();
    let story = |ledger: &str| {
        let output = vanish(&["explain", dir.join(ledger).to_str().unwrap(), &key]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(story("csv"), story("parquet"));
    assert!(story("parquet").contains(&key));
    let nothing = vanish(&["explain", dir.join("off").to_str().unwrap(), &key]);
    assert_eq!(nothing.status.code(), Some(2));
    // Without a ledger, its size sets no limit; the commands still do.
    let huge_ledger = SMALL
        .replace("duration = \"20s\"", "duration = \"20000s\"")
        .replace("rate = 500", "rate = 5000");
    let scenario = write_scenario(&dir, &huge_ledger);
    let refused = vanish(&["check", &scenario, "--ledger", "csv"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let accepted = vanish(&["check", &scenario, "--ledger", "off"]);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    // Unless told, a run this large writes Parquet, a tenth of the CSV's size.
    let automatic = vanish(&["check", &scenario]);
    let said = String::from_utf8_lossy(&automatic.stdout);
    assert!(automatic.status.success(), "{said}");
    assert!(said.contains("the run writes ledger.parquet"), "{said}");
}

#[test]
fn the_readme_shows_the_quickstart_output_whole() {
    // The README's first screen promises what `run scenarios/quickstart.toml` prints.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let start =
        readme.find("prints, whole:\n\n```text\n").unwrap() + "prints, whole:\n\n```text\n".len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let dir = temp_dir("readme-quickstart");
    let out = dir.join("quickstart");
    let scenario = root.join("scenarios/quickstart.toml");
    let output = vanish(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let printed =
        String::from_utf8_lossy(&output.stdout).replace(out.to_str().unwrap(), "output/quickstart");
    assert_eq!(shown, printed);
}
