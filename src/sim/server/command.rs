//! The command table: every command vanish executes, with what Redis's own table (src/commands.def
//! in 7.0) says of it — its name, its flags, the type of value it works on and where its keys
//! are among its arguments. Validation, execution, replay and Commandstats all read this one
//! table; nothing else lists commands.

use crate::sim::keyspace::db::ValueKind;

/// The commands a generated workload can issue. The order is the table's: `kind as usize`
/// indexes [`TABLE`] and the Commandstats slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommandKind {
    Get,
    Set,
    Del,
    Unlink,
    Expire,
    Persist,
    Incr,
    Exists,
    Ttl,
    Hset,
    Hget,
    Hdel,
    Lpush,
    Lpop,
    Lrange,
    Sadd,
    Srem,
    Smembers,
    Zadd,
    Zrem,
    Zrange,
    Mget,
    Strlen,
    Getrange,
    Substr,
    Setnx,
    Setex,
    Psetex,
    Mset,
    Msetnx,
    Getset,
    Getdel,
    Getex,
    Append,
    Setrange,
    Decr,
    Incrby,
    Decrby,
    Incrbyfloat,
    Pttl,
    Expiretime,
    Pexpiretime,
    Type,
    Pexpire,
    Expireat,
    Pexpireat,
    Rename,
    Renamenx,
    Copy,
    Move,
    Flushdb,
    Flushall,
    Select,
    Hmset,
    Hsetnx,
    Hincrby,
    Hincrbyfloat,
    Hmget,
    Hgetall,
    Hkeys,
    Hvals,
    Hlen,
    Hexists,
    Hstrlen,
    Hrandfield,
    Rpush,
    Lpushx,
    Rpushx,
    Linsert,
    Rpop,
    Blpop,
    Brpop,
    Lindex,
    Llen,
    Lpos,
    Spop,
    Sismember,
    Smismember,
    Scard,
    Srandmember,
    Zincrby,
    Zpopmin,
    Zpopmax,
    Bzpopmin,
    Bzpopmax,
    Zscore,
    Zmscore,
    Zcard,
    Zcount,
    Zrank,
    Zrevrank,
    Zrevrange,
    Zrangebyscore,
    Zrevrangebyscore,
    Zrangebylex,
    Zlexcount,
    Zrandmember,
    Sunionstore,
    Sinterstore,
    Sdiffstore,
    Zunionstore,
    Zinterstore,
    Zdiffstore,
    Zrangestore,
    Lmove,
    Rpoplpush,
    Blmove,
    Brpoplpush,
    Smove,
    Lrem,
    Ltrim,
    Zremrangebyscore,
    Zremrangebyrank,
    Zremrangebylex,
    Lmpop,
    Blmpop,
    Zmpop,
    Bzmpop,
    Swapdb,
}

/// The type of value a command works on; a key of another type answers `-WRONGTYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// Any type (DEL, EXISTS, TTL...).
    Any,
    String,
    Hash,
    List,
    Set,
    Zset,
}

impl KeyType {
    /// Whether a key holding `kind` is of this type.
    pub fn admits(self, kind: ValueKind) -> bool {
        match self {
            KeyType::Any => true,
            KeyType::String => kind.is_string(),
            KeyType::Hash => kind == ValueKind::Hash,
            KeyType::List => kind == ValueKind::List,
            KeyType::Set => kind == ValueKind::Set,
            KeyType::Zset => kind == ValueKind::Zset,
        }
    }

    /// The slot kind of an aggregate type, or None for strings and `Any`.
    pub fn aggregate_kind(self) -> Option<ValueKind> {
        match self {
            KeyType::Hash => Some(ValueKind::Hash),
            KeyType::List => Some(ValueKind::List),
            KeyType::Set => Some(ValueKind::Set),
            KeyType::Zset => Some(ValueKind::Zset),
            KeyType::Any | KeyType::String => None,
        }
    }
}

/// `CMD_WRITE`: the command may modify the keyspace.
pub const WRITE: u8 = 1;
/// `CMD_READONLY`: a lookup; it counts in keyspace_hits / keyspace_misses and the ledger
/// classifies it as a hit or a miss.
pub const READONLY: u8 = 2;
/// `CMD_DENYOOM`: may grow memory, so refused with `-OOM` when nothing can be evicted.
pub const DENYOOM: u8 = 4;
/// A generated workload may issue it (`commands = { GET = 0.9, ... }`); the others come only
/// from replayed traces, which give them their arguments.
pub const GENERATED: u8 = 8;
/// Touches no key (FLUSHDB, SELECT): a replayed record of it carries no key.
pub const KEYLESS: u8 = 16;

