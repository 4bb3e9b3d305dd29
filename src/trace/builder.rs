//! `TraceBuilder`: collects the records a format reader produces, interning key names.
//!
//! Ids are given in order of first appearance, so the output never depends on hash order even
//! though lookups go through hash maps. Text names are stored once: the index maps a 64-bit hash
//! of the name to the newest id with that hash, and `next_same_hash` chains older ones, which
//! halves peak memory against a `HashMap<String, u32>` beside the name list on traces with tens
//! of millions of keys. The builder also enforces the size limits, which protect the machine.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use super::error::{Location, TraceError};
use super::input::{LineError, Lines, NumberedLine};
use super::{DatabaseUse, LoadedTrace, TraceFormat, DISTINCT_KEYS_MAX, RECORDS_MAX};
use crate::sim::config::{KeyNames, ReplayNotes, Trace, TraceRecord, TraceRecords};
use crate::sim::keyspace::keys::{KEY_NAME_BYTES_MAX, PREFIX_SEPARATOR};

/// Rough simulator memory per record and per key, for the limit messages only.
const BYTES_PER_RECORD: u64 = 32;
const BYTES_PER_KEY: u64 = 128;

/// Distinct unknown command names listed; more are counted together.
const UNKNOWN_NAMES_MAX: usize = 100;

/// Marks the end of a hash chain, or a number not seen.
const NO_KEY: u32 = u32::MAX;

/// Numeric keys below this may be looked up in an array (at most 64 MB of it).
const DENSE_NUMBERS_MAX: usize = 1 << 24;

pub(super) struct TraceBuilder {
    path: String,
    records: TraceRecords,
    names: KeyNames,
    hasher: RandomState,
    by_hash: HashMap<u64, u32, BuildHasherDefault<AlreadyHashed>>,
    next_same_hash: Vec<u32>,
    /// Ids of small numeric keys, indexed by the number (`NO_KEY` if not there): cache-research
    /// traces number their objects densely, and an array lookup is several times faster than a
    /// hash map of a million entries (13 % of a 10 M-request replay's time went to the map).
    by_small_number: Vec<u32>,
    /// Ids of the other numeric keys, by their mixed number.
    by_number: HashMap<u64, u32, BuildHasherDefault<AlreadyHashed>>,
    skipped_lines: u64,
    notes: ReplayNotes,
    unknown_commands: BTreeMap<String, u64>,
    highest_db: Option<DatabaseUse>,
    /// The size limits: the module constants, lowered only by tests.
    records_max: u64,
    keys_max: u64,
}

impl TraceBuilder {
    pub fn new(path: &str) -> Self {
        TraceBuilder {
            path: path.to_string(),
            records: TraceRecords::new(),
            names: KeyNames::new(),
            hasher: RandomState::new(),
            by_hash: HashMap::default(),
            next_same_hash: Vec::new(),
            by_small_number: Vec::new(),
            by_number: HashMap::default(),
            skipped_lines: 0,
            notes: ReplayNotes::default(),
            unknown_commands: BTreeMap::new(),
            highest_db: None,
            records_max: RECORDS_MAX,
            keys_max: DISTINCT_KEYS_MAX,
        }
    }

    /// Room for `records` records, up to the limit: a reader that knows how many are coming.
    pub fn expect_records(&mut self, records: u64) {
        // At most the limit, 200 M: a usize on any platform.
        self.records.reserve(records.min(self.records_max) as usize);
    }

    pub fn error(&self, location: Location, message: impl Into<String>) -> TraceError {
        TraceError::new(&self.path, location, message)
    }

    pub fn io_error(&self, location: Location, io: std::io::Error) -> TraceError {
        TraceError::io(&self.path, location, io)
    }

    pub fn line_error(&self, error: LineError) -> TraceError {
        error.into_trace_error(&self.path)
    }

