//! What one MONITOR command replays as: the records of each key it touches, with Redis 7.0's
//! rules for where its keys are and what its options mean.
//!
//! The command is looked up in the server's command table; its `Behaviour` says how its
//! arguments read (a value, a TTL, elements, a target key). A command with several keys or
//! elements (MGET, DEL, MSET, HSET with several fields, SADD with several members, LPOP with a
//! count) becomes one record per key or element, the later ones marked `SAME_CALL` so that
//! Commandstats counts one call. Elements (hash fields, set and sorted-set members) are named
//! by a 32-bit FNV-1a hash of their bytes.
//!
//! Approximations, all documented in the README: a blocking pop (BLPOP, BZPOPMIN...) pops from
//! its first key only and only when MONITOR shows it (a client served later, when another
//! client pushes, is not shown by MONITOR); MSETNX is a SETNX per key; ZADD's options are
//! ignored; scores are truncated to 32-bit integers; INCRBYFLOAT's result length is estimated
//! (`exec/string.rs`); SETRANGE and LINSERT grow the value as APPEND and LPUSH do; the `*STORE` commands, LMOVE, SMOVE and LMPOP
//! become one record per key (sources first, then the destination) and LTRIM, LREM and
//! ZREMRANGEBY* carry their range (`protocol::part`), with the approximations the executor
//! (`exec/multi.rs`) lists; a SET whose EXAT or PXAT is already past is
//! replayed as a DEL.

use super::{TTL_MS_MAX, VALUE_BYTES_MAX};
use crate::sim::config::{record_flags, TraceOp, TraceRecord};
use crate::sim::server::command::{Behaviour, CommandKind, KeyType, IGNORED_BY_REPLAY};
use crate::sim::server::protocol::part;

/// The arguments of one line, unescaped into one reused buffer.
#[derive(Default)]
pub(super) struct Arguments {
    pub bytes: Vec<u8>,
    pub ends: Vec<usize>,
}

impl Arguments {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Argument `index`, which must be below `len()`.
    pub fn get(&self, index: usize) -> &[u8] {
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

    /// A number argument (a score, an increment), truncated; `None` if it is not a number.
    fn number(&self, index: usize) -> Option<i64> {
        if index >= self.len() {
            return None;
        }
        let text = std::str::from_utf8(self.get(index)).ok()?;
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "+inf" | "inf" => Some(i64::MAX),
            "-inf" => Some(i64::MIN),
            _ => text.parse::<f64>().ok().map(|value| value as i64),
        }
    }

    fn is(&self, index: usize, word: &str) -> bool {
        index < self.len() && self.get(index).eq_ignore_ascii_case(word.as_bytes())
    }
}

/// One record to be: its key and target key as argument indexes, the rest as in `TraceRecord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Planned {
    pub key_argument: Option<usize>,
    pub target_argument: Option<usize>,
    pub op: TraceOp,
    pub flags: u8,
    pub value_size: u32,
    pub ttl_ms: u64,
}

impl Planned {
    fn new(op: TraceOp, key_argument: usize) -> Planned {
        Planned {
            key_argument: Some(key_argument),
            target_argument: None,
            op,
            flags: 0,
            value_size: 0,
            ttl_ms: 0,
        }
    }

    /// The record, given the ids of its key and target.
    pub fn record(&self, time_us: u64, db: u32, key: u32, target: u32) -> TraceRecord {
        let value_size = if self.target_argument.is_some() {
            target
        } else {
            self.value_size
        };
        TraceRecord {
            time_us,
            key,
            db,
            op: self.op,
            flags: self.flags,
            value_size,
            ttl_ms: self.ttl_ms,
        }
    }
}

/// Why a line replays as nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Skip {
    /// A command that touches no key (PING, INFO, MULTI, EVAL...): counted.
    Keyless,
    /// A command vanish does not know: counted by name and listed.
    Unknown,
    /// Arguments Redis would have refused (MONITOR shows refused commands too).
    Refused,
}

