//! The `vanish` command line: the only place that touches files, the terminal, threads and the
//! exit code.
//!
//! Exit status: 0 on success, 2 on bad input (scenario, flags, an output folder that cannot be
//! used, a run past the limits without `--force`), 1 on an internal error such as a disk that
//! fills up while writing, 130 when interrupted (Ctrl-C, SIGTERM, SIGHUP), after removing the
//! unfinished output folder. With a live server (`diagnose`, `watch`, `from-info` given a
//! `redis://` URL): 3 when the server cannot be reached (or refuses the credentials), 4 when it
//! refuses a command it needs (`INFO`, `CONFIG`, `PSUBSCRIBE`: an ACL without them).

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use vanish::diagnose::info::InfoDump;
use vanish::diagnose::reason::{self, Diagnosis};
use vanish::diagnose::render::{self, Origin};
use vanish::diagnose::snapshot::Snapshot;
use vanish::diagnose::{from_info, watched};
use vanish::grid::{self, Axis, Figures, Shard, Variant};
use vanish::live::{self, LiveError, Server};
use vanish::report;
use vanish::report::charts::{self, ImageFormat, Rendered};
use vanish::report::compare::Compared;
use vanish::report::explain;
use vanish::report::files::{self, write_atomic, OutputFolder, PendingFile};
use vanish::report::html::report_html;
use vanish::report::info::info_text;
use vanish::report::json::{report_json, Invocation};
use vanish::report::ledger_csv::CsvLedger;
use vanish::report::ledger_parquet::ParquetLedger;
use vanish::report::summary::{human_duration, summary_text};
use vanish::report::sweep::{SweepFile, SweepOrigin};
use vanish::report::target::{self, Target};
use vanish::report::timeseries::write_timeseries;
use vanish::scenario::estimate::LedgerFile;
use vanish::scenario::{self, estimate, Estimate, Overrides};
use vanish::sim::config::SimConfig;
use vanish::sim::engine::{self, Progress, RunOutput};
use vanish::sim::keyspace::keys::KeyTable;
use vanish::sim::ledger::{Cause, DiscardLedger, LedgerEntry, LedgerSink};
use vanish::sim::reference::curve::Sampling;

#[derive(Parser)]
#[command(
    name = "vanish",
    version,
    about = "Why did my Redis key disappear? A deterministic simulator of Redis key disappearance.",
    long_about = "vanish simulates Redis nodes and their clients on a virtual clock and reports \
                  which keys vanished and why: expiry, eviction, deletes, flushes, overwrites, \
                  the wrong database. The same scenario and seed give byte-identical output."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Flags every simulating command shares.
#[derive(clap::Args)]
struct Common {
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override a scenario value, e.g. --set server.maxmemory=64mb or --set client.web.rate=500.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    sets: Vec<String>,
    /// Write here instead of output/<scenario name>/.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print nothing but errors (no summary, no progress bar).
    #[arg(long, short)]
    quiet: bool,
    /// Run even past the limits on commands, ledger size, memory and grid size (README: Limits).
    #[arg(long)]
    force: bool,
    /// `run`: write ledger.csv (csv), ledger.parquet (parquet), or no ledger (off: no limit on
    /// its size either); auto, the default, writes CSV unless the run could pass 10 M rows.
    /// The report's figures are the same whatever the choice.
    #[arg(long, value_enum, default_value_t = LedgerFormat::Auto)]
    ledger: LedgerFormat,
}

/// Whether and how `run` writes its ledger.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LedgerFormat {
    Auto,
    Csv,
    Parquet,
    Off,
}

