//! `TraceRecords`: a trace's requests stored by column, each column as small as its values
//! allow.
//!
//! A `Vec<TraceRecord>` costs 32 bytes a request: 320 MB for a 10 M-request trace, most of the
//! replay's peak memory. Most columns of a real trace hardly vary (a cache-research trace has
//! no database, operation or TTL, often one size; its times are in whole seconds), so each
//! column but the key is kept as one value until a record differs, and times as runs of equal
//! times. The oracleGeneral reference trace costs 4 bytes a request; a trace where every
//! column varies costs about what the plain vector did.

use crate::sim::config::{TraceOp, TraceRecord};

/// A column that stays one value until a record differs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column<T: Copy + PartialEq> {
    Same { value: T, len: usize },
    Varying(Vec<T>),
}

impl<T: Copy + PartialEq> Column<T> {
    /// Inlined: a trace's loading pushes to five columns a record (a call each was a fifth of
    /// loading an oracleGeneral trace).
    #[inline]
    fn push(&mut self, pushed: T) {
        match self {
            Column::Same { value, len } if *value == pushed => *len += 1,
            Column::Varying(values) => values.push(pushed),
            _ => self.push_other(pushed),
        }
    }

    /// The first value, or the first that differs.
    #[cold]
    fn push_other(&mut self, pushed: T) {
        match self {
            Column::Same { len: 0, .. } => {
                *self = Column::Same {
                    value: pushed,
                    len: 1,
                }
            }
            Column::Same { value, len } => {
                let mut values = vec![*value; *len];
                values.push(pushed);
                *self = Column::Varying(values);
            }
            Column::Varying(values) => values.push(pushed),
        }
    }

    #[inline]
    fn at(&self, index: usize) -> T {
        match self {
            Column::Same { value, .. } => *value,
            Column::Varying(values) => values[index],
        }
    }

    fn shrink(&mut self) {
        if let Column::Varying(values) = self {
            values.shrink_to_fit();
        }
    }
}

/// From `first` on, records arrive at `time_us` (until the next run's `first`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimeRun {
    first: usize,
    time_us: u64,
}

/// A trace's requests in order, by column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecords {
    keys: Vec<u32>,
    times: Vec<TimeRun>,
    dbs: Column<u32>,
    ops: Column<TraceOp>,
    value_sizes: Column<u32>,
    ttls_ms: Column<u64>,
    flags: Column<u8>,
}

impl Default for TraceRecords {
    fn default() -> Self {
        TraceRecords {
            keys: Vec::new(),
            times: Vec::new(),
            dbs: Column::Same { value: 0, len: 0 },
            ops: Column::Same {
                value: TraceOp::Get,
                len: 0,
            },
            value_sizes: Column::Same { value: 0, len: 0 },
            ttls_ms: Column::Same { value: 0, len: 0 },
            flags: Column::Same { value: 0, len: 0 },
        }
    }
}

impl TraceRecords {
    pub fn new() -> TraceRecords {
        TraceRecords::default()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    #[inline]
    pub fn push(&mut self, record: TraceRecord) {
        let index = self.keys.len();
        if self
            .times
            .last()
            .is_none_or(|run| run.time_us != record.time_us)
        {
            self.times.push(TimeRun {
                first: index,
                time_us: record.time_us,
            });
        }
        self.keys.push(record.key);
        self.dbs.push(record.db);
        self.ops.push(record.op);
        self.value_sizes.push(record.value_size);
        self.ttls_ms.push(record.ttl_ms);
        self.flags.push(record.flags);
    }

    /// Room for `records` more keys (the one column that always holds a value a record): a
    /// reader that knows the count from the file's length saves the copies and page faults of
    /// growing it.
    pub fn reserve(&mut self, records: usize) {
        self.keys.reserve_exact(records);
    }

    /// Gives back the room a growing vector keeps beyond its length.
    pub fn shrink_to_fit(&mut self) {
        self.keys.shrink_to_fit();
        self.times.shrink_to_fit();
        self.dbs.shrink();
        self.ops.shrink();
        self.value_sizes.shrink();
        self.ttls_ms.shrink();
        self.flags.shrink();
    }

    /// Record `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<TraceRecord> {
        let key = *self.keys.get(index)?;
        // The last run starting at or before `index`.
        let run = self.times.partition_point(|run| run.first <= index) - 1;
        Some(TraceRecord {
            time_us: self.times[run].time_us,
            key,
            db: self.dbs.at(index),
            op: self.ops.at(index),
            value_size: self.value_sizes.at(index),
            ttl_ms: self.ttls_ms.at(index),
            flags: self.flags.at(index),
        })
    }

