//! `ledger.csv`: one row per removal and per classified read, streamed as the simulation runs.
//!
//! Key names and client names come from traces and scenarios, so a field is quoted as CSV
//! requires (a comma, a quote or a line break in it), and one that a spreadsheet would read as
//! a formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's list for
//! CSV injection) is quoted with a `'` in front, which the spreadsheet shows as text.

use std::io::{self, Write};
use std::sync::Arc;

use crate::report::ledger_row::{Piece, Row, ROW_BYTES};
use crate::sim::config::MaxmemoryPolicy;
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, LedgerEntry, LedgerSink};

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

/// Formatted rows are written out once they reach this many bytes.
const OUT_BYTES: usize = 1 << 20;

/// A ledger sink writing CSV rows. Write errors are kept and reported by `finish`, since the
/// core's sink interface cannot fail.
pub struct CsvLedger<W: Write> {
    writer: W,
    /// Rows formatted and not yet written (the first `out_len` bytes; the rest is room for
    /// rows being built): written a megabyte at a time, in one `write_all` each (a row at a
    /// time through a `BufWriter` copied every byte twice).
    out: Vec<u8>,
    out_len: usize,
    /// The common rows' parts, padded for copies of a fixed width (see [`Piece`]).
    pieces: Pieces,
    /// A row not built from pieces, reused.
    line: String,
    /// A batch's key names as numbers (`KeyTable::number_name`), reused.
    numbers: Vec<Option<u64>>,
    /// A field being built (a key name, an actor, a detail), reused.
    field: String,
    keys: Arc<KeyTable>,
    client_names: Vec<String>,
    /// Node and client names as CSV fields, quoted once instead of on every row.
    node_fields: Vec<String>,
    client_fields: Vec<String>,
    error: Option<io::Error>,
    rows: u64,
    /// Bytes handed to the writer.
    written: u64,
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
            out: vec![0; OUT_BYTES + 2 * ROW_BYTES],
            out_len: 0,
            pieces: Pieces::default(),
            line: String::new(),
            numbers: Vec::new(),
            field: String::new(),
            keys,
            node_fields: node_names.iter().map(as_field).collect(),
            client_fields: client_names.iter().map(as_field).collect(),
            client_names,
            error,
            rows: 0,
            written: 0,
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes handed to the writer so far (rows still buffered are not counted).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes and returns the underlying writer, or the first write error.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_out();
        if let Some(error) = self.error {
            return Err(error);
        }
        self.writer.flush()?;
        Ok(self.writer)
    }

    pub fn record_batch(&mut self, batch: &[LedgerEntry]) {
        NamedRows::record_batch(self, batch);
    }

    /// Appends the row of `entry` (whose key's name is `number`, if a number) and writes the
    /// rows out once they fill [`OUT_BYTES`].
    fn record_named(&mut self, entry: &LedgerEntry, number: Option<u64>) {
        if self.error.is_some() {
            return;
        }
        if !self.push_from_pieces(entry, number) {
            let mut line = std::mem::take(&mut self.line);
            line.clear();
            self.format_row(entry, number, &mut line);
            self.push_bytes(line.as_bytes());
            self.line = line;
        }
        self.rows += 1;
        if self.out_len >= OUT_BYTES {
            self.write_out();
        }
    }

    /// Appends `bytes` to the rows not yet written.
    fn push_bytes(&mut self, bytes: &[u8]) {
        if self.out_len + bytes.len() > self.out.len() {
            self.write_out();
        }
        match self.out.get_mut(self.out_len..self.out_len + bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.out_len += bytes.len();
            }
            // A row longer than the whole buffer (a very long key name).
            None => self.write_bytes(bytes),
        }
    }

    fn write_out(&mut self) {
        let out = std::mem::take(&mut self.out);
        self.write_bytes(&out[..self.out_len]);
        self.out = out;
        self.out_len = 0;
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        if self.error.is_none() {
            match self.writer.write_all(bytes) {
                Ok(()) => self.written += bytes.len() as u64,
                Err(error) => self.error = Some(error),
            }
        }
    }

    /// Appends the detail column's text to `out`.
    fn push_detail(&self, detail: &Detail, out: &mut String) {
        // The most frequent detail, an eviction's, is written without a `String` of its own.
        if let Detail::Eviction { .. } = detail {
            push_eviction(detail, out);
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
        out.push_str(&detail_text(detail, &self.keys, &self.client_names));
    }
}

