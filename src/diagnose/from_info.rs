//! A scenario that reproduces a real node's situation, from its INFO (and `CONFIG GET *`).
//!
//! Directives come from `CONFIG GET *` output when given, else from INFO (maxmemory, the policy,
//! appendonly); one client per database holding keys, sized by its `keys=`, with the share of
//! volatile keys as the share of SETs carrying a TTL and a TTL of twice `avg_ttl` (a key written
//! with TTL T at a steady rate has T/2 left on average); the command mix and rate from the
//! Commandstats deltas (commands vanish does not model are left out and listed); connections
//! from `connected_clients` less the one that read INFO; one replica per `connected_slaves`.
//! A database that held keys at the start is preloaded first (a sequential SET per key).
//!
//! Three figures are fitted by running the simulator on the scenario itself, deterministically,
//! in three rounds: the value size, so that used_memory_dataset per key matches (Redis's
//! per-key overhead is the model's, not a constant here); each keyspace's size, so that the
//! keys present at the end match (INFO counts the keys present, not the keys a workload
//! draws from); then the Zipf skew, by bisection, so that the simulated keyspace hit ratio is
//! within half a point of the observed one (one point at worst, when the
//! bisection runs out of steps). The file written is exactly the one the last fit ran.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::diagnose::info::{InfoDump, InfoError};
use crate::diagnose::snapshot::Snapshot;
use crate::report::info::info_text;
use crate::scenario::{self, Overrides};
use crate::sim::engine::{self, NoProgress};
use crate::sim::ledger::DiscardLedger;

/// Scenario commands and the Commandstats names counted as each.
const COMMANDS: [(&str, &[&str]); 21] = [
    ("GET", &["get"]),
    ("EXISTS", &["exists"]),
    ("TTL", &["ttl", "pttl"]),
    ("HGET", &["hget"]),
    ("LRANGE", &["lrange"]),
    ("SMEMBERS", &["smembers"]),
    ("ZRANGE", &["zrange"]),
    ("SET", &["set", "setex", "psetex"]),
    ("INCR", &["incr"]),
    ("DEL", &["del"]),
    ("UNLINK", &["unlink"]),
    ("EXPIRE", &["expire", "pexpire"]),
    ("PERSIST", &["persist"]),
    ("HSET", &["hset"]),
    ("HDEL", &["hdel"]),
    ("LPUSH", &["lpush"]),
    ("LPOP", &["lpop"]),
    ("SADD", &["sadd"]),
    ("SREM", &["srem"]),
    ("ZADD", &["zadd"]),
    ("ZREM", &["zrem"]),
];

/// Scenario commands that create keys.
const WRITES: [&str; 6] = ["SET", "INCR", "HSET", "LPUSH", "SADD", "ZADD"];

/// Commandstats names that are not the workload (the dumps' own INFO, administration).
const NOT_WORKLOAD: [&str; 8] = [
    "info",
    "config|get",
    "config|set",
    "config|resetstat",
    "ping",
    "command",
    "client|setname",
    "select",
];

/// `CONFIG GET` directives copied into the scenario as they are, by section.
const SERVER_DIRECTIVES: [&str; 11] = [
    "maxmemory-policy",
    "maxmemory-samples",
    "maxmemory-eviction-tenacity",
    "lfu-log-factor",
    "lfu-decay-time",
    "hz",
    "active-expire-effort",
    "databases",
    "repl-backlog-size",
    "min-replicas-to-write",
    "min-replicas-max-lag",
];

/// Seconds of preloading for a database that held keys at the start.
const PRELOAD_S: u64 = 10;
/// The longest interval reproduced (longer ones are shortened, keeping the rates).
const DURATION_S_MAX: u64 = 600;
/// Bisection steps over the skew.
const SKEW_STEPS: u32 = 14;
const SKEW_RANGE: (f64, f64) = (0.01, 4.0);
/// Close enough: half a point of hit ratio.
const HIT_RATIO_CLOSE: f64 = 0.005;

