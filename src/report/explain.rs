//! `vanish explain`: one key's biography, and the keys a cause cost the most reads.
//!
//! Two sources. A scenario re-run that follows the key (`sim::engine::run_explaining`) knows
//! everything: each write (who, size, TTL), each read and its outcome, each arrival on a
//! replica, and each removal with the numbers behind it (an eviction's policy, score and the
//! other pool candidates; an expiry's TTL, who set it and when; a write lost in a failover: its
//! offset and the one the promoted replica had reached; a flush and who sent it). A finished
//! run's ledger knows the removals, misses and refused or lost writes; [`read_ledger`] reads it
//! back row by row, from `ledger.csv` or `ledger.parquet` ([`LedgerFormat`]). Both print as
//! text or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;

use serde_json::{json, Value};

use crate::report::ledger_csv::{actor_name, detail_text, HEADER};
use crate::sim::config::SimConfig;
use crate::sim::engine::RunOutput;
use crate::sim::ledger::watch::{Outcome, WatchEvent};
use crate::sim::ledger::{Cause, Detail, LedgerEntry};

/// One row of a finished run's ledger, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub time_us: u64,
    pub node: String,
    pub db: u32,
    pub key: String,
    pub event: String,
    pub cause: String,
    pub actor: String,
    pub detail: String,
}

/// The formats a run's ledger can be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerFormat {
    Csv,
    Parquet,
}

impl LedgerFormat {
    /// The ledger's file name in a run's folder.
    pub fn file_name(self) -> &'static str {
        match self {
            LedgerFormat::Csv => "ledger.csv",
            LedgerFormat::Parquet => "ledger.parquet",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LedgerFormat::Csv => "csv",
            LedgerFormat::Parquet => "parquet",
        }
    }
}

/// Reads a run's ledger row by row, handing each to `visit`; an error names the row.
pub fn read_ledger(
    format: LedgerFormat,
    input: impl Read,
    mut visit: impl FnMut(LedgerRow),
) -> Result<(), String> {
    match format {
        LedgerFormat::Csv => read_csv(input, &mut visit),
        LedgerFormat::Parquet => read_parquet(input, &mut visit),
    }
}

/// Reads `ledger.parquet` (written by [`crate::report::ledger_parquet`]); the file is read
/// whole, since Parquet's footer comes last.
fn read_parquet(mut input: impl Read, visit: &mut dyn FnMut(LedgerRow)) -> Result<(), String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;

    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| format!("ledger: {e}"))?;
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))
        .map_err(|e| format!("not a Parquet ledger: {e}"))?;
    let columns: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|column| column.name().to_string())
        .collect();
    if columns
        .iter()
        .map(String::as_str)
        .ne(HEADER.iter().copied())
    {
        return Err(format!(
            "expected the ledger columns {}, found {}",
            HEADER.join(","),
            columns.join(",")
        ));
    }
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| format!("ledger: {e}"))?;
    for (index, row) in rows.enumerate() {
        let row_number = index + 1;
        let bad = |e: parquet::errors::ParquetError| format!("ledger row {row_number}: {e}");
        let row = row.map_err(bad)?;
        let text = |i: usize| row.get_string(i).cloned().map_err(bad);
        let time_us = row.get_long(0).map_err(bad)?;
        let db = row.get_int(3).map_err(bad)?;
        let (Ok(time_us), Ok(db)) = (u64::try_from(time_us), u32::try_from(db)) else {
            return Err(format!(
                "ledger row {row_number}: a negative time ({time_us}) or database ({db})"
            ));
        };
        visit(LedgerRow {
            time_us,
            node: text(2)?,
            db,
            key: text(4)?,
            event: text(5)?,
            cause: text(6)?,
            actor: text(7)?,
            detail: text(8)?,
        });
    }
    Ok(())
}

fn read_csv(input: impl Read, visit: &mut dyn FnMut(LedgerRow)) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| format!("ledger header: {e}"))?;
    if header.iter().ne(HEADER.iter().copied()) {
        return Err(format!(
            "expected the ledger header {}, found {}",
            HEADER.join(","),
            header.iter().collect::<Vec<_>>().join(",")
        ));
    }
    for (index, record) in reader.records().enumerate() {
        let row_number = index + 2;
        let record = record.map_err(|e| format!("ledger row {row_number}: {e}"))?;
        if record.len() != HEADER.len() {
            return Err(format!(
                "ledger row {row_number}: expected {} fields, found {}",
                HEADER.len(),
                record.len()
            ));
        }
        let fields: Vec<String> = record.iter().map(unquote_formula).collect();
        let field = |i: usize| fields[i].clone();
        let number = |i: usize, what: &str| {
            field(i).parse::<u64>().map_err(|_| {
                format!(
                    "ledger row {row_number}: expected {what}, found {:?}",
                    field(i)
                )
            })
        };
        visit(LedgerRow {
            time_us: number(0, "time_us")?,
            node: field(2),
            db: number(3, "a database")? as u32,
            key: field(4),
            event: field(5),
            cause: field(6),
            actor: field(7),
            detail: field(8),
        });
    }
    Ok(())
}

