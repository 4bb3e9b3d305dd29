//! What a validated scenario will cost before it runs: commands, ledger rows and bytes, and
//! simulator memory; and the limits past which a run is refused unless the user insists
//! (`--force`).
//!
//! Validation's own limits (`limits`) bound what the simulator can represent at all; these are
//! lower and protect the machine and the disk from a slip such as a rate with three extra digits.
//! Every figure is an estimate from the configuration alone (nothing runs), rounded up where it
//! is uncertain, so a refused scenario is refused before it costs anything. The constants say
//! where each number was measured.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::limits::{
    COMMANDS_MAX, CSV_LEDGER_ROWS_MAX, LEDGER_BYTES_MAX, LEDGER_ROW_BYTES, MEMORY_BYTES_MAX,
    NODE_BYTES_PER_KEY, NODE_FIXED_BYTES, PARQUET_LEDGER_ROW_BYTES, TRACE_BYTES_PER_KEY,
};
use crate::sim::config::{
    ClientConfig, EventAction, OnMiss, SimConfig, TraceOp, Workload, MICROS_PER_SECOND,
};

/// A scenario's expected cost. Counts are `f64` because rates are.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Commands the clients send (rate × active seconds, or a trace's records), cache-aside
    /// SETs after misses included at most.
    pub commands: f64,
    /// An upper bound on `ledger.csv`'s rows: every read classified, every write removed once on
    /// every node plus refused or lost once, and every event removing every key on every node
    /// (no more keys than the keyspaces have or the clients write).
    pub ledger_rows: f64,
    /// `ledger_rows` at the measured average row size.
    pub ledger_bytes: f64,
    /// The primary and its replicas, each holding a copy of the keys.
    pub nodes: u64,
    /// Keys one node can hold at once: each keyspace (or trace) once per database it is used in.
    pub keys_per_node: u64,
    /// Peak simulator heap: the nodes' tables, the shared key names, traces and fixed costs.
    pub memory_bytes: f64,
}

/// The file a run's ledger goes to, for its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerFile {
    /// No ledger (`--ledger off`, and the variants of `compare` and `sweep`).
    Off,
    Csv,
    Parquet,
}

impl LedgerFile {
    /// The file's name in a run's folder.
    pub fn name(self) -> &'static str {
        match self {
            LedgerFile::Off => "no ledger",
            LedgerFile::Csv => "ledger.csv",
            LedgerFile::Parquet => "ledger.parquet",
        }
    }
}

/// One limit the estimate is past.
#[derive(Debug, Clone, PartialEq)]
pub struct Excess {
    /// What is too large, as the user would say it ("simulator memory").
    pub what: &'static str,
    pub estimate: String,
    pub limit: String,
    /// What to lower.
    pub remedy: &'static str,
}

impl fmt::Display for Excess {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} could reach {}, past the limit of {} ({})",
            self.what, self.estimate, self.limit, self.remedy
        )
    }
}

impl Estimate {
    pub fn of(config: &SimConfig) -> Estimate {
        let mut reads = 0.0;
        let mut writes = 0.0;
        for client in &config.clients {
            let (client_reads, client_writes) = commands_of(client, config.duration_us);
            reads += client_reads;
            writes += client_writes;
        }
        let nodes = 1 + config.replicas.len() as u64;
        let keys_per_node = keys_per_node(config);
        let removing_events = config
            .events
            .iter()
            .filter(|event| may_remove_everything(&event.action))
            .count() as f64;
        let nodes_f = nodes as f64;
        // A node never holds more keys than its keyspaces have, nor than were written.
        let keys_held = (keys_per_node as f64).min(writes);
        let ledger_rows = reads + writes * (nodes_f + 1.0) + removing_events * keys_held * nodes_f;
        Estimate {
            commands: reads + writes,
            ledger_rows,
            ledger_bytes: ledger_rows * LEDGER_ROW_BYTES as f64,
            nodes,
            keys_per_node,
            memory_bytes: memory_bytes(config, keys_per_node, nodes),
        }
    }

    /// The ledger file a run writes unless told which: CSV, which `grep` and an editor read,
    /// while its rows could stay under [`CSV_LEDGER_ROWS_MAX`]; Parquet, a tenth of the bytes
    /// written in half the time, beyond.
    pub fn ledger_file(&self) -> LedgerFile {
        if self.ledger_rows <= CSV_LEDGER_ROWS_MAX {
            LedgerFile::Csv
        } else {
            LedgerFile::Parquet
        }
    }

