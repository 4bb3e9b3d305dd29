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
    // Bytes, not chars: the four are ASCII, and a char search cost 10 % of a large replay.
    let special = field
        .bytes()
        .any(|byte| matches!(byte, b',' | b'"' | b'\r' | b'\n'));
    if !formula && !special {
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
    /// A field being built (a key name, an actor, a detail), reused.
    field: String,
    keys: Arc<KeyTable>,
    client_names: Vec<String>,
    /// Node and client names as CSV fields, quoted once instead of on every row.
    node_fields: Vec<String>,
    client_fields: Vec<String>,
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
        let as_field = |name: &String| {
            let mut field = String::new();
            push_field(&mut field, name);
            field
        };
        CsvLedger {
            writer,
            line: String::new(),
            field: String::new(),
            keys,
            node_fields: node_names.iter().map(as_field).collect(),
            client_fields: client_names.iter().map(as_field).collect(),
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

    /// Appends the detail column's text to `out`.
    fn push_detail(&self, detail: &Detail, out: &mut String) {
        // The most frequent detail, an eviction's, is written without a `String` of its own.
        if let Detail::Eviction {
            policy,
            score,
            used_memory,
            maxmemory,
        } = *detail
        {
            let mut number = itoa::Buffer::new();
            out.push_str("policy=");
            out.push_str(policy.as_str());
            let score_name = match policy {
                MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => Some(" idle_ms="),
                MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => Some(" lfu_counter="),
                MaxmemoryPolicy::VolatileTtl => Some(" ttl_left_ms="),
                MaxmemoryPolicy::Opt if score == u64::MAX => {
                    out.push_str(" next_use=never");
                    None
                }
                MaxmemoryPolicy::Opt => Some(" next_use="),
                _ => None,
            };
            if let Some(score_name) = score_name {
                out.push_str(score_name);
                out.push_str(number.format(score));
            }
            out.push_str(" used_memory=");
            out.push_str(number.format(used_memory));
            out.push_str(" maxmemory=");
            out.push_str(number.format(maxmemory));
            return;
        }
        // The next most frequent, a miss's "evicted earlier", likewise.
        if let Detail::RemovedEarlier { at_us, by } = *detail {
            out.push_str("removed_at_s=");
            push_seconds(out, at_us);
            out.push_str(" removed_by=");
            push_actor(out, by, &self.client_names);
            return;
        }
        out.push_str(&self.detail_text(detail));
    }

    fn detail_text(&self, detail: &Detail) -> String {
        match *detail {
            Detail::None => String::new(),
            Detail::Expiry {
                ttl_ms,
                set_by,
                lazy,
            } => format!(
                "ttl_ms={ttl_ms} set_by={} via={}",
                self.actor_name(set_by),
                if lazy { "lazy" } else { "active-cycle" }
            ),
            Detail::Command { command, by } => {
                format!("command={} by={}", command.name(), self.actor_name(by))
            }
            Detail::Flush { all, by } => format!(
                "command={} by={}",
                if all { "FLUSHALL" } else { "FLUSHDB" },
                self.actor_name(by)
            ),
            Detail::OperatorDel => "command=DEL by=operator".to_string(),
            Detail::Restored => "rolled back to the last durable state".to_string(),
            Detail::Overwrite {
                by,
                previous_writer,
                type_changed,
            } => format!(
                "by={} previous_writer={}{}",
                self.actor_name(by),
                self.actor_name(previous_writer),
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
                self.actor_name(by)
            ),
            Detail::FoundInDb { db } => format!("key_exists_in_db={db}"),
            Detail::WrittenBy { writer } => format!("written_by={}", self.actor_name(writer)),
            Detail::Eviction { .. } => {
                let mut text = String::new();
                self.push_detail(detail, &mut text);
                text
            }
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
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        self.format_row(entry, &mut line);
        match self.writer.write_all(line.as_bytes()) {
            Ok(()) => self.rows += 1,
            Err(error) => self.error = Some(error),
        }
        self.line = line;
    }
}

impl<W: Write> CsvLedger<W> {
    /// Appends the row of `entry` to `line`, its fields built in place: building each as a
    /// `String` and copying it cost 40 % of a 10 M-request replay.
    fn format_row(&mut self, entry: &LedgerEntry, line: &mut String) {
        let mut number = itoa::Buffer::new();
        line.push_str(number.format(entry.time_us));
        line.push(',');
        push_seconds(line, entry.time_us);
        line.push(',');
        // The sink is given every node's name before the run: a row from another node is a
        // bug, never an empty column.
        let name = self.node_fields.get(entry.node.0 as usize);
        assert!(
            name.is_some(),
            "ledger row from node {}, which the sink has no name for",
            entry.node.0
        );
        line.push_str(name.map_or("", String::as_str));
        line.push(',');
        line.push_str(number.format(entry.db));
        line.push(',');
        let mut field = std::mem::take(&mut self.field);
        field.clear();
        self.keys.push_name(entry.key, &mut field);
        push_field(line, &field);
        line.push(',');
        line.push_str(entry.kind.name());
        line.push(',');
        line.push_str(entry.cause.name());
        line.push(',');
        // `clientN`, `operator` and `server` need no quoting; client names are quoted already.
        push_actor(line, entry.actor, &self.client_fields);
        line.push(',');
        if entry.detail != Detail::None {
            field.clear();
            self.push_detail(&entry.detail, &mut field);
            push_field(line, &field);
        }
        line.push('\n');
        self.field = field;
    }
}

/// `12.000345` for 12,000,345 µs.
fn push_seconds(line: &mut String, time_us: u64) {
    line.push_str(itoa::Buffer::new().format(time_us / 1_000_000));
    line.push('.');
    let mut buffer = itoa::Buffer::new();
    let micros = buffer.format(time_us % 1_000_000);
    for _ in micros.len()..6 {
        line.push('0');
    }
    line.push_str(micros);
}

/// Appends a client's name (from `client_names`, as given), or `operator` / `server`.
fn push_actor(out: &mut String, actor: Actor, client_names: &[String]) {
    match actor.client_index() {
        Some(index) => match client_names.get(index) {
            Some(name) => out.push_str(name),
            None => {
                out.push_str("client");
                out.push_str(itoa::Buffer::new().format(index));
            }
        },
        None if actor == Actor::OPERATOR => out.push_str("operator"),
        None => out.push_str("server"),
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