/// What executing a command does, shared by the commands that differ only in name (and so in
/// Commandstats): each behaviour is one executor under `exec/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// A lookup that touches the key's LRU/LFU (GET, HGET, LRANGE...).
    Read,
    /// A lookup with `LOOKUP_NOTOUCH` (EXISTS, TTL, TYPE).
    ReadNoTouch,
    /// A string write: SET and its options, SETNX, SETEX, MSET, GETSET.
    Set,
    /// INCR and its variants (replayed as +1).
    Incr,
    /// APPEND, SETRANGE: the string grows by the argument's length.
    Append,
    /// GETDEL: a read lookup, then the key is deleted.
    GetDel,
    /// GETEX: a read lookup, then the TTL changes.
    GetEx,
    /// DEL, UNLINK.
    Del,
    /// EXPIRE and its variants, with NX/XX/GT/LT.
    Expire,
    Persist,
    /// Adds an element to an aggregate, creating the key.
    Add,
    /// Removes a named element; removing the last one removes the key.
    Remove,
    /// Removes an element the server picks (LPOP, SPOP, ZPOPMIN...); the last one removes the
    /// key.
    Pop,
    /// RENAME, RENAMENX: the value moves to the second key.
    Rename,
    /// COPY: the second key gets a copy.
    Copy,
    /// MOVE: the value moves to another database.
    Move,
    FlushDb,
    FlushAll,
    /// SELECT: counted; MONITOR lines carry their database anyway.
    Select,
    /// SWAPDB: two databases exchange their keyspaces.
    SwapDb,
    /// The `*STORE` commands: the sources are read (they count in keyspace_hits and
    /// keyspace_misses), then the destination is overwritten with the result, or deleted when
    /// it is empty.
    Store,
    /// LMOVE, RPOPLPUSH, SMOVE and their blocking forms: one element leaves the source (which
    /// goes when emptied) for the destination (created if missing).
    Transfer,
    /// LTRIM, LREM, ZREMRANGEBY*: elements in a range go; the last one takes the key.
    Trim,
    /// LMPOP, ZMPOP and their blocking forms: pops from the first of their keys that is not
    /// empty.
    MultiPop,
}

/// One row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    pub kind: CommandKind,
    /// Redis's name, upper case (the scenario spelling).
    pub name: &'static str,
    /// `WRITE`, `READONLY`, `DENYOOM`, `GENERATED`, `KEYLESS`.
    pub flags: u8,
    pub key_type: KeyType,
    pub behaviour: Behaviour,
    /// Position of the first key among the arguments (the command name is 0); 0 if none.
    pub first_key: u8,
    /// Position of the last key; negative counts from the end (-1: the last argument).
    pub last_key: i8,
    /// Distance between keys.
    pub key_step: u8,
    /// Redis's arity: the number of arguments with the name, or at least -arity if negative.
    pub arity: i8,
}

impl CommandSpec {
    const fn arity(self, arity: i8) -> CommandSpec {
        CommandSpec { arity, ..self }
    }

    /// Whether `count` arguments (the name included) fit the arity.
    pub fn accepts(&self, count: usize) -> bool {
        if self.arity >= 0 {
            count == self.arity as usize
        } else {
            count >= self.arity.unsigned_abs() as usize
        }
    }
}

const fn spec(
    kind: CommandKind,
    name: &'static str,
    flags: u8,
    key_type: KeyType,
    behaviour: Behaviour,
) -> CommandSpec {
    keys(kind, name, flags, key_type, behaviour, (1, 1, 1))
}

/// Commands with any number of keys from the first argument on.
const fn variadic(
    kind: CommandKind,
    name: &'static str,
    flags: u8,
    key_type: KeyType,
    behaviour: Behaviour,
) -> CommandSpec {
    keys(kind, name, flags, key_type, behaviour, (1, -1, 1))
}

const fn keyless(
    kind: CommandKind,
    name: &'static str,
    flags: u8,
    behaviour: Behaviour,
) -> CommandSpec {
    keys(kind, name, flags, KeyType::Any, behaviour, (0, 0, 0))
}

/// A command whose keys are at (first, last, step), as in Redis's key specs.
const fn keys(
    kind: CommandKind,
    name: &'static str,
    flags: u8,
    key_type: KeyType,
    behaviour: Behaviour,
    positions: (u8, i8, u8),
) -> CommandSpec {
    CommandSpec {
        kind,
        name,
        flags,
        key_type,
        behaviour,
        first_key: positions.0,
        last_key: positions.1,
        key_step: positions.2,
        arity: 0,
    }
}

