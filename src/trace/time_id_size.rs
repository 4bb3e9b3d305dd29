//! The `time-id-size` format: `time,id,size` lines without a header.
//!
//! `time` is an integer number of seconds, made relative to the first line and never
//! decreasing; `id` is any text without commas; `size` is the object's size in bytes. Every
//! line is a read, and a read that misses inserts the object (the format comes from cache
//! research, where traces hold only reads).

use std::io::BufRead;

use super::builder::TraceBuilder;
use super::error::{Location, TraceError};
use super::input::Lines;
use super::{decreasing, size_at_most, unsigned};
use crate::sim::config::{TraceOp, TraceRecord, MICROS_PER_SECOND};

pub(super) fn read(input: Box<dyn BufRead>, builder: &mut TraceBuilder) -> Result<(), TraceError> {
    let mut lines = Lines::new(input);
    let mut first_time = None;
    let mut previous_time = 0;
    loop {
        let Some((number, line)) = builder.next_line(&mut lines)? else {
            return Ok(());
        };
        let at = Location::Line(number);
        if line.trim_ascii().is_empty() {
            continue;
        }
        let fields: Vec<&[u8]> = line.split(|byte| *byte == b',').collect();
        let [time, id, size] = fields.as_slice() else {
            return Err(builder.error(
                at,
                format!("expected 3 fields (time,id,size), found {}", fields.len()),
            ));
        };
        let parsed = unsigned(time, "time (an integer number of seconds)").and_then(|time| {
            let size = size_at_most(size, "size", u64::from(u32::MAX))?;
            Ok((time, size))
        });
        let (time, size) = parsed.map_err(|message| builder.error(at, message))?;
        if time < previous_time {
            return Err(builder.error(at, decreasing("a time", previous_time, time)));
        }
        previous_time = time;
        let first = *first_time.get_or_insert(time);
        let time_us = (time - first)
            .checked_mul(MICROS_PER_SECOND)
            .ok_or_else(|| {
                builder.error(
                    at,
                    format!(
                        "expected a time at most {} seconds after the first, found {time}",
                        u64::MAX / MICROS_PER_SECOND
                    ),
                )
            })?;
        let key = builder.key_bytes(id, at)?;
        let record = TraceRecord {
            time_us,
            key,
            db: 0,
            op: TraceOp::Get,
            flags: 0,
            value_size: size,
            ttl_ms: 0,
        };
        builder.push(record, at)?;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture_error, load_fixture};
    use super::super::TraceFormat;
    use crate::sim::config::{TraceOp, TraceRecord};

    #[test]
    fn lines_are_timed_reads() {
        let text = b"1000,img/a.png,2048\n1000,b,10\n\n1002,img/a.png,2048\n";
        let loaded = load_fixture("csv", text, TraceFormat::TimeIdSize).expect("valid");
        let trace = &loaded.trace;
        assert!(trace.read_through);
        assert_eq!(trace.key_names, ["img/a.png", "b"]);
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
            [get(0, 0, 2048), get(0, 1, 10), get(2_000_000, 0, 2048)]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let cases: [(&[u8], &str); 5] = [
            (
                b"1,a,1\n2,b\n",
                ":2: expected 3 fields (time,id,size), found 2",
            ),
            (
                b"1,a,1\n2,b,1,4\n",
                ":2: expected 3 fields (time,id,size), found 4",
            ),
            (
                b"1.5,a,1\n",
                ":1: expected time (an integer number of seconds), found \"1.5\"",
            ),
            (
                b"1,a,-1\n",
                ":1: expected size (an integer number of bytes, at most 4294967295), found \"-1\"",
            ),
            (
                b"5,a,1\n4,a,1\n",
                ":2: expected a time of at least 5 (times must not decrease), found 4",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                fixture_error("csv", text, TraceFormat::TimeIdSize),
                expected
            );
        }
    }
}
