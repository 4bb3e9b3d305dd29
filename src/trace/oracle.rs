//! The `oracle-general` format: libCacheSim's binary trace.
//!
//! Little-endian records of 24 bytes, `{u32 time; u64 obj_id; u32 obj_size; i64
//! next_access_vtime}`: a read of object `obj_id` (named by its decimal) of `obj_size` bytes at
//! `time` seconds. Times are made relative to the first record and must not decrease. The
//! precomputed next access is ignored: the optimal policy works it out from the records. A file
//! that ends inside a record is refused at that record's byte offset.

use std::io::BufRead;

use super::builder::TraceBuilder;
use super::decreasing;
use super::error::{Location, TraceError};
use crate::sim::config::{TraceOp, TraceRecord, MICROS_PER_SECOND};

const RECORD_BYTES: usize = 24;

/// Records whose ids are looked up together before they are interned (`warm_numbers`).
const WARM_RECORDS: usize = 64;

/// Reads the records; `plain_bytes` is the file's length when it is not compressed, checked to
/// be whole records before anything is read.
pub(super) fn read(
    mut input: Box<dyn BufRead>,
    plain_bytes: Option<u64>,
    builder: &mut TraceBuilder,
) -> Result<(), TraceError> {
    if let Some(length) = plain_bytes.filter(|length| length % RECORD_BYTES as u64 != 0) {
        return Err(builder.error(
            Location::File,
            format!(
                "expected {RECORD_BYTES}-byte records, found {length} bytes, which is not a \
                 multiple of {RECORD_BYTES} (is this an oracleGeneral trace?)"
            ),
        ));
    }
    if let Some(length) = plain_bytes {
        builder.expect_records(length / RECORD_BYTES as u64);
    }
    let mut reader = Records::default();
    loop {
        let at = Location::Byte(reader.offset);
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(io) if io.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(io) => return Err(builder.io_error(at, io)),
        };
        if chunk.is_empty() {
            return match reader.pending.len() {
                0 => Ok(()),
                filled => Err(builder.error(
                    at,
                    format!(
                        "expected a {RECORD_BYTES}-byte record, found the file ending after \
                         {filled} bytes"
                    ),
                )),
            };
        }
        let used = chunk.len();
        reader.take(chunk, builder)?;
        input.consume(used);
    }
}

/// Records taken from the reader's buffer as it comes, whole records in place (a copy of each
/// record through `read` cost a tenth of the load), one split across two buffers in `pending`.
#[derive(Default)]
struct Records {
    offset: u64,
    pending: Vec<u8>,
    first_time: Option<u32>,
    previous_time: u32,
}

impl Records {
    fn take(&mut self, mut chunk: &[u8], builder: &mut TraceBuilder) -> Result<(), TraceError> {
        if !self.pending.is_empty() {
            let wanted = (RECORD_BYTES - self.pending.len()).min(chunk.len());
            self.pending.extend_from_slice(&chunk[..wanted]);
            chunk = &chunk[wanted..];
            if self.pending.len() < RECORD_BYTES {
                return Ok(());
            }
            let mut record = [0u8; RECORD_BYTES];
            record.copy_from_slice(&self.pending);
            self.pending.clear();
            self.one(&record, builder)?;
        }
        let whole = chunk.len() / RECORD_BYTES * RECORD_BYTES;
        for group in chunk[..whole].chunks(RECORD_BYTES * WARM_RECORDS) {
            builder.warm_numbers(group.chunks_exact(RECORD_BYTES).map(object_of));
            for record in group.chunks_exact(RECORD_BYTES) {
                let mut bytes = [0u8; RECORD_BYTES];
                bytes.copy_from_slice(record);
                self.one(&bytes, builder)?;
            }
        }
        self.pending.extend_from_slice(&chunk[whole..]);
        Ok(())
    }