    /// The limits this scenario is past when its ledger goes to `ledger`.
    pub fn excesses(&self, ledger: LedgerFile) -> Vec<Excess> {
        let mut excesses = Vec::new();
        if self.commands > COMMANDS_MAX {
            excesses.push(Excess {
                what: "the commands sent",
                estimate: count(self.commands),
                limit: count(COMMANDS_MAX),
                remedy: "lower the rates or the duration, or replay less of a trace",
            });
        }
        let ledger_bytes = match ledger {
            LedgerFile::Off => 0.0,
            LedgerFile::Csv => self.ledger_bytes,
            LedgerFile::Parquet => self.ledger_rows * PARQUET_LEDGER_ROW_BYTES as f64,
        };
        if ledger_bytes > LEDGER_BYTES_MAX as f64 {
            excesses.push(Excess {
                what: ledger.name(),
                estimate: bytes(ledger_bytes),
                limit: bytes(LEDGER_BYTES_MAX as f64),
                remedy: "lower the rates or the duration",
            });
        }
        if self.memory_bytes > MEMORY_BYTES_MAX as f64 {
            excesses.push(Excess {
                what: "the simulator's memory",
                estimate: bytes(self.memory_bytes),
                limit: bytes(MEMORY_BYTES_MAX as f64),
                remedy: "fewer keys, databases or replicas",
            });
        }
        excesses
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let replicas = match self.nodes {
            1 => "1 node".to_string(),
            nodes => format!("{nodes} nodes"),
        };
        write!(
            formatter,
            "up to {} commands; a ledger of up to {} rows ({} as CSV, {} as Parquet); \
             simulator memory up to {} ({} keys per node × {replicas})",
            count(self.commands),
            count(self.ledger_rows),
            bytes(self.ledger_bytes),
            bytes(self.ledger_rows * PARQUET_LEDGER_ROW_BYTES as f64),
            bytes(self.memory_bytes),
            count(self.keys_per_node as f64),
        )
    }
}

/// The refusal for a scenario past `excesses`, with its estimate and the way to run it anyway.
pub fn refusal(estimate: &Estimate, excesses: &[Excess]) -> String {
    let reasons: Vec<String> = excesses.iter().map(ToString::to_string).collect();
    format!(
        "this run is too large: {}.\nestimate: {estimate}\nThe limits are there to catch a slip \
         (see \"Limits\" in the README); pass --force to run it anyway",
        reasons.join("; ")
    )
}

/// A client's reads and writes over the run. A cache-aside client may follow every read with a
/// SET, and a read-through trace every read with an insert: both count as writes at most.
fn commands_of(client: &ClientConfig, scenario_duration_us: u64) -> (f64, f64) {
    match &client.workload {
        Workload::Trace(replay) => {
            let trace = &replay.trace;
            let reads = trace.records.count_op(TraceOp::Get) as f64;
            let writes = trace.records.len() as f64 - reads;
            let inserts = if trace.read_through { reads } else { 0.0 };
            (reads, writes + inserts)
        }
        Workload::Generated(generated) => {
            let active_seconds =
                client.active_us(scenario_duration_us) as f64 / MICROS_PER_SECOND as f64;
            let commands = generated.rate * active_seconds;
            let total_weight: u64 = generated.commands.iter().map(|(_, w)| u64::from(*w)).sum();
            let read_weight: u64 = generated
                .commands
                .iter()
                .filter(|(kind, _)| kind.is_read())
                .map(|(_, w)| u64::from(*w))
                .sum();
            let read_share = read_weight as f64 / total_weight.max(1) as f64;
            let reads = commands * read_share;
            let cache_aside = match generated.on_miss {
                OnMiss::Set => reads,
                OnMiss::None => 0.0,
            };
            (reads, commands - reads + cache_aside)
        }
    }
}