    /// Record `index`, which must exist.
    pub fn at(&self, index: usize) -> TraceRecord {
        let record = self.get(index);
        assert!(
            record.is_some(),
            "record {index} of a trace of {}",
            self.len()
        );
        record.unwrap_or(TraceRecord {
            time_us: 0,
            key: 0,
            db: 0,
            op: TraceOp::Get,
            flags: 0,
            value_size: 0,
            ttl_ms: 0,
        })
    }

    /// Record `index` for a reader going forwards: `run` is where the previous lookup found its
    /// time (start at 0), so a replay finds each time in constant time.
    pub fn at_from(&self, index: usize, run: &mut usize) -> TraceRecord {
        let mut record = self.at_without_time(index);
        record.time_us = self.time_from(index, run);
        record
    }

    /// The time of record `index` alone, as `at_from` finds it: the replay asks for each
    /// record's time before it asks for the record.
    #[inline]
    pub fn time_from(&self, index: usize, run: &mut usize) -> u64 {
        if self.times.get(*run).is_none_or(|found| found.first > index) {
            *run = 0;
        }
        while self
            .times
            .get(*run + 1)
            .is_some_and(|next| next.first <= index)
        {
            *run += 1;
        }
        self.times[*run].time_us
    }

    fn at_without_time(&self, index: usize) -> TraceRecord {
        TraceRecord {
            time_us: 0,
            key: self.keys[index],
            db: self.dbs.at(index),
            op: self.ops.at(index),
            value_size: self.value_sizes.at(index),
            ttl_ms: self.ttls_ms.at(index),
            flags: self.flags.at(index),
        }
    }

    /// The key of record `index`, without building the whole record.
    #[inline]
    pub fn key(&self, index: usize) -> u32 {
        self.keys[index]
    }

    /// The value size of record `index`, without building the whole record.
    #[inline]
    pub fn value_size(&self, index: usize) -> u32 {
        self.value_sizes.at(index)
    }

    /// The time of the last record (0 for none), without a pass over them.
    pub fn last_time_us(&self) -> u64 {
        self.times.last().map_or(0, |run| run.time_us)
    }

    /// Whether every record is at time 0 (an untimed trace).
    pub fn untimed(&self) -> bool {
        self.times.iter().all(|run| run.time_us == 0)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = TraceRecord> + '_ {
        let mut run = 0;
        (0..self.len()).map(move |index| self.at_from(index, &mut run))
    }

    /// How many records are `op`, from the column (a grid asks once per variant).
    pub fn count_op(&self, op: TraceOp) -> usize {
        match &self.ops {
            Column::Same { value, len } => {
                if *value == op {
                    *len
                } else {
                    0
                }
            }
            Column::Varying(ops) => ops.iter().filter(|each| **each == op).count(),
        }
    }

    /// The largest value size any record carries, from the column (0 for no records).
    pub fn max_value_size(&self) -> u32 {
        match &self.value_sizes {
            Column::Same { len: 0, .. } => 0,
            Column::Same { value, .. } => *value,
            Column::Varying(sizes) => sizes.iter().copied().fold(0, u32::max),
        }
    }

    /// Whether any record carries option flags (SET's NX, XX, GET, KEEPTTL…), from the column.
    pub fn any_flags(&self) -> bool {
        match &self.flags {
            Column::Same { len: 0, .. } => false,
            Column::Same { value, .. } => *value != 0,
            Column::Varying(flags) => flags.iter().any(|each| *each != 0),
        }
    }

    /// The distinct databases the records name, from the column.
    pub fn databases(&self) -> std::collections::BTreeSet<u32> {
        match &self.dbs {
            Column::Same { len: 0, .. } => Default::default(),
            Column::Same { value, .. } => [*value].into(),
            Column::Varying(dbs) => dbs.iter().copied().collect(),
        }
    }