    fn one(
        &mut self,
        bytes: &[u8; RECORD_BYTES],
        builder: &mut TraceBuilder,
    ) -> Result<(), TraceError> {
        let at = Location::Byte(self.offset);
        let time = u32_at(bytes, 0);
        let object = object_of(bytes);
        let size = u32_at(bytes, 12);
        if time < self.previous_time {
            return Err(builder.error(at, decreasing("a time", self.previous_time, time)));
        }
        self.previous_time = time;
        let first = *self.first_time.get_or_insert(time);
        let key = builder.key_number(object, at)?;
        let record = TraceRecord {
            time_us: u64::from(time - first) * MICROS_PER_SECOND,
            key,
            db: 0,
            op: TraceOp::Get,
            flags: 0,
            value_size: size,
            ttl_ms: 0,
        };
        builder.push(record, at)?;
        self.offset += RECORD_BYTES as u64;
        Ok(())
    }
}

/// A record's object id.
fn object_of(record: &[u8]) -> u64 {
    let mut id = [0u8; 8];
    id.copy_from_slice(&record[4..12]);
    u64::from_le_bytes(id)
}

fn bytes_at<const N: usize>(record: &[u8; RECORD_BYTES], start: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&record[start..start + N]);
    out
}

fn u32_at(record: &[u8; RECORD_BYTES], start: usize) -> u32 {
    u32::from_le_bytes(bytes_at(record, start))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture_error, gzip, load_fixture};
    use super::super::TraceFormat;
    use crate::sim::config::{TraceOp, TraceRecord};

    fn encode(records: &[(u32, u64, u32)]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (time, object, size) in records {
            bytes.extend_from_slice(&time.to_le_bytes());
            bytes.extend_from_slice(&object.to_le_bytes());
            bytes.extend_from_slice(&size.to_le_bytes());
            bytes.extend_from_slice(&(-1i64).to_le_bytes());
        }
        bytes
    }

    #[test]
    fn records_are_reads_timed_from_the_first() {
        let bytes = encode(&[(100, 42, 4096), (100, 7, 512), (103, 42, 4096)]);
        let loaded = load_fixture("bin", &bytes, TraceFormat::OracleGeneral).expect("valid");
        let trace = &loaded.trace;
        assert!(trace.read_through);
        assert_eq!(trace.key_names, ["42", "7"]);
        let get = |time_us, key, value_size| TraceRecord {
            time_us,
            key,
            db: 0,
            op: TraceOp::Get,
            flags: 0,
            value_size,
            ttl_ms: 0,
        };
        assert_eq!(
            trace.records,
            [get(0, 0, 4096), get(0, 1, 512), get(3_000_000, 0, 4096)]
        );
    }

    #[test]
    fn records_split_across_buffers_read_whole() {
        let records: Vec<(u32, u64, u32)> = (0..50).map(|i| (i / 7, u64::from(i % 9), i)).collect();
        let bytes = encode(&records);
        for capacity in [1, 7, 23, 24, 25, 100] {
            let input: Box<dyn std::io::BufRead> = Box::new(std::io::BufReader::with_capacity(
                capacity,
                std::io::Cursor::new(bytes.clone()),
            ));
            let mut builder = super::TraceBuilder::new("t");
            super::read(input, None, &mut builder).expect("whole records");
            let trace = builder
                .finish(TraceFormat::OracleGeneral)
                .expect("50")
                .trace;
            let sizes: Vec<u32> = trace.records.iter().map(|r| r.value_size).collect();
            assert_eq!(sizes, (0..50).collect::<Vec<u32>>(), "buffer of {capacity}");
            assert_eq!(trace.records.at(49).time_us, 7_000_000);
        }
    }

    #[test]
    fn errors_name_the_byte_offset() {
        // Compressed, the length is known only at the end.
        let mut partial = encode(&[(1, 1, 1), (2, 2, 2)]);
        partial.truncate(24 + 10);
        assert_eq!(
            fixture_error("bin.gz", &gzip(&partial), TraceFormat::OracleGeneral),
            ": byte 24: expected a 24-byte record, found the file ending after 10 bytes"
        );
        let decreasing = encode(&[(5, 1, 1), (5, 2, 1), (4, 3, 1)]);
        assert_eq!(
            fixture_error("bin", &decreasing, TraceFormat::OracleGeneral),
            ": byte 48: expected a time of at least 5 (times must not decrease), found 4"
        );
        assert_eq!(
            fixture_error("bin", &[], TraceFormat::OracleGeneral),
            ": no requests"
        );
    }
}
