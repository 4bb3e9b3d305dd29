//! The `csv` format: a header `t_ms,op,key,value_size,ttl_ms` (and optionally `,target`), then
//! one request per row.
//!
//! Keys may hold anything a quoted CSV field can (commas, quotes, newlines; see `csv_rows`), as
//! raw bytes since Redis keys are binary. `t_ms` is milliseconds from the trace start and must
//! not decrease; `op` is a command of the server's command table whose arguments a row can
//! carry (`csv_op`), in any case: reads (GET, EXISTS, TTL...), SET and its forms, INCR...,
//! APPEND, GETDEL, GETEX, DEL, UNLINK, EXPIRE, PEXPIRE, PERSIST, the pops, RENAME, RENAMENX,
//! COPY and MOVE (whose new key, or database for MOVE, is the `target` column), FLUSHDB and
//! FLUSHALL (their key field is ignored). `value_size` is a written value's size in bytes (0
//! allowed); `ttl_ms` is SET's TTL or EXPIRE's new one (0: none for SET, delete for EXPIRE).
//! Empty size and TTL fields mean 0.

use std::io::BufRead;

use super::builder::TraceBuilder;
use super::csv_rows::{Row, RowError, Rows};
use super::error::{shown, Location, TraceError};
use super::input::Lines;
use super::{decreasing, size_at_most, unsigned, TTL_MS_MAX, VALUE_BYTES_MAX};
use crate::sim::config::{record_flags, TraceOp, TraceRecord};
use crate::sim::server::command::{Behaviour, CommandKind};

const HEADER: [&str; 6] = ["t_ms", "op", "key", "value_size", "ttl_ms", "target"];
/// Columns without `target`.
const REQUIRED: usize = 5;

pub(super) fn read(input: Box<dyn BufRead>, builder: &mut TraceBuilder) -> Result<(), TraceError> {
    let mut rows = Rows::new(Lines::new(input));
    let mut row = Row::default();
    let mut columns = 0;
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
        if columns == 0 {
            columns = check_header(&row).map_err(|message| builder.error(at, message))?;
            continue;
        }
        let (t_ms, mut record) =
            request(&row, columns).map_err(|message| builder.error(at, message))?;
        if t_ms < previous_ms {
            return Err(builder.error(at, decreasing("t_ms", previous_ms, t_ms)));
        }
        previous_ms = t_ms;
        if !record.op.is_keyless() {
            record.key = builder.key_bytes(row.get(2), at)?;
        }
        if matches!(record.op.behaviour(), Behaviour::Rename | Behaviour::Copy) {
            let target = target(&row, columns, record.op).map_err(|m| builder.error(at, m))?;
            record.value_size = builder.key_bytes(target, at)?;
        }
        builder.push(record, at)?;
    }
}

/// The header's number of columns (with or without `target`).
fn check_header(row: &Row) -> Result<usize, String> {
    let fields: Vec<&[u8]> = row.iter().collect();
    let mut matches = fields.len() == REQUIRED || fields.len() == HEADER.len();
    for (index, (field, name)) in fields.iter().zip(HEADER).enumerate() {
        // A byte-order mark, as spreadsheets write, is not part of the first column's name.
        let field = match index {
            0 => field.strip_prefix("\u{feff}".as_bytes()).unwrap_or(field),
            _ => field,
        };
        matches &= field.trim_ascii() == name.as_bytes();
    }
    if matches {
        return Ok(fields.len());
    }
    let found = fields
        .iter()
        .map(|field| String::from_utf8_lossy(field))
        .collect::<Vec<_>>()
        .join(",");
    Err(format!(
        "expected the header {} (optionally with ,target), found {}",
        HEADER[..REQUIRED].join(","),
        shown(found.as_bytes())
    ))
}

