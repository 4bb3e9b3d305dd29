//! The `lirs` format: one integer key per line, as in the LIRS traces.
//!
//! Lines holding `*` (checkpoint markers) and blank lines are skipped. The traces are untimed:
//! every record has time 0 and the scenario paces them (`rate`). Each request is a read of a
//! 1-byte object, so a cache measured in bytes counts entries.

use std::io::BufRead;

use super::builder::TraceBuilder;
use super::error::{Location, TraceError};
use super::input::Lines;
use super::unsigned;
use crate::sim::config::{TraceOp, TraceRecord};

pub(super) fn read(input: Box<dyn BufRead>, builder: &mut TraceBuilder) -> Result<(), TraceError> {
    let mut lines = Lines::new(input);
    loop {
        let Some((number, line)) = builder.next_line(&mut lines)? else {
            return Ok(());
        };
        let at = Location::Line(number);
        let text = line.trim_ascii();
        if text.is_empty() || text == b"*" {
            continue;
        }
        let object =
            unsigned(text, "an integer key or *").map_err(|message| builder.error(at, message))?;
        let key = builder.key_number(object, at)?;
        let record = TraceRecord {
            time_us: 0,
            key,
            db: 0,
            op: TraceOp::Get,
            flags: 0,
            value_size: 1,
            ttl_ms: 0,
        };
        builder.push(record, at)?;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture_error, load_fixture};
    use super::super::TraceFormat;

    #[test]
    fn keys_are_reads_of_one_byte_untimed() {
        let loaded =
            load_fixture("trace", b"5\n*\n\n 17 \r\n5\n", TraceFormat::Lirs).expect("valid");
        let trace = &loaded.trace;
        assert!(trace.read_through);
        assert_eq!(trace.key_names, ["5", "17"]);
        let keys: Vec<u32> = trace.records.iter().map(|record| record.key).collect();
        assert_eq!(keys, [0, 1, 0]);
        assert!(trace
            .records
            .iter()
            .all(|record| record.time_us == 0 && record.value_size == 1));
    }

    #[test]
    fn a_non_integer_key_is_an_error() {
        assert_eq!(
            fixture_error("trace", b"1\n2\nx7\n", TraceFormat::Lirs),
            ":3: expected an integer key or *, found \"x7\""
        );
        assert_eq!(
            fixture_error("trace", b"*\n\n", TraceFormat::Lirs),
            ": no requests"
        );
    }
}