/// How many commands the table holds.
pub const COMMAND_COUNT: usize = 119;

/// The command table, in `CommandKind` order.
pub const TABLE: [CommandSpec; COMMAND_COUNT] = [
    spec(
        CommandKind::Get,
        "GET",
        READONLY | GENERATED,
        KeyType::String,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Set,
        "SET",
        WRITE | DENYOOM | GENERATED,
        KeyType::Any,
        Behaviour::Set,
    )
    .arity(-3),
    variadic(
        CommandKind::Del,
        "DEL",
        WRITE | GENERATED,
        KeyType::Any,
        Behaviour::Del,
    )
    .arity(-2),
    variadic(
        CommandKind::Unlink,
        "UNLINK",
        WRITE | GENERATED,
        KeyType::Any,
        Behaviour::Del,
    )
    .arity(-2),
    spec(
        CommandKind::Expire,
        "EXPIRE",
        WRITE | GENERATED,
        KeyType::Any,
        Behaviour::Expire,
    )
    .arity(-3),
    spec(
        CommandKind::Persist,
        "PERSIST",
        WRITE | GENERATED,
        KeyType::Any,
        Behaviour::Persist,
    )
    .arity(2),
    spec(
        CommandKind::Incr,
        "INCR",
        WRITE | DENYOOM | GENERATED,
        KeyType::String,
        Behaviour::Incr,
    )
    .arity(2),
    variadic(
        CommandKind::Exists,
        "EXISTS",
        READONLY | GENERATED,
        KeyType::Any,
        Behaviour::ReadNoTouch,
    )
    .arity(-2),
    spec(
        CommandKind::Ttl,
        "TTL",
        READONLY | GENERATED,
        KeyType::Any,
        Behaviour::ReadNoTouch,
    )
    .arity(2),
    spec(
        CommandKind::Hset,
        "HSET",
        WRITE | DENYOOM | GENERATED,
        KeyType::Hash,
        Behaviour::Add,
    )
    .arity(-4),
    spec(
        CommandKind::Hget,
        "HGET",
        READONLY | GENERATED,
        KeyType::Hash,
        Behaviour::Read,
    )
    .arity(3),
    spec(
        CommandKind::Hdel,
        "HDEL",
        WRITE | GENERATED,
        KeyType::Hash,
        Behaviour::Remove,
    )
    .arity(-3),
    spec(
        CommandKind::Lpush,
        "LPUSH",
        WRITE | DENYOOM | GENERATED,
        KeyType::List,
        Behaviour::Add,
    )
    .arity(-3),
    spec(
        CommandKind::Lpop,
        "LPOP",
        WRITE | GENERATED,
        KeyType::List,
        Behaviour::Pop,
    )
    .arity(-2),
    spec(
        CommandKind::Lrange,
        "LRANGE",
        READONLY | GENERATED,
        KeyType::List,
        Behaviour::Read,
    )
    .arity(4),
    spec(
        CommandKind::Sadd,
        "SADD",
        WRITE | DENYOOM | GENERATED,
        KeyType::Set,
        Behaviour::Add,
    )
    .arity(-3),
    spec(
        CommandKind::Srem,
        "SREM",
        WRITE | GENERATED,
        KeyType::Set,
        Behaviour::Remove,
    )
    .arity(-3),
    spec(
        CommandKind::Smembers,
        "SMEMBERS",
        READONLY | GENERATED,
        KeyType::Set,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Zadd,
        "ZADD",
        WRITE | DENYOOM | GENERATED,
        KeyType::Zset,
        Behaviour::Add,
    )
    .arity(-4),
    spec(
        CommandKind::Zrem,
        "ZREM",
        WRITE | GENERATED,
        KeyType::Zset,
        Behaviour::Remove,
    )
    .arity(-3),
    spec(
        CommandKind::Zrange,
        "ZRANGE",
        READONLY | GENERATED,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(-4),
    variadic(
        CommandKind::Mget,
        "MGET",
        READONLY,
        KeyType::String,
        Behaviour::Read,
    )
    .arity(-2),
    spec(
        CommandKind::Strlen,
        "STRLEN",
        READONLY,
        KeyType::String,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Getrange,
        "GETRANGE",
        READONLY,
        KeyType::String,
        Behaviour::Read,
    )
    .arity(4),
    spec(
        CommandKind::Substr,
        "SUBSTR",
        READONLY,
        KeyType::String,
        Behaviour::Read,
    )
    .arity(4),
    spec(
        CommandKind::Setnx,
        "SETNX",
        WRITE | DENYOOM,
        KeyType::Any,
        Behaviour::Set,
    )
    .arity(3),
    spec(
        CommandKind::Setex,
        "SETEX",
        WRITE | DENYOOM,
        KeyType::Any,
        Behaviour::Set,
    )
    .arity(4),
    spec(
        CommandKind::Psetex,
        "PSETEX",
        WRITE | DENYOOM,
        KeyType::Any,
        Behaviour::Set,
    )
    .arity(4),
    keys(
        CommandKind::Mset,
        "MSET",
        WRITE | DENYOOM,
        KeyType::Any,
        Behaviour::Set,
        (1, -1, 2),
    )
    .arity(-3),
    keys(
        CommandKind::Msetnx,
        "MSETNX",
        WRITE | DENYOOM,
        KeyType::Any,
        Behaviour::Set,
        (1, -1, 2),
    )
    .arity(-3),
    spec(
        CommandKind::Getset,
        "GETSET",
        WRITE | DENYOOM,
        KeyType::String,
        Behaviour::Set,
    )
    .arity(3),
    spec(
        CommandKind::Getdel,
        "GETDEL",
        WRITE,
        KeyType::String,
        Behaviour::GetDel,
    )
    .arity(2),
    spec(
        CommandKind::Getex,
        "GETEX",
        WRITE,
        KeyType::String,
        Behaviour::GetEx,
    )
    .arity(-2),
    spec(
        CommandKind::Append,
        "APPEND",
        WRITE | DENYOOM,
        KeyType::String,
        Behaviour::Append,
    )
    .arity(3),
    spec(
        CommandKind::Setrange,
        "SETRANGE",
        WRITE | DENYOOM,
        KeyType::String,
        Behaviour::Append,
    )
    .arity(4),
    spec(
        CommandKind::Decr,
        "DECR",
        WRITE | DENYOOM,
        KeyType::String,
        Behaviour::Incr,
    )
    .arity(2),
    spec(
        CommandKind::Incrby,
        "INCRBY",
        WRITE | DENYOOM,
        KeyType::String,
        Behaviour::Incr,
    )
    .arity(3),
    spec(
        CommandKind::Decrby,
        "DECRBY",
        WRITE | DENYOOM,
        KeyType::String,
        Behaviour::Incr,
    )
    .arity(3),
    spec(
        CommandKind::Incrbyfloat,
        "INCRBYFLOAT",
        WRITE | DENYOOM,
        KeyType::String,
        Behaviour::Incr,
    )
    .arity(3),
    spec(
        CommandKind::Pttl,
        "PTTL",
        READONLY,
        KeyType::Any,
        Behaviour::ReadNoTouch,
    )
    .arity(2),
    spec(
        CommandKind::Expiretime,
        "EXPIRETIME",
        READONLY,
        KeyType::Any,
        Behaviour::ReadNoTouch,
    )
    .arity(2),
    spec(
        CommandKind::Pexpiretime,
        "PEXPIRETIME",
        READONLY,
        KeyType::Any,
        Behaviour::ReadNoTouch,
    )
    .arity(2),
    spec(
        CommandKind::Type,
        "TYPE",
        READONLY,
        KeyType::Any,
        Behaviour::ReadNoTouch,
    )
    .arity(2),
    spec(
        CommandKind::Pexpire,
        "PEXPIRE",
        WRITE,
        KeyType::Any,
        Behaviour::Expire,
    )
    .arity(-3),
    spec(
        CommandKind::Expireat,
        "EXPIREAT",
        WRITE,
        KeyType::Any,
        Behaviour::Expire,
    )
    .arity(-3),
    spec(
        CommandKind::Pexpireat,
        "PEXPIREAT",
        WRITE,
        KeyType::Any,
        Behaviour::Expire,
    )
    .arity(-3),
    keys(
        CommandKind::Rename,
        "RENAME",
        WRITE,
        KeyType::Any,
        Behaviour::Rename,
        (1, 2, 1),
    )
    .arity(3),
    keys(
        CommandKind::Renamenx,
        "RENAMENX",
        WRITE,
        KeyType::Any,
        Behaviour::Rename,
        (1, 2, 1),
    )
    .arity(3),
    keys(
        CommandKind::Copy,
        "COPY",
        WRITE | DENYOOM,
        KeyType::Any,
        Behaviour::Copy,
        (1, 2, 1),
    )
    .arity(-3),
    spec(
        CommandKind::Move,
        "MOVE",
        WRITE,
        KeyType::Any,
        Behaviour::Move,
    )
    .arity(3),
    keyless(
        CommandKind::Flushdb,
        "FLUSHDB",
        WRITE | KEYLESS,
        Behaviour::FlushDb,
    )
    .arity(-1),
    keyless(
        CommandKind::Flushall,
        "FLUSHALL",
        WRITE | KEYLESS,
        Behaviour::FlushAll,
    )
    .arity(-1),
    keyless(CommandKind::Select, "SELECT", KEYLESS, Behaviour::Select).arity(2),
    spec(
        CommandKind::Hmset,
        "HMSET",
        WRITE | DENYOOM,
        KeyType::Hash,
        Behaviour::Add,
    )
    .arity(-4),
    spec(
        CommandKind::Hsetnx,
        "HSETNX",
        WRITE | DENYOOM,
        KeyType::Hash,
        Behaviour::Add,
    )
    .arity(4),
    spec(
        CommandKind::Hincrby,
        "HINCRBY",
        WRITE | DENYOOM,
        KeyType::Hash,
        Behaviour::Add,
    )
    .arity(4),
    spec(
        CommandKind::Hincrbyfloat,
        "HINCRBYFLOAT",
        WRITE | DENYOOM,
        KeyType::Hash,
        Behaviour::Add,
    )
    .arity(4),
    spec(
        CommandKind::Hmget,
        "HMGET",
        READONLY,
        KeyType::Hash,
        Behaviour::Read,
    )
    .arity(-3),
    spec(
        CommandKind::Hgetall,
        "HGETALL",
        READONLY,
        KeyType::Hash,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Hkeys,
        "HKEYS",
        READONLY,
        KeyType::Hash,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Hvals,
        "HVALS",
        READONLY,
        KeyType::Hash,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Hlen,
        "HLEN",
        READONLY,
        KeyType::Hash,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Hexists,
        "HEXISTS",
        READONLY,
        KeyType::Hash,
        Behaviour::Read,
    )
    .arity(3),
    spec(
        CommandKind::Hstrlen,
        "HSTRLEN",
        READONLY,
        KeyType::Hash,
        Behaviour::Read,
    )
    .arity(3),
    spec(
        CommandKind::Hrandfield,
        "HRANDFIELD",
        READONLY,
        KeyType::Hash,
        Behaviour::Read,
    )
    .arity(-2),
    spec(
        CommandKind::Rpush,
        "RPUSH",
        WRITE | DENYOOM,
        KeyType::List,
        Behaviour::Add,
    )
    .arity(-3),
    spec(
        CommandKind::Lpushx,
        "LPUSHX",
        WRITE | DENYOOM,
        KeyType::List,
        Behaviour::Add,
    )
    .arity(-3),
    spec(
        CommandKind::Rpushx,
        "RPUSHX",
        WRITE | DENYOOM,
        KeyType::List,
        Behaviour::Add,
    )
    .arity(-3),
    spec(
        CommandKind::Linsert,
        "LINSERT",
        WRITE | DENYOOM,
        KeyType::List,
        Behaviour::Add,
    )
    .arity(5),
    spec(
        CommandKind::Rpop,
        "RPOP",
        WRITE,
        KeyType::List,
        Behaviour::Pop,
    )
    .arity(-2),
    keys(
        CommandKind::Blpop,
        "BLPOP",
        WRITE,
        KeyType::List,
        Behaviour::Pop,
        (1, -2, 1),
    )
    .arity(-3),
    keys(
        CommandKind::Brpop,
        "BRPOP",
        WRITE,
        KeyType::List,
        Behaviour::Pop,
        (1, -2, 1),
    )
    .arity(-3),
    spec(
        CommandKind::Lindex,
        "LINDEX",
        READONLY,
        KeyType::List,
        Behaviour::Read,
    )
    .arity(3),
    spec(
        CommandKind::Llen,
        "LLEN",
        READONLY,
        KeyType::List,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Lpos,
        "LPOS",
        READONLY,
        KeyType::List,
        Behaviour::Read,
    )
    .arity(-3),
    spec(
        CommandKind::Spop,
        "SPOP",
        WRITE,
        KeyType::Set,
        Behaviour::Pop,
    )
    .arity(-2),
    spec(
        CommandKind::Sismember,
        "SISMEMBER",
        READONLY,
        KeyType::Set,
        Behaviour::Read,
    )
    .arity(3),
    spec(
        CommandKind::Smismember,
        "SMISMEMBER",
        READONLY,
        KeyType::Set,
        Behaviour::Read,
    )
    .arity(-3),
    spec(
        CommandKind::Scard,
        "SCARD",
        READONLY,
        KeyType::Set,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Srandmember,
        "SRANDMEMBER",
        READONLY,
        KeyType::Set,
        Behaviour::Read,
    )
    .arity(-2),
    spec(
        CommandKind::Zincrby,
        "ZINCRBY",
        WRITE | DENYOOM,
        KeyType::Zset,
        Behaviour::Add,
    )
    .arity(4),
    spec(
        CommandKind::Zpopmin,
        "ZPOPMIN",
        WRITE,
        KeyType::Zset,
        Behaviour::Pop,
    )
    .arity(-2),
    spec(
        CommandKind::Zpopmax,
        "ZPOPMAX",
        WRITE,
        KeyType::Zset,
        Behaviour::Pop,
    )
    .arity(-2),
    keys(
        CommandKind::Bzpopmin,
        "BZPOPMIN",
        WRITE,
        KeyType::Zset,
        Behaviour::Pop,
        (1, -2, 1),
    )
    .arity(-3),
    keys(
        CommandKind::Bzpopmax,
        "BZPOPMAX",
        WRITE,
        KeyType::Zset,
        Behaviour::Pop,
        (1, -2, 1),
    )
    .arity(-3),
    spec(
        CommandKind::Zscore,
        "ZSCORE",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(3),
    spec(
        CommandKind::Zmscore,
        "ZMSCORE",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(-3),
    spec(
        CommandKind::Zcard,
        "ZCARD",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(2),
    spec(
        CommandKind::Zcount,
        "ZCOUNT",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(4),
    spec(
        CommandKind::Zrank,
        "ZRANK",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(3),
    spec(
        CommandKind::Zrevrank,
        "ZREVRANK",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(3),
    spec(
        CommandKind::Zrevrange,
        "ZREVRANGE",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(-4),
    spec(
        CommandKind::Zrangebyscore,
        "ZRANGEBYSCORE",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(-4),
    spec(
        CommandKind::Zrevrangebyscore,
        "ZREVRANGEBYSCORE",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(-4),
    spec(
        CommandKind::Zrangebylex,
        "ZRANGEBYLEX",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(-4),
    spec(
        CommandKind::Zlexcount,
        "ZLEXCOUNT",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(4),
    spec(
        CommandKind::Zrandmember,
        "ZRANDMEMBER",
        READONLY,
        KeyType::Zset,
        Behaviour::Read,
    )
    .arity(-2),
    keys(
        CommandKind::Sunionstore,
        "SUNIONSTORE",
        WRITE | DENYOOM,
        KeyType::Set,
        Behaviour::Store,
        (1, -1, 1),
    )
    .arity(-3),
    keys(
        CommandKind::Sinterstore,
        "SINTERSTORE",
        WRITE | DENYOOM,
        KeyType::Set,
        Behaviour::Store,
        (1, -1, 1),
    )
    .arity(-3),
    keys(
        CommandKind::Sdiffstore,
        "SDIFFSTORE",
        WRITE | DENYOOM,
        KeyType::Set,
        Behaviour::Store,
        (1, -1, 1),
    )
    .arity(-3),
    keys(
        CommandKind::Zunionstore,
        "ZUNIONSTORE",
        WRITE | DENYOOM,
        KeyType::Zset,
        Behaviour::Store,
        (1, 1, 1),
    )
    .arity(-4),
    keys(
        CommandKind::Zinterstore,
        "ZINTERSTORE",
        WRITE | DENYOOM,
        KeyType::Zset,
        Behaviour::Store,
        (1, 1, 1),
    )
    .arity(-4),
    keys(
        CommandKind::Zdiffstore,
        "ZDIFFSTORE",
        WRITE | DENYOOM,
        KeyType::Zset,
        Behaviour::Store,
        (1, 1, 1),
    )
    .arity(-4),
    keys(
        CommandKind::Zrangestore,
        "ZRANGESTORE",
        WRITE | DENYOOM,
        KeyType::Zset,
        Behaviour::Store,
        (1, 2, 1),
    )
    .arity(-5),
    keys(
        CommandKind::Lmove,
        "LMOVE",
        WRITE | DENYOOM,
        KeyType::List,
        Behaviour::Transfer,
        (1, 2, 1),
    )
    .arity(5),
    keys(
        CommandKind::Rpoplpush,
        "RPOPLPUSH",
        WRITE | DENYOOM,
        KeyType::List,
        Behaviour::Transfer,
        (1, 2, 1),
    )
    .arity(3),
    keys(
        CommandKind::Blmove,
        "BLMOVE",
        WRITE | DENYOOM,
        KeyType::List,
        Behaviour::Transfer,
        (1, 2, 1),
    )
    .arity(6),
    keys(
        CommandKind::Brpoplpush,
        "BRPOPLPUSH",
        WRITE | DENYOOM,
        KeyType::List,
        Behaviour::Transfer,
        (1, 2, 1),
    )
    .arity(4),
    keys(
        CommandKind::Smove,
        "SMOVE",
        WRITE,
        KeyType::Set,
        Behaviour::Transfer,
        (1, 2, 1),
    )
    .arity(4),
    keys(
        CommandKind::Lrem,
        "LREM",
        WRITE,
        KeyType::List,
        Behaviour::Trim,
        (1, 1, 1),
    )
    .arity(4),
    keys(
        CommandKind::Ltrim,
        "LTRIM",
        WRITE,
        KeyType::List,
        Behaviour::Trim,
        (1, 1, 1),
    )
    .arity(4),
    keys(
        CommandKind::Zremrangebyscore,
        "ZREMRANGEBYSCORE",
        WRITE,
        KeyType::Zset,
        Behaviour::Trim,
        (1, 1, 1),
    )
    .arity(4),
    keys(
        CommandKind::Zremrangebyrank,
        "ZREMRANGEBYRANK",
        WRITE,
        KeyType::Zset,
        Behaviour::Trim,
        (1, 1, 1),
    )
    .arity(4),
    keys(
        CommandKind::Zremrangebylex,
        "ZREMRANGEBYLEX",
        WRITE,
        KeyType::Zset,
        Behaviour::Trim,
        (1, 1, 1),
    )
    .arity(4),
    keys(
        CommandKind::Lmpop,
        "LMPOP",
        WRITE,
        KeyType::List,
        Behaviour::MultiPop,
        (2, 2, 1),
    )
    .arity(-4),
    keys(
        CommandKind::Blmpop,
        "BLMPOP",
        WRITE,
        KeyType::List,
        Behaviour::MultiPop,
        (3, 3, 1),
    )
    .arity(-5),
    keys(
        CommandKind::Zmpop,
        "ZMPOP",
        WRITE,
        KeyType::Zset,
        Behaviour::MultiPop,
        (2, 2, 1),
    )
    .arity(-4),
    keys(
        CommandKind::Bzmpop,
        "BZMPOP",
        WRITE,
        KeyType::Zset,
        Behaviour::MultiPop,
        (3, 3, 1),
    )
    .arity(-5),
    keyless(
        CommandKind::Swapdb,
        "SWAPDB",
        WRITE | KEYLESS,
        Behaviour::SwapDb,
    )
    .arity(3),
];

// The table is in `CommandKind` order, and every command is a read or a write, never both.
const _: () = {
    let mut index = 0;
    while index < COMMAND_COUNT {
        let spec = TABLE[index];
        assert!(spec.kind as usize == index);
        assert!(spec.arity != 0);
        assert!(spec.flags & (WRITE | READONLY) != (WRITE | READONLY));
        assert!(
            spec.flags & KEYLESS != 0 || (spec.flags & WRITE == 0) != (spec.flags & READONLY == 0)
        );
        assert!((spec.flags & KEYLESS != 0) == (spec.first_key == 0));
        index += 1;
    }
};

impl CommandKind {
    /// Every command, in table order.
    pub const ALL: [CommandKind; COMMAND_COUNT] = {
        let mut all = [CommandKind::Get; COMMAND_COUNT];
        let mut index = 0;
        while index < COMMAND_COUNT {
            all[index] = TABLE[index].kind;
            index += 1;
        }
        all
    };

    /// This command's row of the table.
    #[inline]
    pub fn spec(self) -> &'static CommandSpec {
        &TABLE[self as usize]
    }

    /// Redis's command name, upper case (the scenario spelling).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The command named `text`, in any case.
    pub fn parse(text: &str) -> Option<CommandKind> {
        CommandKind::parse_bytes(text.as_bytes())
    }

    /// The command named by `bytes` (a MONITOR line's first argument), in any case.
    pub fn parse_bytes(bytes: &[u8]) -> Option<CommandKind> {
        TABLE
            .iter()
            .find(|spec| spec.name.as_bytes().eq_ignore_ascii_case(bytes))
            .map(|spec| spec.kind)
    }

    /// `READONLY`: counts in keyspace_hits / keyspace_misses, classified as hit or miss.
    #[inline]
    pub fn is_read(self) -> bool {
        self.spec().flags & READONLY != 0
    }

    /// `DENYOOM`: refused under memory pressure.
    #[inline]
    pub fn is_denyoom(self) -> bool {
        self.spec().flags & DENYOOM != 0
    }

    /// The type of value the command works on.
    #[inline]
    pub fn key_type(self) -> KeyType {
        self.spec().key_type
    }

    #[inline]
    pub fn behaviour(self) -> Behaviour {
        self.spec().behaviour
    }

    /// Whether a generated workload may issue it.
    pub fn is_generated(self) -> bool {
        self.spec().flags & GENERATED != 0
    }

    /// Whether it touches no key (FLUSHDB, FLUSHALL, SELECT).
    #[inline]
    pub fn is_keyless(self) -> bool {
        self.spec().flags & KEYLESS != 0
    }

    /// The commands a generated workload may issue, in table order.
    pub fn generated() -> impl Iterator<Item = CommandKind> {
        CommandKind::ALL
            .into_iter()
            .filter(|kind| kind.is_generated())
    }
}

/// Commands that touch no key, which a MONITOR replay counts and skips (`SELECT`, `FLUSHDB`
/// and `FLUSHALL` are in the table: they are replayed). Scripts and transactions are here too:
/// MONITOR shows the commands they run on lines of their own.
pub const IGNORED_BY_REPLAY: &[&str] = &[
    "ACL",
    "ASKING",
    "AUTH",
    "BGREWRITEAOF",
    "BGSAVE",
    "CLIENT",
    "CLUSTER",
    "COMMAND",
    "CONFIG",
    "DBSIZE",
    "DEBUG",
    "DISCARD",
    "ECHO",
    "EVAL",
    "EVALSHA",
    "EVALSHA_RO",
    "EVAL_RO",
    "EXEC",
    "FAILOVER",
    "FCALL",
    "FCALL_RO",
    "FUNCTION",
    "HELLO",
    "INFO",
    "KEYS",
    "LASTSAVE",
    "LATENCY",
    "LOLWUT",
    "MEMORY",
    "MODULE",
    "MONITOR",
    "MULTI",
    "OBJECT",
    "PING",
    "PSUBSCRIBE",
    "PSYNC",
    "PUBLISH",
    "PUBSUB",
    "PUNSUBSCRIBE",
    "QUIT",
    "RANDOMKEY",
    "READONLY",
    "READWRITE",
    "REPLCONF",
    "REPLICAOF",
    "RESET",
    "ROLE",
    "SAVE",
    "SCAN",
    "SCRIPT",
    "SENTINEL",
    "SHUTDOWN",
    "SLAVEOF",
    "SLOWLOG",
    "SPUBLISH",
    "SSUBSCRIBE",
    "SUBSCRIBE",
    "SUNSUBSCRIBE",
    "SYNC",
    "TIME",
    "UNSUBSCRIBE",
    "UNWATCH",
    "WAIT",
    "WATCH",
];

/// Commands counted in Commandstats that no client sends: the operator's CONFIG SET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminCommand {
    ConfigSet,
}

impl AdminCommand {
    pub const ALL: [AdminCommand; 1] = [AdminCommand::ConfigSet];

    /// Redis's Commandstats name: lower case, a subcommand as `parent|sub`.
    pub fn stat_name(self) -> &'static str {
        match self {
            AdminCommand::ConfigSet => "config|set",
        }
    }
}

// Commandstats places an administrative command by its discriminant.
const _: () = {
    let mut index = 0;
    while index < AdminCommand::ALL.len() {
        assert!(AdminCommand::ALL[index] as usize == index);
        index += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_in_any_case() {
        for kind in CommandKind::ALL {
            assert_eq!(CommandKind::parse(kind.name()), Some(kind));
            assert_eq!(
                CommandKind::parse(&kind.name().to_ascii_lowercase()),
                Some(kind)
            );
        }
        assert_eq!(CommandKind::parse("MGET"), Some(CommandKind::Mget));
        assert_eq!(CommandKind::parse("CLIENT"), None);
    }

    #[test]
    fn the_flags_match_redis() {
        let generated = || TABLE.iter().filter(|s| s.kind.is_generated());
        let denyoom: Vec<&str> = generated()
            .filter(|s| s.kind.is_denyoom())
            .map(|s| s.name)
            .collect();
        assert_eq!(denyoom, ["SET", "INCR", "HSET", "LPUSH", "SADD", "ZADD"]);
        let reads: Vec<&str> = generated()
            .filter(|s| s.kind.is_read())
            .map(|s| s.name)
            .collect();
        assert_eq!(
            reads,
            ["GET", "EXISTS", "TTL", "HGET", "LRANGE", "SMEMBERS", "ZRANGE"]
        );
    }
}