/// The row's time in ms and its record, with the key still to be interned.
fn request(row: &Row, columns: usize) -> Result<(u64, TraceRecord), String> {
    if row.len() != columns {
        return Err(format!(
            "expected {columns} fields ({}), found {}",
            HEADER[..columns].join(","),
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
    let (op, flags) = csv_op(row.get(1))?;
    let value_size = or_zero(row.get(3), |field| {
        size_at_most(field, "value_size", VALUE_BYTES_MAX).map(u64::from)
    })? as u32;
    let ttl_ms = or_zero(row.get(4), |field| {
        unsigned(field, "ttl_ms (an integer number of milliseconds)")
    })?
    .min(TTL_MS_MAX);
    let mut record = TraceRecord {
        time_us,
        key: 0,
        db: 0,
        op,
        flags,
        value_size,
        ttl_ms,
    };
    if op == CommandKind::Move {
        let db = target(row, columns, op)?;
        record.ttl_ms = unsigned(db, "MOVE's target database (an integer)")?;
    }
    Ok((t_ms, record))
}

/// The `target` field of a RENAME, RENAMENX, COPY or MOVE row.
fn target(row: &Row, columns: usize, op: TraceOp) -> Result<&[u8], String> {
    let field = (columns == HEADER.len()).then(|| row.get(REQUIRED));
    match field {
        Some(field) if !field.trim_ascii().is_empty() => Ok(field),
        _ => Err(format!(
            "{} needs its target in a `target` column (header t_ms,op,key,value_size,ttl_ms,target)",
            op.name()
        )),
    }
}

/// Whether a CSV row can carry `command`'s arguments: one key, a value size, a relative TTL,
/// and a target. Aggregate element commands need elements; the deadline forms (EXPIREAT),
/// SELECT and the commands spread over several keys (SUNIONSTORE, LMOVE, SWAPDB...) make no
/// sense in a row.
fn csv_op_allowed(command: CommandKind) -> bool {
    match command.behaviour() {
        // A call spread over several keys or carrying a range has no row of its own.
        Behaviour::Add
        | Behaviour::Remove
        | Behaviour::Select
        | Behaviour::Store
        | Behaviour::Transfer
        | Behaviour::Trim
        | Behaviour::MultiPop
        | Behaviour::SwapDb => false,
        Behaviour::Expire => matches!(command, CommandKind::Expire | CommandKind::Pexpire),
        _ => true,
    }
}

/// The row's command and the options its name implies (SETNX: NX, GETSET: GET).
fn csv_op(field: &[u8]) -> Result<(TraceOp, u8), String> {
    let name = field.trim_ascii();
    let command = CommandKind::parse_bytes(name).filter(|command| csv_op_allowed(*command));
    let Some(command) = command else {
        return Err(format!(
            "expected an op such as SET, GET, DEL, UNLINK, GETDEL, EXPIRE, RENAME, FLUSHDB or \
             FLUSHALL (README: trace formats), found {}",
            shown(field)
        ));
    };
    let flags = match command {
        CommandKind::Setnx | CommandKind::Msetnx => record_flags::NX,
        CommandKind::Getset => record_flags::GET,
        _ => 0,
    };
    Ok((command, flags))
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
    use crate::sim::config::{record_flags, TraceOp, TraceRecord};

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
    fn removing_commands_and_targets_become_records() {
        let text = "t_ms,op,key,value_size,ttl_ms,target\n\
                    0,SET,a,10,0,\n\
                    1,RENAME,a,,,b\n\
                    2,GETDEL,b,,,\n\
                    3,unlink,a,,,\n\
                    4,MOVE,c,,,2\n\
                    5,FLUSHDB,,,,\n\
                    6,flushall,ignored,,,\n\
                    7,SETNX,c,3,,\n";
        let loaded = load_fixture("csv", text.as_bytes(), TraceFormat::Csv).expect("valid");
        let trace = &loaded.trace;
        assert_eq!(trace.key_names, ["a", "b", "c"]);
        let setnx = TraceRecord {
            flags: record_flags::NX,
            ..record(7_000, 2, TraceOp::Setnx, 3, 0)
        };
        assert_eq!(
            trace.records,
            [
                record(0, 0, TraceOp::Set, 10, 0),
                record(1_000, 0, TraceOp::Rename, 1, 0),
                record(2_000, 1, TraceOp::Getdel, 0, 0),
                record(3_000, 0, TraceOp::Unlink, 0, 0),
                record(4_000, 2, TraceOp::Move, 0, 2),
                record(5_000, 0, TraceOp::Flushdb, 0, 0),
                record(6_000, 0, TraceOp::Flushall, 0, 0),
                setnx,
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
        assert_eq!(loaded.trace.records.at(0).ttl_ms, super::TTL_MS_MAX);
    }

    #[test]
    fn errors_name_the_line_and_what_was_found() {
        let cases = [
            ("time,op,key,size,ttl\n0,GET,k,0,0\n", ":1: expected the header t_ms,op,key,value_size,ttl_ms (optionally with ,target), found \"time,op,key,size,ttl\""),
            ("t_ms,op,key,value_size\n", ":1: expected the header t_ms,op,key,value_size,ttl_ms (optionally with ,target), found \"t_ms,op,key,value_size\""),
            ("0,GET,k,0,0\n", ":1: expected the header"),
            ("t_ms,op,key,value_size,ttl_ms\n0,PUT,k,0,0\n", ":2: expected an op such as SET, GET, DEL, UNLINK, GETDEL, EXPIRE, RENAME, FLUSHDB or FLUSHALL (README: trace formats), found \"PUT\""),
            ("t_ms,op,key,value_size,ttl_ms\n0,HSET,k,0,0\n", ":2: expected an op such as"),
            ("t_ms,op,key,value_size,ttl_ms\n0,RENAME,k,0,0\n", ":2: RENAME needs its target in a `target` column"),
            ("t_ms,op,key,value_size,ttl_ms,target\n0,MOVE,k,0,0,x\n", ":2: expected MOVE's target database (an integer), found \"x\""),
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
