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

/// One row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    pub kind: CommandKind,
    /// Redis's name, upper case (the scenario spelling).
    pub name: &'static str,
    /// `WRITE`, `READONLY`, `DENYOOM`.
    pub flags: u8,
    pub key_type: KeyType,
    /// Position of the first key among the arguments (the command name is 0).
    pub first_key: u8,
    /// Position of the last key; -1 for "through the last argument".
    pub last_key: i8,
    /// Distance between keys.
    pub key_step: u8,
}

const fn spec(kind: CommandKind, name: &'static str, flags: u8, key_type: KeyType) -> CommandSpec {
    CommandSpec {
        kind,
        name,
        flags,
        key_type,
        first_key: 1,
        last_key: 1,
        key_step: 1,
    }
}

/// Commands with any number of keys from the first argument on.
const fn variadic(
    kind: CommandKind,
    name: &'static str,
    flags: u8,
    key_type: KeyType,
) -> CommandSpec {
    CommandSpec {
        last_key: -1,
        ..spec(kind, name, flags, key_type)
    }
}

/// How many commands the table holds.
pub const COMMAND_COUNT: usize = 21;

/// The command table, in `CommandKind` order.
pub const TABLE: [CommandSpec; COMMAND_COUNT] = [
    spec(CommandKind::Get, "GET", READONLY, KeyType::String),
    spec(CommandKind::Set, "SET", WRITE | DENYOOM, KeyType::Any),
    variadic(CommandKind::Del, "DEL", WRITE, KeyType::Any),
    variadic(CommandKind::Unlink, "UNLINK", WRITE, KeyType::Any),
    spec(CommandKind::Expire, "EXPIRE", WRITE, KeyType::Any),
    spec(CommandKind::Persist, "PERSIST", WRITE, KeyType::Any),
    spec(CommandKind::Incr, "INCR", WRITE | DENYOOM, KeyType::String),
    variadic(CommandKind::Exists, "EXISTS", READONLY, KeyType::Any),
    spec(CommandKind::Ttl, "TTL", READONLY, KeyType::Any),
    spec(CommandKind::Hset, "HSET", WRITE | DENYOOM, KeyType::Hash),
    spec(CommandKind::Hget, "HGET", READONLY, KeyType::Hash),
    spec(CommandKind::Hdel, "HDEL", WRITE, KeyType::Hash),
    spec(CommandKind::Lpush, "LPUSH", WRITE | DENYOOM, KeyType::List),
    spec(CommandKind::Lpop, "LPOP", WRITE, KeyType::List),
    spec(CommandKind::Lrange, "LRANGE", READONLY, KeyType::List),
    spec(CommandKind::Sadd, "SADD", WRITE | DENYOOM, KeyType::Set),
    spec(CommandKind::Srem, "SREM", WRITE, KeyType::Set),
    spec(CommandKind::Smembers, "SMEMBERS", READONLY, KeyType::Set),
    spec(CommandKind::Zadd, "ZADD", WRITE | DENYOOM, KeyType::Zset),
    spec(CommandKind::Zrem, "ZREM", WRITE, KeyType::Zset),
    spec(CommandKind::Zrange, "ZRANGE", READONLY, KeyType::Zset),
];

// The table is in `CommandKind` order, and every command is a read or a write, never both.
const _: () = {
    let mut index = 0;
    while index < COMMAND_COUNT {
        let spec = TABLE[index];
        assert!(spec.kind as usize == index);
        assert!((spec.flags & WRITE == 0) != (spec.flags & READONLY == 0));
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
}

/// Commands counted in Commandstats beyond the workload's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminCommand {
    FlushDb,
    FlushAll,
    ConfigSet,
    Select,
}

impl AdminCommand {
    pub const ALL: [AdminCommand; 4] = [
        AdminCommand::FlushDb,
        AdminCommand::FlushAll,
        AdminCommand::ConfigSet,
        AdminCommand::Select,
    ];

    /// Redis's Commandstats name: lower case, a subcommand as `parent|sub`.
    pub fn stat_name(self) -> &'static str {
        match self {
            AdminCommand::FlushDb => "flushdb",
            AdminCommand::FlushAll => "flushall",
            AdminCommand::ConfigSet => "config|set",
            AdminCommand::Select => "select",
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
        assert_eq!(CommandKind::parse("MGET"), None);
    }

    #[test]
    fn the_flags_match_redis() {
        let denyoom: Vec<&str> = TABLE
            .iter()
            .filter(|s| s.kind.is_denyoom())
            .map(|s| s.name)
            .collect();
        assert_eq!(denyoom, ["SET", "INCR", "HSET", "LPUSH", "SADD", "ZADD"]);
        let reads: Vec<&str> = TABLE
            .iter()
            .filter(|s| s.kind.is_read())
            .map(|s| s.name)
            .collect();
        assert_eq!(
            reads,
            ["GET", "EXISTS", "TTL", "HGET", "LRANGE", "SMEMBERS", "ZRANGE"]
        );
    }
}
