//! The `vanish` command line: the only place that touches files, the terminal, threads and the
//! exit code.
//!
//! Exit status: 0 on success, 2 on bad input (scenario, flags, an output folder that cannot be
//! used, a run past the limits without `--force`), 1 on an internal error such as a disk that
//! fills up while writing, 130 when interrupted (Ctrl-C, SIGTERM, SIGHUP), after removing the
//! unfinished output folder.

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use vanish::grid::{self, Axis, Figures, Shard, Variant};
use vanish::report;
use vanish::report::charts::{self, ImageFormat, Rendered};
use vanish::report::compare::Compared;
use vanish::report::files::{self, write_atomic, OutputFolder, PendingFile};
use vanish::report::html::report_html;
use vanish::report::info::info_text;
use vanish::report::json::{report_json, Invocation};
use vanish::report::ledger_csv::CsvLedger;
use vanish::report::summary::{human_duration, summary_text};
use vanish::report::sweep::{SweepFile, SweepOrigin};
use vanish::report::target::{self, Target};
use vanish::report::timeseries::write_timeseries;
use vanish::scenario::{self, estimate, Estimate, Overrides};
use vanish::sim::config::SimConfig;
use vanish::sim::engine::{self, Progress, RunOutput};
use vanish::sim::keyspace::keys::KeyTable;
use vanish::sim::ledger::{DiscardLedger, LedgerEntry, LedgerSink};
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
    /// `run`: write ledger.csv (csv, the default) or not (off: no ledger, and no limit on its
    /// size; the report's figures are the same).
    #[arg(long, value_enum, default_value_t = LedgerFormat::Csv)]
    ledger: LedgerFormat,
}

/// Whether and how `run` writes its ledger.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LedgerFormat {
    Csv,
    Off,
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
        /// Estimate as for `run --ledger off` (no ledger.csv, so no limit on its size).
        #[arg(long, value_enum, default_value_t = LedgerFormat::Csv)]
        ledger: LedgerFormat,
    },
}

/// An error with the exit status it deserves.
enum Failure {
    BadInput(String),
    Internal(anyhow::Error),
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
    }
}

/// Ctrl-C, SIGTERM and SIGHUP remove the output folder being written, then end the process;
/// the previous output folder stays as it was.
fn remove_temporaries_on_signals() {
    let installed = ctrlc::set_handler(|| {
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
    let with_ledger = ledger == LedgerFormat::Csv;
    let estimate = within_limits(&config, with_ledger, force).map_err(Failure::BadInput)?;
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
    println!("estimate: {estimate}");
    Ok(())
}

/// The scenario's estimate, or a refusal when it is past the limits and `force` is off.
/// `with_ledger`: whether the run writes ledger.csv (a grid's variants do not).
fn within_limits(config: &SimConfig, with_ledger: bool, force: bool) -> Result<Estimate, String> {
    let estimate = Estimate::of(config);
    let excesses = estimate.excesses(with_ledger);
    if excesses.is_empty() || force {
        return Ok(estimate);
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
    let with_ledger = common.ledger == LedgerFormat::Csv;
    within_limits(&config, with_ledger, common.force).map_err(Failure::BadInput)?;
    let effective = effective_scenario(path, &text, common)?;
    let folder = output_dir(common, &config.name)?;
    let (out, shown) = (folder.path().to_path_buf(), folder.shown().to_path_buf());
    let output = if with_ledger {
        simulate_with_ledger(&config, common, &out, |output| {
            write_run_report(&config, &text, &effective, output, &out)
        })?
    } else {
        let output = simulate(&config, common, &mut DiscardLedger);
        write_run_report(&config, &text, &effective, &output, &out)?;
        output
    };
    finish_output(folder)?;

    if !common.quiet {
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{}", summary_text(&config, &output));
        let ledger_note = if with_ledger { "ledger.csv, " } else { "" };
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

/// Runs the scenario streaming its ledger into `out/ledger.csv`, which is committed only after
/// `report` has written the rest of the report.
fn simulate_with_ledger(
    config: &SimConfig,
    common: &Common,
    out: &Path,
    report: impl FnOnce(&RunOutput) -> Result<(), Failure>,
) -> Result<RunOutput, Failure> {
    let (keys, _) = KeyTable::from_clients(&config.clients);
    let client_names = config.clients.iter().map(|c| c.name.clone()).collect();
    let mut ledger_file = PendingFile::create(&out.join("ledger.csv"))
        .with_context(|| format!("cannot write in {}", out.display()))?;
    let node_names = std::iter::once("primary".to_string())
        .chain(config.replicas.iter().map(|replica| replica.name.clone()))
        .collect();
    let ledger = CsvLedger::new(
        ledger_file.writer(),
        Arc::new(keys),
        node_names,
        client_names,
    );
    // The rows are formatted and written on a second thread, in the order they come: building
    // them was 35 % of a 10 M-request replay's time on the simulation's thread.
    let (output, written) = std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<LedgerEntry>>(4);
        let writer = scope.spawn(move || {
            let mut ledger = ledger;
            for batch in receiver {
                for entry in &batch {
                    ledger.record(entry);
                }
            }
            ledger.finish()
        });
        let mut batches = BatchedLedger {
            batch: Vec::with_capacity(LEDGER_BATCH_ROWS),
            sender,
        };
        let output = simulate(config, common, &mut batches);
        batches.send();
        drop(batches);
        (output, writer.join())
    });
    match written {
        Ok(finished) => finished.map(|_| ()).context("writing ledger.csv")?,
        Err(panic) => std::panic::resume_unwind(panic),
    }
    report(&output)?;
    ledger_file.commit().context("writing ledger.csv")?;
    Ok(output)
}

/// Rows handed to the ledger's writer thread at a time.
const LEDGER_BATCH_ROWS: usize = 8192;

/// A sink that hands rows to the writer thread in batches.
struct BatchedLedger {
    batch: Vec<LedgerEntry>,
    sender: std::sync::mpsc::SyncSender<Vec<LedgerEntry>>,
}

impl BatchedLedger {
    /// Hands over the rows so far. A writer that stopped has kept its error for `finish`, so a
    /// batch it cannot take is dropped.
    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(LEDGER_BATCH_ROWS));
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
        within_limits(&variant.config, false, common.force).map_err(|refusal| {
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