/// Plans the records of the command in `arguments` into `plans` (cleared first).
pub(super) fn plan(
    arguments: &Arguments,
    now_ms: u64,
    plans: &mut Vec<Planned>,
) -> Result<(), Skip> {
    plans.clear();
    let name = arguments.get(0);
    let Some(command) = CommandKind::parse_bytes(name) else {
        let ignored = IGNORED_BY_REPLAY
            .iter()
            .any(|ignored| ignored.as_bytes().eq_ignore_ascii_case(name));
        return Err(if ignored {
            Skip::Keyless
        } else {
            Skip::Unknown
        });
    };
    if !command.spec().accepts(arguments.len()) {
        return Err(Skip::Refused);
    }
    let planned = match command.behaviour() {
        Behaviour::Read | Behaviour::ReadNoTouch | Behaviour::Del => {
            each_key(arguments, command, plans)
        }
        Behaviour::Incr => increment(arguments, command, plans),
        Behaviour::GetDel | Behaviour::Persist => single(arguments, command, 2, plans),
        Behaviour::Set => set_family(arguments, command, now_ms, plans),
        Behaviour::Append => append(arguments, command, plans),
        Behaviour::GetEx => getex(arguments, command, now_ms, plans),
        Behaviour::Expire => expire(arguments, command, now_ms, plans),
        Behaviour::Add | Behaviour::Remove => elements(arguments, command, plans),
        Behaviour::Pop => pop(arguments, command, plans),
        Behaviour::Rename => two_keys(arguments, command, 3, plans),
        Behaviour::Copy => copy(arguments, command, plans),
        Behaviour::Move => {
            let db = arguments.integer(2).and_then(|db| u32::try_from(db).ok());
            db.filter(|_| arguments.len() == 3).map(|db| {
                let mut moved = Planned::new(command, 1);
                moved.ttl_ms = u64::from(db);
                plans.push(moved);
            })
        }
        Behaviour::Store => store(arguments, command, plans),
        Behaviour::Transfer => transfer(arguments, command, plans),
        Behaviour::Trim => trim(arguments, command, plans),
        Behaviour::MultiPop => multi_pop(arguments, command, plans),
        Behaviour::SwapDb => swap_db(arguments, command, plans),
        Behaviour::FlushDb | Behaviour::FlushAll | Behaviour::Select => {
            plans.push(Planned {
                key_argument: None,
                ..Planned::new(command, 0)
            });
            Some(())
        }
    };
    planned.ok_or(Skip::Refused)?;
    for later in plans.iter_mut().skip(1) {
        later.flags |= record_flags::SAME_CALL;
    }
    Ok(())
}

/// One record per key the table places (MGET, EXISTS, DEL...), or the one key.
fn each_key(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let spec = command.spec();
    let count = arguments.len();
    if count < 2 {
        return None;
    }
    if spec.last_key != -1 {
        plans.push(Planned::new(command, 1));
        return Some(());
    }
    for index in 1..count {
        plans.push(Planned::new(command, index));
    }
    Some(())
}

/// INCR and DECR; INCRBY, DECRBY (an integer) and INCRBYFLOAT (a finite number) with their
/// amount in `ttl_ms`, as `TraceRecord` says.
fn increment(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let mut planned = Planned::new(command, 1);
    match command {
        CommandKind::Incrby | CommandKind::Decrby => {
            planned.ttl_ms = arguments.integer(2)? as u64;
        }
        CommandKind::Incrbyfloat => {
            let text = std::str::from_utf8(arguments.get(2)).ok()?;
            let by = text.parse::<f64>().ok().filter(|by| by.is_finite())?;
            planned.ttl_ms = by.to_bits();
        }
        _ => {}
    }
    plans.push(planned);
    Some(())
}

fn single(
    arguments: &Arguments,
    command: CommandKind,
    arity: usize,
    plans: &mut Vec<Planned>,
) -> Option<()> {
    (arguments.len() == arity).then(|| plans.push(Planned::new(command, 1)))
}

fn two_keys(
    arguments: &Arguments,
    command: CommandKind,
    arity: usize,
    plans: &mut Vec<Planned>,
) -> Option<()> {
    if arguments.len() != arity {
        return None;
    }
    plans.push(Planned {
        target_argument: Some(2),
        ..Planned::new(command, 1)
    });
    Some(())
}

fn value_size(value: &[u8]) -> Option<u32> {
    u32::try_from(value.len())
        .ok()
        .filter(|bytes| u64::from(*bytes) <= VALUE_BYTES_MAX)
}