/// A ledger file's writer that takes rows with their key names as numbers where they are.
pub trait NamedRows {
    fn key_table(&self) -> &KeyTable;
    /// A reused list of a batch's key numbers.
    fn numbers(&mut self) -> &mut Vec<Option<u64>>;
    /// Writes the row of `entry`, whose key's name is `number` if it is a number.
    fn record_named(&mut self, entry: &LedgerEntry, number: Option<u64>);

    /// Writes a batch of rows. Their key names are looked up first, all together: in a large
    /// numbered trace each is a cache miss, and independent loads overlap where a row at a
    /// time waits for each (the names were a fifth of a 10 M-request replay's time).
    fn record_batch(&mut self, batch: &[LedgerEntry]) {
        let mut numbers = std::mem::take(self.numbers());
        numbers.clear();
        self.key_table()
            .number_names(batch.iter().map(|entry| entry.key), &mut numbers);
        for (entry, number) in batch.iter().zip(&numbers) {
            self.record_named(entry, *number);
        }
        *self.numbers() = numbers;
    }
}

impl<W: Write> NamedRows for CsvLedger<W> {
    fn key_table(&self) -> &KeyTable {
        &self.keys
    }

    fn numbers(&mut self) -> &mut Vec<Option<u64>> {
        &mut self.numbers
    }

    fn record_named(&mut self, entry: &LedgerEntry, number: Option<u64>) {
        CsvLedger::record_named(self, entry, number);
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
        Detail::Eviction { .. } => {
            let mut text = String::new();
            push_eviction(detail, &mut text);
            text
        }
    }
}

/// Appends an eviction's detail to `out`, its numbers formatted in place.
fn push_eviction(detail: &Detail, out: &mut String) {
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
        let number = self.keys.number_name(entry.key);
        self.record_named(entry, number);
    }
}

/// The parts rows repeat, formatted once: rows come in runs with the same time, node and
/// database, a few combinations of event, cause and actor, and (in a replay) one eviction
/// detail after another differing only when the memory figures move.
#[derive(Default)]
struct Pieces {
    /// `time_us,time_s,` of the last row.
    time_us: Option<u64>,
    time: Piece<48>,
    /// `node,db,` of the last row.
    place_of: Option<(u16, u32)>,
    place: Piece<64>,
    /// `,event,cause,actor,` of each combination seen.
    whats: Vec<((EntryKind, Cause, Actor), Piece<64>)>,
    /// The last eviction's detail.
    eviction_of: Option<Detail>,
    eviction: Piece<128>,
}

impl<W: Write> CsvLedger<W> {
    fn time_piece(&mut self, time_us: u64) -> &Piece<48> {
        let pieces = &mut self.pieces;
        if pieces.time_us != Some(time_us) {
            pieces.time_us = Some(time_us);
            let text = pieces.time.text_mut();
            text.clear();
            text.push_str(itoa::Buffer::new().format(time_us));
            text.push(',');
            push_seconds(text, time_us);
            text.push(',');
            pieces.time.padded();
        }
        &pieces.time
    }

