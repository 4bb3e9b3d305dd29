//! The `vanish` command line: the only place that touches files, the terminal and the exit code.
//!
//! Exit status: 0 on success, 2 on bad input (scenario, flags), 1 on an internal error such as
//! an unwritable output folder.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use vanish::compare;
use vanish::report::files::{write_atomic, PendingFile};
use vanish::report::info::info_text;
use vanish::report::json::report_json;
use vanish::report::ledger_csv::CsvLedger;
use vanish::report::summary::{human_duration, summary_text};
use vanish::report::timeseries::write_timeseries;
use vanish::scenario::{self, Overrides};
use vanish::sim::config::SimConfig;
use vanish::sim::engine::{self, NoProgress};

#[derive(Parser)]
#[command(
    name = "vanish",
    version,
    about = "Why did my Redis key disappear? A deterministic simulator of Redis key disappearance.",
    long_about = "vanish simulates Redis nodes and their clients on a virtual clock and reports \
                  which keys vanished and why: expiry, deletes, flushes, overwrites, the wrong \
                  database. The same scenario and seed give byte-identical output."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write its report under output/<scenario name>/.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a scenario value, e.g. --set server.maxmemory=64mb or --set client.web.rate=500.
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        sets: Vec<String>,
        /// Write the report here instead of output/<scenario name>/.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run variants of a scenario side by side (in parallel) and compare what they lose.
    Compare {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Eviction policies to compare, e.g. allkeys-lru,allkeys-lfu,volatile-ttl.
        #[arg(long, value_delimiter = ',')]
        policies: Vec<String>,
        /// Vary any scenario value: --vary server.maxmemory=64mb,128mb (several make a grid).
        #[arg(long, value_name = "SECTION.KEY=V1,V2,...")]
        vary: Vec<String>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a scenario value for every variant.
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        sets: Vec<String>,
        /// Write compare.csv and compare.json here instead of output/<scenario name>/.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Worker threads (default: all cores). The results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Validate a scenario without running it.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
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
    let result = match cli.command {
        Command::Run {
            scenario,
            seed,
            sets,
            out,
            quiet,
        } => run(&scenario, &Overrides { seed, sets }, out, quiet),
        Command::Compare {
            scenario,
            policies,
            vary,
            seed,
            sets,
            out,
            threads,
            quiet,
        } => compare_variants(
            &scenario,
            &Overrides { seed, sets },
            &policies,
            &vary,
            out,
            threads,
            quiet,
        ),
        Command::Check { scenario } => check(&scenario),
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

fn load(path: &Path, overrides: &Overrides) -> Result<(SimConfig, String), Failure> {
    let text = fs::read_to_string(path)
        .map_err(|error| Failure::BadInput(format!("cannot read {}: {error}", path.display())))?;
    let config = scenario::parse(&path.display().to_string(), &text, overrides)
        .map_err(|error| Failure::BadInput(error.to_string()))?;
    Ok((config, text))
}

fn check(path: &Path) -> Result<(), Failure> {
    let (config, _) = load(path, &Overrides::default())?;
    println!(
        "ok: {} — {} client(s), {} event(s), {} of virtual time, seed {}",
        config.name,
        config.clients.len(),
        config.events.len(),
        human_duration(config.duration_us),
        config.seed
    );
    Ok(())
}

fn compare_variants(
    path: &Path,
    overrides: &Overrides,
    policies: &[String],
    vary: &[String],
    out: Option<PathBuf>,
    threads: Option<usize>,
    quiet: bool,
) -> Result<(), Failure> {
    let text = fs::read_to_string(path)
        .map_err(|error| Failure::BadInput(format!("cannot read {}: {error}", path.display())))?;
    let mut axes: Vec<Vec<String>> = Vec::new();
    if !policies.is_empty() {
        axes.push(
            policies
                .iter()
                .map(|p| format!("server.maxmemory-policy={}", p.trim()))
                .collect(),
        );
    }
    for spec in vary {
        let values = compare::split_vary(spec).ok_or_else(|| {
            Failure::BadInput(format!(
                "--vary {spec}: expected section.key=value1,value2,..."
            ))
        })?;
        axes.push(values);
    }
    if axes.is_empty() {
        return Err(Failure::BadInput(
            "compare needs --policies or at least one --vary".to_string(),
        ));
    }
    let variants = compare::variants(&path.display().to_string(), &text, overrides, &axes)
        .map_err(|error| Failure::BadInput(error.to_string()))?;
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(threads) = threads {
        builder = builder.num_threads(threads.max(1));
    }
    let pool = builder.build().context("starting worker threads")?;
    let outputs = pool.install(|| compare::run_variants(&variants, &|| {}));

    let name = &variants[0].config.name;
    let out = out.unwrap_or_else(|| Path::new("output").join(name));
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut csv = Vec::new();
    compare::write_csv(&mut csv, &variants, &outputs).context("compare.csv")?;
    let json = serde_json::to_vec_pretty(&compare::to_json(&variants, &outputs))
        .context("compare.json")?;
    write_atomic(&out.join("compare.csv"), &csv).context("writing compare.csv")?;
    write_atomic(&out.join("compare.json"), &json).context("writing compare.json")?;
    if !quiet {
        print!("{}", compare::table(&variants, &outputs));
        println!("\nwrote {}/compare.csv and compare.json", out.display());
    }
    Ok(())
}

fn run(
    path: &Path,
    overrides: &Overrides,
    out: Option<PathBuf>,
    quiet: bool,
) -> Result<(), Failure> {
    let (config, text) = load(path, overrides)?;
    let out = out.unwrap_or_else(|| Path::new("output").join(&config.name));
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    let (keys, _) = vanish::sim::keys::KeyTable::from_clients(&config.clients);
    let client_names = config.clients.iter().map(|c| c.name.clone()).collect();
    let mut ledger_file = PendingFile::create(&out.join("ledger.csv"))
        .with_context(|| format!("cannot write in {}", out.display()))?;
    let mut ledger = CsvLedger::new(
        ledger_file.writer(),
        std::sync::Arc::new(keys),
        vec!["primary".to_string()],
        client_names,
    );
    let output = engine::run(&config, &mut ledger, &mut NoProgress);
    ledger.finish().context("writing ledger.csv")?;

    // Everything is written under temporary names first; the renames come last, together.
    let report =
        serde_json::to_vec_pretty(&report_json(&config, &output)).context("report.json")?;
    let mut timeseries = Vec::new();
    write_timeseries(&mut timeseries, &output.samples, config.sample_every_us)
        .context("timeseries.csv")?;
    write_atomic(&out.join("report.json"), &report).context("writing report.json")?;
    write_atomic(&out.join("timeseries.csv"), &timeseries).context("writing timeseries.csv")?;
    for info in &output.nodes {
        let name = format!("info-{}.txt", info.node);
        write_atomic(&out.join(&name), info_text(info).as_bytes())
            .with_context(|| format!("writing {name}"))?;
    }
    write_atomic(&out.join("scenario.toml"), text.as_bytes()).context("writing scenario.toml")?;
    ledger_file.commit().context("writing ledger.csv")?;

    if !quiet {
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{}", summary_text(&config, &output));
        let _ = writeln!(
            stdout,
            "\nreport: {}/ (report.json, ledger.csv, timeseries.csv, info-*.txt)",
            out.display()
        );
    }
    Ok(())
}
