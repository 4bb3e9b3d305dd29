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
use super::input::fill;
use crate::sim::config::{TraceOp, TraceRecord, MICROS_PER_SECOND};

const RECORD_BYTES: usize = 24;

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
    let mut bytes = [0u8; RECORD_BYTES];
    let mut offset = 0u64;
    let mut first_time = None;
    let mut previous_time = 0;
    loop {
        let at = Location::Byte(offset);
        let filled = fill(input.as_mut(), &mut bytes).map_err(|io| builder.io_error(at, io))?;
        if filled == 0 {
            return Ok(());
        }
        if filled < RECORD_BYTES {
            return Err(builder.error(
                at,
                format!(
                    "expected a {RECORD_BYTES}-byte record, found the file ending after \
                     {filled} bytes"
                ),
            ));
        }
        let time = u32_at(&bytes, 0);
        let object = u64::from_le_bytes(bytes_at(&bytes, 4));
        let size = u32_at(&bytes, 12);
        if time < previous_time {
            return Err(builder.error(at, decreasing("a time", previous_time, time)));
        }
        previous_time = time;
        let first = *first_time.get_or_insert(time);
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
        offset += RECORD_BYTES as u64;
    }
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
