//! The output folder is one unit: a run leaves exactly its own files, a failed or interrupted
//! run leaves the previous folder as it was, temporaries do not outlive their process, and
//! `merge` never writes over a shard it reads.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::cli::{output_files, temp_dir, vanish, SMALL};

/// Every name in `dir`, hidden ones included, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn run_into(scenario: &str, out: &Path) {
    let output = vanish(&["run", scenario, "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The pid of a process that has ended.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn a_run_leaves_exactly_its_own_files() {
    let dir = temp_dir("exactly");
    let with_replica = SMALL.replace(
        "[[client]]",
        "[[replica]]\nname = \"replica-1\"\n\n[[client]]",
    );
    let replica = write(&dir, "replica.toml", &with_replica);
    let small = write(&dir, "small.toml", SMALL);
    let (out, fresh) = (dir.join("out"), dir.join("fresh"));
    run_into(&replica, &out);
    assert!(names(&out).contains(&"info-replica-1.txt".to_string()));
    // What an interrupted older version left inside the folder.
    fs::write(out.join(format!(".ledger.csv.tmp-{}", dead_pid())), "half").unwrap();
    run_into(&small, &out);
    run_into(&small, &fresh);
    assert_eq!(names(&out), names(&fresh));
    // report.json records the command line, which names the folder: the only difference.
    let (out_name, fresh_name) = (out.to_str().unwrap(), fresh.to_str().unwrap());
    let same_folder = |files: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        files
            .into_iter()
            .map(|(name, bytes)| match name.as_str() {
                "report.json" => {
                    let text = String::from_utf8(bytes)
                        .unwrap()
                        .replace(out_name, fresh_name);
                    (name, text.into_bytes())
                }
                _ => (name, bytes),
            })
            .collect()
    };
    assert_eq!(
        same_folder(output_files(&out)),
        same_folder(output_files(&fresh))
    );
    assert_eq!(
        names(&dir),
        ["fresh", "out", "replica.toml", "small.toml"],
        "no temporary is left beside the folders"
    );
}

#[test]
fn a_run_that_fails_while_writing_leaves_the_old_report_byte_identical() {
    let dir = temp_dir("disk-full");
    let small = write(&dir, "small.toml", SMALL);
    // Writes only: a ledger of a few rows, so the first file too large is a chart.
    let without_events = &SMALL[..SMALL.find("[[event]]").unwrap()];
    let writes = without_events
        .replace("name = \"small\"", "name = \"writes\"")
        .replace(
            "commands = { GET = 80, SET = 15, DEL = 5 }",
            "commands = { SET = 1 }",
        )
        .replace("ttl = { share = 0.5, min = \"2s\", max = \"5s\" }", "")
        .replace("on-miss = \"set\"", "");
    let writes = write(&dir, "writes.toml", &writes);
    let out = dir.join("out");
    run_into(&small, &out);
    let before = output_files(&out);
    // A full disk, as a file-size limit: writes past 20 kB fail (EFBIG, the signal ignored).
    let script = format!(
        "trap '' XFSZ; ulimit -f 40; exec '{}' run '{writes}' --out '{}' --quiet",
        env!("CARGO_BIN_EXE_vanish"),
        out.display()
    );
    let output = Command::new("sh").args(["-c", &script]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert_eq!(output_files(&out), before, "the old report, byte for byte");
    assert_eq!(names(&dir), ["out", "small.toml", "writes.toml"]);
}

#[test]
fn stale_temporaries_of_dead_processes_are_removed() {
    let dir = temp_dir("stale");
    let small = write(&dir, "small.toml", SMALL);
    let dead = dir.join(format!(".out.tmp-{}", dead_pid()));
    fs::create_dir(&dead).unwrap();
    fs::write(dead.join("ledger.csv"), "87 MB of it").unwrap();
    // This test's own process is alive: its temporary may still be in use.
    let alive = dir.join(format!(".out.tmp-{}", std::process::id()));
    fs::create_dir(&alive).unwrap();
    run_into(&small, &dir.join("out"));
    assert!(!dead.exists(), "a dead process's temporary is removed");
    assert!(alive.exists(), "a live process's temporary is kept");
}

/// SMALL made to run for minutes, writing only (its ledger stays small).
fn long_scenario() -> String {
    SMALL[..SMALL.find("[[event]]").unwrap()]
        .replace("duration = \"20s\"", "duration = \"2h\"")
        .replace("rate = 500", "rate = 50000")
        .replace(
            "commands = { GET = 80, SET = 15, DEL = 5 }",
            "commands = { SET = 1 }",
        )
        .replace("ttl = { share = 0.5, min = \"2s\", max = \"5s\" }", "")
}

/// A child process killed if the test fails before it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `path` exists (the run is under way).
fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{path:?} never appeared"
        );
        sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_signal_removes_the_unfinished_folder_and_keeps_the_old_one() {
    let dir = temp_dir("signal");
    let small = write(&dir, "small.toml", SMALL);
    let long = write(&dir, "long.toml", &long_scenario());
    let out = dir.join("out");
    run_into(&small, &out);
    let before = output_files(&out);
    for signal in ["TERM", "INT"] {
        let mut child = Running(
            Command::new(env!("CARGO_BIN_EXE_vanish"))
                // Past the limits on purpose: it must still be running when the signal comes.
                .args([
                    "run",
                    &long,
                    "--out",
                    out.to_str().unwrap(),
                    "--quiet",
                    "--force",
                    "--ledger",
                    "csv",
                ])
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let pid = child.0.id();
        let staging: PathBuf = dir.join(format!(".out.tmp-{pid}"));
        wait_for(&staging.join(format!(".ledger.csv.tmp-{pid}")));
        sleep(Duration::from_millis(200));
        let killed = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.0.wait().unwrap();
        assert_eq!(status.code(), Some(130), "SIG{signal}");
        assert!(!staging.exists(), "SIG{signal}: the temporary is removed");
        assert_eq!(
            output_files(&out),
            before,
            "SIG{signal}: the old report stays"
        );
    }
    assert_eq!(names(&dir), ["long.toml", "out", "small.toml"]);
}

#[test]
fn a_folder_holding_other_files_is_refused_and_left_alone() {
    let dir = temp_dir("foreign");
    let small = write(&dir, "small.toml", SMALL);
    let mine = dir.join("mine");
    fs::create_dir(&mine).unwrap();
    fs::write(mine.join("notes.md"), "keep me").unwrap();
    let output = vanish(&["run", &small, "--out", mine.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(mine.to_str().unwrap()) && stderr.contains("notes.md"),
        "{stderr}"
    );
    assert_eq!(names(&mine), ["notes.md"]);
}

#[test]
fn merge_into_one_of_its_shards_is_refused() {
    let dir = temp_dir("merge-into-shard");
    let small = write(&dir, "small.toml", SMALL);
    let mut shards = Vec::new();
    for k in 1..=2 {
        let shard = dir.join(format!("shard-{k}"));
        let spec = format!("{k}/2");
        let output = vanish(&[
            "sweep",
            &small,
            "--vary",
            "client.app.rate=200,400,800",
            "--shard",
            &spec,
            "--out",
            shard.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        shards.push(shard);
    }
    let before = output_files(&shards[0]);
    // Spelled another way, still the first shard.
    let out = shards[1].join("..").join("shard-1");
    let output = vanish(&[
        "merge",
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(shards[0].to_str().unwrap()), "{stderr}");
    assert_eq!(output_files(&shards[0]), before);
}
