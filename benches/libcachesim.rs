//! vanish against libCacheSim's `cachesim` on the same trace, end to end (issue 14): a 10 M
//! request Zipf(1.0) trace over 1 M unit-size objects in libCacheSim's oracleGeneral format.
//!
//! - `vanish run` (exact LRU, raw memory, a cache of 100,000 objects, default outputs) against
//!   `cachesim TRACE oracleGeneral lru 100000 --ignore-obj-size 1`;
//! - the 8-point LRU curve (`vanish sweep --fast`, 1 k to 900 k objects) against `cachesim` with
//!   the same 8 sizes.
//!
//! Each command runs three times; the table shows the best wall clock, the peak RSS of that run
//! (from `/usr/bin/time -v`) and the miss ratios. `cachesim` is looked up in `$CACHESIM`, then
//! on `PATH`; without it the benchmark prints a notice and stops. The trace (240 MB) is written
//! once into `$VANISH_BENCH_DIR` (default: the system's temporary folder) and reused.
//! `VANISH_BENCH_COMMANDS` shortens the trace. Run with `cargo bench --bench libcachesim`.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vanish::sim::random::dist::Zipf;
use vanish::sim::random::rng::Stream;

const OBJECTS: u64 = 1_000_000;
const CACHE_OBJECTS: u64 = 100_000;
const CURVE_SIZES: [u64; 8] = [
    1_000, 2_000, 5_000, 10_000, 50_000, 100_000, 500_000, 900_000,
];

/// What one command cost: best wall clock of three, the peak RSS of that run and its stdout.
struct Measured {
    seconds: f64,
    rss_mb: f64,
    stdout: String,
}