fn value_record(command: CommandKind, key: usize, value: &[u8]) -> Option<Planned> {
    Some(Planned {
        value_size: value_size(value)?,
        ..Planned::new(command, key)
    })
}

/// SET, SETNX, SETEX, PSETEX, MSET, MSETNX, GETSET.
fn set_family(
    arguments: &Arguments,
    command: CommandKind,
    now_ms: u64,
    plans: &mut Vec<Planned>,
) -> Option<()> {
    let count = arguments.len();
    match command {
        CommandKind::Set if count >= 3 => plans.push(set(arguments, now_ms)?),
        CommandKind::Setnx | CommandKind::Getset if count == 3 => {
            let mut planned = value_record(command, 1, arguments.get(2))?;
            planned.flags = match command {
                CommandKind::Setnx => record_flags::NX,
                _ => record_flags::GET,
            };
            plans.push(planned);
        }
        CommandKind::Setex | CommandKind::Psetex if count == 4 => {
            let unit_ms = if command == CommandKind::Setex {
                1_000
            } else {
                1
            };
            let mut planned = value_record(command, 1, arguments.get(3))?;
            planned.ttl_ms = positive_ms(arguments.integer(2)?, unit_ms)?;
            plans.push(planned);
        }
        CommandKind::Mset | CommandKind::Msetnx if count >= 3 && count % 2 == 1 => {
            for key in (1..count).step_by(2) {
                let mut planned = value_record(command, key, arguments.get(key + 1))?;
                if command == CommandKind::Msetnx {
                    planned.flags = record_flags::NX;
                }
                plans.push(planned);
            }
        }
        _ => return None,
    }
    Some(())
}

/// SET key value [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL] [NX | XX] [GET].
fn set(arguments: &Arguments, now_ms: u64) -> Option<Planned> {
    let mut planned = value_record(CommandKind::Set, 1, arguments.get(2))?;
    let mut index = 3;
    while index < arguments.len() {
        let flag = [
            ("NX", record_flags::NX),
            ("XX", record_flags::XX),
            ("GET", record_flags::GET),
            ("KEEPTTL", record_flags::KEEPTTL),
        ]
        .into_iter()
        .find(|(word, _)| arguments.is(index, word));
        if let Some((_, flag)) = flag {
            planned.flags |= flag;
            index += 1;
            continue;
        }
        let (unit_ms, at) = deadline_option(arguments, index)?;
        let value = arguments.integer(index + 1).filter(|value| *value > 0)?;
        if !at {
            planned.ttl_ms = positive_ms(value, unit_ms)?;
        } else {
            planned.ttl_ms = relative_ms(value.checked_mul(unit_ms)?, true, now_ms);
            if planned.ttl_ms == 0 {
                return Some(Planned::new(CommandKind::Del, 1));
            }
        }
        index += 2;
    }
    Some(planned)
}

/// EX, PX, EXAT or PXAT at `index`: (its unit in ms, whether it is a unix time).
fn deadline_option(arguments: &Arguments, index: usize) -> Option<(i64, bool)> {
    [
        ("EX", 1_000, false),
        ("PX", 1, false),
        ("EXAT", 1_000, true),
        ("PXAT", 1, true),
    ]
    .into_iter()
    .find(|(word, ..)| arguments.is(index, word))
    .map(|(_, unit_ms, at)| (unit_ms, at))
}

/// APPEND key value, SETRANGE key offset value.
fn append(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let value_index = if command == CommandKind::Append { 2 } else { 3 };
    if arguments.len() != value_index + 1 {
        return None;
    }
    plans.push(value_record(command, 1, arguments.get(value_index))?);
    Some(())
}

/// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST].
fn getex(
    arguments: &Arguments,
    command: CommandKind,
    now_ms: u64,
    plans: &mut Vec<Planned>,
) -> Option<()> {
    let mut planned = Planned::new(command, 1);
    match arguments.len() {
        2 => {}
        3 if arguments.is(2, "PERSIST") => planned.flags = record_flags::PERSIST_OR_REPLACE,
        4 => {
            let (unit_ms, at) = deadline_option(arguments, 2)?;
            let value_ms = arguments
                .integer(3)
                .filter(|v| *v > 0)?
                .checked_mul(unit_ms)?;
            planned.ttl_ms = relative_ms(value_ms, at, now_ms);
            if planned.ttl_ms == 0 {
                // getexCommand deletes a key whose EXAT or PXAT is already past.
                planned.flags = record_flags::XX;
            }
        }
        _ => return None,
    }
    plans.push(planned);
    Some(())
}

