//! The `csv` format: a header `t_ms,op,key,value_size,ttl_ms`, then one request per row.
//!
//! Keys may hold anything a quoted CSV field can (commas, quotes, newlines; see `csv_rows`), as
//! raw bytes since Redis keys are binary. `t_ms` is milliseconds from the
//! trace start and must not decrease; `op` is SET, GET, DEL or EXPIRE in any case; `value_size`
//! is SET's value in bytes (0 allowed); `ttl_ms` is SET's TTL or EXPIRE's new one (0: none for
//! SET, delete for EXPIRE). Empty size and TTL fields mean 0.

use std::io::BufRead;

use super::builder::TraceBuilder;
use super::csv_rows::{Row, RowError, Rows};
use super::error::{shown, Location, TraceError};
use super::input::Lines;
use super::{decreasing, size_at_most, unsigned, TTL_MS_MAX, VALUE_BYTES_MAX};
use crate::sim::config::{TraceOp, TraceRecord};

const HEADER: [&str; 5] = ["t_ms", "op", "key", "value_size", "ttl_ms"];

pub(super) fn read(input: Box<dyn BufRead>, builder: &mut TraceBuilder) -> Result<(), TraceError> {
    let mut rows = Rows::new(Lines::new(input));
    let mut row = Row::default();
    let mut header_seen = false;
    let mut previous_ms = 0;
    loop {
        let line = match rows.next_row(&mut row) {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(()),
            Err(RowError::Line(error)) => return Err(builder.line_error(error)),
            Err(RowError::Malformed(line, message)) => {
                return Err(builder.error(Location::Line(line), message))
            }
        };
        let at = Location::Line(line);
        if !header_seen {
            check_header(&row).map_err(|message| builder.error(at, message))?;
            header_seen = true;
            continue;
        }
        let (t_ms, record) = request(&row).map_err(|message| builder.error(at, message))?;
        if t_ms < previous_ms {
            return Err(builder.error(at, decreasing("t_ms", previous_ms, t_ms)));
        }
        previous_ms = t_ms;
        let key = builder.key_bytes(row.get(2), at)?;
        builder.push(TraceRecord { key, ..record }, at)?;
    }
}

fn check_header(row: &Row) -> Result<(), String> {
    let fields: Vec<&[u8]> = row.iter().collect();
    let mut matches = fields.len() == HEADER.len();
    for (index, (field, name)) in fields.iter().zip(HEADER).enumerate() {
        // A byte-order mark, as spreadsheets write, is not part of the first column's name.
        let field = match index {
            0 => field.strip_prefix("\u{feff}".as_bytes()).unwrap_or(field),
            _ => field,
        };
        matches &= field.trim_ascii() == name.as_bytes();
    }
    if matches {
        return Ok(());
    }
    let found = fields
        .iter()
        .map(|field| String::from_utf8_lossy(field))
        .collect::<Vec<_>>()
        .join(",");
    Err(format!(
        "expected the header {}, found {}",
        HEADER.join(","),
        shown(found.as_bytes())
    ))
}

/// The row's time in ms and its record, with the key still to be interned.
fn request(row: &Row) -> Result<(u64, TraceRecord), String> {
    if row.len() != HEADER.len() {
        return Err(format!(
            "expected {} fields ({}), found {}",
            HEADER.len(),
            HEADER.join(","),
            row.len()
        ));
    }
    let t_ms = unsigned(row.get(0), "t_ms (an integer number of milliseconds)")?;
    let time_us = t_ms.checked_mul(1_000).ok_or_else(|| {
        format!(
            "expected t_ms of at most {}, found {t_ms}",
            u64::MAX / 1_000
        )
    })?;
    let op = op(row.get(1))?;
    let value_size = or_zero(row.get(3), |field| {
        size_at_most(field, "value_size", VALUE_BYTES_MAX).map(u64::from)
    })? as u32;
    let ttl_ms = or_zero(row.get(4), |field| {
        unsigned(field, "ttl_ms (an integer number of milliseconds)")
    })?
    .min(TTL_MS_MAX);
    let record = TraceRecord {
        time_us,
        key: 0,
        db: 0,
        op,
        flags: 0,
        value_size,
        ttl_ms,
    };
    Ok((t_ms, record))
}

fn op(field: &[u8]) -> Result<TraceOp, String> {
    let ops = [
        ("SET", TraceOp::Set),
        ("GET", TraceOp::Get),
        ("DEL", TraceOp::Del),
        ("EXPIRE", TraceOp::Expire),
    ];
    let name = field.trim_ascii();
    ops.iter()
        .find(|(spelling, _)| name.eq_ignore_ascii_case(spelling.as_bytes()))
        .map(|(_, op)| *op)
        .ok_or_else(|| {
            format!(
                "expected op SET, GET, DEL or EXPIRE, found {}",
                shown(field)
            )
        })
}

