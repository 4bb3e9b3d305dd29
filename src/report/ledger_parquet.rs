//! `ledger.parquet`: the ledger's rows as a Parquet file, for runs whose CSV would run to
//! hundreds of megabytes. The columns are `ledger.csv`'s, with the same names and the same
//! text in every string column (unquoted: Parquet has no delimiter to escape and no formula
//! to neutralise); `time_s` is a decimal with six places, the CSV's figure exactly, stored as
//! the microseconds. DuckDB, pandas and polars read it as it is.
//!
//! Rows are gathered [`BATCH_ROWS`] at a time into Arrow arrays and handed to the Parquet
//! writer, which compresses them with zstd. The columns whose values repeat (node, event,
//! cause, actor, detail) go in as dictionaries built here, so the writer hashes each distinct
//! value once a batch instead of once a row; times and keys are plain, each key name written
//! once into one buffer.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, Decimal64Array, DictionaryArray, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::report::ledger_csv::{actor_name, detail_text, NamedRows, HEADER};
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, LedgerEntry};

/// `time_s`'s digits: 18 fit the 64-bit integer Parquet stores it in, and cover 31,000 years
/// of microseconds.
const TIME_S_PRECISION: u8 = 18;

/// Rows gathered before they go to the writer as one batch of arrays.
const BATCH_ROWS: usize = 64 * 1024;

/// Rows a row group holds: the readers scan a group's columns at a time, and the writer
/// keeps a group's compressed pages in memory (a few megabytes) until it is complete.
pub const ROW_GROUP_ROWS: usize = 1024 * 1024;

/// A dictionary column's values for one batch: each distinct value written once, and found
/// again through the values seen most recently (rows repeat a few: an eviction's detail, the
/// node, the reading client).
struct Dictionary<K> {
    values: StringBuilder,
    codes: Vec<i32>,
    /// Recent values and their codes, at most `remembered`, replaced oldest first.
    recent: Vec<(K, i32)>,
    remembered: usize,
    next_replaced: usize,
    /// Values in `values`.
    distinct: i32,
    text: String,
}

impl<K: Copy + PartialEq> Dictionary<K> {
    fn new(remembered: usize) -> Dictionary<K> {
        Dictionary {
            values: StringBuilder::new(),
            codes: Vec::with_capacity(BATCH_ROWS),
            recent: Vec::with_capacity(remembered),
            remembered,
            next_replaced: 0,
            distinct: 0,
            text: String::new(),
        }
    }

    /// Appends the value `of`, whose text `write` appends to a string (called only for a value
    /// not among the recent ones).
    fn push(&mut self, of: K, write: impl FnOnce(&mut String)) {
        if let Some((_, code)) = self.recent.iter().find(|(seen, _)| *seen == of) {
            self.codes.push(*code);
            return;
        }
        self.text.clear();
        write(&mut self.text);
        self.values.append_value(&self.text);
        let code = self.distinct;
        self.distinct += 1;
        self.codes.push(code);
        if self.recent.len() < self.remembered {
            self.recent.push((of, code));
        } else {
            self.recent[self.next_replaced] = (of, code);
            self.next_replaced = (self.next_replaced + 1) % self.remembered;
        }
    }

    /// The batch's column, and a fresh start for the next batch.
    fn finish(&mut self) -> Result<ArrayRef, ParquetError> {
        let values: ArrayRef = Arc::new(self.values.finish());
        let codes = Int32Array::from(std::mem::take(&mut self.codes));
        self.codes.reserve(BATCH_ROWS);
        self.recent.clear();
        self.next_replaced = 0;
        self.distinct = 0;
        let column = DictionaryArray::<Int32Type>::try_new(codes, values)
            .map_err(|error| ParquetError::General(error.to_string()))?;
        Ok(Arc::new(column))
    }
}

/// The key column of a batch: the names end to end, and where each ends.
struct KeyColumn {
    values: Vec<u8>,
    ends: Vec<i32>,
}

impl Default for KeyColumn {
    fn default() -> KeyColumn {
        KeyColumn {
            values: Vec::new(),
            ends: vec![0],
        }
    }
}