/// EXPIRE and its variants with NX / XX / GT / LT: a relative TTL or an absolute deadline.
fn expire(
    arguments: &Arguments,
    command: CommandKind,
    now_ms: u64,
    plans: &mut Vec<Planned>,
) -> Option<()> {
    let (unit_ms, at) = match command {
        CommandKind::Expire => (1_000, false),
        CommandKind::Pexpire => (1, false),
        CommandKind::Expireat => (1_000, true),
        _ => (1, true),
    };
    if arguments.len() < 3 {
        return None;
    }
    let value_ms = arguments.integer(2)?.checked_mul(unit_ms)?;
    let mut planned = Planned::new(command, 1);
    for index in 3..arguments.len() {
        let flag = [
            ("NX", record_flags::NX),
            ("XX", record_flags::XX),
            ("GT", record_flags::GT),
            ("LT", record_flags::LT),
        ]
        .into_iter()
        .find(|(word, _)| arguments.is(index, word))?;
        planned.flags |= flag.1;
    }
    // A TTL at or below zero deletes the key, which EXPIRE 0 does too.
    planned.ttl_ms = relative_ms(value_ms, at, now_ms);
    plans.push(planned);
    Some(())
}

/// Commands that add or remove named elements: one record per element.
fn elements(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let count = arguments.len();
    let adds = command.behaviour() == Behaviour::Add;
    match (command.key_type(), adds) {
        (KeyType::Hash, true) => hash_fields(arguments, command, plans),
        (KeyType::List, true) => list_elements(arguments, command, plans),
        (KeyType::Zset, true) => zset_members(arguments, command, plans),
        _ => {
            // SADD, HDEL, SREM, ZREM: key then names.
            if count < 3 {
                return None;
            }
            for index in 2..count {
                let mut planned = Planned::new(command, 1);
                planned.ttl_ms = TraceRecord::element_argument(element(arguments.get(index)), 0);
                plans.push(planned);
            }
            Some(())
        }
    }
}

/// HSET / HMSET key field value ..., HSETNX key field value, HINCRBY(FLOAT) key field n.
fn hash_fields(
    arguments: &Arguments,
    command: CommandKind,
    plans: &mut Vec<Planned>,
) -> Option<()> {
    let count = arguments.len();
    let pairs = matches!(command, CommandKind::Hset | CommandKind::Hmset);
    if count < 4 || (pairs && count % 2 == 1) || (!pairs && count != 4) {
        return None;
    }
    for index in (2..count).step_by(2) {
        let mut planned = value_record(command, 1, arguments.get(index + 1))?;
        planned.ttl_ms = TraceRecord::element_argument(element(arguments.get(index)), 0);
        plans.push(planned);
    }
    Some(())
}