/// A field the writer guarded against spreadsheet formulas (`'=...`) as it was.
fn unquote_formula(field: &str) -> String {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => field.to_string(),
    }
}

fn seconds(time_us: u64) -> String {
    format!("{}.{:06}s", time_us / 1_000_000, time_us % 1_000_000)
}

/// A key's ledger rows as text (`vanish explain output/<run> KEY`).
pub fn ledger_story_text(key: &str, rows: &[LedgerRow]) -> String {
    let mut out = format!("key {key}: {} ledger rows\n", rows.len());
    if rows.is_empty() {
        out.push_str(
            "  nothing in the ledger: the key was never removed, missed or refused (the ledger \
             keeps no hits or writes; `vanish explain SCENARIO KEY` tells every command)\n",
        );
    }
    for row in rows {
        let _ = writeln!(
            out,
            "  {:>14}  {:<8} db{}  {:<15} {:<14} by {}  {}",
            seconds(row.time_us),
            row.node,
            row.db,
            row.event,
            row.cause,
            row.actor,
            row.detail
        );
    }
    out
}

pub fn ledger_story_json(key: &str, rows: &[LedgerRow]) -> Value {
    let events: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "time_us": row.time_us,
                "node": row.node,
                "db": row.db,
                "event": row.event,
                "cause": row.cause,
                "actor": row.actor,
                "detail": row.detail,
            })
        })
        .collect();
    json!({ "key": key, "source": "ledger", "events": events })
}

/// A key lost to a cause: the reads that found it gone for that cause, and its removals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostKey {
    pub key: String,
    pub misses: u64,
    pub removals: u64,
}

/// Collects, over a ledger's rows, each key's misses and removals of `cause`.
#[derive(Debug, Default)]
pub struct LostKeys {
    by_key: BTreeMap<String, (u64, u64)>,
}

impl LostKeys {
    pub fn add(&mut self, row: &LedgerRow, cause: Cause) {
        if row.cause != cause.name() {
            return;
        }
        let counts = self.by_key.entry(row.key.clone()).or_default();
        match row.event.as_str() {
            "miss" => counts.0 += 1,
            "removal" => counts.1 += 1,
            _ => {}
        }
    }

    /// The `top` keys with the most reads lost (then removals, then name).
    pub fn top(self, top: usize) -> Vec<LostKey> {
        // A cause of misses alone (replica-lag, wrong-db, never-written, a refused write) has
        // no removal rows: its keys are listed by their misses all the same.
        let mut keys: Vec<LostKey> = self
            .by_key
            .into_iter()
            .map(|(key, (misses, removals))| LostKey {
                key,
                misses,
                removals,
            })
            .collect();
        keys.sort_by(|a, b| {
            b.misses
                .cmp(&a.misses)
                .then(b.removals.cmp(&a.removals))
                .then_with(|| a.key.cmp(&b.key))
        });
        keys.truncate(top);
        keys
    }
}

pub fn lost_keys_text(cause: Cause, keys: &[LostKey]) -> String {
    let mut out = format!(
        "keys lost to {}, by reads that found them gone\n  {:>8} {:>8}  key\n",
        cause.name(),
        "misses",
        "removals"
    );
    if keys.is_empty() {
        out.push_str("  (none)\n");
    }
    for key in keys {
        let _ = writeln!(out, "  {:>8} {:>8}  {}", key.misses, key.removals, key.key);
    }
    out
}

pub fn lost_keys_json(cause: Cause, keys: &[LostKey]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| json!({ "key": k.key, "misses": k.misses, "removals": k.removals }))
        .collect();
    json!({ "cause": cause.name(), "keys": keys })
}

/// Names of the run's nodes and clients, for a story from a re-run.
struct Names<'a> {
    output: &'a RunOutput,
    clients: Vec<String>,
}