impl KeyColumn {
    fn push(&mut self, name: &[u8]) {
        self.values.extend_from_slice(name);
        self.end();
    }

    /// A numbered key's name. The digits go in as one copy of fixed size, the end then cut
    /// back to their count: a copy of each name's own length (a call to `memmove`) was the
    /// writer's largest cost.
    fn push_number(&mut self, number: u64) {
        let digits = match number.checked_ilog10() {
            Some(log) => log as usize + 1,
            None => 1, // 0 is one digit
        };
        let mut text = [b'0'; 20];
        let mut rest = number;
        for place in text[..digits].iter_mut().rev() {
            *place = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let start = self.values.len();
        self.values.extend_from_slice(&text);
        self.values.truncate(start + digits);
        self.end();
    }

    fn end(&mut self) {
        let end = i32::try_from(self.values.len());
        assert!(end.is_ok(), "a batch's key names pass 2 GiB");
        self.ends.push(end.unwrap_or(i32::MAX));
    }

    /// The batch's column, and a fresh start for the next.
    fn finish(&mut self) -> Result<ArrayRef, ParquetError> {
        let ends = std::mem::replace(&mut self.ends, vec![0]);
        let values = std::mem::take(&mut self.values);
        let column = StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(ends)),
            Buffer::from_vec(values),
            None,
        )
        .map_err(|error| ParquetError::General(error.to_string()))?;
        Ok(Arc::new(column))
    }
}

/// A ledger sink writing `ledger.parquet`. Write errors are kept and reported by `finish`, as
/// [`crate::report::ledger_csv::CsvLedger`] does.
pub struct ParquetLedger<W: Write + Send> {
    writer: Option<ArrowWriter<W>>,
    schema: SchemaRef,
    keys: Arc<KeyTable>,
    client_names: Vec<String>,
    node_names: Vec<String>,
    time_us: Vec<i64>,
    db: Vec<i32>,
    key: KeyColumn,
    node: Dictionary<u16>,
    event: Dictionary<EntryKind>,
    cause: Dictionary<Cause>,
    actor: Dictionary<Actor>,
    detail: Dictionary<Detail>,
    numbers: Vec<Option<u64>>,
    field: String,
    error: Option<ParquetError>,
    rows: u64,
}