/// Keys one node may hold: a generated keyspace once per (database, prefix) it is used in, the
/// largest when clients share one; a trace's keys once per database its records or its client
/// use. `SELECT` events move a client to more databases.
fn keys_per_node(config: &SimConfig) -> u64 {
    let mut databases: Vec<BTreeSet<u32>> = config
        .clients
        .iter()
        .map(|client| BTreeSet::from([client.db]))
        .collect();
    for event in &config.events {
        if let EventAction::Select { client, db } = event.action {
            if let Some(used) = databases.get_mut(client) {
                used.insert(db);
            }
        }
    }
    let mut generated: BTreeMap<(u32, &str), u64> = BTreeMap::new();
    let mut traces = 0u64;
    for (client, used) in config.clients.iter().zip(&databases) {
        match &client.workload {
            Workload::Generated(workload) => {
                for db in used {
                    let keys = generated
                        .entry((*db, workload.keyspace.prefix.as_str()))
                        .or_insert(0);
                    *keys = (*keys).max(workload.keyspace.keys);
                }
            }
            Workload::Trace(replay) => {
                let trace = &replay.trace;
                let trace_databases = if trace.per_record_db {
                    trace.records.databases().len() as u64
                } else {
                    used.len() as u64
                };
                traces = traces
                    .saturating_add((trace.key_names.len() as u64).saturating_mul(trace_databases));
            }
        }
    }
    generated
        .values()
        .fold(traces, |total, keys| total.saturating_add(*keys))
}

/// Peak heap: every node's copy of its keys, the traces as loaded (their key names are shared
/// by the nodes), and what each node costs empty. A generated keyspace's names are built only
/// when a ledger row needs one, so they cost nothing here.
fn memory_bytes(config: &SimConfig, keys_per_node: u64, nodes: u64) -> f64 {
    let trace_bytes: f64 = config
        .clients
        .iter()
        .filter_map(ClientConfig::trace)
        .map(|trace| {
            // The records' columns are as small as their values allow: their true size.
            trace.records.heap_bytes() as f64
                + trace.key_names.len() as f64 * TRACE_BYTES_PER_KEY as f64
        })
        .sum();
    keys_per_node as f64 * nodes as f64 * NODE_BYTES_PER_KEY as f64
        + trace_bytes
        + nodes as f64 * NODE_FIXED_BYTES as f64
}

/// Operator actions and faults that can remove every key of every node at once, or make a node
/// copy them again (a restart, a resync after a failover or a broken link).
fn may_remove_everything(action: &EventAction) -> bool {
    !matches!(
        action,
        EventAction::ConfigSet(_) | EventAction::Select { .. }
    )
}