fn main() {
    let Some(cachesim) = find_cachesim() else {
        println!(
            "libcachesim: skipped, `cachesim` not found (set CACHESIM to its path, or put it on \
             PATH; build it from github.com/1a1a11a/libCacheSim with cmake, Release)"
        );
        return;
    };
    let requests: u64 = std::env::var("VANISH_BENCH_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir = std::env::var_os("VANISH_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("vanish-bench-libcachesim");
    fs::create_dir_all(&dir).expect("bench folder");
    let dir = std::path::absolute(&dir).expect("bench folder");
    let trace = dir.join(format!("zipf1-{requests}.oracleGeneral"));
    if !trace.exists() {
        write_trace(&trace, requests);
    }
    let scenario = write_scenario(&dir, &trace, requests);
    let vanish = env!("CARGO_BIN_EXE_vanish");
    let out = dir.join("out");
    let trace_arg = trace.display().to_string();
    let size = CACHE_OBJECTS.to_string();

    // cachesim writes its results into the working folder: keep them out of the repository.
    std::env::set_current_dir(&dir).expect("bench folder");
    let peer = measure(&[
        &cachesim,
        &trace_arg,
        "oracleGeneral",
        "lru",
        &size,
        "--ignore-obj-size",
        "1",
    ]);
    let ours = measure(&[
        vanish,
        "run",
        &scenario,
        "--out",
        &out.display().to_string(),
    ]);
    // The same run without its ledger: the difference is what the ledger costs.
    let unledgered_out = dir.join("out-no-ledger");
    let unledgered = measure(&[
        vanish,
        "run",
        &scenario,
        "--ledger",
        "off",
        "--out",
        &unledgered_out.display().to_string(),
    ]);
    let peer_miss = cachesim_miss_ratios(&peer.stdout);
    let our_miss = vanish_miss_ratio(&out);
    println!("replay of {requests} requests, LRU, cache of {CACHE_OBJECTS} objects (best of 3):");
    row("cachesim", &peer, &format!("{peer_miss:?}"));
    row("vanish run", &ours, &format!("{our_miss:?}"));
    row(
        "vanish run --ledger off",
        &unledgered,
        &format!("{:?}", vanish_miss_ratio(&unledgered_out)),
    );
    println!(
        "  the ledger is {:.0} % of the run's wall clock",
        100.0 * (ours.seconds - unledgered.seconds).max(0.0) / ours.seconds
    );
    println!(
        "  vanish is {:.2}x faster, with {:.2}x the peak RSS",
        peer.seconds / ours.seconds,
        ours.rss_mb / peer.rss_mb
    );

    let sizes: Vec<String> = CURVE_SIZES.iter().map(u64::to_string).collect();
    let peer_curve = measure(&[
        &cachesim,
        &trace_arg,
        "oracleGeneral",
        "lru",
        &sizes.join(","),
        "--ignore-obj-size",
        "1",
        "--num-thread",
        "2",
    ]);
    let vary = format!("server.maxmemory={}", sizes.join(","));
    let sweep_out = dir.join("sweep");
    let our_curve = measure(&[
        vanish,
        "sweep",
        &scenario,
        "--fast",
        "--vary",
        &vary,
        "--out",
        &sweep_out.display().to_string(),
    ]);
    println!("LRU curve of 8 sizes, {} to {}:", sizes[0], sizes[7]);
    row(
        "cachesim",
        &peer_curve,
        &format!("{:?}", cachesim_miss_ratios(&peer_curve.stdout)),
    );
    row(
        "vanish sweep --fast",
        &our_curve,
        &format!("{:?}", sweep_miss_ratios(&sweep_out)),
    );
    println!(
        "  vanish is {:.2}x faster",
        peer_curve.seconds / our_curve.seconds
    );
}

fn row(label: &str, measured: &Measured, miss: &str) {
    println!(
        "  {label:<20} {:>7.3} s  {:>7.1} MB peak RSS  miss ratio {miss}",
        measured.seconds, measured.rss_mb
    );
}

fn find_cachesim() -> Option<String> {
    if let Some(path) = std::env::var_os("CACHESIM") {
        return Path::new(&path)
            .is_file()
            .then(|| path.to_string_lossy().into_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("cachesim"))
        .find(|candidate| candidate.is_file())
        .map(|found| found.display().to_string())
}

/// 24-byte records `{u32 time; u64 id; u32 size; i64 next}`, unit sizes, a million a second.
fn write_trace(path: &Path, requests: u64) {
    let zipf = Zipf::new(OBJECTS, 1.0);
    let mut stream = Stream::new(1, "bench-trace");
    let file = fs::File::create(path).expect("trace file");
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    for index in 0..requests {
        let time = (index / 1_000_000) as u32;
        let id = zipf.sample(&mut stream);
        writer.write_all(&time.to_le_bytes()).expect("trace");
        writer.write_all(&id.to_le_bytes()).expect("trace");
        writer.write_all(&1u32.to_le_bytes()).expect("trace");
        writer.write_all(&(-1i64).to_le_bytes()).expect("trace");
    }
    writer.flush().expect("trace");
}

fn write_scenario(dir: &Path, trace: &Path, requests: u64) -> String {
    let seconds = requests / 1_000_000 + 2;
    let text = format!(
        "[scenario]\nname = \"libcachesim-zipf\"\nseed = 1\nduration = \"{seconds}s\"\n\n\
         [server]\nmaxmemory = \"{CACHE_OBJECTS}\"\nmaxmemory-policy = \"lru-exact\"\n\
         memory-model = \"raw\"\n\n\
         [[client]]\nname = \"replay\"\ntrace = \"{}\"\nformat = \"oracle-general\"\n",
        trace.display()
    );
    let path = dir.join("zipf.toml");
    fs::write(&path, text).expect("scenario");
    path.display().to_string()
}

/// Best wall clock of three runs, with `/usr/bin/time -v` for the peak RSS when it exists.
fn measure(command: &[&str]) -> Measured {
    let timer = Path::new("/usr/bin/time").is_file();
    let mut best: Option<Measured> = None;
    for _ in 0..3 {
        let mut process = if timer {
            let mut process = Command::new("/usr/bin/time");
            process.arg("-v").args(command);
            process
        } else {
            let mut process = Command::new(command[0]);
            process.args(&command[1..]);
            process
        };
        let started = Instant::now();
        let output = process.output().expect("run");
        let seconds = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{} failed: {stderr}",
            command.join(" ")
        );
        let rss_kb: f64 = stderr
            .lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|kb| kb.trim().parse().ok())
            .unwrap_or(f64::NAN);
        if best.as_ref().is_none_or(|best| seconds < best.seconds) {
            best = Some(Measured {
                seconds,
                rss_mb: rss_kb / 1024.0,
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            });
        }
    }
    best.expect("three runs")
}

/// `... miss ratio 0.2230, ...` on each of cachesim's result lines.
fn cachesim_miss_ratios(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.split("miss ratio ").nth(1))
        .filter_map(|rest| rest.split([',', ' ']).next())
        .map(str::to_string)
        .collect()
}

/// misses / reads from report.json.
fn vanish_miss_ratio(out: &Path) -> String {
    let text = fs::read_to_string(out.join("report.json")).expect("report.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("report.json");
    let hits = json["hits"].as_f64().unwrap_or(f64::NAN);
    let misses = json["misses"].as_f64().unwrap_or(f64::NAN);
    format!("{:.4}", misses / (hits + misses))
}

/// 1 - hit ratio of each row of sweep.csv.
fn sweep_miss_ratios(out: &Path) -> Vec<String> {
    let text = fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = header
        .iter()
        .position(|name| *name == "hit_ratio")
        .expect("hit_ratio column");
    lines
        .filter_map(|line| line.split(',').nth(column))
        .map(|hit| format!("{:.4}", 1.0 - hit.parse::<f64>().unwrap_or(f64::NAN)))
        .collect()
}