#[derive(Debug, thiserror::Error)]
pub enum FromInfoError {
    #[error("{0}")]
    Info(#[from] InfoError),
    #[error("the dumps show no workload: no command vanish can replay ran in the interval (Commandstats)")]
    NoWorkload,
    #[error("the scenario built from the dumps is not valid ({0}); please report this")]
    Invalid(String),
    #[error("the INFO dump lacks {name}: give the output of plain INFO (or INFO all), which has its {section} section")]
    MissingField {
        name: &'static str,
        section: &'static str,
    },
}

/// A counter every INFO of the versions vanish reads prints (`section` names where): missing,
/// the dump was cut or filtered, which is an error to report, not a zero to fit to.
fn dumped_counter(
    snapshot: &Snapshot,
    name: &'static str,
    section: &'static str,
) -> Result<u64, FromInfoError> {
    snapshot
        .counter(name)
        .ok_or(FromInfoError::MissingField { name, section })
}

/// `redis-cli CONFIG GET '*'` output: name and value on alternate lines.
pub fn parse_config(source: &str, text: &str) -> Result<BTreeMap<String, String>, InfoError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    let lines = match lines.last() {
        Some(&"") => &lines[..lines.len() - 1],
        _ => &lines[..],
    };
    if lines.len() % 2 == 1 {
        return Err(InfoError {
            file: source.to_string(),
            line: lines.len(),
            message: "a directive without a value: CONFIG GET prints names and values on \
                      alternate lines (truncated?)"
                .to_string(),
        });
    }
    let mut config = BTreeMap::new();
    for (index, pair) in lines.chunks(2).enumerate() {
        let name = pair[0];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(InfoError {
                file: source.to_string(),
                line: index * 2 + 1,
                message: format!(
                    "`{name}` is not a directive name: expected the output of `redis-cli CONFIG GET '*'`"
                ),
            });
        }
        config.insert(name.to_string(), pair[1].to_string());
    }
    Ok(config)
}

/// What the dumps say, in the scenario's terms.
#[derive(Debug, Clone)]
struct Observed {
    /// Milliseconds between the dumps: from `server_time_usec` when both dumps carry it
    /// (7.0 does), else from whole seconds of uptime.
    interval_ms: u64,
    /// (db, keys at the start, keys at the end, volatile share, avg_ttl ms).
    dbs: Vec<(u32, u64, u64, f64, u64)>,
    commands: Vec<(&'static str, u64)>,
    rate: f64,
    hit_ratio: Option<f64>,
    dataset_per_key: Option<u64>,
    /// Calls of commands that create keys.
    writes: u64,
    connections: u64,
    replicas: u64,
    left_out: Vec<String>,
}

/// The scenario and how it was fitted.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub toml: String,
    pub skew: f64,
    pub value_size: u64,
    pub hit_ratio_observed: Option<f64>,
    pub hit_ratio_simulated: Option<f64>,
    pub notes: Vec<String>,
}

/// Builds and fits the scenario named `name`.
pub fn from_info(
    before: Option<&Snapshot>,
    after: &Snapshot,
    config: Option<&BTreeMap<String, String>>,
    name: &str,
) -> Result<Fitted, FromInfoError> {
    let observed = observe(before, after)?;
    let mut notes = Vec::new();
    if !observed.left_out.is_empty() {
        notes.push(format!(
            "commands vanish does not replay were left out: {}",
            observed.left_out.join(", ")
        ));
    }
    let header = header(&observed, config.is_some());
    let server = server_section(after, config);
    let render = |fit: &Fit| {
        format!(
            "{header}{}{server}{}",
            scenario_section(name, &observed),
            clients(&observed, fit)
        )
    };
    let mut fit = Fit {
        keys: observed
            .dbs
            .iter()
            .map(|db| db.2.max(db.1).max(1))
            .collect(),
        value: observed.dataset_per_key.unwrap_or(100).clamp(1, VALUE_MAX),
        skew: 0.99,
    };
    let mut simulated_ratio = None;
    for _ in 0..ROUNDS {
        let simulated = simulate(&render(&fit))?;
        refit_sizes(&observed, &simulated, &mut fit);
        if let Some(target) = observed.hit_ratio {
            let (skew, ratio) = fit_skew(target, |skew| {
                let trial = Fit {
                    skew,
                    ..fit.clone()
                };
                Ok(simulate(&render(&trial))?.hit_ratio.unwrap_or(0.0))
            })?;
            fit.skew = skew;
            simulated_ratio = Some(ratio);
        }
    }
    if observed.hit_ratio.is_none() {
        notes.push("no reads in the interval: the skew stays at 0.99".to_string());
    }
    Ok(Fitted {
        toml: render(&fit),
        skew: fit.skew,
        value_size: fit.value,
        hit_ratio_observed: observed.hit_ratio,
        hit_ratio_simulated: simulated_ratio,
        notes,
    })
}

