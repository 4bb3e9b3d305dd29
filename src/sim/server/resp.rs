//! The sizes of what crosses a connection, in RESP2 as Redis 7.0 writes it: a request as a
//! client library sends it (`*<argc>\r\n` then `$<len>\r\n<arg>\r\n` per argument) and the
//! replies (`+OK`, `:<n>`, `$<len>` bulks, `*<n>` arrays, the error lines of
//! src/server.c's shared objects). These sizes fill the query and reply buffers of
//! `connections.rs`.

use crate::sim::server::command::CommandKind;
use crate::sim::server::protocol::{Argument, ErrorReply};

/// Digits of a non-negative integer.
pub fn decimal_len(n: u64) -> u64 {
    let mut digits = 1;
    let mut rest = n / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    digits
}

/// Digits of an integer with its sign.
pub fn signed_len(n: i64) -> u64 {
    u64::from(n < 0) + decimal_len(n.unsigned_abs())
}

/// `$<len>\r\n<bytes>\r\n`.
pub fn bulk_bytes(len: u64) -> u64 {
    1 + decimal_len(len) + 2 + len + 2
}

/// `*<n>\r\n`.
pub fn array_header_bytes(n: u64) -> u64 {
    1 + decimal_len(n) + 2
}

/// `:<n>\r\n`.
pub fn integer_bytes(n: i64) -> u64 {
    1 + signed_len(n) + 2
}

/// `+OK\r\n`.
pub const OK_BYTES: u64 = 5;
/// `$-1\r\n`: a missing bulk.
pub const NULL_BULK_BYTES: u64 = 5;

/// An error reply's line (`shared.oomerr` etc. in src/server.c); a refusal that is not a
/// Redis reply (the connection was refused or timed out) sends nothing.
pub fn error_bytes(error: ErrorReply) -> u64 {
    let line: &str = match error {
        ErrorReply::WrongType => {
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        }
        ErrorReply::NotAnInteger => "-ERR value is not an integer or out of range\r\n",
        ErrorReply::Oom => "-OOM command not allowed when used memory > 'maxmemory'.\r\n",
        ErrorReply::NoReplicas => "-NOREPLICAS Not enough good replicas to write.\r\n",
        ErrorReply::ReadOnly => "-READONLY You can't write against a read only replica.\r\n",
        ErrorReply::MasterDown => {
            "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
        }
        ErrorReply::NoSuchKey => "-ERR no such key\r\n",
        ErrorReply::ConnectionRefused | ErrorReply::Timeout | ErrorReply::ConnectionClosed => "",
    };
    line.len() as u64
}

/// A request's bytes: the command name, its key of `key_len` bytes and its arguments as the
/// workload draws them (`SET k v [PX ms]`, `HSET k f<id> v`, `ZADD k <score> m<id>`,
/// `LRANGE k 0 -1`...).
pub fn request_bytes(command: CommandKind, key_len: u64, argument: Argument) -> u64 {
    let name = command.name().len() as u64;
    // No allocation on the command path: the argument count and their bytes as they come.
    let mut arguments = Arguments {
        count: 2,
        bytes: bulk_bytes(name) + bulk_bytes(key_len),
    };
    match (command, argument) {
        (_, Argument::Value { len, ttl_ms }) => {
            arguments.add(bulk_bytes(u64::from(len)));
            if let Some(ms) = ttl_ms {
                arguments.add(bulk_bytes(2));
                arguments.add(bulk_bytes(decimal_len(ms)));
            }
        }
        (_, Argument::Integer { value, ttl_ms }) => {
            arguments.add(bulk_bytes(decimal_len(u64::from(value))));
            if let Some(ms) = ttl_ms {
                arguments.add(bulk_bytes(2));
                arguments.add(bulk_bytes(decimal_len(ms)));
            }
        }
        (_, Argument::Ttl { ms }) => arguments.add(bulk_bytes(decimal_len(ms / 1000))),
        (_, Argument::Field { id, len }) => {
            arguments.add(bulk_bytes(1 + decimal_len(u64::from(id))));
            if command == CommandKind::Hset {
                arguments.add(bulk_bytes(u64::from(len)));
            }
        }
        (CommandKind::Zadd, Argument::Member { id, score }) => {
            arguments.add(bulk_bytes(signed_len(score)));
            arguments.add(bulk_bytes(1 + decimal_len(u64::from(id))));
        }
        (CommandKind::Zrem, Argument::Member { id, .. }) => {
            arguments.add(bulk_bytes(1 + decimal_len(u64::from(id))));
        }
        (_, Argument::Member { id, .. }) => {
            arguments.add(bulk_bytes(decimal_len(u64::from(id))));
        }
        (CommandKind::Lrange | CommandKind::Zrange, Argument::None) => {
            arguments.add(bulk_bytes(1));
            arguments.add(bulk_bytes(2));
        }
        // RENAME/COPY's target name and MOVE's database: the record keeps the target's id, not
        // its name, so the name is taken to be as long as the source's.
        (_, Argument::Target { db, .. }) => {
            arguments.add(bulk_bytes(key_len));
            arguments.add(bulk_bytes(decimal_len(u64::from(db))));
        }
        // A MONITOR call spread over records (the `*STORE` commands, LTRIM...): its two numbers.
        (_, Argument::Part { low, high, .. }) => {
            arguments.add(bulk_bytes(signed_len(i64::from(low))));
            arguments.add(bulk_bytes(signed_len(i64::from(high))));
        }
        (_, Argument::Increment { by }) => arguments.add(bulk_bytes(signed_len(by))),
        // The increment as the client typed it is not kept: as Redis would print it.
        (_, Argument::FloatIncrement { bits }) => {
            let text = crate::sim::server::exec::string::float_text_len(f64::from_bits(bits));
            arguments.add(bulk_bytes(u64::from(text)));
        }
        (_, Argument::None) => {}
    }
    array_header_bytes(arguments.count) + arguments.bytes
}