fn or_zero(field: &[u8], parse: impl Fn(&[u8]) -> Result<u64, String>) -> Result<u64, String> {
    if field.trim_ascii().is_empty() {
        Ok(0)
    } else {
        parse(field)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture_error, load_fixture};
    use super::super::TraceFormat;
    use crate::sim::config::{TraceOp, TraceRecord};

    fn record(time_us: u64, key: u32, op: TraceOp, value_size: u32, ttl_ms: u64) -> TraceRecord {
        TraceRecord {
            time_us,
            key,
            db: 0,
            op,
            flags: 0,
            value_size,
            ttl_ms,
        }
    }

    #[test]
    fn rows_become_records_with_interned_keys() {
        let text = "t_ms,op,key,value_size,ttl_ms\n\
                    0,SET,user:1,100,0\n\
                    5,get,user:1,0,0\n\
                    5,Set,\"a,b\"\"c\",0,60000\n\
                    7,EXPIRE,user:1,,1000\n\
                    9,DEL,\"a,b\"\"c\",,\n";
        let loaded = load_fixture("csv", text.as_bytes(), TraceFormat::Csv).expect("valid");
        let trace = &loaded.trace;
        assert_eq!(trace.key_names, ["user:1", "a,b\"c"]);
        assert!(!trace.read_through);
        assert_eq!(
            trace.records,
            [
                record(0, 0, TraceOp::Set, 100, 0),
                record(5_000, 0, TraceOp::Get, 0, 0),
                record(5_000, 1, TraceOp::Set, 0, 60_000),
                record(7_000, 0, TraceOp::Expire, 0, 1_000),
                record(9_000, 1, TraceOp::Del, 0, 0),
            ]
        );
    }

    #[test]
    fn header_may_carry_a_byte_order_mark_and_spaces() {
        let text = "\u{feff}t_ms, op, key, value_size, ttl_ms\r\n1,GET,k,0,0\r\n";
        let loaded = load_fixture("csv", text.as_bytes(), TraceFormat::Csv).expect("valid");
        assert_eq!(loaded.trace.records.len(), 1);
    }

    #[test]
    fn long_ttls_are_clamped() {
        let text = "t_ms,op,key,value_size,ttl_ms\n0,SET,k,1,99999999999999\n";
        let loaded = load_fixture("csv", text.as_bytes(), TraceFormat::Csv).expect("valid");
        assert_eq!(loaded.trace.records[0].ttl_ms, super::TTL_MS_MAX);
    }

    #[test]
    fn errors_name_the_line_and_what_was_found() {
        let cases = [
            ("time,op,key,size,ttl\n0,GET,k,0,0\n", ":1: expected the header t_ms,op,key,value_size,ttl_ms, found \"time,op,key,size,ttl\""),
            ("t_ms,op,key,value_size\n", ":1: expected the header t_ms,op,key,value_size,ttl_ms, found \"t_ms,op,key,value_size\""),
            ("0,GET,k,0,0\n", ":1: expected the header"),
            ("t_ms,op,key,value_size,ttl_ms\n0,PUT,k,0,0\n", ":2: expected op SET, GET, DEL or EXPIRE, found \"PUT\""),
            ("t_ms,op,key,value_size,ttl_ms\n0,GET,k,0\n", ":2: expected 5 fields (t_ms,op,key,value_size,ttl_ms), found 4"),
            ("t_ms,op,key,value_size,ttl_ms\nsoon,GET,k,0,0\n", ":2: expected t_ms (an integer number of milliseconds), found \"soon\""),
            ("t_ms,op,key,value_size,ttl_ms\n-1,GET,k,0,0\n", ":2: expected t_ms (an integer number of milliseconds), found \"-1\""),
            ("t_ms,op,key,value_size,ttl_ms\n0,SET,k,big,0\n", ":2: expected value_size (an integer number of bytes, at most 536870912), found \"big\""),
            ("t_ms,op,key,value_size,ttl_ms\n0,SET,k,536870913,0\n", ":2: expected value_size (an integer number of bytes, at most 536870912), found \"536870913\""),
            ("t_ms,op,key,value_size,ttl_ms\n0,SET,k,1,1.5\n", ":2: expected ttl_ms (an integer number of milliseconds), found \"1.5\""),
            ("t_ms,op,key,value_size,ttl_ms\n0,GET,a,0,0\n10,GET,b,0,0\n\n9,GET,c,0,0\n", ":5: expected t_ms of at least 10 (times must not decrease), found 9"),
            ("t_ms,op,key,value_size,ttl_ms\n99999999999999999,GET,k,0,0\n", ":2: expected t_ms of at most 18446744073709551, found 99999999999999999"),
            ("t_ms,op,key,value_size,ttl_ms\n", ": no requests"),
            ("", ": no requests"),
        ];
        for (text, expected) in cases {
            let error = fixture_error("csv", text.as_bytes(), TraceFormat::Csv);
            assert!(
                error.starts_with(expected),
                "{text:?}\n  got      {error}\n  expected {expected}"
            );
        }
    }
}