/// The fitted figures: each database's keyspace size, the value size, the skew.
#[derive(Debug, Clone)]
struct Fit {
    keys: Vec<u64>,
    value: u64,
    skew: f64,
}

/// Rounds of (value size and keyspace sizes, then skew): each moves the others a little.
const ROUNDS: u32 = 3;
const VALUE_MAX: u64 = 1 << 20;

/// Corrects the value size by the gap in dataset bytes per key, and each keyspace by the ratio
/// of keys present (at least the keys seen, at most those plus every write: a larger keyspace
/// cannot be told from a memory limit).
fn refit_sizes(observed: &Observed, simulated: &Simulated, fit: &mut Fit) {
    if let Some((target, got)) = observed.dataset_per_key.zip(simulated.dataset_per_key) {
        let corrected = fit.value as i64 + target as i64 - got as i64;
        fit.value = corrected.clamp(1, VALUE_MAX as i64) as u64;
    }
    for (keys, db) in fit.keys.iter_mut().zip(&observed.dbs) {
        let present = simulated.keys_in(db.0);
        let seen = db.2.max(db.1);
        if present == 0 || seen == 0 {
            continue;
        }
        let scaled = (*keys as u128 * seen as u128 / present as u128) as u64;
        *keys = scaled.clamp(seen, seen + observed.writes).max(1);
    }
}