    /// The next line of `lines`, an unreadable one reported against this trace.
    pub fn next_line<'l>(
        &self,
        lines: &'l mut Lines,
    ) -> Result<Option<NumberedLine<'l>>, TraceError> {
        lines.next_line().map_err(|error| self.line_error(error))
    }

    /// The id of a key given as text.
    pub fn key_text(&mut self, name: &str, at: Location) -> Result<u32, TraceError> {
        let hash = self.hasher.hash_one(name);
        self.key_with_hash(hash, name, at)
    }

    fn key_with_hash(&mut self, hash: u64, name: &str, at: Location) -> Result<u32, TraceError> {
        let mut candidate = self.by_hash.get(&hash).copied().unwrap_or(NO_KEY);
        while candidate != NO_KEY {
            if self.names.is(candidate, name) {
                return Ok(candidate);
            }
            candidate = self.next_same_hash[candidate as usize];
        }
        self.check_name_length(name.len(), at)?;
        let id = self.new_key(at)?;
        self.names.push_text(name);
        let previous = self.by_hash.insert(hash, id).unwrap_or(NO_KEY);
        self.next_same_hash.push(previous);
        Ok(id)
    }

    /// The id of a key given as raw bytes (Redis keys are binary). A name that is not UTF-8 is
    /// kept with its invalid bytes written `\xHH`, as redis-cli shows them.
    pub fn key_bytes(&mut self, name: &[u8], at: Location) -> Result<u32, TraceError> {
        self.check_name_length(name.len(), at)?;
        match std::str::from_utf8(name) {
            Ok(text) => self.key_text(text, at),
            Err(_) => self.key_text(&escape_invalid_utf8(name), at),
        }
    }

    /// Loads the ids of the numbers about to be interned, all at once: the loads miss the
    /// cache independently, so their misses overlap instead of coming one per record, as they
    /// do when each record is read, interned and stored in turn.
    pub fn warm_numbers(&self, numbers: impl Iterator<Item = u64>) {
        let mut sum = 0u32;
        for number in numbers {
            let index = usize::try_from(number).unwrap_or(usize::MAX);
            if let Some(id) = self.by_small_number.get(index) {
                sum = sum.wrapping_add(*id);
            }
        }
        std::hint::black_box(sum);
    }

    /// The id of a key that is a number (cache-research traces); its name is the decimal. A
    /// number is in the array if it was small enough when first seen, else in the hash map.
    /// Inlined for the array's hit, the common case: a call per record was a tenth of loading.
    #[inline]
    pub fn key_number(&mut self, number: u64, at: Location) -> Result<u32, TraceError> {
        let index = usize::try_from(number).unwrap_or(usize::MAX);
        match self.by_small_number.get(index) {
            Some(&id) if id != NO_KEY => Ok(id),
            _ => self.key_number_not_in_array(number, index, at),
        }
    }

    #[inline(never)]
    fn key_number_not_in_array(
        &mut self,
        number: u64,
        index: usize,
        at: Location,
    ) -> Result<u32, TraceError> {
        let mixed = mix(number);
        if !self.by_number.is_empty() {
            if let Some(id) = self.by_number.get(&mixed) {
                return Ok(*id);
            }
        }
        let id = self.new_key(at)?;
        self.names.push_number(number);
        // The array grows in powers of two, to at most 16 entries a key so far (or a million):
        // a sparse numbering goes to the map instead.
        let room = (self.names.len() * 16).clamp(1 << 20, DENSE_NUMBERS_MAX);
        if index < room {
            if index >= self.by_small_number.len() {
                let grown = (index + 1).next_power_of_two().min(DENSE_NUMBERS_MAX);
                self.by_small_number.resize(grown, NO_KEY);
            }
            self.by_small_number[index] = id;
        } else {
            self.by_number.insert(mixed, id);
        }
        Ok(id)
    }

    fn check_name_length(&self, bytes: usize, at: Location) -> Result<(), TraceError> {
        if bytes > KEY_NAME_BYTES_MAX {
            return Err(self.error(
                at,
                format!("expected a key of at most {KEY_NAME_BYTES_MAX} bytes, found one of {bytes} bytes"),
            ));
        }
        Ok(())
    }

    /// The id the next name pushed gets, if the trace may have one more key.
    fn new_key(&self, at: Location) -> Result<u32, TraceError> {
        let id = self.names.len() as u64;
        let limit = self.keys_max;
        if id >= limit {
            let memory_gb = (limit * BYTES_PER_KEY).div_ceil(1 << 30);
            return Err(self.error(
                at,
                format!(
                    "the trace has more than {limit} distinct keys, the limit (they \
                     would need over {memory_gb} GB of simulator memory): replay a sample"
                ),
            ));
        }
        // The limit keeps ids far below u32::MAX.
        Ok(id as u32)
    }

    #[inline]
    pub fn push(&mut self, record: TraceRecord, at: Location) -> Result<(), TraceError> {
        if self.records.len() as u64 >= self.records_max {
            return Err(self.too_many_records(at));
        }
        self.records.push(record);
        Ok(())
    }

    #[cold]
    fn too_many_records(&self, at: Location) -> TraceError {
        let limit = self.records_max;
        let memory_gb = (limit * BYTES_PER_RECORD).div_ceil(1 << 30);
        self.error(
            at,
            format!(
                "the trace has more than {limit} requests, the limit (they would need over \
                 {memory_gb} GB of simulator memory): replay a prefix or a sample"
            ),
        )
    }

    /// A line that is valid but is not a request the simulator replays (its arguments would
    /// have been refused).
    pub fn skip_line(&mut self) {
        self.skipped_lines += 1;
        self.notes.refused_lines += 1;
    }

    /// A command that touches no key.
    pub fn keyless_line(&mut self) {
        self.skipped_lines += 1;
        self.notes.keyless_lines += 1;
    }

    /// A command vanish does not know, counted by name (the first `UNKNOWN_NAMES_MAX` names;
    /// the rest under `...`).
    pub fn unknown_command(&mut self, name: &[u8]) {
        self.skipped_lines += 1;
        let name = String::from_utf8_lossy(name).to_ascii_uppercase();
        let name = if self.unknown_commands.len() < UNKNOWN_NAMES_MAX
            || self.unknown_commands.contains_key(&name)
        {
            name
        } else {
            "...".to_string()
        };
        *self.unknown_commands.entry(name).or_insert(0) += 1;
    }

    /// A line that is not a line of the format at all (redis-cli's `OK`): counted, the first
    /// kept.
    pub fn foreign_line(&mut self, number: u64, text: &str) {
        self.notes.foreign_lines += 1;
        if self.notes.first_foreign.is_none() {
            let shown: String = text.chars().take(200).collect();
            self.notes.first_foreign = Some((number, shown));
        }
    }

    /// Notes a database a record uses, keeping the highest and the first line naming it.
    pub fn use_db(&mut self, db: u32, line: u64) {
        if self.highest_db.is_none_or(|highest| db > highest.db) {
            self.highest_db = Some(DatabaseUse { db, line });
        }
    }

    pub fn finish(self, format: TraceFormat) -> Result<LoadedTrace, TraceError> {
        if self.records.is_empty() {
            let skipped = match self.skipped_lines {
                0 => String::new(),
                1 => " (1 line of commands that are not replayed)".to_string(),
                lines => format!(" ({lines} lines of commands that are not replayed)"),
            };
            return Err(self.error(Location::File, format!("no requests{skipped}")));
        }
        if self.names.is_empty() {
            return Err(self.error(
                Location::File,
                "no requests on keys (only FLUSHDB, FLUSHALL or SELECT)",
            ));
        }
        let mut records = self.records;
        records.shrink_to_fit();
        let mut names = self.names;
        names.shrink_to_fit();
        Ok(LoadedTrace {
            trace: Trace {
                source: self.path,
                key_names: names,
                records,
                read_through: format.is_read_through(),
                per_record_db: format.has_databases(),
                notes: ReplayNotes {
                    unknown_commands: self.unknown_commands.into_iter().collect(),
                    ..self.notes
                },
                prefix_separator: PREFIX_SEPARATOR.to_string(),
            },
            skipped_lines: self.skipped_lines,
            highest_db: self.highest_db,
        })
    }
}