impl<W: Write + Send> ParquetLedger<W> {
    pub fn new(
        output: W,
        keys: Arc<KeyTable>,
        node_names: Vec<String>,
        client_names: Vec<String>,
    ) -> ParquetLedger<W> {
        let schema = schema();
        let (writer, error) = match open(output, &schema) {
            Ok(writer) => (Some(writer), None),
            Err(error) => (None, Some(error)),
        };
        ParquetLedger {
            writer,
            schema,
            keys,
            client_names,
            node_names,
            time_us: Vec::with_capacity(BATCH_ROWS),
            db: Vec::with_capacity(BATCH_ROWS),
            key: KeyColumn::default(),
            node: Dictionary::new(64),
            event: Dictionary::new(64),
            cause: Dictionary::new(64),
            actor: Dictionary::new(64),
            detail: Dictionary::new(8),
            numbers: Vec::new(),
            field: String::new(),
            error,
            rows: 0,
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes in the file so far (row groups are written as they fill).
    pub fn written(&self) -> u64 {
        self.writer
            .as_ref()
            .map_or(0, |writer| writer.bytes_written() as u64)
    }

    /// Writes the last rows and the footer and returns the underlying writer, or the first
    /// error.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        self.write_batch();
        if let Some(error) = self.error {
            return Err(error);
        }
        match self.writer.take() {
            Some(writer) => writer.into_inner(),
            None => Err(ParquetError::General("the ledger's writer is gone".into())),
        }
    }

    pub fn record_batch(&mut self, batch: &[LedgerEntry]) {
        NamedRows::record_batch(self, batch);
    }

    fn record_row(&mut self, entry: &LedgerEntry, number: Option<u64>) {
        if self.error.is_some() {
            return;
        }
        // The sink is given every node's name before the run: a row from another node is a
        // bug, never an empty column.
        let node_names = &self.node_names;
        let node = node_names.get(entry.node.0 as usize);
        assert!(
            node.is_some(),
            "ledger row from node {}, which the sink has no name for",
            entry.node.0
        );
        self.node.push(entry.node.0, |text| {
            text.push_str(node.map_or("", String::as_str))
        });
        self.time_us.push(entry.time_us as i64);
        self.db.push(entry.db as i32);
        match number {
            Some(number) => self.key.push_number(number),
            None => {
                self.field.clear();
                self.keys.push_name(entry.key, &mut self.field);
                self.key.push(self.field.as_bytes());
            }
        }
        self.event
            .push(entry.kind, |text| text.push_str(entry.kind.name()));
        self.cause
            .push(entry.cause, |text| text.push_str(entry.cause.name()));
        let client_names = &self.client_names;
        self.actor.push(entry.actor, |text| {
            text.push_str(&actor_name(entry.actor, client_names))
        });
        let keys = &self.keys;
        self.detail.push(entry.detail, |text| {
            text.push_str(&detail_text(&entry.detail, keys, client_names))
        });
        self.rows += 1;
        if self.time_us.len() == BATCH_ROWS {
            self.write_batch();
        }
    }

    /// Hands the rows gathered to the writer as one batch of arrays.
    fn write_batch(&mut self) {
        if self.time_us.is_empty() {
            return;
        }
        let written = self.columns().and_then(|columns| {
            let batch = RecordBatch::try_new(self.schema.clone(), columns)
                .map_err(|error| ParquetError::General(error.to_string()))?;
            match self.writer.as_mut() {
                Some(writer) => writer.write(&batch),
                None => Ok(()),
            }
        });
        if let Err(error) = written {
            self.error.get_or_insert(error);
        }
    }

    /// The gathered rows as columns in [`HEADER`]'s order, leaving the gatherers empty.
    fn columns(&mut self) -> Result<Vec<ArrayRef>, ParquetError> {
        let time_us = Int64Array::from(std::mem::take(&mut self.time_us));
        // The same microseconds, read as seconds with six decimals: no copy.
        let time_s: ArrayRef = Arc::new(
            Decimal64Array::new(time_us.values().clone(), None)
                .with_precision_and_scale(TIME_S_PRECISION, 6)
                .map_err(|error| ParquetError::General(error.to_string()))?,
        );
        let time_us: ArrayRef = Arc::new(time_us);
        let db: ArrayRef = Arc::new(Int32Array::from(std::mem::take(&mut self.db)));
        let key = self.key.finish()?;
        self.time_us.reserve(BATCH_ROWS);
        self.db.reserve(BATCH_ROWS);
        Ok(vec![
            time_us,
            time_s,
            self.node.finish()?,
            db,
            key,
            self.event.finish()?,
            self.cause.finish()?,
            self.actor.finish()?,
            self.detail.finish()?,
        ])
    }
}

impl<W: Write + Send> NamedRows for ParquetLedger<W> {
    fn key_table(&self) -> &KeyTable {
        &self.keys
    }

    fn numbers(&mut self) -> &mut Vec<Option<u64>> {
        &mut self.numbers
    }

