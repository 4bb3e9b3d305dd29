//! What a command's arguments hold in memory while `processCommand` decides on it
//! (src/networking.c `processMultibulkBuffer`, src/server.c `processCommand`).
//!
//! Before a command runs, its arguments are already objects: the `argv` array (8 bytes per
//! argument) and one string object per argument, built by `createStringObject` (embstr up to
//! 44 bytes, raw above, the query buffer itself from `PROTO_MBULK_BIG_ARG` on). They are in
//! `used_memory` when `performEvictions` compares it with maxmemory, so near the limit a write
//! with a longer value is refused (or evicts) where a shorter one passes; MEASURED on 7.0.15:
//! the headroom a SET needs grows byte for byte with its value's object (SET k v of 44 bytes
//! needs 32 more than of 10, of 200 bytes 208 more; `PX 12345` adds 80). The arguments are
//! freed after the command, except the value a write stores.
//!
//! The arguments are the ones a client sends for each modelled command, as the replication
//! offset spells them (`replica.rs`): `SET k v [PX ms]`, `PEXPIRE k ms`, `HSET k f<id> v`,
//! `ZADD k score m<id>`, `SADD k <id>`, `LRANGE k 0 -1`.

use crate::sim::keyspace::memory::{jemalloc_size, string_value_bytes, PROTO_MBULK_BIG_ARG};
use crate::sim::server::command::CommandKind;
use crate::sim::server::protocol::{Argument, Request};

/// The object of a command name: an embstr of 32 bytes up to 12 characters (GET, SET,
/// EXPIRE...), of 48 up to 28 (ZREMRANGEBYSCORE, BRPOPLPUSH...); no name is longer.
#[inline]
fn name_bytes(command: CommandKind) -> u64 {
    if command.name().len() <= 12 {
        32
    } else {
        48
    }
}
/// The object of a decimal number of up to 12 digits (every TTL, id and score but the most
/// extreme), or of `PX`: an embstr of 32; up to 20 digits, 48.
fn number_bytes(n: u64) -> u64 {
    if n < 1_000_000_000_000 {
        32
    } else {
        48
    }
}

/// Bytes of one argument's string object (`createStringObject`).
#[inline]
fn object_bytes(len: u64) -> u64 {
    string_value_bytes(len).1
}

/// Bytes of a value argument's object: from `PROTO_MBULK_BIG_ARG` on, the object is the
/// connection's old query buffer, which the connection model counts (`connections.rs`).
#[inline]
fn value_object_bytes(len: u64) -> u64 {
    if len >= PROTO_MBULK_BIG_ARG {
        0
    } else {
        object_bytes(len)
    }
}

/// Bytes of the objects a command's arguments beyond its name and key take, and their number.
/// Field and member names (`f<id>`, `m<id>`, `<id>`) and scores are numbers of at most 12
/// characters in practice, so they cost what a number does.
#[inline]
fn extra_arguments(request: &Request) -> (u64, u64) {
    let ttl = |ttl_ms: Option<u64>| ttl_ms.map_or((0, 0), |ms| (32 + number_bytes(ms), 2));
    match (request.command, request.argument) {
        (CommandKind::Set | CommandKind::Lpush, Argument::Value { len, ttl_ms }) => {
            let (bytes, count) = ttl(ttl_ms);
            (value_object_bytes(u64::from(len)) + bytes, 1 + count)
        }
        (CommandKind::Set, Argument::Integer { value, ttl_ms }) => {
            let (bytes, count) = ttl(ttl_ms);
            (number_bytes(u64::from(value)) + bytes, 1 + count)
        }
        (CommandKind::Expire, Argument::Ttl { ms }) => (number_bytes(ms), 1),
        (CommandKind::Hset, Argument::Field { id, len }) => (
            number_bytes(u64::from(id)) + value_object_bytes(u64::from(len)),
            2,
        ),
        (_, Argument::Field { id, .. }) => (number_bytes(u64::from(id)), 1),
        (CommandKind::Zadd, Argument::Member { id, score }) => (
            number_bytes(score.unsigned_abs()) + number_bytes(u64::from(id)),
            2,
        ),
        (_, Argument::Member { id, .. }) => (number_bytes(u64::from(id)), 1),
        (CommandKind::Lrange | CommandKind::Zrange, _) => (64, 2),
        _ => (0, 0),
    }
}

/// What the arguments of `request` (its key `key_len` bytes long) hold while it is decided on:
/// the `argv` array and every argument's object.
#[inline]
pub fn argv_bytes(request: &Request, key_len: u64) -> u64 {
    let (extra_bytes, extra_count) = extra_arguments(request);
    jemalloc_size(8 * (2 + extra_count))
        + name_bytes(request.command)
        + object_bytes(key_len)
        + extra_bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ledger::{Actor, KeyId};

    fn request(command: CommandKind, argument: Argument) -> Request {
        Request {
            client: Actor::client(0),
            db: 0,
            command,
            key: KeyId(0),
            argument,
            client_wrote_key: false,
            next_use: 0,
            primary_has_key: false,
            flags: 0,
        }
    }

    fn set(len: u32, ttl_ms: Option<u64>) -> u64 {
        argv_bytes(
            &request(CommandKind::Set, Argument::Value { len, ttl_ms }),
            1,
        )
    }

    #[test]
    fn a_set_needs_headroom_for_its_value_object() {
        // argv (24 → 32), "SET", "k" and a 10-byte value, each an embstr of 32.
        assert_eq!(set(10, None), 32 + 32 + 32 + 32);
        // MEASURED differences on 7.0.15 (module docs).
        assert_eq!(set(44, None) - set(10, None), 32);
        assert_eq!(set(45, None) - set(10, None), 48);
        assert_eq!(set(100, None) - set(10, None), 96);
        assert_eq!(set(200, None) - set(10, None), 208);
        assert_eq!(set(200, Some(12_345)) - set(200, None), 80);
    }

    #[test]
    fn a_fat_value_is_left_to_its_connection() {
        // The 10-byte value's embstr is gone; the fat one is counted by `connections.rs`.
        assert_eq!(set(200_000, None), set(10, None) - 32);
    }

    #[test]
    fn every_command_name_is_the_embstr_its_length_makes() {
        for command in CommandKind::ALL {
            assert_eq!(
                object_bytes(command.name().len() as u64),
                name_bytes(command),
                "{}",
                command.name()
            );
        }
        assert_eq!(object_bytes(12), number_bytes(999_999_999_999));
        assert_eq!(object_bytes(20), number_bytes(u64::MAX));
    }

    #[test]
    fn a_get_holds_its_name_and_key() {
        let get = argv_bytes(&request(CommandKind::Get, Argument::None), 9);
        assert_eq!(get, 16 + 32 + 32);
    }
}
