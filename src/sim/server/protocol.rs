//! What passes between a client and a node: the [`Request`] a client sends (a command from
//! the command table with its key and argument) and the [`Reply`] it gets back, errors named by
//! Redis's error prefix.

use crate::sim::ledger::{Actor, KeyId};
use crate::sim::reference::exact::NEVER;
use crate::sim::server::command::CommandKind;

/// What a client asks of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub client: Actor,
    pub db: u32,
    pub command: CommandKind,
    pub key: KeyId,
    pub argument: Argument,
    /// The client wrote this key before (for the `overwritten` classification of hits).
    pub client_wrote_key: bool,
    /// When the key is next used (trace replay, for OPT); 0 when unknown.
    pub next_use: u64,
    /// A read sent to a replica: whether the primary holds the key now (a miss is then
    /// replication lag).
    pub primary_has_key: bool,
    /// The options of a replayed command (`sim::config::record_flags`); 0 for generated ones.
    pub flags: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Argument {
    None,
    /// SET's value length and optional PX TTL, LPUSH's element length.
    Value {
        len: u32,
        ttl_ms: Option<u64>,
    },
    /// SET of a canonical integer value (stored with the int encoding).
    Integer {
        value: u32,
        ttl_ms: Option<u64>,
    },
    /// EXPIRE's TTL in ms (may be zero: a delete).
    Ttl {
        ms: u64,
    },
    /// A hash field and the value length for HSET.
    Field {
        id: u32,
        len: u32,
    },
    /// A set or sorted-set member and, for ZADD, its score.
    Member {
        id: u32,
        score: i64,
    },
    /// RENAME's and COPY's target key, MOVE's and COPY's target database.
    Target {
        key: KeyId,
        db: u32,
    },
    /// INCRBY's and DECRBY's amount (DECRBY's negated); INCR and DECR carry none.
    Increment {
        by: i64,
    },
    /// INCRBYFLOAT's increment, as the bits of an f64 (so that `Argument` stays `Eq`).
    FloatIncrement {
        bits: u64,
    },
    /// One record of a call spread over several (`part::*` says which), with two numbers: a
    /// range (LTRIM, ZREMRANGEBY*), a count (LREM, LMPOP), a member (SMOVE) or SWAPDB's
    /// databases.
    Part {
        step: u8,
        low: i32,
        high: i32,
    },
}

/// Which record of a spread call an `Argument::Part` is.
pub mod part {
    /// The first source: the call's result starts from it.
    pub const FIRST: u8 = 0;
    /// A later source, combined into the result (or, for LMPOP, popped if no earlier one was).
    pub const NEXT: u8 = 1;
    /// The destination, which receives the result.
    pub const DESTINATION: u8 = 2;
    /// LMOVE or SMOVE with the source as destination: nothing leaves the key.
    pub const SAME_KEY: u8 = 3;
}

/// Error replies, by Redis's error prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorReply {
    WrongType,
    NotAnInteger,
    /// RENAME of a key that does not exist.
    NoSuchKey,
    Oom,
    /// The node is down: the client's connection was refused (not a Redis reply).
    ConnectionRefused,
    /// The node did not answer in time: stopped, or on the other side of a partition (not a
    /// Redis reply).
    Timeout,
    /// `min-replicas-to-write` not met.
    NoReplicas,
    /// A write sent to a read-only replica.
    ReadOnly,
    /// A read on a replica without its master while `replica-serve-stale-data no`.
    MasterDown,
    /// The server closed the connection (client eviction, an output buffer limit) before the
    /// reply: the client library reports the connection lost (not a Redis reply).
    ConnectionClosed,
}

impl ErrorReply {
    pub fn prefix(self) -> &'static str {
        match self {
            ErrorReply::WrongType => "WRONGTYPE",
            ErrorReply::NotAnInteger | ErrorReply::NoSuchKey => "ERR",
            ErrorReply::Oom => "OOM",
            ErrorReply::ConnectionRefused => "ECONNREFUSED",
            ErrorReply::Timeout => "ETIMEDOUT",
            ErrorReply::NoReplicas => "NOREPLICAS",
            ErrorReply::ReadOnly => "READONLY",
            ErrorReply::MasterDown => "MASTERDOWN",
            ErrorReply::ConnectionClosed => "ECONNRESET",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A write that succeeded.
    Ok,
    /// A read that found the key.
    Hit,
    /// A read that did not.
    Miss,
    /// An integer reply to a write (DEL count, EXPIRE 0/1...).
    Integer(i64),
    /// A record that only gathers for a later one of its call (a `*STORE` source, LMOVE's
    /// source): neither a read nor an acknowledged write.
    Continued,
    Error(ErrorReply),
}

impl Request {
    /// Whether the record continues the call before it (Commandstats counts a call once).
    pub fn continues_call(&self) -> bool {
        self.flags & crate::sim::config::record_flags::SAME_CALL != 0
    }

    /// Whether the command was given `flag` (`sim::config::record_flags`).
    pub fn has_flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// When the key is next used, for OPT: `NEVER` when the request does not say.
    pub fn next_use_or_never(&self) -> u64 {
        if self.next_use == 0 {
            NEVER
        } else {
            self.next_use
        }
    }
}