    fn record_named(&mut self, entry: &LedgerEntry, number: Option<u64>) {
        self.record_row(entry, number);
    }
}

/// The file's schema: `ledger.csv`'s columns in its order ([`HEADER`]).
fn schema() -> SchemaRef {
    let text = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let fields = HEADER.map(|name| {
        let kind = match name {
            "time_us" => DataType::Int64,
            "time_s" => DataType::Decimal64(TIME_S_PRECISION, 6),
            "db" => DataType::Int32,
            "key" => DataType::Utf8,
            _ => text(),
        };
        Field::new(name, kind, false)
    });
    Arc::new(Schema::new(fields.to_vec()))
}

fn open<W: Write + Send>(output: W, schema: &SchemaRef) -> Result<ArrowWriter<W>, ParquetError> {
    let column = |name: &str| ColumnPath::from(name);
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_created_by(format!("vanish {}", env!("CARGO_PKG_VERSION")))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        // Statistics cost a comparison a value, and a dictionary over values that rarely
        // repeat a hash a value for nothing (a third of the writer's time on the keys alone).
        .set_statistics_enabled(EnabledStatistics::None)
        .set_column_dictionary_enabled(column("time_us"), false)
        .set_column_dictionary_enabled(column("time_s"), false)
        .set_column_dictionary_enabled(column("key"), false)
        .set_column_encoding(column("time_us"), Encoding::DELTA_BINARY_PACKED)
        .set_column_encoding(column("time_s"), Encoding::DELTA_BINARY_PACKED)
        // One database in most runs: deltas of zero bits, where a dictionary hashes every row.
        .set_column_dictionary_enabled(column("db"), false)
        .set_column_encoding(column("db"), Encoding::DELTA_BINARY_PACKED)
        .set_column_encoding(column("key"), Encoding::DELTA_LENGTH_BYTE_ARRAY)
        .build();
    ArrowWriter::try_new(output, schema.clone(), Some(properties))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::explain::{read_ledger, LedgerFormat, LedgerRow};
    use crate::report::ledger_csv::batch_tests::{rows, trace_client};
    use crate::report::ledger_csv::CsvLedger;
    use crate::sim::keyspace::names::KeyNames;

    /// The same rows written as CSV and as Parquet, read back.
    fn both(entries: &[LedgerEntry]) -> (Vec<LedgerRow>, Vec<LedgerRow>) {
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
        let nodes = vec!["primary".to_string(), "r,1".to_string()];
        let names: Vec<String> = clients.iter().map(|c| c.name.clone()).collect();
        let mut csv = CsvLedger::new(Vec::new(), keys.clone(), nodes.clone(), names.clone());
        let mut parquet = ParquetLedger::new(Vec::new(), keys, nodes, names);
        for chunk in entries.chunks(1000) {
            csv.record_batch(chunk);
            parquet.record_batch(chunk);
        }
        assert_eq!(parquet.rows(), entries.len() as u64);
        let read = |format, bytes: Vec<u8>| {
            let mut rows = Vec::new();
            read_ledger(format, bytes.as_slice(), |row| rows.push(row)).expect("reads back");
            rows
        };
        let csv = csv.finish().expect("csv");
        let parquet = parquet.finish().expect("parquet");
        assert!(parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"));
        (
            read(LedgerFormat::Csv, csv),
            read(LedgerFormat::Parquet, parquet),
        )
    }

    #[test]
    fn parquet_reads_back_the_rows_the_csv_holds() {
        let (csv, parquet) = both(&rows());
        assert_eq!(csv.len(), 7);
        assert_eq!(parquet, csv);
        // Stored as written, not as CSV guards it.
        assert_eq!(parquet[2].key, "=x");
        assert_eq!(parquet[3].detail, "removed_at_s=1.500000 removed_by=tw,o");
    }

    /// Past a batch, the dictionaries start again and still say the same.
    #[test]
    fn many_batches_read_back_alike() {
        let base = rows();
        let entries: Vec<LedgerEntry> = (0..BATCH_ROWS as u64 + 5_000)
            .map(|index| {
                let mut entry = base[(index % 7) as usize];
                entry.time_us = index * 3;
                if let Detail::RemovedEarlier { by, .. } = entry.detail {
                    // A detail that changes on every row: more than the dictionary remembers.
                    entry.detail = Detail::RemovedEarlier { at_us: index, by };
                }
                entry
            })
            .collect();
        let (csv, parquet) = both(&entries);
        assert_eq!(parquet.len(), entries.len());
        assert!(parquet == csv, "the formats differ");
    }

    #[test]
    fn the_schema_has_the_csv_columns() {
        let names: Vec<String> = schema()
            .fields()
            .iter()
            .map(|field| field.name().clone())
            .collect();
        assert_eq!(names, HEADER);
    }
}