impl LedgerFormat {
    /// The file a run with `estimate` writes.
    fn file(self, estimate: &Estimate) -> LedgerFile {
        match self {
            LedgerFormat::Auto => estimate.ledger_file(),
            LedgerFormat::Csv => LedgerFile::Csv,
            LedgerFormat::Parquet => LedgerFile::Parquet,
            LedgerFormat::Off => LedgerFile::Off,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write its report under output/<scenario name>/.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Run variants of a scenario side by side (in parallel) and compare what they lose.
    Compare {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Eviction policies to compare, e.g. allkeys-lru,allkeys-lfu,volatile-ttl.
        #[arg(long, value_delimiter = ',')]
        policies: Vec<String>,
        /// Vary any scenario value: --vary server.maxmemory=64mb,128mb or =64mb..1gb:5 (several make a grid).
        #[arg(long, value_name = "SECTION.KEY=VALUES")]
        vary: Vec<String>,
        /// Worker threads (default and most: one per core). The results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        #[command(flatten)]
        common: Common,
    },
    /// Sweep a grid of variants for capacity planning, and recommend the smallest maxmemory per policy.
    Sweep {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// An axis: section.key=v1,v2,... or section.key=A..B:N (N geometric points). Several make a grid.
        #[arg(long, value_name = "SECTION.KEY=VALUES", required = true)]
        vary: Vec<String>,
        /// What a configuration must achieve, e.g. hit-ratio>=0.95.
        #[arg(long)]
        target: Option<String>,
        /// Run only the K-th of N deterministic slices of the grid (combine them with `vanish merge`).
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Compute each policy's whole hit-ratio curve in one pass (lru-exact, allkeys-lru):
        /// much faster, hit ratio only.
        #[arg(long)]
        fast: bool,
        /// With --fast: follow only this share of the keys (0 < R <= 1; SHARDS spatial
        /// sampling), for traces too long for the exact curve. An estimate; see README.
        #[arg(long, value_name = "R", requires = "fast")]
        sample_rate: Option<f64>,
        /// Worker threads (default and most: one per core). The results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        #[command(flatten)]
        common: Common,
    },
    /// Combine the outputs of `vanish sweep --shard` into the sweep a single run would write.
    Merge {
        /// Folders holding a shard's sweep.json.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the merged sweep.csv, sweep.json and charts.
        #[arg(long, value_name = "DIR", default_value = "output/merged")]
        out: PathBuf,
        /// Judge the merged runs by this target (replacing the shards' own), e.g. hit-ratio>=0.95.
        #[arg(long)]
        target: Option<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Validate a scenario without running it, and estimate what running it costs.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Override the scenario's seed, as `run` would.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a scenario value, as `run` would: --set server.maxmemory=64mb.
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        sets: Vec<String>,
        /// Accept a scenario past the limits on commands, ledger size and memory.
        #[arg(long)]
        force: bool,
        /// Estimate as for `run --ledger FORMAT` (off: no ledger, so no limit on its size).
        #[arg(long, value_enum, default_value_t = LedgerFormat::Auto)]
        ledger: LedgerFormat,
    },
    /// Say why keys vanished from a real Redis: from two `INFO all` dumps (or one), or a live
    /// server read twice.
    Diagnose {
        /// BEFORE.txt AFTER.txt (or one dump), or redis://[user:password@]host:port[/db]
        /// (rediss:// for TLS).
        #[arg(required = true, num_args = 1..=2, value_name = "DUMP|URL")]
        sources: Vec<String>,
        #[command(flatten)]
        live: LiveFlags,
        /// The database the clients read from (default: the URL's, else 0).
        #[arg(long)]
        db: Option<u32>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Record a live server's key removals (keyspace notifications) into ledger.csv.
    Watch {
        /// redis://[user:password@]host:port (rediss:// for TLS).
        url: String,
        /// How long to watch (Ctrl-C stops earlier and keeps what was seen).
        #[arg(long, default_value = "5m")]
        duration: String,
        /// Set notify-keyspace-events without asking (it is restored on exit).
        #[arg(long)]
        enable_notifications: bool,
        /// Write here instead of output/watch/.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Write a scenario reproducing a real node from its INFO dumps (or a live server).
    FromInfo {
        /// BEFORE.txt AFTER.txt (or one dump), or redis://…
        #[arg(required = true, num_args = 1..=2, value_name = "DUMP|URL")]
        sources: Vec<String>,
        /// The output of `redis-cli CONFIG GET '*'`, for the directives INFO does not show.
        #[arg(long, value_name = "CONFIG-GET.txt")]
        config: Option<PathBuf>,
        /// The scenario file to write.
        #[arg(short = 'o', long = "output", value_name = "SCENARIO.toml")]
        output: PathBuf,
        /// The scenario's name.
        #[arg(long, default_value = "from-info")]
        name: String,
        #[command(flatten)]
        live: LiveFlags,
    },
    /// Tell one key's story: from a finished run's ledger (output/<run>), or by re-running a
    /// scenario following that key (every write, read, replica arrival and removal).
    Explain {
        /// A run's output folder (holding its ledger) or a scenario file.
        target: PathBuf,
        /// The key (not with --cause).
        key: Option<String>,
        /// With a run's folder: list the most-read keys lost to this cause (e.g. evicted).
        #[arg(long)]
        cause: Option<String>,
        /// How many keys --cause lists.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Override the scenario's seed, as `run` would (scenario only).
        #[arg(long)]
        seed: Option<u64>,
        /// Override a scenario value, as `run` would (scenario only).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        sets: Vec<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Flags of the commands that read dumps or a live server.
#[derive(clap::Args)]
struct LiveFlags {
    /// With a live server: the time between its two INFO snapshots.
    #[arg(long, default_value = "60s")]
    interval: String,
    /// Print nothing but errors (and the result).
    #[arg(long, short)]
    quiet: bool,
}

/// An error with the exit status it deserves.
enum Failure {
    BadInput(String),
    Internal(anyhow::Error),
    Live(LiveError),
}

impl From<LiveError> for Failure {
    fn from(error: LiveError) -> Failure {
        match error {
            LiveError::BadUrl { .. } => Failure::BadInput(error.to_string()),
            _ => Failure::Live(error),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure::Internal(error)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    remove_temporaries_on_signals();
    let result = match cli.command {
        Command::Run { scenario, common } => run(&scenario, &common),
        Command::Compare {
            scenario,
            policies,
            vary,
            threads,
            common,
        } => compare_variants(&scenario, &policies, &vary, threads, &common),
        Command::Sweep {
            scenario,
            vary,
            target,
            shard,
            fast,
            sample_rate,
            threads,
            common,
        } => sweep_grid(
            &scenario,
            &vary,
            target.as_deref(),
            shard.as_deref(),
            (fast, sample_rate),
            threads,
            &common,
        ),
        Command::Merge {
            dirs,
            out,
            target,
            quiet,
        } => merge(&dirs, &out, target.as_deref(), quiet),
        Command::Check {
            scenario,
            seed,
            sets,
            force,
            ledger,
        } => check(&scenario, &Overrides { seed, sets }, force, ledger),
        Command::Diagnose {
            sources,
            live,
            db,
            json,
        } => diagnose(&sources, &live, db, json),
        Command::Watch {
            url,
            duration,
            enable_notifications,
            out,
            quiet,
        } => watch(&url, &duration, enable_notifications, out, quiet),
        Command::FromInfo {
            sources,
            config,
            output,
            name,
            live,
        } => write_from_info(&sources, config.as_deref(), &output, &name, &live),
        Command::Explain {
            target,
            key,
            cause,
            top,
            seed,
            sets,
            json,
        } => explain(
            &target,
            key.as_deref(),
            cause.as_deref(),
            top,
            &Overrides { seed, sets },
            json,
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(error)) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
        Err(Failure::Live(error)) => {
            eprintln!("error: {error}");
            match error {
                LiveError::Refused { .. } => ExitCode::from(4),
                _ => ExitCode::from(3),
            }
        }
    }
}

/// Set while `watch` listens: Ctrl-C then stops the watch (which restores the server's
/// notification flags and writes what it saw) instead of ending the process.
static WATCHING: AtomicBool = AtomicBool::new(false);
/// Set by Ctrl-C during a watch.
static STOP_WATCH: AtomicBool = AtomicBool::new(false);

/// Ctrl-C, SIGTERM and SIGHUP remove the output folder being written, then end the process;
/// the previous output folder stays as it was.
fn remove_temporaries_on_signals() {
    let installed = ctrlc::set_handler(|| {
        if WATCHING.load(Ordering::SeqCst) && !STOP_WATCH.swap(true, Ordering::SeqCst) {
            eprintln!("\nstopping the watch (Ctrl-C again ends at once)");
            return;
        }
        // Held until the process ends, so no folder is swapped in after the removal.
        let _held = files::abandon_temporaries();
        eprintln!("\ninterrupted: the unfinished output was removed");
        std::process::exit(130);
    });
    if let Err(error) = installed {
        eprintln!("warning: cannot clean up on Ctrl-C: {error}");
    }
}

/// This process's command line as given, for the reports to record.
fn invocation() -> Invocation {
    Invocation::new(
        std::env::args_os()
            .map(|argument| argument.to_string_lossy().into_owned())
            .collect(),
    )
}

fn overrides(common: &Common) -> Overrides {
    Overrides {
        seed: common.seed,
        sets: common.sets.clone(),
    }
}

fn read_scenario(path: &Path) -> Result<String, Failure> {
    fs::read_to_string(path)
        .map_err(|error| Failure::BadInput(format!("cannot read {}: {error}", path.display())))
}

fn load(path: &Path, overrides: &Overrides) -> Result<(SimConfig, String), Failure> {
    let text = read_scenario(path)?;
    let config = scenario::parse(&path.display().to_string(), &text, overrides)
        .map_err(|error| Failure::BadInput(error.to_string()))?;
    Ok((config, text))
}

fn check(
    path: &Path,
    overrides: &Overrides,
    force: bool,
    ledger: LedgerFormat,
) -> Result<(), Failure> {
    let (config, _) = load(path, overrides)?;
    let (estimate, ledger) = within_limits(&config, ledger, force).map_err(Failure::BadInput)?;
    let mut topology = String::new();
    if !config.replicas.is_empty() {
        topology.push_str(&format!("{} replica(s), ", config.replicas.len()));
    }
    if let Some(sentinel) = &config.sentinel {
        topology.push_str(&format!(
            "{} Sentinel(s) with quorum {}, ",
            sentinel.hosts.len(),
            sentinel.quorum
        ));
    }
    println!(
        "ok: {} — {topology}{} client(s), {} event(s), {} of virtual time, seed {}",
        config.name,
        config.clients.len(),
        config.events.len(),
        human_duration(config.duration_us),
        config.seed
    );
    println!("estimate: {estimate}; the run writes {}", ledger.name());
    Ok(())
}

/// The scenario's estimate and the ledger file its run writes, or a refusal when it is past
/// the limits and `force` is off. A grid's variants write no ledger (`LedgerFormat::Off`).
fn within_limits(
    config: &SimConfig,
    ledger: LedgerFormat,
    force: bool,
) -> Result<(Estimate, LedgerFile), String> {
    let estimate = Estimate::of(config);
    let file = ledger.file(&estimate);
    let excesses = estimate.excesses(file);
    if excesses.is_empty() || force {
        return Ok((estimate, file));
    }
    Err(estimate::refusal(&estimate, &excesses))
}

/// A progress bar on stderr, hidden with --quiet or when stderr is not a terminal; results never
/// go through it.
fn progress_bar(length: u64, template: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Shows a run's virtual time.
struct TimeBar(ProgressBar);

impl Progress for TimeBar {
    fn advance(&mut self, now_us: u64) {
        self.0.set_position(now_us / 1_000_000);
    }
}

fn output_dir(common: &Common, name: &str) -> Result<OutputFolder, Failure> {
    let out = common
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(name));
    begin_output(&out)
}

/// Starts writing output folder `out` (in a fresh folder swapped in by `finish_output`).
fn begin_output(out: &Path) -> Result<OutputFolder, Failure> {
    OutputFolder::begin(out).map_err(|error| Failure::BadInput(error.to_string()))
}

fn finish_output(folder: OutputFolder) -> Result<(), Failure> {
    let shown = folder.shown().to_path_buf();
    folder
        .commit()
        .with_context(|| format!("moving the new report into {}", shown.display()))?;
    Ok(())
}

fn run(path: &Path, common: &Common) -> Result<(), Failure> {
    let (config, text) = load(path, &overrides(common))?;
    let (_, ledger) =
        within_limits(&config, common.ledger, common.force).map_err(Failure::BadInput)?;
    let effective = effective_scenario(path, &text, common)?;
    let folder = output_dir(common, &config.name)?;
    let (out, shown) = (folder.path().to_path_buf(), folder.shown().to_path_buf());
    let output = if ledger == LedgerFile::Off {
        let output = simulate(&config, common, &mut DiscardLedger);
        write_run_report(&config, &text, &effective, &output, ledger, &out)?;
        output
    } else {
        simulate_with_ledger(&config, common, ledger, &out, |output| {
            write_run_report(&config, &text, &effective, output, ledger, &out)
        })?
    };
    finish_output(folder)?;

    if !common.quiet {
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{}", summary_text(&config, &output));
        let ledger_note = match ledger {
            LedgerFile::Off => String::new(),
            file => format!(
                "{} ({} rows), ",
                file.name(),
                vanish::report::summary::thousands(output.totals.rows())
            ),
        };
        let _ = writeln!(
            stdout,
            "\nreport: {}/report.html (and report.json, {ledger_note}timeseries.csv, info-*.txt, charts as PNG and SVG)",
            shown.display()
        );
    }
    Ok(())
}

/// Runs the scenario with a progress bar, its ledger rows going to `sink`.
fn simulate(config: &SimConfig, common: &Common, sink: &mut dyn LedgerSink) -> RunOutput {
    let bar = progress_bar(
        config.duration_us / 1_000_000,
        "{spinner} [{bar:40}] {pos}/{len} s of virtual time, eta {eta}",
        common.quiet,
    );
    let mut progress = TimeBar(bar.clone());
    let output = engine::run(config, sink, &mut progress);
    bar.finish_and_clear();
    output
}

/// Runs the scenario streaming its ledger into `out/ledger.csv` or `out/ledger.parquet`
/// (`file`), which is committed only after `report` has written the rest of the report.
fn simulate_with_ledger(
    config: &SimConfig,
    common: &Common,
    file: LedgerFile,
    out: &Path,
    report: impl FnOnce(&RunOutput) -> Result<(), Failure>,
) -> Result<RunOutput, Failure> {
    let name = file.name();
    let (keys, _) = KeyTable::from_clients(&config.clients);
    let keys = Arc::new(keys);
    let client_names = config.clients.iter().map(|c| c.name.clone()).collect();
    let mut ledger_file = PendingFile::create(&out.join(name))
        .with_context(|| format!("cannot write in {}", out.display()))?;
    let early_sync = ledger_file.sync_handle().context(name)?;
    let node_names = std::iter::once("primary".to_string())
        .chain(config.replicas.iter().map(|replica| replica.name.clone()))
        .collect();
    let ledger = match file {
        LedgerFile::Parquet => RunLedger::Parquet(Box::new(ParquetLedger::new(
            ledger_file.writer(),
            keys,
            node_names,
            client_names,
        ))),
        _ => RunLedger::Csv(Box::new(CsvLedger::new(
            ledger_file.writer(),
            keys,
            node_names,
            client_names,
        ))),
    };
    // The rows are formatted and written on a second thread, in the order they come: building
    // them was 35 % of a 10 M-request replay's time on the simulation's thread.
    let (output, written, synced) = std::thread::scope(|scope| {
        let (sender, receiver) =
            std::sync::mpsc::sync_channel::<Vec<LedgerEntry>>(LEDGER_BATCHES_IN_FLIGHT);
        // Written batches come back to be filled again: a fresh one each time cost its pages'
        // faults.
        let (returned, spare) = std::sync::mpsc::channel::<Vec<LedgerEntry>>();
        let (sync_sender, sync_wanted) = std::sync::mpsc::channel::<()>();
        let syncer = scope.spawn(move || sync_as_written(&early_sync, sync_wanted));
        // Named, so a profile tells its time from the simulation's.
        let writer = std::thread::Builder::new().name("ledger-writer".into());
        let writer = writer.spawn_scoped(scope, move || {
            let mut ledger = ledger;
            let mut next_sync = LEDGER_SYNC_BYTES;
            for mut batch in receiver {
                ledger.record_batch(&batch);
                batch.clear();
                let _ = returned.send(batch);
                if ledger.written() >= next_sync {
                    next_sync = ledger.written() + LEDGER_SYNC_BYTES;
                    let _ = sync_sender.send(());
                }
            }
            ledger.finish()
        });
        let writer = writer?;
        let mut batches = BatchedLedger {
            batch: Vec::with_capacity(LEDGER_BATCH_ROWS),
            sender,
            spare,
        };
        let output = simulate(config, common, &mut batches);
        batches.send();
        drop(batches);
        Ok::<_, std::io::Error>((output, writer.join(), syncer.join()))
    })
    .context("starting the ledger's writer")?;
    let rows = match written {
        Ok(finished) => finished.with_context(|| format!("writing {name}"))?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    assert_eq!(
        rows,
        output.totals.rows(),
        "{name} has a row for each entry the run counted"
    );
    match synced {
        Ok(synced) => synced.with_context(|| format!("writing {name}"))?,
        Err(panic) => std::panic::resume_unwind(panic),
    }
    report(&output)?;
    ledger_file
        .commit()
        .with_context(|| format!("writing {name}"))?;
    Ok(output)
}

/// The ledger's writer, in the run's format.
enum RunLedger<W: Write + Send> {
    Csv(Box<CsvLedger<W>>),
    Parquet(Box<ParquetLedger<W>>),
}

impl<W: Write + Send> RunLedger<W> {
    fn record_batch(&mut self, batch: &[LedgerEntry]) {
        match self {
            RunLedger::Csv(ledger) => ledger.record_batch(batch),
            RunLedger::Parquet(ledger) => ledger.record_batch(batch),
        }
    }

    /// Bytes handed to the file so far.
    fn written(&self) -> u64 {
        match self {
            RunLedger::Csv(ledger) => ledger.written(),
            RunLedger::Parquet(ledger) => ledger.written(),
        }
    }

    /// Writes what is left and returns the rows written.
    fn finish(self) -> anyhow::Result<u64> {
        Ok(match self {
            RunLedger::Csv(ledger) => {
                let rows = ledger.rows();
                ledger.finish()?;
                rows
            }
            RunLedger::Parquet(ledger) => {
                let rows = ledger.rows();
                ledger.finish()?;
                rows
            }
        })
    }
}

/// Ledger bytes written between syncs to disk during the run: syncing the whole of a
/// 414 MB ledger at the end held the run 0.12 s after everything else was done.
const LEDGER_SYNC_BYTES: u64 = 32 << 20;

/// Syncs `file` to disk each time it is asked to, while the writer goes on writing, and
/// returns the first error: a failed sync may drop the pages it could not write, so the
/// sync at commit cannot be relied on to report it again.
fn sync_as_written(
    file: &std::fs::File,
    wanted: std::sync::mpsc::Receiver<()>,
) -> std::io::Result<()> {
    while wanted.recv().is_ok() {
        // Requests that queued during the last sync are one sync now.
        while wanted.try_recv().is_ok() {}
        file.sync_data()?;
    }
    Ok(())
}

/// Rows handed to the ledger's writer thread at a time (917 KB). Each hand-over may wake the
/// writer, and a wake-up cost the simulation's thread about 12 µs on this virtual machine:
/// batches of 1,024 rows spent 7 % of a 10 M-request replay there, and the run took 0.80 s
/// against 0.63–0.67 s with these (65,536 rows: no faster, 12 MB more memory).
const LEDGER_BATCH_ROWS: usize = 16384;
/// Batches queued for the writer before the simulation waits: with 8 instead of 2, the same
/// time.
const LEDGER_BATCHES_IN_FLIGHT: usize = 2;

/// A sink that hands rows to the writer thread in batches.
struct BatchedLedger {
    batch: Vec<LedgerEntry>,
    sender: std::sync::mpsc::SyncSender<Vec<LedgerEntry>>,
    /// Batches the writer has written, to fill again.
    spare: std::sync::mpsc::Receiver<Vec<LedgerEntry>>,
}

impl BatchedLedger {
    /// Hands over the rows so far. A writer that stopped has kept its error for `finish`, so a
    /// batch it cannot take is dropped.
    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(LEDGER_BATCH_ROWS));
        let batch = std::mem::replace(&mut self.batch, next);
        let _ = self.sender.send(batch);
    }
}

impl LedgerSink for BatchedLedger {
    fn record(&mut self, entry: &LedgerEntry) {
        self.batch.push(*entry);
        if self.batch.len() == LEDGER_BATCH_ROWS {
            self.send();
        }
    }
}

/// Each chart as PNG and SVG.
fn write_charts(out: &Path, rendered: &[Rendered]) -> Result<(), Failure> {
    for chart in rendered {
        for format in ImageFormat::ALL {
            let name = chart.file_name(format);
            write_atomic(&out.join(&name), chart.bytes(format))
                .with_context(|| format!("writing {name}"))?;
        }
    }
    Ok(())
}

fn chart_failure(error: charts::ChartError) -> Failure {
    Failure::Internal(anyhow::anyhow!("drawing charts: {error}"))
}

/// What a run's `scenario.toml` says first.
const EFFECTIVE_SCENARIO_HEADER: &str = "\
# The scenario this run used: the file with its --set overrides and --seed applied, trace paths
# made absolute (comments and layout of the original are not kept). `vanish run` on this file
# alone repeats the run; report.json's command_line is the command that made it.

";

/// The scenario a run used, as `scenario.toml` in its folder keeps it: runnable from there with
/// no flags.
fn effective_scenario(path: &Path, text: &str, common: &Common) -> Result<String, Failure> {
    let absolute =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let folder = absolute.parent().unwrap_or(Path::new("/"));
    let effective = scenario::effective_text(
        &path.display().to_string(),
        text,
        &overrides(common),
        Some(folder),
    )
    .map_err(|error| Failure::BadInput(error.to_string()))?;
    Ok(format!("{EFFECTIVE_SCENARIO_HEADER}{effective}"))
}

/// report.html, report.json, timeseries.csv, the charts, info-<node>.txt and scenario.toml
/// (the effective scenario), each written atomically.
fn write_run_report(
    config: &SimConfig,
    text: &str,
    effective: &str,
    output: &RunOutput,
    ledger: LedgerFile,
    out: &Path,
) -> Result<(), Failure> {
    let rendered = charts::run_charts(
        output,
        config.server.maxmemory_bytes,
        config.sample_every_us,
    )
    .map_err(chart_failure)?;
    let pairs: Vec<(String, String)> = rendered
        .iter()
        .map(|chart| (chart.title.clone(), chart.svg.clone()))
        .collect();
    let html = report_html(config, text, output, &pairs);
    let mut report = report_json(config, output);
    invocation().add_to(&mut report);
    // The rows are the run's whether or not a file holds them.
    report["ledger"] = serde_json::json!({
        "file": (ledger != LedgerFile::Off).then(|| ledger.name()),
        "rows": output.totals.rows(),
    });
    let report = serde_json::to_vec_pretty(&report).context("report.json")?;
    let mut timeseries = Vec::new();
    let replica_names: Vec<String> = config.replicas.iter().map(|r| r.name.clone()).collect();
    write_timeseries(
        &mut timeseries,
        &output.samples,
        config.sample_every_us,
        &replica_names,
    )
    .context("timeseries.csv")?;
    write_atomic(&out.join("report.json"), &report).context("writing report.json")?;
    write_atomic(&out.join("timeseries.csv"), &timeseries).context("writing timeseries.csv")?;
    for info in &output.nodes {
        let name = format!("info-{}.txt", info.node);
        write_atomic(&out.join(&name), info_text(info).as_bytes())
            .with_context(|| format!("writing {name}"))?;
    }
    write_atomic(&out.join("scenario.toml"), effective.as_bytes())
        .context("writing scenario.toml")?;
    write_charts(out, &rendered)?;
    write_atomic(&out.join("report.html"), html.as_bytes()).context("writing report.html")?;
    Ok(())
}

/// Builds the variants of a grid, validated like the file, each within the run limits.
fn variants(path: &Path, common: &Common, points: &[Vec<String>]) -> Result<Vec<Variant>, Failure> {
    let text = read_scenario(path)?;
    let variants = grid::build_variants(
        &path.display().to_string(),
        &text,
        &overrides(common),
        points,
    )
    .map_err(|error| Failure::BadInput(error.to_string()))?;
    for variant in &variants {
        within_limits(&variant.config, LedgerFormat::Off, common.force).map_err(|refusal| {
            Failure::BadInput(format!("variant {}: {refusal}", variant.label))
        })?;
    }
    Ok(variants)
}

/// Runs the variants on `threads` workers with a progress bar, keeping what `keep` takes from
/// each run (in variant order).
fn run_grid<T: Send>(
    variants: &[Variant],
    common: &Common,
    threads: Option<usize>,
    keep: impl Fn(usize, &Variant, RunOutput) -> T + Sync,
) -> Result<Vec<T>, Failure> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let (workers, lowered) = grid::worker_threads(threads, cores, variants.len());
    if let Some(asked) = threads.filter(|_| lowered && !common.quiet) {
        eprintln!(
            "note: using {workers} worker threads, one per core ({cores} cores), not the \
             {asked} asked for"
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .context("starting worker threads")?;
    let bar = progress_bar(
        variants.len() as u64,
        "{spinner} [{bar:40}] {pos}/{len} runs, eta {eta}",
        common.quiet,
    );
    let kept = pool.install(|| grid::run_variants(variants, &|| bar.inc(1), &keep));
    bar.finish_and_clear();
    Ok(kept)
}

fn parse_axes(policies: &[String], vary: &[String]) -> Result<Vec<Axis>, Failure> {
    let mut axes = Vec::new();
    if !policies.is_empty() {
        axes.push(Axis {
            key: "server.maxmemory-policy".to_string(),
            values: policies.iter().map(|p| p.trim().to_string()).collect(),
        });
    }
    for spec in vary {
        axes.push(Axis::parse(spec).map_err(Failure::BadInput)?);
    }
    grid::check_distinct(&axes).map_err(Failure::BadInput)?;
    Ok(axes)
}

fn compare_variants(
    path: &Path,
    policies: &[String],
    vary: &[String],
    threads: Option<usize>,
    common: &Common,
) -> Result<(), Failure> {
    let axes = parse_axes(policies, vary)?;
    if axes.is_empty() {
        return Err(Failure::BadInput(
            "compare needs --policies or at least one --vary".to_string(),
        ));
    }
    grid::check_grid_size(&axes, common.force).map_err(Failure::BadInput)?;
    let variants = variants(path, common, &grid::points(&axes))?;
    let folder = output_dir(common, &variants[0].config.name)?;
    let out = folder.path().to_path_buf();
    let rows = run_grid(&variants, common, threads, Compared::new)?;
    let mut csv = Vec::new();
    report::compare::write_csv(&mut csv, &rows).context("compare.csv")?;
    let json =
        serde_json::to_vec_pretty(&report::compare::to_json(&rows)).context("compare.json")?;
    write_atomic(&out.join("compare.csv"), &csv).context("writing compare.csv")?;
    write_atomic(&out.join("compare.json"), &json).context("writing compare.json")?;
    let chart_rows = report::compare::chart_rows(&rows);
    write_charts(
        &out,
        &charts::compare_charts(&chart_rows).map_err(chart_failure)?,
    )?;
    let shown = folder.shown().to_path_buf();
    finish_output(folder)?;
    if !common.quiet {
        print!("{}", report::compare::table(&rows));
        println!(
            "\nwrote {}/compare.csv, compare.json and charts (PNG, SVG)",
            shown.display()
        );
    }
    Ok(())
}

fn sweep_grid(
    path: &Path,
    vary: &[String],
    target: Option<&str>,
    shard: Option<&str>,
    (fast, sample_rate): (bool, Option<f64>),
    threads: Option<usize>,
    common: &Common,
) -> Result<(), Failure> {
    let axes = parse_axes(&[], vary)?;
    let sample_rate_ppm = sample_rate
        .map(|rate| {
            report::sweep::sample_rate_ppm(rate).map_err(|why| format!("--sample-rate: {why}"))
        })
        .transpose()
        .map_err(Failure::BadInput)?;
    let target = target
        .map(Target::parse)
        .transpose()
        .map_err(Failure::BadInput)?;
    let shard = shard
        .map(Shard::parse)
        .transpose()
        .map_err(Failure::BadInput)?;
    grid::check_grid_size(&axes, common.force).map_err(Failure::BadInput)?;
    let points = grid::points(&axes);
    let runs_total = points.len();
    let mine: Vec<usize> = (0..runs_total)
        .filter(|run| shard.is_none_or(|s| s.owns(*run)))
        .collect();
    let my_points: Vec<Vec<String>> = mine.iter().map(|&run| points[run].clone()).collect();
    let variants = variants(path, common, &my_points)?;
    let mut origin = sweep_origin(path, common, &points[0], &variants, &mine)?;
    if let Some(ppm) = sample_rate_ppm {
        // A sampled curve is another result of the same scenario: its digest says so.
        origin.scenario_digest = format!("{}+sample-rate-ppm:{ppm}", origin.scenario_digest);
    }
    let folder = output_dir(common, &origin.scenario)?;
    let sampling = sample_rate_ppm.map(|rate_ppm| Sampling { rate_ppm });
    let rows = if fast {
        grid::fast_rows(&axes, &mine, &variants, sampling).map_err(Failure::BadInput)?
    } else {
        run_grid(&variants, common, threads, |index, variant, output| {
            Figures::new(mine[index], variant, &output)
        })?
    };
    let sweep = SweepFile {
        origin,
        axes,
        runs_total,
        target,
        shard,
        rows,
        sample_rate_ppm,
    };
    write_sweep(folder.path(), &sweep)?;
    let shown = folder.shown().to_path_buf();
    finish_output(folder)?;
    if !common.quiet {
        print!("{}", report::sweep::table(&sweep.axes, &sweep.rows));
        print_recommendation(&sweep);
        println!(
            "\nwrote {}/sweep.csv, sweep.json and charts (PNG, SVG)",
            shown.display()
        );
    }
    Ok(())
}

/// Where a sweep comes from: the scenario's name and seed as the grid's first point has them
/// (whichever shard this is, even one without runs), the digest of the scenario with the common
/// overrides, and this command.
fn sweep_origin(
    path: &Path,
    common: &Common,
    first_point: &[String],
    variants: &[Variant],
    mine: &[usize],
) -> Result<SweepOrigin, Failure> {
    let text = read_scenario(path)?;
    let source_name = path.display().to_string();
    let (name, seed) = match (mine.first(), variants.first()) {
        (Some(0), Some(variant)) => (variant.config.name.clone(), variant.config.seed),
        _ => {
            let points = [first_point.to_vec()];
            let built = grid::build_variants(&source_name, &text, &overrides(common), &points)
                .map_err(|error| Failure::BadInput(error.to_string()))?;
            let first = built.first().context("the grid's first point")?;
            (first.config.name.clone(), first.config.seed)
        }
    };
    // Trace paths stay as written, so shards run from different checkouts agree.
    let effective = scenario::effective_text(&source_name, &text, &overrides(common), None)
        .map_err(|error| Failure::BadInput(error.to_string()))?;
    Ok(SweepOrigin {
        scenario: name,
        scenario_digest: grid::scenario_digest(&effective),
        seed,
        invocation: invocation(),
    })
}

fn print_recommendation(sweep: &SweepFile) {
    let Some(target) = &sweep.target else { return };
    if sweep.shard.is_some() {
        println!("\n(recommendations need every run: run `vanish merge` on the shards' folders)");
        return;
    }
    let (axes, rows) = (&sweep.axes, &sweep.rows);
    let recommendations = target::recommendations(axes, rows, target);
    if recommendations.is_empty() {
        // No size axis: say which variants meet the target.
        println!("\n{}", target::variants_meeting(rows, target));
    } else {
        println!(
            "\n{}",
            target::recommendation_text(&recommendations, target, rows)
        );
    }
}

fn write_sweep(out: &Path, sweep: &SweepFile) -> Result<(), Failure> {
    let (axes, rows, target) = (&sweep.axes, &sweep.rows, sweep.target.as_ref());
    let mut csv = Vec::new();
    report::sweep::write_csv(&mut csv, axes, rows).context("sweep.csv")?;
    let json = serde_json::to_vec_pretty(&report::sweep::to_json(sweep)).context("sweep.json")?;
    write_atomic(&out.join("sweep.csv"), &csv).context("writing sweep.csv")?;
    write_atomic(&out.join("sweep.json"), &json).context("writing sweep.json")?;
    // Charts need every run: a shard's are drawn after `vanish merge`.
    if sweep.shard.is_none() {
        if let Some((series, recommended)) = report::sweep::chart_series(axes, rows, target) {
            let rendered =
                charts::sweep_charts(&series, &recommended, target.and_then(Target::hit_ratio))
                    .map_err(chart_failure)?;
            write_charts(out, &rendered)?;
        }
    }
    Ok(())
}

/// A shard's `sweep.json`, read back; anything missing or malformed in it is refused.
fn read_shard(dir: &Path) -> Result<SweepFile, Failure> {
    let path = dir.join("sweep.json");
    let text = fs::read_to_string(&path)
        .map_err(|error| Failure::BadInput(format!("cannot read {}: {error}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|error| error.to_string())
        .and_then(|document| SweepFile::from_json(&document))
        .map_err(|error| Failure::BadInput(format!("{}: {error}", path.display())))
}

/// Merging into one of the shards' own folders would replace the shard being read.
fn refuse_output_among_inputs(out: &Path, dirs: &[PathBuf]) -> Result<(), Failure> {
    let Ok(out_real) = fs::canonicalize(out) else {
        return Ok(()); // a new folder is none of the inputs
    };
    match dirs
        .iter()
        .find(|dir| fs::canonicalize(dir).is_ok_and(|dir| dir == out_real))
    {
        Some(dir) => Err(Failure::BadInput(format!(
            "--out {} is the shard folder {}, which merge reads: write the merged sweep elsewhere",
            out.display(),
            dir.display()
        ))),
        None => Ok(()),
    }
}

/// Joins shards into the sweep one run would have written, refusing shards that do not belong
/// together (see `report::sweep::join`).
fn merge(dirs: &[PathBuf], out: &Path, target: Option<&str>, quiet: bool) -> Result<(), Failure> {
    refuse_output_among_inputs(out, dirs)?;
    let target = target
        .map(Target::parse)
        .transpose()
        .map_err(Failure::BadInput)?;
    let shards = dirs
        .iter()
        .map(|dir| {
            Ok((
                dir.join("sweep.json").display().to_string(),
                read_shard(dir)?,
            ))
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let sweep = report::sweep::join(shards, target, invocation())
        .map_err(|why| Failure::BadInput(format!("cannot merge: {why}")))?;
    let folder = begin_output(out)?;
    write_sweep(folder.path(), &sweep)?;
    finish_output(folder)?;
    if !quiet {
        print!("{}", report::sweep::table(&sweep.axes, &sweep.rows));
        print_recommendation(&sweep);
        println!(
            "\nwrote {}/sweep.csv, sweep.json and charts (PNG, SVG)",
            out.display()
        );
    }
    Ok(())
}

/// Reads a file's text, as bad input when it cannot be read.
fn read_text(path: &Path) -> Result<String, Failure> {
    fs::read_to_string(path)
        .map_err(|error| Failure::BadInput(format!("cannot read {}: {error}", path.display())))
}

fn parse_seconds(flag: &str, text: &str) -> Result<Duration, Failure> {
    let us = scenario::units::parse_duration_us(text)
        .map_err(|error| Failure::BadInput(format!("{flag} {text}: {error}")))?;
    if us == 0 {
        return Err(Failure::BadInput(format!("{flag} must be more than 0")));
    }
    Ok(Duration::from_micros(us))
}

/// A dump's text, parsed into the figures a diagnosis reads.
fn snapshot_of(source: &str, text: &str) -> Result<Snapshot, Failure> {
    InfoDump::parse(source, text)
        .and_then(|dump| Snapshot::from_dump(&dump))
        .map_err(|error| Failure::BadInput(error.to_string()))
}

/// What `diagnose` and `from-info` read: two snapshots (or one), where from, and a live
/// server's `CONFIG GET *` if it allowed it.
struct Dumps {
    before: Option<Snapshot>,
    after: Snapshot,
    origin: Origin,
    config: Option<String>,
    db: Option<u32>,
}

fn read_dumps(sources: &[String], flags: &LiveFlags) -> Result<Dumps, Failure> {
    if let Some(url) = sources.iter().find(|s| live::is_url(s)) {
        if sources.len() > 1 {
            return Err(Failure::BadInput(
                "give either a redis:// URL or INFO dump files, not both".to_string(),
            ));
        }
        return live_dumps(url, flags);
    }
    let texts = sources
        .iter()
        .map(|source| read_text(Path::new(source)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut snapshots = sources
        .iter()
        .zip(&texts)
        .map(|(source, text)| snapshot_of(source, text))
        .collect::<Result<Vec<_>, _>>()?;
    let after = snapshots.pop().context("a dump")?;
    Ok(Dumps {
        before: snapshots.pop(),
        after,
        origin: Origin {
            before: (sources.len() == 2).then(|| sources[0].clone()),
            after: sources[sources.len() - 1].clone(),
        },
        config: None,
        db: None,
    })
}

/// INFO twice, `--interval` apart, with a progress bar; and `CONFIG GET *` if allowed.
fn live_dumps(url: &str, flags: &LiveFlags) -> Result<Dumps, Failure> {
    let interval = parse_seconds("--interval", &flags.interval)?;
    let mut server = Server::connect(url)?;
    let shown = server.shown().to_string();
    let first = server.info_all()?;
    let bar = progress_bar(
        interval.as_secs(),
        "{spinner} [{bar:40}] {pos}/{len} s between the two INFO snapshots",
        flags.quiet,
    );
    let start = std::time::Instant::now();
    while start.elapsed() < interval {
        std::thread::sleep((interval - start.elapsed()).min(Duration::from_millis(250)));
        bar.set_position(start.elapsed().as_secs());
    }
    bar.finish_and_clear();
    let second = server.info_all()?;
    let config = server.config_all()?;
    Ok(Dumps {
        before: Some(snapshot_of(&format!("{shown} (first INFO)"), &first)?),
        after: snapshot_of(&format!("{shown} (second INFO)"), &second)?,
        origin: Origin {
            before: None,
            after: format!("{shown}, {} s apart", interval.as_secs()),
        },
        config,
        db: live::url_db(url),
    })
}

/// The database a Redis client starts on, and `diagnose`'s when neither `--db` nor the dumps
/// name one.
const REDIS_DEFAULT_DB: u32 = 0;

fn diagnose(
    sources: &[String],
    flags: &LiveFlags,
    db: Option<u32>,
    json: bool,
) -> Result<(), Failure> {
    let dumps = read_dumps(sources, flags)?;
    // Redis's clients start on database 0.
    let db = db.or(dumps.db).unwrap_or(REDIS_DEFAULT_DB);
    let diagnosis: Diagnosis = reason::diagnose(dumps.before.as_ref(), &dumps.after, db);
    if json {
        let value = render::json(&dumps.origin, &diagnosis);
        let text = serde_json::to_string_pretty(&value).context("diagnosis JSON")?;
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    } else {
        let text = render::text(&dumps.origin, &diagnosis);
        let _ = write!(std::io::stdout().lock(), "{text}");
    }
    Ok(())
}

fn write_from_info(
    sources: &[String],
    config: Option<&Path>,
    output: &Path,
    name: &str,
    flags: &LiveFlags,
) -> Result<(), Failure> {
    let dumps = read_dumps(sources, flags)?;
    let config_text = match config {
        Some(path) => Some((path.display().to_string(), read_text(path)?)),
        None => dumps
            .config
            .clone()
            .map(|text| ("CONFIG GET *".to_string(), text)),
    };
    let config = config_text
        .map(|(source, text)| from_info::parse_config(&source, &text))
        .transpose()
        .map_err(|error| Failure::BadInput(error.to_string()))?;
    if !flags.quiet {
        eprintln!("fitting the value size and the skew by running the scenario…");
    }
    let fitted = from_info::from_info(dumps.before.as_ref(), &dumps.after, config.as_ref(), name)
        .map_err(|error| match error {
        from_info::FromInfoError::Invalid(_) => Failure::Internal(anyhow::anyhow!("{error}")),
        _ => Failure::BadInput(error.to_string()),
    })?;
    write_atomic(output, fitted.toml.as_bytes())
        .with_context(|| format!("writing {}", output.display()))?;
    if !flags.quiet {
        let ratio = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{:.1} %", r * 100.0));
        println!(
            "wrote {}: zipf skew {:.4} (hit ratio simulated {}, observed {}), value size {} B",
            output.display(),
            fitted.skew,
            ratio(fitted.hit_ratio_simulated),
            ratio(fitted.hit_ratio_observed),
            fitted.value_size
        );
        for note in &fitted.notes {
            println!("note: {note}");
        }
    }
    Ok(())
}

/// Asks on the terminal whether to change `notify-keyspace-events`; refuses off a terminal.
fn may_set_notifications(shown: &str, current: &str, wanted: &str) -> Result<(), Failure> {
    let question = format!(
        "watch needs keyspace notifications: {shown} has notify-keyspace-events \"{current}\"; \
         set it to \"{wanted}\" while watching (restored on exit)?"
    );
    if !std::io::stdin().is_terminal() {
        return Err(Failure::BadInput(format!(
            "{question} Not on a terminal to ask: rerun with --enable-notifications"
        )));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("reading the answer")?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Failure::BadInput(
            "notify-keyspace-events left as it was: nothing watched".to_string(),
        ))
    }
}

fn watch(
    url: &str,
    duration: &str,
    enable: bool,
    out: Option<PathBuf>,
    quiet: bool,
) -> Result<(), Failure> {
    let duration = parse_seconds("--duration", duration)?;
    let mut server = Server::connect(url)?;
    let out = out.unwrap_or_else(|| Path::new("output").join("watch"));
    let folder = begin_output(&out)?;
    let current = server.notify_flags()?;
    let wanted = watched::flags_needed(&current);
    if let Some(wanted) = &wanted {
        if !enable {
            may_set_notifications(server.shown(), &current, wanted)?;
        }
        server.set_notify_flags(wanted)?;
    }
    let bar = progress_bar(
        duration.as_secs(),
        "{spinner} [{bar:40}] {pos}/{len} s watching, eta {eta}",
        quiet,
    );
    WATCHING.store(true, Ordering::SeqCst);
    let watched = server.watch(duration, &STOP_WATCH, &mut |s| bar.set_position(s));
    WATCHING.store(false, Ordering::SeqCst);
    bar.finish_and_clear();
    if wanted.is_some() {
        server.set_notify_flags(&current)?;
    }
    let (events, watched_s) = watched?;
    let observed: Vec<watched::Observed> = events
        .into_iter()
        .map(|e| watched::Observed {
            at_us: e.at_us,
            db: e.db,
            event: e.event,
            key: e.key,
        })
        .collect();
    let node = server.node_name();
    let seen = watched::ledger(&observed, &node);
    let mut csv = CsvLedger::new(
        Vec::new(),
        Arc::new(seen.keys.clone()),
        vec![node],
        watched::CLIENT_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    );
    for entry in &seen.entries {
        csv.record(entry);
    }
    let csv = csv.finish().context("ledger.csv")?;
    let summary = watched::summary_text(&seen, watched_s);
    write_atomic(&folder.path().join("ledger.csv"), &csv).context("writing ledger.csv")?;
    write_atomic(&folder.path().join("summary.txt"), summary.as_bytes())
        .context("writing summary.txt")?;
    let shown = folder.shown().to_path_buf();
    finish_output(folder)?;
    if !quiet {
        print!("{summary}");
        println!("\nwrote {}/ledger.csv and summary.txt", shown.display());
    }
    Ok(())
}

/// `vanish explain`: a run's folder is read back; anything else is a scenario to re-run.
fn explain(
    target: &Path,
    key: Option<&str>,
    cause: Option<&str>,
    top: usize,
    overrides: &Overrides,
    json: bool,
) -> Result<(), Failure> {
    if target.is_dir() {
        if overrides.seed.is_some() || !overrides.sets.is_empty() {
            return Err(Failure::BadInput(
                "--seed and --set apply to a scenario, not to a finished run's folder".to_string(),
            ));
        }
        return explain_run(target, key, cause, top, json);
    }
    if cause.is_some() {
        return Err(Failure::BadInput(format!(
            "--cause lists keys from a finished run's ledger: give its output folder, not {}",
            target.display()
        )));
    }
    let Some(key) = key else {
        return Err(Failure::BadInput(
            "explain a scenario needs a KEY".to_string(),
        ));
    };
    let (config, _) = load(target, overrides)?;
    within_limits(&config, LedgerFormat::Off, false).map_err(Failure::BadInput)?;
    let (output, events) =
        engine::run_explaining(&config, &mut DiscardLedger, &mut engine::NoProgress, key);
    if json {
        println!("{:#}", explain::story_json(key, &config, &output, &events));
    } else {
        print!("{}", explain::story_text(key, &config, &output, &events));
    }
    Ok(())
}

/// Reads a finished run's ledger, whatever format it was written in, row by row.
fn read_run_ledger(folder: &Path, visit: impl FnMut(explain::LedgerRow)) -> Result<(), Failure> {
    let formats = [explain::LedgerFormat::Csv, explain::LedgerFormat::Parquet];
    let Some(format) = formats
        .into_iter()
        .find(|format| folder.join(format.file_name()).is_file())
    else {
        return Err(Failure::BadInput(format!(
            "{} holds no ledger.csv nor ledger.parquet: explain reads a run's ledger (written \
             unless --ledger off)",
            folder.display()
        )));
    };
    let path = folder.join(format.file_name());
    let file = fs::File::open(&path)
        .map_err(|error| Failure::BadInput(format!("cannot read {} ({error})", path.display())))?;
    explain::read_ledger(format, std::io::BufReader::new(file), visit)
        .map_err(|error| Failure::BadInput(format!("{}: {error}", path.display())))
}

fn explain_run(
    folder: &Path,
    key: Option<&str>,
    cause: Option<&str>,
    top: usize,
    json: bool,
) -> Result<(), Failure> {
    match (key, cause) {
        (Some(key), None) => {
            let mut rows = Vec::new();
            read_run_ledger(folder, |row| {
                if row.key == key {
                    rows.push(row);
                }
            })?;
            if json {
                println!("{:#}", explain::ledger_story_json(key, &rows));
            } else {
                print!("{}", explain::ledger_story_text(key, &rows));
            }
            Ok(())
        }
        (None, Some(name)) => {
            let cause = Cause::ALL
                .into_iter()
                .find(|cause| cause.name() == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = Cause::ALL.iter().map(|c| c.name()).collect();
                    Failure::BadInput(format!(
                        "--cause: expected one of {}, found {name:?}",
                        names.join(", ")
                    ))
                })?;
            let mut lost = explain::LostKeys::default();
            read_run_ledger(folder, |row| lost.add(&row, cause))?;
            let keys = lost.top(top);
            if json {
                println!("{:#}", explain::lost_keys_json(cause, &keys));
            } else {
                print!("{}", explain::lost_keys_text(cause, &keys));
            }
            Ok(())
        }
        _ => Err(Failure::BadInput(
            "explain a run: give a KEY, or --cause CAUSE to list the keys it cost most".to_string(),
        )),
    }
}