impl Names<'_> {
    fn node(&self, index: u16) -> &str {
        self.output
            .nodes
            .get(index as usize)
            .map_or("?", |info| info.node.as_str())
    }
}

/// One event of a re-run's story: (time, node, what happened, its JSON).
fn describe(event: &WatchEvent, names: &Names, last_time: u64) -> (u64, String, Value) {
    let clients = &names.clients;
    let keys = &names.output.keys;
    match event {
        WatchEvent::Command {
            time_us,
            node,
            db,
            client,
            command,
            value_len,
            ttl_ms,
            outcome,
            offset,
        } => {
            let mut text = format!(
                "{:<8} db{db}  {} by {}",
                names.node(node.0),
                command.name(),
                actor_name(*client, clients)
            );
            if let Some(len) = value_len {
                let _ = write!(text, "  {len} bytes");
            }
            if let Some(ttl) = ttl_ms {
                let _ = write!(text, "  ttl {ttl} ms");
            }
            let outcome_text = match outcome {
                Outcome::Ok => "OK".to_string(),
                Outcome::Hit => "hit".to_string(),
                Outcome::Miss => "miss".to_string(),
                Outcome::Integer(n) => format!("({n})"),
                Outcome::Error(prefix) => format!("-{prefix}"),
            };
            let _ = write!(text, "  → {outcome_text}");
            if let Some(offset) = offset {
                let _ = write!(text, "  (replication offset {offset})");
            }
            let json = json!({
                "time_us": time_us, "event": "command", "node": names.node(node.0), "db": db,
                "command": command.name(), "client": actor_name(*client, clients),
                "value_bytes": value_len, "ttl_ms": ttl_ms, "outcome": outcome_text,
                "replication_offset": offset,
            });
            (*time_us, text, json)
        }
        WatchEvent::Row(entry) => row_event(entry, names),
        WatchEvent::Arrival {
            time_us,
            node,
            offset,
        } => (
            *time_us,
            format!(
                "{:<8} arrived (replication offset {offset})",
                names.node(node.0)
            ),
            json!({ "time_us": time_us, "event": "arrival", "node": names.node(node.0),
                    "offset": offset }),
        ),
        WatchEvent::FailoverOffsets {
            write_offset,
            promoted_offset,
        } => {
            let written = match write_offset {
                Some(offset) => format!("at replication offset {offset} on the old primary"),
                None => "past the replica's output buffer (no offset)".to_string(),
            };
            (
                last_time,
                format!(
                    "         the write was {written}; the promoted replica had reached offset \
                     {promoted_offset}"
                ),
                json!({ "time_us": last_time, "event": "failover-offsets",
                        "write_offset": write_offset, "promoted_offset": promoted_offset }),
            )
        }
        WatchEvent::Pool { candidates } => {
            let listed: Vec<String> = candidates
                .iter()
                .map(|(db, key, score)| format!("{} (db{db}) {score}", keys.name(*key)))
                .collect();
            let text = format!(
                "         the eviction pool's other candidates then (scores as above): {}",
                if listed.is_empty() {
                    "none".to_string()
                } else {
                    listed.join(", ")
                }
            );
            let json_candidates: Vec<Value> = candidates
                .iter()
                .map(|(db, key, score)| json!({ "key": keys.name(*key), "db": db, "score": score }))
                .collect();
            (
                last_time,
                text,
                json!({ "time_us": last_time, "event": "eviction-pool",
                        "candidates": json_candidates }),
            )
        }
    }
}

fn row_event(entry: &LedgerEntry, names: &Names) -> (u64, String, Value) {
    let mut detail = detail_text(&entry.detail, &names.output.keys, &names.clients);
    if let Detail::Expiry { set_at_ms, .. } = entry.detail {
        // The slot keeps the moment in ms.
        let _ = write!(
            detail,
            " set_at={}.{:03}s",
            set_at_ms / 1000,
            set_at_ms % 1000
        );
    }
    let actor = actor_name(entry.actor, &names.clients);
    let text = format!(
        "{:<8} db{}  {} {} by {}  {}",
        names.node(entry.node.0),
        entry.db,
        entry.kind.name(),
        entry.cause.name(),
        actor,
        detail
    );
    let json = json!({
        "time_us": entry.time_us, "event": entry.kind.name(), "node": names.node(entry.node.0),
        "db": entry.db, "cause": entry.cause.name(), "actor": actor, "detail": detail,
    });
    (entry.time_us, text, json)
}