/// Bisection over the skew (the hit ratio grows with it), rounded to the 4 decimals written.
fn fit_skew(
    target: f64,
    mut ratio_at: impl FnMut(f64) -> Result<f64, FromInfoError>,
) -> Result<(f64, f64), FromInfoError> {
    let (mut low, mut high) = SKEW_RANGE;
    let mut best = (0.99, f64::INFINITY, 0.0);
    for _ in 0..SKEW_STEPS {
        let skew = round4((low + high) / 2.0);
        let ratio = ratio_at(skew)?;
        let miss = (ratio - target).abs();
        if miss < best.1 {
            best = (skew, miss, ratio);
        }
        if miss <= HIT_RATIO_CLOSE {
            break;
        }
        if ratio < target {
            low = skew;
        } else {
            high = skew;
        }
    }
    Ok((best.0, best.2))
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// What one run of the scenario gives, read back through the same INFO path as the dumps.
struct Simulated {
    hit_ratio: Option<f64>,
    dataset_per_key: Option<u64>,
    /// Keys present at the end, by database.
    keys: BTreeMap<u32, u64>,
}

impl Simulated {
    /// Keys present in `db` at the end: INFO's Keyspace section lists only databases holding
    /// some.
    fn keys_in(&self, db: u32) -> u64 {
        match self.keys.get(&db) {
            Some(keys) => *keys,
            None => 0,
        }
    }
}

fn simulate(toml: &str) -> Result<Simulated, FromInfoError> {
    let config = scenario::parse("from-info.toml", toml, &Overrides::default())
        .map_err(|error| FromInfoError::Invalid(error.to_string()))?;
    let output = engine::run(&config, &mut DiscardLedger, &mut NoProgress);
    let primary = output
        .nodes
        .first()
        .ok_or_else(|| FromInfoError::Invalid("the run has no node".to_string()))?;
    let dump = InfoDump::parse("simulated", &info_text(primary))?;
    let snapshot = Snapshot::from_dump(&dump)?;
    Ok(Simulated {
        hit_ratio: hit_ratio(
            own_counter(&snapshot, "keyspace_hits")?,
            own_counter(&snapshot, "keyspace_misses")?,
        ),
        dataset_per_key: dataset_per_key(&snapshot),
        keys: snapshot.dbs.iter().map(|(db, d)| (*db, d.keys)).collect(),
    })
}

/// The interval between two dumps of one process. Uptime counts whole seconds, which on a
/// short interval misstates every rate by up to a second's worth; 7.0's `server_time_usec`
/// is the server's clock in microseconds.
fn interval_ms(baseline: Option<&Snapshot>, after: &Snapshot, uptime_delta_s: u64) -> u64 {
    let clock = |s: &Snapshot| s.counter("server_time_usec");
    match (baseline.and_then(clock), clock(after)) {
        (Some(b), Some(a)) if a > b => (a - b) / 1000,
        _ => uptime_delta_s * 1000,
    }
}

fn hit_ratio(hits: u64, misses: u64) -> Option<f64> {
    (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64)
}

fn dataset_per_key(snapshot: &Snapshot) -> Option<u64> {
    let keys = snapshot.keys_total();
    let dataset = snapshot.counter("used_memory_dataset")?;
    (keys > 0).then(|| dataset / keys)
}

/// A counter of vanish's own INFO, which prints every one: missing is a fault to report, not
/// a zero to compare with.
fn own_counter(snapshot: &Snapshot, name: &str) -> Result<u64, FromInfoError> {
    snapshot
        .counter(name)
        .ok_or_else(|| FromInfoError::Invalid(format!("the simulated INFO lacks {name}")))
}

fn observe(before: Option<&Snapshot>, after: &Snapshot) -> Result<Observed, FromInfoError> {
    let baseline = before.filter(|b| b.text("run_id") == after.text("run_id"));
    let delta = |name: &'static str, section: &'static str| -> Result<u64, FromInfoError> {
        let a = dumped_counter(after, name, section)?;
        Ok(match baseline {
            Some(b) => a.saturating_sub(dumped_counter(b, name, section)?),
            None => a,
        })
    };
    let interval_ms = interval_ms(baseline, after, delta("uptime_in_seconds", "Server")?).max(1);
    let (commands, left_out) = command_mix(baseline, after);
    let total: u64 = commands.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return Err(FromInfoError::NoWorkload);
    }
    let mut dbs: Vec<(u32, u64, u64, f64, u64)> = after
        .dbs
        .iter()
        .filter(|(_, db)| db.keys > 0)
        .map(|(index, db)| {
            let start = baseline
                .and_then(|b| b.dbs.get(index))
                .map_or(0, |d| d.keys);
            let share = db.expires as f64 / db.keys as f64;
            (*index, start, db.keys, share, db.avg_ttl_ms)
        })
        .collect();
    if dbs.is_empty() {
        dbs.push((0, 0, 0, 0.0, 0));
    }
    // Keys that expired or were evicted were keys too: the first database's keyspace is at
    // least as large as what left it (bounded by the writes that could have made them).
    let writes: u64 = commands
        .iter()
        .filter(|(name, _)| WRITES.contains(name))
        .map(|(_, n)| n)
        .sum();
    let gone = (delta("expired_keys", "Stats")? + delta("evicted_keys", "Stats")?).min(writes);
    dbs[0].2 = dbs[0].2.max(gone).max(1);
    Ok(Observed {
        interval_ms,
        dbs,
        commands,
        rate: total as f64 * 1000.0 / interval_ms as f64,
        hit_ratio: hit_ratio(
            delta("keyspace_hits", "Stats")?,
            delta("keyspace_misses", "Stats")?,
        ),
        dataset_per_key: dataset_per_key(after),
        writes,
        // The connection that asked for INFO is not the workload's.
        connections: dumped_counter(after, "connected_clients", "Clients")?
            .saturating_sub(1)
            .clamp(1, 10_000),
        replicas: dumped_counter(after, "connected_slaves", "Replication")?.min(16),
        left_out,
    })
}

