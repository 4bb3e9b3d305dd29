//! `ledger.csv`: one row per removal and per classified read, streamed as the simulation runs.
//!
//! Key names and client names come from traces and scenarios, so a field is quoted as CSV
//! requires (a comma, a quote or a line break in it), and one that a spreadsheet would read as
//! a formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's list for
//! CSV injection) is quoted with a `'` in front, which the spreadsheet shows as text.

use std::io::{self, Write};
use std::sync::Arc;

use crate::sim::config::MaxmemoryPolicy;
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::{Actor, Detail, LedgerEntry, LedgerSink};

pub const HEADER: [&str; 9] = [
    "time_us", "time_s", "node", "db", "key", "event", "cause", "actor", "detail",
];

/// First characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Appends `field` to a CSV `line`: quoted (quotes doubled) if it holds a comma, a quote or a
/// line break, and quoted behind a `'` if it begins like a formula.
fn push_field(line: &mut String, field: &str) {
    let formula = field.starts_with(FORMULA_STARTS);
    if !formula && !field.contains([',', '"', '\r', '\n']) {
        line.push_str(field);
        return;
    }
    line.push('"');
    if formula {
        line.push('\'');
    }
    for character in field.chars() {
        if character == '"' {
            line.push('"');
        }
        line.push(character);
    }
    line.push('"');
}

/// A ledger sink writing CSV rows. Write errors are kept and reported by `finish`, since the
/// core's sink interface cannot fail.
pub struct CsvLedger<W: Write> {
    writer: W,
    /// The row being formatted, reused.
    line: String,
    keys: Arc<KeyTable>,
    node_names: Vec<String>,
    client_names: Vec<String>,
    error: Option<io::Error>,
    rows: u64,
}

impl<W: Write> CsvLedger<W> {
    pub fn new(
        output: W,
        keys: Arc<KeyTable>,
        node_names: Vec<String>,
        client_names: Vec<String>,
    ) -> CsvLedger<W> {
        let mut writer = output;
        let error = writeln!(writer, "{}", HEADER.join(",")).err();
        CsvLedger {
            writer,
            line: String::new(),
            keys,
            node_names,
            client_names,
            error,
            rows: 0,
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and returns the underlying writer, or the first write error.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(error) = self.error {
            return Err(error);
        }
        self.writer.flush()?;
        Ok(self.writer)
    }

    fn actor_name(&self, actor: Actor) -> String {
        actor_name(actor, &self.client_names)
    }

    fn detail_text(&self, detail: &Detail) -> String {
        detail_text(detail, &self.keys, &self.client_names)
    }
}

/// The ledger's `detail` column for `detail`.
pub fn detail_text(detail: &Detail, keys: &KeyTable, client_names: &[String]) -> String {
    match *detail {
        Detail::None => String::new(),
        Detail::Expiry {
            ttl_ms,
            set_by,
            lazy,
            ..
        } => format!(
            "ttl_ms={ttl_ms} set_by={} via={}",
            actor_name(set_by, client_names),
            if lazy { "lazy" } else { "active-cycle" }
        ),
        Detail::Command { command, by } => {
            format!(
                "command={} by={}",
                command.name(),
                actor_name(by, client_names)
            )
        }
        Detail::Flush { all, by } => format!(
            "command={} by={}",
            if all { "FLUSHALL" } else { "FLUSHDB" },
            actor_name(by, client_names)
        ),
        Detail::OperatorDel => "command=DEL by=operator".to_string(),
        Detail::Relocated {
            command,
            by,
            to,
            to_db,
        } => format!(
            "command={} by={} to={} to_db={to_db}",
            command.name(),
            actor_name(by, client_names),
            keys.name(to)
        ),
        Detail::Restored => "rolled back to the last durable state".to_string(),
        Detail::Overwrite {
            by,
            previous_writer,
            type_changed,
        } => format!(
            "by={} previous_writer={}{}",
            actor_name(by, client_names),
            actor_name(previous_writer, client_names),
            if type_changed {
                " type_changed=yes"
            } else {
                ""
            }
        ),
        Detail::RemovedEarlier { at_us, by } => format!(
            "removed_at_s={}.{:06} removed_by={}",
            at_us / 1_000_000,
            at_us % 1_000_000,
            actor_name(by, client_names)
        ),
        Detail::FoundInDb { db } => format!("key_exists_in_db={db}"),
        Detail::WrittenBy { writer } => format!("written_by={}", actor_name(writer, client_names)),
        Detail::Eviction {
            policy,
            score,
            used_memory,
            maxmemory,
        } => {
            let score = match policy {
                MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => {
                    format!(" idle_ms={score}")
                }
                MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
                    format!(" lfu_counter={score}")
                }
                MaxmemoryPolicy::VolatileTtl => format!(" ttl_left_ms={score}"),
                MaxmemoryPolicy::Opt if score == u64::MAX => " next_use=never".to_string(),
                MaxmemoryPolicy::Opt => format!(" next_use={score}"),
                _ => String::new(),
            };
            format!(
                "policy={}{score} used_memory={used_memory} maxmemory={maxmemory}",
                policy.as_str()
            )
        }
    }
}

/// A client's name, or `operator` / `server`.
pub fn actor_name(actor: Actor, client_names: &[String]) -> String {
    match actor.client_index() {
        Some(index) => client_names
            .get(index)
            .cloned()
            .unwrap_or_else(|| format!("client{index}")),
        None if actor == Actor::OPERATOR => "operator".to_string(),
        None => "server".to_string(),
    }
}

impl<W: Write> LedgerSink for CsvLedger<W> {
    fn record(&mut self, entry: &LedgerEntry) {
        if self.error.is_some() {
            return;
        }
        let time_s = format!(
            "{}.{:06}",
            entry.time_us / 1_000_000,
            entry.time_us % 1_000_000
        );
        // The sink is given every node's name before the run: a row from another node is a
        // bug, never an empty column.
        let name = self.node_names.get(entry.node.0 as usize);
        assert!(
            name.is_some(),
            "ledger row from node {}, which the sink has no name for",
            entry.node.0
        );
        let node = name.cloned().unwrap_or_default();
        let row = [
            entry.time_us.to_string(),
            time_s,
            node,
            entry.db.to_string(),
            self.keys.name(entry.key),
            entry.kind.name().to_string(),
            entry.cause.name().to_string(),
            self.actor_name(entry.actor),
            self.detail_text(&entry.detail),
        ];
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        for (index, field) in row.iter().enumerate() {
            if index > 0 {
                line.push(',');
            }
            push_field(&mut line, field);
        }
        line.push('\n');
        match self.writer.write_all(line.as_bytes()) {
            Ok(()) => self.rows += 1,
            Err(error) => self.error = Some(error),
        }
        self.line = line;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(text: &str) -> String {
        let mut line = String::new();
        push_field(&mut line, text);
        line
    }

    #[test]
    fn fields_are_quoted_as_csv_requires() {
        assert_eq!(field("user:42"), "user:42");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field(""), "");
    }

    #[test]
    fn a_field_beginning_like_a_formula_is_neutralised() {
        assert_eq!(field("=cmd|calc"), "\"'=cmd|calc\"");
        assert_eq!(field("+1"), "\"'+1\"");
        assert_eq!(field("-2+3"), "\"'-2+3\"");
        assert_eq!(field("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(field("\tx"), "\"'\tx\"");
        assert_eq!(field("\rx"), "\"'\rx\"");
        assert_eq!(field("=HYPERLINK(\"x\",1)"), "\"'=HYPERLINK(\"\"x\"\",1)\"");
        assert_eq!(field("a=b"), "a=b");
    }
}