/// `1.8 M`, `8.3 G`: three significant figures at most.
pub fn count(value: f64) -> String {
    let units = [(1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")];
    units.iter().find(|(unit, _)| value >= *unit).map_or_else(
        || format!("{value:.0}"),
        |(unit, suffix)| format!("{}{suffix}", significant(value / unit)),
    )
}

/// `580 MiB`, `47.2 GiB`.
pub fn bytes(value: f64) -> String {
    let units = [
        (1_099_511_627_776.0, " TiB"),
        (1_073_741_824.0, " GiB"),
        (1_048_576.0, " MiB"),
        (1024.0, " KiB"),
    ];
    units.iter().find(|(unit, _)| value >= *unit).map_or_else(
        || format!("{value:.0} B"),
        |(unit, suffix)| format!("{}{suffix}", significant(value / unit)),
    )
}

/// Three significant figures for a value from 1 to 1024.
fn significant(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::{load, parse, Overrides};

    fn estimate(text: &str) -> Estimate {
        let config = parse("probe.toml", text, &Overrides::default()).expect("valid");
        Estimate::of(&config)
    }

    fn bundled(name: &str, sets: &[&str]) -> Estimate {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        let overrides = Overrides {
            seed: None,
            sets: sets.iter().map(ToString::to_string).collect(),
        };
        Estimate::of(&load(&path, &overrides).expect("a bundled scenario"))
    }

    fn what_is_past(estimate: &Estimate, with_ledger: bool) -> Vec<&'static str> {
        let ledger = if with_ledger {
            LedgerFile::Csv
        } else {
            LedgerFile::Off
        };
        estimate
            .excesses(ledger)
            .iter()
            .map(|excess| excess.what)
            .collect()
    }

    #[test]
    fn every_bundled_scenario_is_ten_times_inside_every_limit() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut checked = 0;
        for entry in std::fs::read_dir(folder).expect("scenarios/") {
            let path = entry.expect("an entry").path();
            if path.extension().is_none_or(|extension| extension != "toml") {
                continue;
            }
            let config = load(&path, &Overrides::default()).expect("valid");
            let estimate = Estimate::of(&config);
            let name = path.display();
            assert!(
                estimate.commands * 10.0 < COMMANDS_MAX,
                "{name}: {estimate}"
            );
            assert!(
                estimate.ledger_bytes * 10.0 < LEDGER_BYTES_MAX as f64,
                "{name}: {estimate}"
            );
            assert!(
                estimate.memory_bytes * 10.0 < MEMORY_BYTES_MAX as f64,
                "{name}: {estimate}"
            );
            checked += 1;
        }
        assert!(checked >= 20, "{checked}");
    }

    #[test]
    fn a_rate_with_extra_digits_is_past_the_commands_and_the_ledger() {
        let base = bundled("capacity-planning.toml", &[]);
        // 2,000/s for 15 minutes, 95 % GETs each followed by at most one SET.
        assert_eq!(base.commands, 2000.0 * 900.0 * 1.95);
        assert!(base.excesses(LedgerFile::Csv).is_empty());
        let slip = bundled("capacity-planning.toml", &["client.shop.rate=9200491.93"]);
        assert_eq!(
            what_is_past(&slip, true),
            ["the commands sent", "ledger.csv"]
        );
        assert_eq!(what_is_past(&slip, false), ["the commands sent"]);
    }

    #[test]
    fn reads_at_ten_million_a_second_for_a_minute_fill_the_ledger() {
        let estimate = estimate(
            r#"
            [scenario]
            name = "reads"
            seed = 1
            duration = "60s"
            [[client]]
            name = "reader"
            rate = 10000000
            keyspace = { keys = 1000000, prefix = "k:" }
            commands = { GET = 1 }
            "#,
        );
        assert_eq!(estimate.commands, 600_000_000.0);
        assert_eq!(estimate.ledger_rows, 600_000_000.0);
        // A sweep's variants write no ledger: nothing is past.
        assert_eq!(what_is_past(&estimate, true), ["ledger.csv"]);
        assert!(what_is_past(&estimate, false).is_empty());
    }

    #[test]
    fn every_replica_holds_a_copy_of_the_keys() {
        let mut text = r#"
            [scenario]
            name = "copies"
            seed = 1
            duration = "10s"
            [[client]]
            name = "app"
            rate = 100
            keyspace = { keys = 20000000, prefix = "k:" }
            commands = { GET = 1, SET = 1 }
            "#
        .to_string();
        let one_node = estimate(&text);
        assert_eq!((one_node.nodes, one_node.keys_per_node), (1, 20_000_000));
        assert!(one_node.excesses(LedgerFile::Csv).is_empty(), "{one_node}");
        for replica in 1..=16 {
            text.push_str(&format!("[[replica]]\nname = \"r{replica}\"\n"));
        }
        let copies = estimate(&text);
        assert_eq!(copies.nodes, 17);
        assert_eq!(what_is_past(&copies, false), ["the simulator's memory"]);
        let refusal = refusal(&copies, &copies.excesses(LedgerFile::Csv));
        assert!(
            refusal.contains("17 nodes") && refusal.contains("--force"),
            "{refusal}"
        );
    }

    #[test]
    fn keyspaces_count_once_per_database_and_prefix() {
        let estimate = estimate(
            r#"
            [scenario]
            name = "dbs"
            seed = 1
            duration = "10s"
            [[client]]
            name = "a"
            rate = 10
            keyspace = { keys = 1000, prefix = "k:" }
            commands = { GET = 1 }
            [[client]]
            name = "b"
            rate = 10
            keyspace = { keys = 3000, prefix = "k:" }
            commands = { GET = 1 }
            [[client]]
            name = "c"
            rate = 10
            db = 1
            keyspace = { keys = 500, prefix = "k:" }
            commands = { GET = 1 }
            [[event]]
            at = "5s"
            do = "select"
            client = "a"
            db = 2
            "#,
        );
        // db 0: 3000 (a and b share the prefix); db 1: 500; db 2: 1000 after a's SELECT.
        assert_eq!(estimate.keys_per_node, 4500);
    }

    #[test]
    fn counts_and_sizes_read_at_a_glance() {
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1_800_000.0), "1.80 M");
        assert_eq!(count(8_280_442_737.0), "8.28 G");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(584_000_000.0), "557 MiB");
        assert_eq!(bytes(10.0 * 1_073_741_824.0), "10.0 GiB");
    }
}