/// A request as the query buffer meets it: the bytes up to a value argument's data (its
/// `$<len>\r\n` included), the value, and the arguments after its CRLF (`PX <ms>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestBytes {
    /// Everything before the value's data; the whole request if it carries no value.
    pub head: u64,
    /// The value's length, its CRLF not included.
    pub value: Option<u64>,
    pub tail: u64,
}

impl RequestBytes {
    /// A request of `bytes` taken as a whole (no value argument).
    pub fn plain(bytes: u64) -> RequestBytes {
        RequestBytes {
            head: bytes,
            value: None,
            tail: 0,
        }
    }

    pub fn total(self) -> u64 {
        self.head + self.value.map_or(0, |len| len + 2) + self.tail
    }
}

/// [`request_bytes`] with its value argument located: `SET k v [PX ms]`'s and `LPUSH k v`'s
/// value, `HSET k f<id> v`'s last argument.
pub fn request_layout(command: CommandKind, key_len: u64, argument: Argument) -> RequestBytes {
    let total = request_bytes(command, key_len, argument);
    let (len, tail) = match (command, argument) {
        (_, Argument::Value { len, ttl_ms }) => {
            let tail = ttl_ms.map_or(0, |ms| bulk_bytes(2) + bulk_bytes(decimal_len(ms)));
            (u64::from(len), tail)
        }
        (CommandKind::Hset, Argument::Field { len, .. }) => (u64::from(len), 0),
        _ => return RequestBytes::plain(total),
    };
    RequestBytes {
        head: total - (len + 2) - tail,
        value: Some(len),
        tail,
    }
}

struct Arguments {
    count: u64,
    bytes: u64,
}

impl Arguments {
    fn add(&mut self, bulk: u64) {
        self.count += 1;
        self.bytes += bulk;
    }
}

/// The reply to a read that found nothing: a null bulk for GET/HGET, an empty array for the
/// range and member commands, `:0` for EXISTS, `:-2` for TTL.
pub fn miss_bytes(command: CommandKind) -> u64 {
    match command {
        CommandKind::Lrange | CommandKind::Smembers | CommandKind::Zrange => array_header_bytes(0),
        CommandKind::Exists => integer_bytes(0),
        CommandKind::Ttl => integer_bytes(-2),
        _ => NULL_BULK_BYTES,
    }
}

/// An array of `count` bulks of `element_len` bytes each.
pub fn bulk_array_bytes(count: u64, element_len: u64) -> u64 {
    array_header_bytes(count) + count * bulk_bytes(element_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_as_a_client_library_writes_them() {
        // *2\r\n$3\r\nGET\r\n$5\r\nk:123\r\n
        assert_eq!(request_bytes(CommandKind::Get, 5, Argument::None), 24);
        // *3\r\n$3\r\nSET\r\n$5\r\nk:123\r\n$100\r\n<100>\r\n
        let set = Argument::Value {
            len: 100,
            ttl_ms: None,
        };
        assert_eq!(request_bytes(CommandKind::Set, 5, set), 4 + 9 + 11 + 108);
        // *4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n
        assert_eq!(
            request_bytes(CommandKind::Lrange, 1, Argument::None),
            4 + 12 + 7 + 7 + 8
        );
    }

    #[test]
    fn a_value_is_located_in_its_request() {
        // *3\r\n$3\r\nSET\r\n$5\r\nk:123\r\n$100\r\n | <100> | \r\n
        let set = Argument::Value {
            len: 100,
            ttl_ms: None,
        };
        let layout = request_layout(CommandKind::Set, 5, set);
        assert_eq!(layout.head, 4 + 9 + 11 + 6);
        assert_eq!((layout.value, layout.tail), (Some(100), 0));
        assert_eq!(layout.total(), request_bytes(CommandKind::Set, 5, set));
        // ... PX 12345: $2\r\nPX\r\n$5\r\n12345\r\n after the value's CRLF.
        let with_ttl = Argument::Value {
            len: 100,
            ttl_ms: Some(12_345),
        };
        let layout = request_layout(CommandKind::Set, 5, with_ttl);
        assert_eq!(layout.head, 4 + 9 + 11 + 6);
        assert_eq!(layout.tail, 8 + 11);
        assert_eq!(layout.total(), request_bytes(CommandKind::Set, 5, with_ttl));
        let hset = Argument::Field { id: 7, len: 50 };
        assert_eq!(request_layout(CommandKind::Hset, 1, hset).tail, 0);
        assert_eq!(request_layout(CommandKind::Hget, 1, hset).value, None);
    }

    #[test]
    fn replies_as_redis_writes_them() {
        assert_eq!(bulk_bytes(1024), 1 + 4 + 2 + 1024 + 2);
        assert_eq!(integer_bytes(1), 4);
        assert_eq!(integer_bytes(-2), 5);
        assert_eq!(miss_bytes(CommandKind::Get), 5);
        assert_eq!(miss_bytes(CommandKind::Smembers), 4);
        assert_eq!(bulk_array_bytes(2, 3), 4 + 2 * 9);
        assert_eq!(error_bytes(ErrorReply::Oom), 58);
        assert_eq!(error_bytes(ErrorReply::Timeout), 0);
    }
}