    fn place_piece(&mut self, entry: &LedgerEntry) -> &Piece<64> {
        let pieces = &mut self.pieces;
        if pieces.place_of != Some((entry.node.0, entry.db)) {
            pieces.place_of = Some((entry.node.0, entry.db));
            // The sink is given every node's name before the run: a row from another node is
            // a bug, never an empty column.
            let name = self.node_fields.get(entry.node.0 as usize);
            assert!(
                name.is_some(),
                "ledger row from node {}, which the sink has no name for",
                entry.node.0
            );
            let text = pieces.place.text_mut();
            text.clear();
            text.push_str(name.map_or("", String::as_str));
            text.push(',');
            text.push_str(itoa::Buffer::new().format(entry.db));
            text.push(',');
            pieces.place.padded();
        }
        &pieces.place
    }

    fn what_piece(&mut self, entry: &LedgerEntry) -> &Piece<64> {
        let what = (entry.kind, entry.cause, entry.actor);
        let whats = &mut self.pieces.whats;
        let index = match whats.iter().position(|(of, _)| *of == what) {
            Some(index) => index,
            None => {
                let mut piece = Piece::default();
                let text = piece.text_mut();
                text.push(',');
                text.push_str(entry.kind.name());
                text.push(',');
                text.push_str(entry.cause.name());
                text.push(',');
                // `clientN`, `operator` and `server` need no quoting; client names are quoted
                // already.
                push_actor(text, entry.actor, &self.client_fields);
                text.push(',');
                piece.padded();
                whats.push((what, piece));
                whats.len() - 1
            }
        };
        &whats[index].1
    }

    /// An eviction's detail: words, `=`, `-` and digits, nothing a CSV field quotes.
    fn eviction_piece(&mut self, detail: &Detail) -> &Piece<128> {
        let pieces = &mut self.pieces;
        if pieces.eviction_of != Some(*detail) {
            pieces.eviction_of = Some(*detail);
            let text = pieces.eviction.text_mut();
            text.clear();
            push_eviction(detail, text);
            pieces.eviction.padded();
        }
        &pieces.eviction
    }

    /// Appends the row of `entry` to the output from fixed-width pieces (see
    /// [`crate::report::ledger_row`]), if its key is a number and its detail one of the
    /// frequent ones; false, with nothing appended, otherwise.
    fn push_from_pieces(&mut self, entry: &LedgerEntry, number: Option<u64>) -> bool {
        let Some(number) = number else {
            return false;
        };
        let mut out = std::mem::take(&mut self.out);
        let mut row = Row::new(&mut out[self.out_len..]);
        let built = (|| {
            row.put(self.time_piece(entry.time_us))?;
            row.put(self.place_piece(entry))?;
            row.put_number(number)?;
            row.put(self.what_piece(entry))?;
            match entry.detail {
                Detail::None => {}
                Detail::Eviction { .. } => row.put(self.eviction_piece(&entry.detail))?,
                Detail::RemovedEarlier { at_us, by } if by.client_index().is_none() => {
                    let mut seconds = std::mem::take(&mut self.field);
                    seconds.clear();
                    push_seconds(&mut seconds, at_us);
                    row.put_str("removed_at_s=")?;
                    let put = row.put_str(&seconds);
                    self.field = seconds;
                    put?;
                    row.put_str(" removed_by=")?;
                    row.put_str(if by == Actor::OPERATOR {
                        "operator"
                    } else {
                        "server"
                    })?;
                }
                _ => return None,
            }
            row.put_str("\n")
        })();
        let length = row.length();
        self.out = out;
        if built.is_some() {
            self.out_len += length;
        }
        built.is_some()
    }