/// The story of `key` from a re-run, in order, as (time, text, JSON); an eviction pool is
/// told after the eviction it explains, a failover's offsets at their lost write's time.
fn story(
    config: &SimConfig,
    output: &RunOutput,
    events: &[WatchEvent],
) -> Vec<(u64, String, Value)> {
    let names = Names {
        output,
        clients: config.clients.iter().map(|c| c.name.clone()).collect(),
    };
    let mut told = Vec::with_capacity(events.len());
    let mut pool: Option<&WatchEvent> = None;
    let mut last_time = 0;
    for event in events {
        if matches!(event, WatchEvent::Pool { .. }) {
            pool = Some(event);
            continue;
        }
        let described = describe(event, &names, last_time);
        let time_us = described.0;
        last_time = time_us;
        told.push(described);
        if let Some(pool) = pool.take() {
            told.push(describe(pool, &names, time_us));
        }
    }
    told
}

/// The biography of `key` from a scenario re-run (`vanish explain SCENARIO KEY`).
pub fn story_text(
    key: &str,
    config: &SimConfig,
    output: &RunOutput,
    events: &[WatchEvent],
) -> String {
    let mut out = format!(
        "key {key} in {} (seed {}): {} events\n",
        config.name,
        config.seed,
        events.len()
    );
    if events.is_empty() {
        out.push_str("  no client used this key and nothing happened to it\n");
    }
    for (time_us, text, _) in story(config, output, events) {
        let _ = writeln!(out, "  {:>14}  {text}", seconds(time_us));
    }
    out
}

pub fn story_json(
    key: &str,
    config: &SimConfig,
    output: &RunOutput,
    events: &[WatchEvent],
) -> Value {
    let events: Vec<Value> = story(config, output, events)
        .into_iter()
        .map(|(_, _, json)| json)
        .collect();
    json!({
        "key": key, "source": "scenario", "scenario": config.name, "seed": config.seed,
        "events": events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEDGER: &str = "time_us,time_s,node,db,key,event,cause,actor,detail\n\
        10,0.000010,primary,0,a,removal,evicted,server,policy=allkeys-lru idle_ms=5\n\
        20,0.000020,primary,0,a,miss,evicted,app,removed_at_s=0.000010 removed_by=server\n\
        30,0.000030,primary,0,\"'=b\",removal,evicted,server,policy=allkeys-lru idle_ms=9\n\
        40,0.000040,primary,0,c,removal,expired,server,ttl_ms=5\n";

    fn rows() -> Vec<LedgerRow> {
        let mut rows = Vec::new();
        read_ledger(LedgerFormat::Csv, LEDGER.as_bytes(), |row| rows.push(row)).expect("valid");
        rows
    }

    #[test]
    fn the_ledger_reads_back_as_written() {
        let rows = rows();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[2].key, "=b");
        assert_eq!(rows[1].event, "miss");
        assert_eq!(rows[3].detail, "ttl_ms=5");
        let error = read_ledger(LedgerFormat::Csv, "a,b\n".as_bytes(), |_| {}).expect_err("bad");
        assert!(error.starts_with("expected the ledger header"), "{error}");
    }

    #[test]
    fn a_cause_of_misses_alone_lists_its_keys() {
        let ledger = "time_us,time_s,node,db,key,event,cause,actor,detail\n\
            10,0.000010,replica-1,0,s:1,miss,replica-lag,api,\n\
            20,0.000020,replica-1,0,s:1,miss,replica-lag,api,\n\
            30,0.000030,replica-1,0,s:2,miss,replica-lag,api,\n";
        let mut lost = LostKeys::default();
        read_ledger(LedgerFormat::Csv, ledger.as_bytes(), |row| {
            lost.add(&row, Cause::ReplicaLag)
        })
        .expect("valid");
        let top = lost.top(10);
        assert_eq!(top.len(), 2);
        assert_eq!((top[0].key.as_str(), top[0].misses), ("s:1", 2));
        assert_eq!(top[0].removals, 0);
    }

    #[test]
    fn lost_keys_rank_by_reads_lost() {
        let mut lost = LostKeys::default();
        for row in rows() {
            lost.add(&row, Cause::Evicted);
        }
        let top = lost.top(10);
        assert_eq!(
            top,
            [
                LostKey {
                    key: "a".into(),
                    misses: 1,
                    removals: 1
                },
                LostKey {
                    key: "=b".into(),
                    misses: 0,
                    removals: 1
                },
            ]
        );
        assert!(lost_keys_text(Cause::Evicted, &top).contains("       1        1  a"));
    }
}