/// Scenario commands with their calls in the interval, and the workload commands left out.
fn command_mix(
    baseline: Option<&Snapshot>,
    after: &Snapshot,
) -> (Vec<(&'static str, u64)>, Vec<String>) {
    let Some(all) = after.commands.as_ref() else {
        return (Vec::new(), Vec::new());
    };
    let calls = |name: &str| {
        let a = all.get(name).map_or(0, |c| c.calls);
        let b = baseline
            .and_then(|b| b.commands.as_ref())
            .and_then(|c| c.get(name))
            .map_or(0, |c| c.calls);
        a.saturating_sub(b)
    };
    let mut mix = Vec::new();
    for (command, names) in COMMANDS {
        let count: u64 = names.iter().map(|name| calls(name)).sum();
        if count > 0 {
            mix.push((command, count));
        }
    }
    let left_out = all
        .keys()
        .filter(|name| {
            calls(name) > 0
                && !NOT_WORKLOAD.contains(&name.as_str())
                && !name.starts_with("command")
                && !COMMANDS
                    .iter()
                    .any(|(_, names)| names.contains(&name.as_str()))
        })
        .cloned()
        .collect();
    (mix, left_out)
}

fn header(observed: &Observed, with_config: bool) -> String {
    let mut text = format!(
        "# Written by `vanish from-info` from INFO dumps {:.3} s apart{}.\n# Rates, key counts, \
         TTLs and the command mix are the node's; the value size and the Zipf skew were fitted \
         by running this scenario.\n",
        observed.interval_ms as f64 / 1000.0,
        if with_config {
            " and CONFIG GET output"
        } else {
            ""
        }
    );
    if !observed.left_out.is_empty() {
        let _ = writeln!(
            text,
            "# Left out (not replayed by vanish): {}",
            observed.left_out.join(", ")
        );
    }
    text.push('\n');
    text
}

fn scenario_section(name: &str, observed: &Observed) -> String {
    let preload = if observed.dbs.iter().any(|db| db.1 > 0) {
        PRELOAD_S
    } else {
        0
    };
    format!(
        "[scenario]\nname = {name:?}\nseed = 1\nduration = \"{}ms\"\n\n",
        preload * 1000 + observed.interval_ms.min(DURATION_S_MAX * 1000)
    )
}

fn server_section(after: &Snapshot, config: Option<&BTreeMap<String, String>>) -> String {
    let mut text = "[server]\n".to_string();
    let maxmemory = config
        .and_then(|c| c.get("maxmemory").cloned())
        .or_else(|| after.counter("maxmemory").map(|m| m.to_string()))
        .unwrap_or_else(|| "0".to_string());
    let _ = writeln!(text, "maxmemory = {maxmemory:?}");
    match config {
        Some(config) => {
            for directive in SERVER_DIRECTIVES {
                if let Some(value) = config.get(directive) {
                    let _ = writeln!(text, "{directive} = {}", toml_value(value));
                }
            }
        }
        None => {
            if let Some(policy) = after.text("maxmemory_policy") {
                let _ = writeln!(text, "maxmemory-policy = {policy:?}");
            }
        }
    }
    text.push('\n');
    text.push_str(&persistence_section(after, config));
    text
}

fn persistence_section(after: &Snapshot, config: Option<&BTreeMap<String, String>>) -> String {
    let mut text = "[persistence]\n".to_string();
    match config {
        Some(config) => {
            if let Some(save) = config.get("save") {
                let _ = writeln!(text, "save = {save:?}");
            }
            if let Some(aof) = config.get("appendonly") {
                let _ = writeln!(text, "appendonly = {}", aof == "yes");
            }
            if let Some(fsync) = config.get("appendfsync") {
                let _ = writeln!(text, "appendfsync = {fsync:?}");
            }
        }
        // Without the Persistence section the scenario keeps its default (no AOF).
        None => {
            if let Some(aof) = after.counter("aof_enabled") {
                let _ = writeln!(text, "appendonly = {}", aof == 1);
            }
        }
    }
    text.push('\n');
    text
}

/// A directive's value as TOML: numbers bare, `yes`/`no` as booleans, the rest quoted.
fn toml_value(value: &str) -> String {
    match value {
        "yes" => "true".to_string(),
        "no" => "false".to_string(),
        _ if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) => value.to_string(),
        _ => format!("{value:?}"),
    }
}

