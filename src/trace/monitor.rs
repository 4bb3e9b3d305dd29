//! The `monitor` format: what `redis-cli MONITOR` prints.
//!
//! Each line is `<unix seconds>.<microseconds> [<db> <client>] "<arg0>" "<arg1>" ...`, the
//! arguments escaped as `sdscatrepr` does (`\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`).
//! The first line's time is the trace's 0. Each command is replayed as `monitor_commands`
//! plans it: every command of the server's command table, with Redis 7.0's key positions and
//! options. Commands that touch no key (PING, INFO, MULTI, EXEC, EVAL...) are counted and
//! skipped: MONITOR shows what a transaction or a script ran on lines of their own, which are
//! replayed. Unknown commands are counted by name, commands whose arguments Redis would have
//! refused are counted as skipped, and lines that are not MONITOR lines at all (redis-cli's
//! leading `OK`, a closing error) are counted with the first one kept, for the report.

use std::io::BufRead;

use super::builder::TraceBuilder;
use super::decreasing;
use super::error::{shown, Location, TraceError};
use super::input::Lines;
use super::monitor_commands::{plan, Arguments, Skip};

const LINE_EXAMPLE: &str = "1795438220.415845 [0 127.0.0.1:51792] \"get\" \"key\"";

pub(super) fn read(input: Box<dyn BufRead>, builder: &mut TraceBuilder) -> Result<(), TraceError> {
    let mut lines = Lines::new(input);
    let mut arguments = Arguments::default();
    let mut plans = Vec::new();
    let mut first_us = None;
    let mut previous = Stamp::default();
    loop {
        let Some((number, line)) = builder.next_line(&mut lines)? else {
            return Ok(());
        };
        let at = Location::Line(number);
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        if !trimmed[0].is_ascii_digit() {
            // redis-cli's `OK`, an error it prints when the connection ends...
            builder.foreign_line(number, &String::from_utf8_lossy(trimmed));
            continue;
        }
        let (stamp, db) =
            parse_line(line, &mut arguments).map_err(|message| builder.error(at, message))?;
        if stamp < previous {
            return Err(builder.error(at, decreasing("a timestamp", previous, stamp)));
        }
        previous = stamp;
        let line_us = stamp.micros().ok_or_else(|| {
            builder.error(
                at,
                format!("expected a timestamp in unix seconds, found {stamp}"),
            )
        })?;
        let base_us = *first_us.get_or_insert(line_us);
        if let Err(skip) = plan(&arguments, line_us / 1_000, &mut plans) {
            match skip {
                Skip::Keyless => builder.keyless_line(),
                Skip::Unknown => builder.unknown_command(arguments.get(0)),
                Skip::Refused => builder.skip_line(),
            }
            continue;
        }
        builder.use_db(db, number);
        for planned in &plans {
            let key = match planned.key_argument {
                Some(index) => builder.key_bytes(arguments.get(index), at)?,
                None => 0,
            };
            let target = match planned.target_argument {
                Some(index) => builder.key_bytes(arguments.get(index), at)?,
                None => 0,
            };
            let record = planned.record(line_us - base_us, db, key, target);
            builder.push(record, at)?;
        }
    }
}

/// A MONITOR timestamp as written: whole seconds and microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Stamp {
    seconds: u64,
    micros: u32,
}

impl Stamp {
    fn micros(self) -> Option<u64> {
        self.seconds
            .checked_mul(1_000_000)?
            .checked_add(u64::from(self.micros))
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}.{:06}", self.seconds, self.micros)
    }
}

/// Splits a line into its timestamp, database and arguments.
fn parse_line(line: &[u8], arguments: &mut Arguments) -> Result<(Stamp, u32), String> {
    let malformed = || {
        format!(
            "expected a MONITOR line such as {LINE_EXAMPLE}, found {}",
            shown(line)
        )
    };
    let space = line
        .iter()
        .position(|byte| *byte == b' ')
        .ok_or_else(malformed)?;
    let stamp = parse_stamp(&line[..space]).ok_or_else(malformed)?;
    let rest = line[space + 1..].strip_prefix(b"[").ok_or_else(malformed)?;
    let db_end = rest
        .iter()
        .position(|byte| *byte == b' ')
        .ok_or_else(malformed)?;
    let db = std::str::from_utf8(&rest[..db_end])
        .ok()
        .filter(|text| text.bytes().all(|byte| byte.is_ascii_digit()))
        .and_then(|text| text.parse::<u32>().ok())
        .ok_or_else(malformed)?;
    // The client (`ip:port`, `[ipv6]:port`, `lua`, `unix:/path`) ends where the arguments start.
    let client_end = rest
        .windows(3)
        .position(|window| window == b"] \"")
        .ok_or_else(malformed)?;
    parse_arguments(&rest[client_end + 2..], arguments)?;
    Ok((stamp, db))
}

