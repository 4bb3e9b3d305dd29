//! Random worlds with every invariant checked: `--seed N` reproduces one world (printing its
//! scenario), `--count N [--from S]` runs a soak of N worlds from seed S.
//!
//! `cargo run --release --example vopr -- --count 10000` is the long soak.

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Run random vanish worlds with every invariant checked")]
struct Args {
    /// Run this one seed and print its scenario.
    #[arg(long, conflicts_with_all = ["count", "from"])]
    seed: Option<u64>,
    /// How many seeds to run.
    #[arg(long, default_value_t = 200)]
    count: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    from: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(seed) = args.seed {
        print!("{}", vanish::vopr::scenario(seed));
        return report(vanish::vopr::check(seed).map(|outcome| vec![outcome]));
    }
    let mut outcomes = Vec::new();
    for seed in args.from..args.from + args.count {
        match vanish::vopr::check(seed) {
            Ok(outcome) => outcomes.push(outcome),
            Err(failure) => return report(Err(failure)),
        }
    }
    report(Ok(outcomes))
}

fn report(result: Result<Vec<vanish::vopr::Outcome>, vanish::vopr::Failure>) -> ExitCode {
    match result {
        Ok(outcomes) => {
            let commands: u64 = outcomes.iter().map(|o| o.commands).sum();
            let events: usize = outcomes.iter().map(|o| o.events).sum();
            // On stderr, so that `--seed N > world.toml` keeps the scenario alone.
            eprintln!(
                "{} random worlds ran clean ({commands} commands, {events} operator events)",
                outcomes.len()
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::FAILURE
        }
    }
}