/// `a\xff` for the bytes `a`, 0xff: valid runs are kept, each invalid byte escaped.
fn escape_invalid_utf8(bytes: &[u8]) -> String {
    let mut name = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        name.push_str(chunk.valid());
        for byte in chunk.invalid() {
            name.push_str(&format!("\\x{byte:02x}"));
        }
    }
    name
}

/// splitmix64's finaliser: a bijection, so mixed numbers are as distinct as the numbers, and
/// spread well enough to skip SipHash (a quarter of the load time of a numeric trace).
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d049bb133111eb);
    x ^ (x >> 31)
}

/// The hasher of maps whose keys are already hashes (SipHash of a name, or a mixed number).
#[derive(Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::TraceOp;

    fn get(key: u32) -> TraceRecord {
        TraceRecord {
            time_us: 0,
            key,
            db: 0,
            op: TraceOp::Get,
            flags: 0,
            value_size: 1,
            ttl_ms: 0,
        }
    }

    #[test]
    fn numbers_keep_one_id_whether_in_the_array_or_the_map() {
        let mut builder = TraceBuilder::new("t");
        let at = Location::Line(1);
        // 5,000,000 is beyond the array's room when first seen (a million), so it goes to the
        // map; after 400,000 more keys the array may cover it, and it must still be found there.
        let big = 5_000_000;
        assert_eq!(builder.key_number(big, at).expect("small"), 0);
        for number in 0..400_000 {
            assert_eq!(
                builder.key_number(number, at).expect("small"),
                number as u32 + 1
            );
        }
        assert_eq!(builder.key_number(big, at).expect("small"), 0);
        assert_eq!(builder.key_number(u64::MAX, at).expect("small"), 400_001);
        assert_eq!(builder.key_number(u64::MAX, at).expect("small"), 400_001);
        assert_eq!(builder.key_number(399_999, at).expect("small"), 400_000);
        assert_eq!(builder.names.name(400_001), u64::MAX.to_string());
    }

    #[test]
    fn ids_follow_first_appearance() {
        let mut builder = TraceBuilder::new("t");
        let at = Location::Line(1);
        let ids: Vec<u32> = ["b", "a", "b", "c", "a"]
            .iter()
            .map(|name| builder.key_text(name, at).expect("small"))
            .collect();
        assert_eq!(ids, [0, 1, 0, 2, 1]);
        assert_eq!(builder.key_number(7, at).expect("small"), 3);
        assert_eq!(builder.key_number(7, at).expect("small"), 3);
        assert_eq!(builder.key_bytes(b"a", at).expect("small"), 1);
        assert_eq!(builder.key_bytes(b"x\xffy", at).expect("small"), 4);
        builder.push(get(0), at).expect("small");
        let loaded = builder.finish(TraceFormat::Lirs).expect("one record");
        assert_eq!(loaded.trace.key_names, ["b", "a", "c", "7", "x\\xffy"]);
    }

    #[test]
    fn hash_collisions_keep_names_apart() {
        let mut builder = TraceBuilder::new("t");
        let at = Location::Line(1);
        let ids: Vec<u32> = ["p", "q", "p", "r", "q"]
            .iter()
            .map(|name| builder.key_with_hash(0, name, at).expect("small"))
            .collect();
        assert_eq!(ids, [0, 1, 0, 2, 1]);
        assert_eq!(builder.names, ["p", "q", "r"]);
    }

    #[test]
    fn overlong_names_and_empty_traces_are_refused() {
        let mut builder = TraceBuilder::new("t");
        let long = vec![b'k'; KEY_NAME_BYTES_MAX + 1];
        let error = builder
            .key_bytes(&long, Location::Line(3))
            .expect_err("too long");
        assert_eq!(
            error.to_string(),
            "t:3: expected a key of at most 65535 bytes, found one of 65536 bytes"
        );
        builder.skip_line();
        let error = builder.finish(TraceFormat::Csv).expect_err("empty");
        assert_eq!(
            error.to_string(),
            "t: no requests (1 line of commands that are not replayed)"
        );
    }

    #[test]
    fn size_limits_name_the_line_that_crosses_them() {
        let mut builder = TraceBuilder::new("t");
        assert_eq!(
            (builder.records_max, builder.keys_max),
            (200_000_000, 50_000_000)
        );
        builder.records_max = 2;
        builder.keys_max = 2;
        for line in 1..=2 {
            builder
                .push(get(0), Location::Line(line))
                .expect("under the limit");
        }
        let error = builder.push(get(0), Location::Line(3)).expect_err("over");
        assert!(
            error
                .to_string()
                .starts_with("t:3: the trace has more than 2 requests, the limit"),
            "{error}"
        );
        builder
            .key_number(10, Location::Line(1))
            .expect("under the limit");
        builder
            .key_text("a", Location::Line(2))
            .expect("under the limit");
        builder
            .key_number(10, Location::Line(3))
            .expect("known key");
        let error = builder.key_text("b", Location::Byte(72)).expect_err("over");
        assert!(
            error
                .to_string()
                .starts_with("t: byte 72: the trace has more than 2 distinct keys"),
            "{error}"
        );
    }

    #[test]
    fn the_highest_database_and_its_first_line_are_kept() {
        let mut builder = TraceBuilder::new("t");
        for (db, line) in [(0, 1), (3, 2), (1, 3), (3, 4)] {
            builder.use_db(db, line);
        }
        assert_eq!(builder.highest_db, Some(DatabaseUse { db: 3, line: 2 }));
    }
}