fn parse_stamp(text: &[u8]) -> Option<Stamp> {
    let dot = text.iter().position(|byte| *byte == b'.')?;
    let (seconds, fraction) = (&text[..dot], &text[dot + 1..]);
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    if !digits(seconds) || !digits(fraction) || fraction.len() > 6 {
        return None;
    }
    let seconds = std::str::from_utf8(seconds).ok()?.parse().ok()?;
    let scale = 10u32.pow(6 - fraction.len() as u32);
    let micros = std::str::from_utf8(fraction).ok()?.parse::<u32>().ok()? * scale;
    Some(Stamp { seconds, micros })
}

/// `"a" "b\x01"` into the arguments `a` and `b` followed by byte 1.
fn parse_arguments(text: &[u8], arguments: &mut Arguments) -> Result<(), String> {
    arguments.bytes.clear();
    arguments.ends.clear();
    let mut rest = text;
    loop {
        rest = rest
            .strip_prefix(b"\"")
            .ok_or_else(|| format!("expected a quoted argument, found {}", shown(rest)))?;
        loop {
            match rest {
                [b'"', tail @ ..] => {
                    rest = tail;
                    break;
                }
                [b'\\', tail @ ..] => {
                    let (byte, consumed) = unescape(tail).ok_or_else(|| {
                        format!(
                            "expected an escape such as \\n or \\x01, found {}",
                            shown(rest)
                        )
                    })?;
                    arguments.bytes.push(byte);
                    rest = &tail[consumed..];
                }
                [byte, tail @ ..] => {
                    arguments.bytes.push(*byte);
                    rest = tail;
                }
                [] => return Err("expected a closing '\"', found the end of the line".to_string()),
            }
        }
        arguments.ends.push(arguments.bytes.len());
        match rest {
            [] => return Ok(()),
            [b' ', tail @ ..] => rest = tail,
            _ => {
                return Err(format!(
                    "expected a space between arguments, found {}",
                    shown(rest)
                ))
            }
        }
    }
}