fn clients(observed: &Observed, fit: &Fit) -> String {
    let (skew, value) = (fit.skew, fit.value);
    let mut text = String::new();
    for index in 1..=observed.replicas {
        let _ = writeln!(text, "[[replica]]\nname = \"replica-{index}\"\n");
    }
    let keys_total: u64 = observed.dbs.iter().map(|db| db.2).sum();
    let preload = observed.dbs.iter().any(|db| db.1 > 0);
    let commands = observed
        .commands
        .iter()
        .map(|(name, n)| format!("{name} = {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    for (position, &(db, start, present, share, avg_ttl_ms)) in observed.dbs.iter().enumerate() {
        let keys = fit.keys[position];
        let ttl = if share > 0.0 && avg_ttl_ms > 0 {
            let ms = 2 * avg_ttl_ms;
            format!(
                "ttl = {{ share = {:.4}, min = \"{ms}ms\", max = \"{ms}ms\" }}\n",
                share.min(1.0)
            )
        } else {
            String::new()
        };
        let keyspace = format!("{{ keys = {keys}, prefix = \"db{db}:\"");
        if start > 0 {
            let _ = writeln!(
                text,
                "[[client]]\nname = \"preload-db{db}\"\nrate = {}\nrate-kind = \"fixed\"\n\
                 stop = \"{PRELOAD_S}s\"\ndb = {db}\nkeyspace = {keyspace}, popularity = \"sequential\" }}\n\
                 commands = {{ SET = 1 }}\nvalue-size = {value}\n{ttl}",
                start.div_ceil(PRELOAD_S)
            );
        }
        let rate = observed.rate * present as f64 / keys_total.max(1) as f64;
        let _ = write!(
            text,
            "[[client]]\nname = \"db{db}\"\nrate = {:.3}\ndb = {db}\n",
            rate.max(0.001)
        );
        if preload {
            let _ = writeln!(text, "start = \"{PRELOAD_S}s\"");
        }
        if position == 0 && observed.connections > 1 {
            let _ = writeln!(text, "connections = {}", observed.connections);
        }
        let _ = writeln!(
            text,
            "keyspace = {keyspace}, popularity = \"zipf\", skew = {skew:.4} }}\n\
             commands = {{ {commands} }}\nvalue-size = {value}\n{ttl}"
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_cut_short_is_an_error_naming_what_it_lacks() {
        let text = "# Server\r\nrun_id:a\r\nuptime_in_seconds:20\r\n# Commandstats\r\n\
                    cmdstat_get:calls=10,usec=1,usec_per_call=0.1\r\n";
        let after = Snapshot::from_dump(&InfoDump::parse("cut", text).expect("a dump"))
            .expect("a snapshot");
        let error = observe(None, &after).expect_err("an error, not zeros");
        assert!(
            matches!(
                error,
                FromInfoError::MissingField {
                    section: "Stats",
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("plain INFO"), "{error}");
    }

    #[test]
    fn config_get_output_is_read_in_pairs() {
        let config = parse_config(
            "c.txt",
            "maxmemory\r\n100\r\nmaxmemory-policy\r\nallkeys-lru\r\n",
        )
        .unwrap();
        assert_eq!(config["maxmemory"], "100");
        assert_eq!(config["maxmemory-policy"], "allkeys-lru");
        let error = parse_config("c.txt", "maxmemory\n100\nhz\n").unwrap_err();
        assert_eq!(error.line, 3);
        let error = parse_config("c.txt", "# Server\nrun_id:x\n").unwrap_err();
        assert_eq!(error.line, 1);
    }

    #[test]
    fn the_skew_bisection_converges_on_a_monotone_ratio() {
        let (skew, ratio) = fit_skew(0.7, |skew| Ok(skew / 4.0)).unwrap();
        assert!((ratio - 0.7).abs() <= HIT_RATIO_CLOSE, "{skew} {ratio}");
        assert_eq!(skew, round4(skew));
    }

    #[test]
    fn values_are_written_as_toml() {
        assert_eq!(toml_value("yes"), "true");
        assert_eq!(toml_value("10"), "10");
        assert_eq!(toml_value("allkeys-lru"), "\"allkeys-lru\"");
    }
}