    /// Appends the row of `entry` to `line`, its fields built in place: building each as a
    /// `String` and copying it cost 40 % of a 10 M-request replay.
    fn format_row(&mut self, entry: &LedgerEntry, name_number: Option<u64>, line: &mut String) {
        line.push_str(self.time_piece(entry.time_us).as_str());
        line.push_str(self.place_piece(entry).as_str());
        let mut field = std::mem::take(&mut self.field);
        match name_number {
            // Digits need no quoting.
            Some(name) => line.push_str(itoa::Buffer::new().format(name)),
            None => {
                field.clear();
                self.keys.push_name(entry.key, &mut field);
                push_field(line, &field);
            }
        }
        line.push_str(self.what_piece(entry).as_str());
        match entry.detail {
            Detail::None => {}
            Detail::Eviction { .. } => line.push_str(self.eviction_piece(&entry.detail).as_str()),
            Detail::RemovedEarlier { by, .. } if by.client_index().is_none() => {
                self.push_detail(&entry.detail, line)
            }
            _ => {
                field.clear();
                self.push_detail(&entry.detail, &mut field);
                push_field(line, &field);
            }
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

#[cfg(test)]
pub(crate) mod batch_tests {
    use super::*;
    use crate::sim::config::*;
    use crate::sim::ledger::{KeyId, NodeId};

    pub(crate) fn trace_client(name: &str, names: KeyNames) -> ClientConfig {
        let trace = Trace {
            source: name.into(),
            key_names: names,
            records: TraceRecords::new(),
            read_through: true,
            per_record_db: false,
            notes: Default::default(),
            prefix_separator: ":".into(),
        };
        ClientConfig::new(
            name,
            Workload::Trace(TraceWorkload {
                trace: Arc::new(trace),
                rate: None,
            }),
        )
    }

    pub(crate) fn rows() -> Vec<LedgerEntry> {
        let entry = |time_us, key, kind, cause, actor, detail| LedgerEntry {
            time_us,
            node: NodeId((time_us % 2) as u16),
            db: (time_us % 3) as u32,
            key: KeyId(key),
            kind,
            cause,
            actor,
            detail,
        };
        let eviction = Detail::Eviction {
            policy: MaxmemoryPolicy::Opt,
            score: 17,
            used_memory: 1000,
            maxmemory: 999,
        };
        let removed = |by| Detail::RemovedEarlier {
            at_us: 1_500_000,
            by,
        };
        let (miss, removal) = (EntryKind::Miss, EntryKind::Removal);
        vec![
            entry(
                0,
                0,
                miss,
                Cause::NeverWritten,
                Actor::client(0),
                Detail::None,
            ),
            entry(0, 3, removal, Cause::Evicted, Actor::SERVER, eviction),
            entry(
                0,
                4,
                miss,
                Cause::Evicted,
                Actor::client(1),
                removed(Actor::SERVER),
            ),
            entry(
                7,
                5,
                miss,
                Cause::Evicted,
                Actor::client(1),
                removed(Actor::client(1)),
            ),
            entry(7, 1, removal, Cause::Evicted, Actor::SERVER, eviction),
            entry(
                2_000_001,
                6,
                miss,
                Cause::NeverWritten,
                Actor::client(0),
                Detail::None,
            ),
            entry(
                2_000_001,
                2,
                miss,
                Cause::Evicted,
                Actor::client(0),
                removed(Actor::SERVER),
            ),
        ]
    }

    /// Every row built from pieces is the one the ordinary formatting writes; rows with parts
    /// too long for a piece are left to it.
    #[test]
    fn pieces_write_what_the_ordinary_formatting_writes() {
        let mut numbers = KeyNames::new();
        (0..7).for_each(|n| numbers.push_number(u64::MAX - n));
        let keys = Arc::new(KeyTable::from_clients(&[trace_client("one", numbers)]).0);
        let nodes = vec!["primary".to_string(), "n".repeat(100)];
        let clients = vec!["one".to_string(), "two".to_string()];
        let mut ledger = CsvLedger::new(Vec::new(), keys.clone(), nodes, clients);
        let evictions = [
            (MaxmemoryPolicy::LruExact, 5),
            (MaxmemoryPolicy::AllkeysLru, 1234),
            (MaxmemoryPolicy::VolatileLfu, 3),
            (MaxmemoryPolicy::VolatileTtl, u64::MAX - 1),
            (MaxmemoryPolicy::Opt, u64::MAX),
            (MaxmemoryPolicy::Opt, 0),
        ];
        let mut entries = rows();
        for (time_us, (policy, score)) in (0..).step_by(2).zip(evictions) {
            let detail = Detail::Eviction {
                policy,
                score,
                used_memory: u64::MAX,
                maxmemory: 100_000,
            };
            let base = entries[1];
            entries.push(LedgerEntry {
                time_us,
                detail,
                ..base
            });
            entries.push(LedgerEntry {
                time_us,
                detail,
                ..base
            });
        }
        let last = entries[2];
        entries.push(LedgerEntry {
            time_us: u64::MAX - 1,
            detail: Detail::RemovedEarlier {
                at_us: u64::MAX,
                by: Actor::OPERATOR,
            },
            ..last
        });
        entries.push(LedgerEntry {
            detail: Detail::OperatorDel,
            ..last
        });
        let mut from_pieces = 0;
        for entry in &entries {
            let number = keys.number_name(entry.key);
            let mut expected = String::new();
            ledger.format_row(entry, number, &mut expected);
            let before = ledger.out_len;
            let built = ledger.push_from_pieces(entry, number);
            let written = String::from_utf8_lossy(&ledger.out[before..ledger.out_len]);
            match built {
                true => assert_eq!(written, expected),
                false => assert_eq!(written, ""),
            }
            let expected_built = entry.node.0 == 0 && entry.detail != Detail::OperatorDel;
            assert_eq!(built, expected_built, "{expected}");
            from_pieces += usize::from(built);
        }
        assert_eq!(from_pieces, 16);
    }

    /// Row by row and in a batch, the same bytes; numbered names straight, text names quoted.
    #[test]
    fn a_batch_writes_the_rows_record_writes() {
        let mut numbers = KeyNames::new();
        [42, 7, 9_000_000_000]
            .into_iter()
            .for_each(|n| numbers.push_number(n));
        let mut texts = KeyNames::new();
        ["a,b", "=x", "plain", "q\"uote"]
            .into_iter()
            .for_each(|n| texts.push_text(n));
        let clients = [trace_client("one", numbers), trace_client("tw,o", texts)];
        let keys = Arc::new(KeyTable::from_clients(&clients).0);
        let ledger = |keys: &Arc<KeyTable>| {
            let nodes = vec!["primary".to_string(), "r,1".to_string()];
            let names = clients.iter().map(|c| c.name.clone()).collect();
            CsvLedger::new(Vec::new(), keys.clone(), nodes, names)
        };
        let mut one_by_one = ledger(&keys);
        rows().iter().for_each(|row| one_by_one.record(row));
        let mut batched = ledger(&keys);
        batched.record_batch(&rows());
        assert_eq!(batched.rows(), 7);
        let (a, b) = (one_by_one.finish(), batched.finish());
        let text = String::from_utf8(b.expect("the batched ledger")).expect("UTF-8 rows");
        assert_eq!(a.expect("the row-by-row ledger"), text.as_bytes());
        let expected = "\
time_us,time_s,node,db,key,event,cause,actor,detail
0,0.000000,primary,0,42,miss,never-written,one,
0,0.000000,primary,0,\"a,b\",removal,evicted,server,policy=opt next_use=17 used_memory=1000 maxmemory=999
0,0.000000,primary,0,\"'=x\",miss,evicted,\"tw,o\",removed_at_s=1.500000 removed_by=server
7,0.000007,\"r,1\",1,plain,miss,evicted,\"tw,o\",\"removed_at_s=1.500000 removed_by=tw,o\"
7,0.000007,\"r,1\",1,7,removal,evicted,server,policy=opt next_use=17 used_memory=1000 maxmemory=999
2000001,2.000001,\"r,1\",0,\"q\"\"uote\",miss,never-written,one,
2000001,2.000001,\"r,1\",0,9000000000,miss,evicted,one,removed_at_s=1.500000 removed_by=server
";
        assert_eq!(text, expected);
    }
}
