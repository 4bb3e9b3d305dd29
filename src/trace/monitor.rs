//! The `monitor` format: what `redis-cli MONITOR` prints.
//!
//! Each line is `<unix seconds>.<microseconds> [<db> <client>] "<arg0>" "<arg1>" ...`, the
//! arguments escaped as `sdscatrepr` does (`\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`);
//! redis-cli prints `OK` first. The first line's time is the trace's 0. Reads, writes, deletes and
//! expiries are replayed (GET, MGET, SET, SETEX, PSETEX, MSET, DEL, UNLINK, EXPIRE, PEXPIRE,
//! EXPIREAT, PEXPIREAT); every other command, and any command whose arguments Redis would have
//! refused (MONITOR shows those too), is counted as a skipped line. EVAL and MULTI are skipped
//! while the commands they ran, which MONITOR shows after them, are replayed.
//!
//! Approximations: SET's NX, XX and GET flags and EXPIRE's NX, XX, GT and LT are ignored (the
//! write or expiry is replayed unconditionally); KEEPTTL is replayed as a SET without TTL; a SET
//! whose EXAT or PXAT is already past is replayed as a DEL, which is its effect on an existing key.

use std::io::BufRead;

use super::builder::TraceBuilder;
use super::error::{shown, Location, TraceError};
use super::input::Lines;
use super::{decreasing, TTL_MS_MAX, VALUE_BYTES_MAX};
use crate::sim::config::{TraceOp, TraceRecord};
use crate::sim::server::command::CommandKind;

const LINE_EXAMPLE: &str = "1795438220.415845 [0 127.0.0.1:51792] \"get\" \"key\"";