/// The byte an escape (after its backslash) stands for, and how many bytes it used.
fn unescape(tail: &[u8]) -> Option<(u8, usize)> {
    Some(match tail.first()? {
        b'\\' => (b'\\', 1),
        b'"' => (b'"', 1),
        b'n' => (b'\n', 1),
        b'r' => (b'\r', 1),
        b't' => (b'\t', 1),
        b'a' => (0x07, 1),
        b'b' => (0x08, 1),
        b'x' => {
            let hex = std::str::from_utf8(tail.get(1..3)?).ok()?;
            (u8::from_str_radix(hex, 16).ok()?, 3)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture_error, load_fixture};
    use super::super::{DatabaseUse, TraceFormat};
    use crate::sim::config::{record_flags, TraceOp, TraceRecord};

    const BASE: &str = "1795438220";

    fn line(seconds_after: u64, micros: u32, db: u32, arguments: &str) -> String {
        let seconds = BASE.parse::<u64>().expect("digits") + seconds_after;
        format!("{seconds}.{micros:06} [{db} 127.0.0.1:51792] {arguments}\n")
    }

    fn record(
        time_us: u64,
        key: u32,
        db: u32,
        op: TraceOp,
        value_size: u32,
        ttl_ms: u64,
    ) -> TraceRecord {
        TraceRecord::new(time_us, key, db, op, value_size, ttl_ms)
    }

    fn with(flags: u8, record: TraceRecord) -> TraceRecord {
        TraceRecord { flags, ..record }
    }

    #[test]
    fn commands_become_records() {
        let now_ms = (BASE.parse::<u64>().expect("digits") + 2) * 1_000;
        let text = [
            "OK\n".to_string(),
            line(
                0,
                415_845,
                0,
                r#""set" "sp ace" "q\"uo\\te\n\x01" "EX" "100""#,
            ),
            line(0, 458_660, 3, r#""select" "3""#),
            line(1, 0, 3, r#""GET" "sp ace""#),
            line(1, 5, 3, r#""mget" "a" "b""#),
            line(2, 0, 0, r#""psetex" "a" "1500" "xyz""#),
            line(2, 0, 0, r#""del" "a" "b" "c""#),
            line(2, 0, 0, r#""expire" "b" "-1""#),
            line(2, 0, 0, &format!(r#""pexpireat" "b" "{}""#, now_ms + 250)),
            line(
                2,
                0,
                0,
                &format!(r#""set" "c" "" "PXAT" "{}" "NX""#, now_ms + 10),
            ),
            line(2, 0, 0, r#""set" "c" "12" "keepttl""#),
            line(
                2,
                0,
                0,
                &format!(r#""set" "c" "1" "exat" "{}""#, now_ms / 1_000 - 1),
            ),
            line(2, 0, 0, r#""mset" "a" "1" "c" "22""#),
            line(2, 0, 0, r#""unlink" "a""#),
            line(2, 1, 0, r#""EXEC""#),
            "1795438222.000001 [0 lua] \"setex\" \"d\" \"5\" \"v\"\n".to_string(),
            "1795438222.000001 [0 [::1]:6379] \"set\" \"d\" \"v\"\n".to_string(),
        ]
        .concat();
        let loaded = load_fixture("monitor", text.as_bytes(), TraceFormat::Monitor).expect("valid");
        let trace = &loaded.trace;
        assert_eq!(trace.key_names, ["sp ace", "a", "b", "c", "d"]);
        assert!(!trace.read_through);
        assert_eq!(loaded.skipped_lines, 1);
        assert_eq!(trace.notes.keyless_lines, 1);
        assert_eq!(trace.notes.foreign_lines, 1);
        assert_eq!(trace.notes.first_foreign, Some((1, "OK".to_string())));
        assert_eq!(loaded.highest_db, Some(DatabaseUse { db: 3, line: 3 }));
        let t = |seconds: u64, micros: u64| seconds * 1_000_000 + micros - 415_845;
        let same = record_flags::SAME_CALL;
        assert_eq!(
            trace.records,
            [
                record(0, 0, 0, TraceOp::Set, 9, 100_000),
                record(t(0, 458_660), 0, 3, TraceOp::Select, 0, 0),
                record(t(1, 0), 0, 3, TraceOp::Get, 0, 0),
                record(t(1, 5), 1, 3, TraceOp::Mget, 0, 0),
                with(same, record(t(1, 5), 2, 3, TraceOp::Mget, 0, 0)),
                record(t(2, 0), 1, 0, TraceOp::Psetex, 3, 1_500),
                record(t(2, 0), 1, 0, TraceOp::Del, 0, 0),
                with(same, record(t(2, 0), 2, 0, TraceOp::Del, 0, 0)),
                with(same, record(t(2, 0), 3, 0, TraceOp::Del, 0, 0)),
                record(t(2, 0), 2, 0, TraceOp::Expire, 0, 0),
                record(t(2, 0), 2, 0, TraceOp::Pexpireat, 0, 250),
                with(record_flags::NX, record(t(2, 0), 3, 0, TraceOp::Set, 0, 10)),
                with(
                    record_flags::KEEPTTL,
                    record(t(2, 0), 3, 0, TraceOp::Set, 2, 0)
                ),
                record(t(2, 0), 3, 0, TraceOp::Del, 0, 0),
                record(t(2, 0), 1, 0, TraceOp::Mset, 1, 0),
                with(same, record(t(2, 0), 3, 0, TraceOp::Mset, 2, 0)),
                record(t(2, 0), 1, 0, TraceOp::Unlink, 0, 0),
                record(t(2, 1), 4, 0, TraceOp::Setex, 1, 5_000),
                record(t(2, 1), 4, 0, TraceOp::Set, 1, 0),
            ]
        );
    }

    #[test]
    fn calls_over_several_keys_become_one_record_per_key() {
        use crate::sim::server::protocol::part;
        let text = [
            line(
                0,
                0,
                0,
                r#""zunionstore" "d" "2" "a" "b" "WEIGHTS" "1" "2""#,
            ),
            line(0, 0, 0, r#""lmove" "a" "d" "LEFT" "RIGHT""#),
            line(0, 0, 0, r#""smove" "a" "a" "m""#),
            line(0, 0, 0, r#""ltrim" "a" "1" "-2""#),
            line(0, 0, 0, r#""blmpop" "0" "2" "a" "b" "LEFT" "COUNT" "3""#),
            line(0, 0, 0, r#""swapdb" "0" "4""#),
            line(0, 0, 0, r#""zmpop" "0" "a" "MIN""#),
        ]
        .concat();
        let loaded = load_fixture("monitor", text.as_bytes(), TraceFormat::Monitor).expect("valid");
        let trace = &loaded.trace;
        assert_eq!(trace.key_names, ["a", "b", "d"]);
        assert_eq!(trace.notes.refused_lines, 1);
        let same = record_flags::SAME_CALL;
        let pair = |low: i32, high: i64| TraceRecord::element_argument(low as u32, high);
        let step = |step: u8| u32::from(step);
        let smove = TraceRecord::element_argument(0xe80c_2f78, 0);
        assert_eq!(
            trace.records,
            [
                record(
                    0,
                    0,
                    0,
                    TraceOp::Zunionstore,
                    step(part::FIRST),
                    pair(0, -1)
                ),
                with(
                    same,
                    record(0, 1, 0, TraceOp::Zunionstore, step(part::NEXT), pair(0, -1))
                ),
                with(
                    same,
                    record(
                        0,
                        2,
                        0,
                        TraceOp::Zunionstore,
                        step(part::DESTINATION),
                        pair(0, -1)
                    )
                ),
                record(0, 0, 0, TraceOp::Lmove, step(part::FIRST), pair(0, 0)),
                with(
                    same,
                    record(0, 2, 0, TraceOp::Lmove, step(part::DESTINATION), pair(0, 0))
                ),
                record(0, 0, 0, TraceOp::Smove, step(part::SAME_KEY), smove),
                record(0, 0, 0, TraceOp::Ltrim, step(part::FIRST), pair(1, -2)),
                record(0, 0, 0, TraceOp::Blmpop, step(part::FIRST), pair(3, 0)),
                with(
                    same,
                    record(0, 1, 0, TraceOp::Blmpop, step(part::NEXT), pair(3, 0))
                ),
                record(0, 0, 0, TraceOp::Swapdb, step(part::FIRST), pair(0, 4)),
            ]
        );
    }

    #[test]
    fn aggregates_and_key_commands_become_records() {
        let text = [
            line(0, 0, 0, r#""hset" "h" "f1" "v" "f2" "vv""#),
            line(0, 0, 0, r#""hdel" "h" "f1""#),
            line(0, 0, 0, r#""rpush" "l" "a" "bc""#),
            line(0, 0, 0, r#""lpop" "l" "2""#),
            line(0, 0, 0, r#""zadd" "z" "NX" "1.5" "m""#),
            line(0, 0, 0, r#""rename" "h" "h2""#),
            line(0, 0, 0, r#""move" "h2" "3""#),
            line(0, 0, 0, r#""copy" "l" "l2" "DB" "2" "REPLACE""#),
            line(0, 0, 0, r#""expire" "l" "10" "GT""#),
            line(0, 0, 0, r#""flushall" "ASYNC""#),
            line(0, 0, 0, r#""ping""#),
            line(0, 0, 0, r#""xadd" "s" "*" "f" "v""#),
            line(0, 0, 0, r#""xadd" "s" "*" "f" "v""#),
            "(error) ERR connection closed\n".to_string(),
        ]
        .concat();
        let loaded = load_fixture("monitor", text.as_bytes(), TraceFormat::Monitor).expect("valid");
        let trace = &loaded.trace;
        assert_eq!(trace.key_names, ["h", "l", "z", "h2", "l2"]);
        let (f1, f2, m) = (0x1422_6d78_u64, 0x1722_7231_u64, 0xe80c_2f78_u64);
        let same = record_flags::SAME_CALL;
        assert_eq!(
            trace.records,
            [
                record(0, 0, 0, TraceOp::Hset, 1, f1),
                with(same, record(0, 0, 0, TraceOp::Hset, 2, f2)),
                record(0, 0, 0, TraceOp::Hdel, 0, f1),
                record(0, 1, 0, TraceOp::Rpush, 1, 0),
                with(same, record(0, 1, 0, TraceOp::Rpush, 2, 0)),
                record(0, 1, 0, TraceOp::Lpop, 0, 0),
                with(same, record(0, 1, 0, TraceOp::Lpop, 0, 0)),
                record(0, 2, 0, TraceOp::Zadd, 0, (1 << 32) | m),
                record(0, 0, 0, TraceOp::Rename, 3, 0),
                record(0, 3, 0, TraceOp::Move, 0, 3),
                with(
                    record_flags::PERSIST_OR_REPLACE,
                    record(0, 1, 0, TraceOp::Copy, 4, 3)
                ),
                with(
                    record_flags::GT,
                    record(0, 1, 0, TraceOp::Expire, 0, 10_000)
                ),
                record(0, 0, 0, TraceOp::Flushall, 0, 0),
            ]
        );
        assert_eq!(trace.notes.keyless_lines, 1);
        assert_eq!(trace.notes.unknown_commands, [("XADD".to_string(), 2)]);
        assert_eq!(
            trace.notes.first_foreign,
            Some((14, "(error) ERR connection closed".to_string()))
        );
    }

    #[test]
    fn refused_arguments_are_skipped_not_errors() {
        let text = [
            line(0, 0, 0, r#""set" "k" "v" "EX" "0""#),
            line(0, 0, 0, r#""set" "k" "v" "EX" "soon""#),
            line(0, 0, 0, r#""set" "k" "v" "BOGUS""#),
            line(0, 0, 0, r#""setex" "k" "-5" "v""#),
            line(0, 0, 0, r#""get" "k" "extra""#),
            line(0, 0, 0, r#""mset" "k""#),
            line(0, 0, 0, r#""expire" "k" "9999999999999999999""#),
            line(0, 0, 0, r#""get" "k""#),
        ]
        .concat();
        let loaded = load_fixture("monitor", text.as_bytes(), TraceFormat::Monitor).expect("valid");
        assert_eq!(loaded.skipped_lines, 7);
        assert_eq!(loaded.trace.records.len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let good = line(5, 0, 0, r#""get" "k""#);
        let cases = [
            (format!("OK\n{good}1garbage\n"), ":3: expected a MONITOR line such as"),
            (format!("{good}1795438220x [0 c] \"get\" \"k\"\n"), ":2: expected a MONITOR line"),
            (format!("{good}1795438230.1 [x c] \"get\" \"k\"\n"), ":2: expected a MONITOR line"),
            (format!("{good}1795438230.1 [0 c] get k\n"), ":2: expected a MONITOR line"),
            (format!("{good}1795438230.1 [0 c] \"get\" \"k\n"), ":2: expected a closing '\"', found the end of the line"),
            (format!("{good}1795438230.1 [0 c] \"get\"\"k\"\n"), ":2: expected a space between arguments, found \"\\\"k\\\"\""),
            (format!("{good}1795438230.1 [0 c] \"get\" \"\\q\"\n"), ":2: expected an escape such as \\n or \\x01, found \"\\\\q\\\"\""),
            (format!("{good}1795438230.1 [0 c] \"get\" \"\\xzz\"\n"), ":2: expected an escape"),
            (format!("{good}{}", line(4, 999_999, 0, r#""get" "k""#)), ":2: expected a timestamp of at least 1795438225.000000 (times must not decrease), found 1795438224.999999"),
            ("OK\n".to_string(), ": no requests"),
            (format!("OK\n{}", line(0, 0, 0, r#""ping""#)), ": no requests (1 line of commands that are not replayed)"),
        ];
        for (text, expected) in cases {
            let error = fixture_error("monitor", text.as_bytes(), TraceFormat::Monitor);
            assert!(
                error.starts_with(expected),
                "{text:?}\n  got      {error}\n  expected {expected}"
            );
        }
    }
}