/// LPUSH / RPUSH / LPUSHX / RPUSHX key element ..., LINSERT key BEFORE|AFTER pivot element.
fn list_elements(
    arguments: &Arguments,
    command: CommandKind,
    plans: &mut Vec<Planned>,
) -> Option<()> {
    let count = arguments.len();
    if command == CommandKind::Linsert {
        if count != 5 || !(arguments.is(2, "BEFORE") || arguments.is(2, "AFTER")) {
            return None;
        }
        plans.push(value_record(command, 1, arguments.get(4))?);
        return Some(());
    }
    if count < 3 {
        return None;
    }
    for index in 2..count {
        plans.push(value_record(command, 1, arguments.get(index))?);
    }
    Some(())
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ..., ZINCRBY key increment member.
fn zset_members(
    arguments: &Arguments,
    command: CommandKind,
    plans: &mut Vec<Planned>,
) -> Option<()> {
    let count = arguments.len();
    let mut index = 2;
    if command == CommandKind::Zadd {
        while ["NX", "XX", "GT", "LT", "CH", "INCR"]
            .iter()
            .any(|word| arguments.is(index, word))
        {
            index += 1;
        }
    }
    if count < index + 2
        || (count - index) % 2 == 1
        || (command == CommandKind::Zincrby && count != 4)
    {
        return None;
    }
    while index < count {
        let score = arguments.number(index)?;
        let mut planned = Planned::new(command, 1);
        planned.ttl_ms = TraceRecord::element_argument(element(arguments.get(index + 1)), score);
        plans.push(planned);
        index += 2;
    }
    Some(())
}

/// LPOP / RPOP / SPOP / ZPOPMIN / ZPOPMAX key [count]; the blocking ones pop from their first
/// key.
fn pop(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let count = arguments.len();
    let blocking = command.spec().last_key == -2;
    if blocking {
        if count < 3 {
            return None;
        }
        plans.push(Planned::new(command, 1));
        return Some(());
    }
    // LPOP key 0 pops nothing; it is skipped like a refused command.
    let pops = match count {
        2 => 1,
        3 => arguments.integer(2).filter(|n| *n > 0)?,
        _ => return None,
    };
    // A count larger than any aggregate the trace can build pops it all; cap the records.
    for _ in 0..pops.min(1 << 20) {
        plans.push(Planned::new(command, 1));
    }
    Some(())
}

/// COPY source destination [DB db] [REPLACE].
fn copy(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    if arguments.len() < 3 {
        return None;
    }
    let mut planned = Planned {
        target_argument: Some(2),
        ..Planned::new(command, 1)
    };
    let mut index = 3;
    while index < arguments.len() {
        if arguments.is(index, "REPLACE") {
            planned.flags |= record_flags::PERSIST_OR_REPLACE;
            index += 1;
        } else if arguments.is(index, "DB") {
            let db = arguments
                .integer(index + 1)
                .and_then(|db| u32::try_from(db).ok())?;
            planned.ttl_ms = u64::from(db) + 1;
            index += 2;
        } else {
            return None;
        }
    }
    plans.push(planned);
    Some(())
}

/// A field's or member's id: FNV-1a of its bytes.
fn element(name: &[u8]) -> u32 {
    name.iter().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
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

/// A record of a call spread over several (`protocol::part`), its two numbers packed as an
/// element and a score.
fn part(command: CommandKind, key: usize, step: u8, low: i32, high: i32) -> Planned {
    Planned {
        value_size: u32::from(step),
        ttl_ms: TraceRecord::element_argument(low as u32, i64::from(high)),
        ..Planned::new(command, key)
    }
}

/// An integer argument that fits a part's number.
fn small(arguments: &Arguments, index: usize) -> Option<i32> {
    let value = arguments.integer(index)?;
    Some(value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// SUNIONSTORE dst key..., ZUNIONSTORE dst numkeys key... [options], ZRANGESTORE dst src min
/// max [options]: the sources, then the destination.
fn store(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let count = arguments.len();
    let (sources, range) = match command {
        CommandKind::Sunionstore | CommandKind::Sinterstore | CommandKind::Sdiffstore => {
            (2..count, (0, -1))
        }
        CommandKind::Zrangestore => {
            // BYSCORE, BYLEX, REV and LIMIT are replayed as the whole range.
            let range = match count {
                5 => (small(arguments, 3)?, small(arguments, 4)?),
                _ => (0, -1),
            };
            (2..3, range)
        }
        _ => {
            let keys = usize::try_from(arguments.integer(2)?).ok()?;
            if keys == 0 || count < 3 + keys {
                return None;
            }
            (3..3 + keys, (0, -1))
        }
    };
    for index in sources.clone() {
        let step = if index == sources.start {
            part::FIRST
        } else {
            part::NEXT
        };
        plans.push(part(command, index, step, range.0, range.1));
    }
    plans.push(part(command, 1, part::DESTINATION, 0, -1));
    Some(())
}

/// LMOVE src dst LEFT|RIGHT LEFT|RIGHT, RPOPLPUSH src dst, their blocking forms, SMOVE src dst
/// member: the source, then the destination.
fn transfer(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let member = match command {
        CommandKind::Smove => element(arguments.get(3)),
        _ => 0,
    };
    if arguments.get(1) == arguments.get(2) {
        plans.push(part(command, 1, part::SAME_KEY, member as i32, 0));
        return Some(());
    }
    plans.push(part(command, 1, part::FIRST, member as i32, 0));
    plans.push(part(command, 2, part::DESTINATION, 0, 0));
    Some(())
}

/// LTRIM key start stop, LREM key count element, ZREMRANGEBYRANK key start stop,
/// ZREMRANGEBYSCORE key min max, ZREMRANGEBYLEX key min max.
fn trim(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let (low, high) = match command {
        CommandKind::Lrem => (small(arguments, 2)?, 0),
        CommandKind::Zremrangebyscore => (
            score_bound(arguments, 2, 1)?,
            score_bound(arguments, 3, -1)?,
        ),
        // Members are named by a hash, so their lexical order is unknown: only the whole
        // range (`-` to `+`) is replayed, as removing every member.
        CommandKind::Zremrangebylex => match arguments.is(2, "-") && arguments.is(3, "+") {
            true => (0, -1),
            false => (1, 0),
        },
        _ => (small(arguments, 2)?, small(arguments, 3)?),
    };
    plans.push(part(command, 1, part::FIRST, low, high));
    Some(())
}

/// A score range's bound, `(` making it exclusive on integer scores (`step` toward the inside).
fn score_bound(arguments: &Arguments, index: usize, step: i64) -> Option<i32> {
    let text = arguments.get(index);
    let (exclusive, number) = match text.first() {
        Some(b'(') => (true, &text[1..]),
        _ => (false, text),
    };
    let text = std::str::from_utf8(number).ok()?;
    let value = match text.to_ascii_lowercase().as_str() {
        "+inf" | "inf" => i64::MAX,
        "-inf" => i64::MIN,
        _ => text.parse::<f64>().ok()? as i64,
    };
    let value = if exclusive {
        value.saturating_add(step)
    } else {
        value
    };
    Some(value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// LMPOP numkeys key... LEFT|RIGHT [COUNT n], ZMPOP ... MIN|MAX [COUNT n], and the blocking
/// forms with a timeout first: one record per key, the first that holds elements pops.
fn multi_pop(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let numkeys_at = command.spec().first_key as usize - 1;
    let keys = usize::try_from(arguments.integer(numkeys_at)?).ok()?;
    let first = numkeys_at + 1;
    let after = first + keys;
    if keys == 0 || arguments.len() <= after {
        return None;
    }
    let count = match arguments.len() - after {
        1 => 1,
        3 if arguments.is(after + 1, "COUNT") => small(arguments, after + 2).filter(|n| *n > 0)?,
        _ => return None,
    };
    for index in first..after {
        let step = if index == first {
            part::FIRST
        } else {
            part::NEXT
        };
        plans.push(part(command, index, step, count, 0));
    }
    Some(())
}

/// SWAPDB a b: a keyless record carrying both databases.
fn swap_db(arguments: &Arguments, command: CommandKind, plans: &mut Vec<Planned>) -> Option<()> {
    let db = |index| {
        arguments
            .integer(index)
            .and_then(|db| i32::try_from(db).ok())
            .filter(|db| *db >= 0)
    };
    let (a, b) = (db(1)?, db(2)?);
    plans.push(Planned {
        key_argument: None,
        ..part(command, 0, part::FIRST, a, b)
    });
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(words: &[&str]) -> Result<Vec<Planned>, Skip> {
        let mut arguments = Arguments::default();
        for word in words {
            arguments.bytes.extend_from_slice(word.as_bytes());
            arguments.ends.push(arguments.bytes.len());
        }
        let mut plans = Vec::new();
        plan(&arguments, 0, &mut plans).map(|()| plans)
    }

    #[test]
    fn increments_carry_their_amount() {
        let amount = |words: &[&str]| planned(words).expect("planned")[0].ttl_ms;
        assert_eq!(amount(&["INCR", "k"]), 0);
        assert_eq!(amount(&["incrby", "k", "100000"]), 100_000);
        assert_eq!(amount(&["DECRBY", "k", "-7"]) as i64, -7);
        assert_eq!(
            f64::from_bits(amount(&["incrbyfloat", "k", "5.0e3"])),
            5000.0
        );
        for refused in [
            &["INCRBY", "k", "1.5"][..],
            &["INCRBYFLOAT", "k", "inf"],
            &["INCRBYFLOAT", "k", "x"],
        ] {
            assert_eq!(planned(refused), Err(Skip::Refused), "{refused:?}");
        }
    }
}