    /// Bytes held, for the estimate of a run's memory.
    pub fn heap_bytes(&self) -> u64 {
        fn column<T: Copy + PartialEq>(column: &Column<T>) -> usize {
            match column {
                Column::Same { .. } => 0,
                Column::Varying(values) => values.capacity() * size_of::<T>(),
            }
        }
        (self.keys.capacity() * 4
            + self.times.capacity() * size_of::<TimeRun>()
            + column(&self.dbs)
            + column(&self.ops)
            + column(&self.value_sizes)
            + column(&self.ttls_ms)
            + column(&self.flags)) as u64
    }
}

impl From<Vec<TraceRecord>> for TraceRecords {
    fn from(records: Vec<TraceRecord>) -> Self {
        let mut stored = TraceRecords::new();
        for record in records {
            stored.push(record);
        }
        stored.shrink_to_fit();
        stored
    }
}

impl FromIterator<TraceRecord> for TraceRecords {
    fn from_iter<I: IntoIterator<Item = TraceRecord>>(records: I) -> Self {
        let mut stored = TraceRecords::new();
        for record in records {
            stored.push(record);
        }
        stored
    }
}

impl<const N: usize> PartialEq<[TraceRecord; N]> for TraceRecords {
    fn eq(&self, other: &[TraceRecord; N]) -> bool {
        self.len() == N && self.iter().zip(other.iter()).all(|(a, b)| a == *b)
    }
}

impl PartialEq<Vec<TraceRecord>> for TraceRecords {
    fn eq(&self, other: &Vec<TraceRecord>) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == *b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time_us: u64, key: u32, op: TraceOp, value_size: u32, ttl_ms: u64) -> TraceRecord {
        TraceRecord {
            time_us,
            key,
            db: key % 3,
            op,
            flags: (key % 2) as u8,
            value_size,
            ttl_ms,
        }
    }

    #[test]
    fn column_queries_match_the_records() {
        let record = |time_us, db, op| TraceRecord {
            time_us,
            key: 0,
            db,
            op,
            flags: 0,
            value_size: 1,
            ttl_ms: 0,
        };
        let same: TraceRecords = vec![record(0, 3, TraceOp::Get); 4].into();
        assert_eq!(same.count_op(TraceOp::Get), 4);
        assert_eq!(same.count_op(TraceOp::Set), 0);
        assert!(same.untimed());
        assert_eq!(same.databases(), [3].into());
        let mixed: TraceRecords = vec![
            record(0, 1, TraceOp::Set),
            record(5, 0, TraceOp::Get),
            record(5, 1, TraceOp::Get),
        ]
        .into();
        assert_eq!(mixed.count_op(TraceOp::Get), 2);
        assert_eq!(mixed.count_op(TraceOp::Set), 1);
        assert!(!mixed.untimed());
        assert_eq!(mixed.databases(), [0, 1].into());
        assert_eq!(TraceRecords::new().databases(), Default::default());
    }

    #[test]
    fn records_read_back_as_pushed() {
        let records = vec![
            record(0, 1, TraceOp::Get, 10, 0),
            record(0, 2, TraceOp::Get, 10, 0),
            record(5, 3, TraceOp::Set, 10, 0),
            record(5, 1, TraceOp::Expire, 7, 900),
            record(9, 4, TraceOp::Del, 7, 0),
        ];
        let stored = TraceRecords::from(records.clone());
        assert_eq!(stored, records);
        assert_eq!(stored.get(5), None);
        assert_eq!(stored.last_time_us(), 9);
        assert!(!stored.untimed());
        assert_eq!(stored.key(3), 1);
        let mut run = 0;
        let forwards: Vec<TraceRecord> = (0..5).map(|i| stored.at_from(i, &mut run)).collect();
        assert_eq!(stored, forwards);
        assert_eq!(
            stored.at_from(1, &mut run),
            records[1],
            "going back starts over"
        );
    }

    #[test]
    fn columns_that_do_not_vary_cost_nothing_per_record() {
        let stored: TraceRecords = (0..1_000u32)
            .map(|key| TraceRecord {
                time_us: u64::from(key / 100) * 1_000_000,
                key,
                db: 0,
                op: TraceOp::Get,
                flags: 0,
                value_size: 1,
                ttl_ms: 0,
            })
            .collect();
        assert!(
            stored.heap_bytes() < 1_000 * 4 + 10 * 16 + 4096,
            "{}",
            stored.heap_bytes()
        );
        assert_eq!(stored.at(999).time_us, 9_000_000);
        assert_eq!(stored.at(999).value_size, 1);
    }
}