pub(super) fn read(input: Box<dyn BufRead>, builder: &mut TraceBuilder) -> Result<(), TraceError> {
    let mut lines = Lines::new(input);
    let mut arguments = Arguments::default();
    let mut first_us = None;
    let mut previous = Stamp::default();
    let mut seen_any = false;
    loop {
        let Some((number, line)) = builder.next_line(&mut lines)? else {
            return Ok(());
        };
        let at = Location::Line(number);
        if line.trim_ascii().is_empty() {
            continue;
        }
        if !seen_any && line.trim_ascii() == b"OK" {
            seen_any = true;
            continue;
        }
        seen_any = true;
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
        let requests = replayed(&arguments, line_us / 1_000);
        let Some(requests) = requests else {
            builder.skip_line();
            continue;
        };
        builder.use_db(db, number);
        for request in requests.iter(&arguments) {
            let key = builder.key_bytes(request.key, at)?;
            let record = TraceRecord {
                time_us: line_us - base_us,
                key,
                db,
                op: request.op,
                value_size: request.value_size,
                ttl_ms: request.ttl_ms,
            };
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

/// The arguments of one line, unescaped into one reused buffer.
#[derive(Default)]
struct Arguments {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Arguments {
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Argument `index`, which must be below `len()`.
    fn get(&self, index: usize) -> &[u8] {
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1],
        };
        &self.bytes[start..self.ends[index]]
    }

    /// An integer argument; `None` if it is missing or not an integer, as Redis would refuse it.
    fn integer(&self, index: usize) -> Option<i64> {
        if index >= self.len() {
            return None;
        }
        std::str::from_utf8(self.get(index)).ok()?.parse().ok()
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

/// What a replayed command does to its keys.
enum Requests {
    /// One record, for the key at argument 1.
    One {
        op: TraceOp,
        value_size: u32,
        ttl_ms: u64,
    },
    /// One record per argument after the command (MGET, DEL, UNLINK).
    Keys { op: TraceOp },
    /// A SET per key-value pair (MSET).
    Pairs,
}

struct Request<'a> {
    key: &'a [u8],
    op: TraceOp,
    value_size: u32,
    ttl_ms: u64,
}

impl Requests {
    fn iter<'a>(&'a self, arguments: &'a Arguments) -> impl Iterator<Item = Request<'a>> + 'a {
        let (step, end) = match self {
            Requests::One { .. } => (1, 2),
            Requests::Keys { .. } => (1, arguments.len()),
            Requests::Pairs => (2, arguments.len()),
        };
        (1..end).step_by(step).map(move |index| {
            let key = arguments.get(index);
            match *self {
                Requests::One {
                    op,
                    value_size,
                    ttl_ms,
                } => Request {
                    key,
                    op,
                    value_size,
                    ttl_ms,
                },
                Requests::Keys { op } => Request {
                    key,
                    op,
                    value_size: 0,
                    ttl_ms: 0,
                },
                Requests::Pairs => {
                    let value = arguments.get(index + 1);
                    assert!(
                        value.len() as u64 <= VALUE_BYTES_MAX,
                        "`replayed` checks that every MSET key has a value that fits"
                    );
                    Request {
                        key,
                        op: TraceOp::Set,
                        // At most 512 MB, as asserted: it fits a u32.
                        value_size: value.len() as u32,
                        ttl_ms: 0,
                    }
                }
            }
        })
    }
}

fn value_size(value: &[u8]) -> Option<u32> {
    u32::try_from(value.len())
        .ok()
        .filter(|bytes| u64::from(*bytes) <= VALUE_BYTES_MAX)
}

/// The records a command line replays as, or `None` if it is not replayed.
///
/// Commands the simulator executes are recognised through the server's command table; the
/// variants MONITOR shows that replay as one of them (MGET, MSET, SETEX, PSETEX, PEXPIRE,
/// EXPIREAT, PEXPIREAT) are listed here.
fn replayed(arguments: &Arguments, now_ms: u64) -> Option<Requests> {
    let command = arguments.get(0);
    let count = arguments.len();
    match CommandKind::parse_bytes(command) {
        Some(CommandKind::Get) if count == 2 => return one(TraceOp::Get, 0, 0),
        Some(CommandKind::Del | CommandKind::Unlink) if count >= 2 => {
            return Some(Requests::Keys { op: TraceOp::Del })
        }
        Some(CommandKind::Set) if count >= 3 => return set(arguments, now_ms),
        Some(CommandKind::Expire) if count >= 3 => return expire(arguments, 1_000, false, now_ms),
        _ => {}
    }
    let is = |name: &str| command.eq_ignore_ascii_case(name.as_bytes());
    if is("MGET") && count >= 2 {
        Some(Requests::Keys { op: TraceOp::Get })
    } else if is("MSET") && count >= 3 && count % 2 == 1 {
        (1..count)
            .step_by(2)
            .all(|index| value_size(arguments.get(index + 1)).is_some())
            .then_some(Requests::Pairs)
    } else if (is("SETEX") || is("PSETEX")) && count == 4 {
        let unit_ms = if is("SETEX") { 1_000 } else { 1 };
        let ttl_ms = positive_ms(arguments.integer(2)?, unit_ms)?;
        one(TraceOp::Set, value_size(arguments.get(3))?, ttl_ms)
    } else if is("PEXPIRE") && count >= 3 {
        expire(arguments, 1, false, now_ms)
    } else if is("EXPIREAT") && count >= 3 {
        expire(arguments, 1_000, true, now_ms)
    } else if is("PEXPIREAT") && count >= 3 {
        expire(arguments, 1, true, now_ms)
    } else {
        None
    }
}

fn one(op: TraceOp, value_size: u32, ttl_ms: u64) -> Option<Requests> {
    Some(Requests::One {
        op,
        value_size,
        ttl_ms,
    })
}

/// EXPIRE and its variants: a relative TTL or an absolute deadline, in `unit_ms`.
fn expire(arguments: &Arguments, unit_ms: i64, at: bool, now_ms: u64) -> Option<Requests> {
    let value_ms = arguments.integer(2)?.checked_mul(unit_ms)?;
    // A TTL at or below zero deletes the key, which EXPIRE 0 does too.
    one(TraceOp::Expire, 0, relative_ms(value_ms, at, now_ms))
}

/// SET key value [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL] [NX | XX] [GET].
fn set(arguments: &Arguments, now_ms: u64) -> Option<Requests> {
    let value_size = value_size(arguments.get(2))?;
    let mut ttl_ms = 0;
    let mut index = 3;
    while index < arguments.len() {
        let option = arguments.get(index);
        let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes());
        if is("NX") || is("XX") || is("GET") || is("KEEPTTL") {
            index += 1;
            continue;
        }
        let unit_ms = if is("EX") || is("EXAT") {
            1_000
        } else if is("PX") || is("PXAT") {
            1
        } else {
            return None;
        };
        let value = arguments.integer(index + 1).filter(|value| *value > 0)?;
        if is("EX") || is("PX") {
            ttl_ms = positive_ms(value, unit_ms)?;
        } else {
            ttl_ms = relative_ms(value.checked_mul(unit_ms)?, true, now_ms);
            if ttl_ms == 0 {
                return Some(Requests::One {
                    op: TraceOp::Del,
                    value_size: 0,
                    ttl_ms: 0,
                });
            }
        }
        index += 2;
    }
    Some(Requests::One {
        op: TraceOp::Set,
        value_size,
        ttl_ms,
    })
}

/// A TTL Redis accepts for SET: positive, and not overflowing in milliseconds.
fn positive_ms(value: i64, unit_ms: i64) -> Option<u64> {
    let ms = value.checked_mul(unit_ms).filter(|ms| *ms > 0)?;
    Some((ms as u64).min(TTL_MS_MAX))
}

/// A TTL from now in ms, 0 if already past; `at` says `value_ms` is a unix time.
fn relative_ms(value_ms: i64, at: bool, now_ms: u64) -> u64 {
    let ttl_ms = if at {
        i128::from(value_ms) - i128::from(now_ms)
    } else {
        i128::from(value_ms)
    };
    ttl_ms.clamp(0, i128::from(TTL_MS_MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture_error, load_fixture};
    use super::super::{DatabaseUse, TraceFormat};
    use crate::sim::config::{TraceOp, TraceRecord};

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
        TraceRecord {
            time_us,
            key,
            db,
            op,
            value_size,
            ttl_ms,
        }
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
        assert_eq!(loaded.skipped_lines, 2);
        assert_eq!(loaded.highest_db, Some(DatabaseUse { db: 3, line: 4 }));
        let t = |seconds: u64, micros: u64| seconds * 1_000_000 + micros - 415_845;
        assert_eq!(
            trace.records,
            [
                record(0, 0, 0, TraceOp::Set, 9, 100_000),
                record(t(1, 0), 0, 3, TraceOp::Get, 0, 0),
                record(t(1, 5), 1, 3, TraceOp::Get, 0, 0),
                record(t(1, 5), 2, 3, TraceOp::Get, 0, 0),
                record(t(2, 0), 1, 0, TraceOp::Set, 3, 1_500),
                record(t(2, 0), 1, 0, TraceOp::Del, 0, 0),
                record(t(2, 0), 2, 0, TraceOp::Del, 0, 0),
                record(t(2, 0), 3, 0, TraceOp::Del, 0, 0),
                record(t(2, 0), 2, 0, TraceOp::Expire, 0, 0),
                record(t(2, 0), 2, 0, TraceOp::Expire, 0, 250),
                record(t(2, 0), 3, 0, TraceOp::Set, 0, 10),
                record(t(2, 0), 3, 0, TraceOp::Set, 2, 0),
                record(t(2, 0), 3, 0, TraceOp::Del, 0, 0),
                record(t(2, 0), 1, 0, TraceOp::Set, 1, 0),
                record(t(2, 0), 3, 0, TraceOp::Set, 2, 0),
                record(t(2, 0), 1, 0, TraceOp::Del, 0, 0),
                record(t(2, 1), 4, 0, TraceOp::Set, 1, 5_000),
                record(t(2, 1), 4, 0, TraceOp::Set, 1, 0),
            ]
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
            (format!("OK\n{good}garbage\n"), ":3: expected a MONITOR line such as"),
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
