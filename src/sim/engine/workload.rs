//! A simulated client: when its commands arrive, which command, which key, which value.
//!
//! Each client draws from its own stream (`client:<name>`), so clients are independent of one
//! another: adding a client leaves every other client's commands unchanged.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::sim::config::{
    Arrivals, ClientConfig, CommandKind, GeneratedWorkload, OnMiss, Trace, TraceRecord, ValueSize,
    Workload,
};
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::{Actor, KeyId};
use crate::sim::random::dist::{exponential_gap_ns, round_to_u64, sample_value_size, KeyPicker};
use crate::sim::random::rng::Stream;
use crate::sim::server::command::{Behaviour, KeyType};
use crate::sim::server::{Argument, ErrorReply, Request};

/// ZADD scores are integers in 0..SCORE_RANGE.
const SCORE_RANGE: u64 = 1_000_000;
/// How many records ahead a replay names the key whose slot to load (`upcoming_key`).
const REPLAY_PREFETCH_AHEAD: usize = 8;

/// What a client saw, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCounts {
    pub commands: u64,
    pub reads: u64,
    pub hits: u64,
    pub misses: u64,
    /// Requests that failed, reads and writes: the sum of `failed_reads` and `failed_writes`.
    pub errors: u64,
    /// Reads answered with an error (WRONGTYPE, or a node that is down): with hits and misses
    /// they make up the reads.
    pub read_errors: u64,
    /// Reads that failed, by why.
    pub failed_reads: PerFailure<u64>,
    /// Writes (every command that is not a read) that failed, by why.
    pub failed_writes: PerFailure<u64>,
    /// Writes the server acknowledged (replied to without an error).
    pub acknowledged_writes: u64,
}

/// Why a request failed, as the reports name it: each [`ErrorReply`] is one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// No answer in time: a paused process, a crashed machine, a partition.
    Timeout,
    /// The connection was refused: the process is dead (killed, or not restarted yet).
    Refused,
    ReadOnly,
    NoReplicas,
    Oom,
    MasterDown,
    WrongType,
    NotAnInteger,
    /// RENAME of a key that does not exist.
    NoSuchKey,
    /// The server closed the connection before the reply (`maxmemory-clients`,
    /// `client-output-buffer-limit`).
    Closed,
}

impl Failure {
    pub const ALL: [Failure; 10] = [
        Failure::Timeout,
        Failure::Refused,
        Failure::ReadOnly,
        Failure::NoReplicas,
        Failure::Oom,
        Failure::MasterDown,
        Failure::WrongType,
        Failure::NotAnInteger,
        Failure::NoSuchKey,
        Failure::Closed,
    ];

    pub fn of(error: ErrorReply) -> Failure {
        match error {
            ErrorReply::Timeout => Failure::Timeout,
            ErrorReply::ConnectionRefused => Failure::Refused,
            ErrorReply::ReadOnly => Failure::ReadOnly,
            ErrorReply::NoReplicas => Failure::NoReplicas,
            ErrorReply::Oom => Failure::Oom,
            ErrorReply::MasterDown => Failure::MasterDown,
            ErrorReply::WrongType => Failure::WrongType,
            ErrorReply::NotAnInteger => Failure::NotAnInteger,
            ErrorReply::NoSuchKey => Failure::NoSuchKey,
            ErrorReply::ConnectionClosed => Failure::Closed,
        }
    }

    /// As the terminal summary and the HTML page show it: Redis's error replies with their
    /// prefix, the two that are not replies in words.
    pub fn label(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Refused => "refused",
            Failure::ReadOnly => "-READONLY",
            Failure::NoReplicas => "-NOREPLICAS",
            Failure::Oom => "-OOM",
            Failure::MasterDown => "-MASTERDOWN",
            Failure::WrongType => "-WRONGTYPE",
            Failure::NotAnInteger => "-ERR not an integer",
            Failure::NoSuchKey => "-ERR no such key",
            Failure::Closed => "connection closed",
        }
    }

    /// As `report.json` keys it.
    pub fn key(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Refused => "refused",
            Failure::ReadOnly => "readonly",
            Failure::NoReplicas => "noreplicas",
            Failure::Oom => "oom",
            Failure::MasterDown => "masterdown",
            Failure::WrongType => "wrongtype",
            Failure::NotAnInteger => "not_an_integer",
            Failure::NoSuchKey => "no_such_key",
            Failure::Closed => "closed",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One value per [`Failure`], in `Failure::ALL`'s order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerFailure<T>([T; Failure::ALL.len()]);

impl<T> PerFailure<T> {
    pub fn iter(&self) -> impl Iterator<Item = (Failure, &T)> {
        Failure::ALL.into_iter().zip(self.0.iter())
    }
}

impl PerFailure<u64> {
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &PerFailure<u64>) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine += theirs;
        }
    }
}

impl<T> std::ops::Index<Failure> for PerFailure<T> {
    type Output = T;
    fn index(&self, failure: Failure) -> &T {
        &self.0[failure.index()]
    }
}

impl<T> std::ops::IndexMut<Failure> for PerFailure<T> {
    fn index_mut(&mut self, failure: Failure) -> &mut T {
        &mut self.0[failure.index()]
    }
}

/// Where a client's requests come from.
enum Source {
    Generated(Generator),
    Replay(Replay),
}

/// A generated workload's draws: command by weight, key by popularity.
struct Generator {
    workload: GeneratedWorkload,
    picker: KeyPicker,
    /// Cumulative command weights.
    commands: Vec<(u64, CommandKind)>,
    total_weight: u64,
    /// The mean arrival gap, ns (`1e9 / rate`), divided once rather than per arrival.
    mean_gap_ns: f64,
}

/// A trace being replayed: the next record, and for each record when its key is used next.
struct Replay {
    trace: Arc<Trace>,
    cursor: usize,
    /// Per record: arrival time (µs) of the next record with the same key, 0 if none.
    next_use_us: Vec<u64>,
    /// The pace of an untimed trace; `None`: records keep their times.
    pacing: Option<Pacing>,
    /// Where the records' times were last found (`TraceRecords::at_from`).
    time_run: usize,
}

pub struct Client {
    pub config: ClientConfig,
    pub actor: Actor,
    /// The database the connection has SELECTed.
    pub db: u32,
    pub counts: ClientCounts,
    family: usize,
    stream: Stream,
    source: Source,
    /// Arrivals so far (fixed spacing is computed from it, so it never drifts).
    arrivals: u64,
    /// Time of the latest arrival, ns.
    last_arrival_ns: u64,
    /// One bit per key: this client wrote the key's current or an earlier value.
    written: Vec<u64>,
    /// Blocked (in WAIT) until this time, µs: later commands start no earlier.
    blocked_until_us: u64,
    /// Draws made one command ahead (`enable_lookahead`), None when off.
    ahead: Option<Lookahead>,
}

/// A generated workload's draws made before they are used, so the engine knows the key of a
/// client's next command while the current one runs (and has the CPU load its slot). The
/// stream gives the same numbers in the same order: a round trip draws its `pipeline` arrival
/// gaps, then its `pipeline` commands, and nothing else draws from the client's stream in
/// between (see `Client::enable_lookahead`).
#[derive(Debug, Default)]
struct Lookahead {
    /// Gaps (ns) drawn and not used yet, oldest first, all drawn before `command`.
    gaps: VecDeque<u64>,
    /// The next command's draws, when made ahead.
    command: Option<(CommandKind, u64, Argument)>,
    /// Where the next draw falls in a round trip's pattern: `pipeline` gaps, then as many
    /// commands (0..2 × pipeline).
    phase: u64,
}

impl Lookahead {
    /// Counts a draw; returns whether it is a gap.
    #[inline]
    fn advance(&mut self, pipeline: u64, poisson: bool) -> bool {
        let gap = poisson && self.phase < pipeline;
        self.phase += 1;
        if self.phase == 2 * pipeline {
            self.phase = 0;
        }
        gap
    }
}

impl Client {
    /// `needs_future`: replays compute each record's next use (for OPT).
    pub fn new(
        index: usize,
        config: &ClientConfig,
        family: usize,
        seed: u64,
        needs_future: bool,
    ) -> Client {
        let source = match &config.workload {
            Workload::Generated(workload) => Source::Generated(Generator::new(workload)),
            Workload::Trace(replay) => Source::Replay(Replay::new(
                replay.trace.clone(),
                replay.rate,
                config.start_us,
                needs_future,
            )),
        };
        Client {
            actor: Actor::client(index),
            db: config.db,
            counts: ClientCounts::default(),
            family,
            stream: Stream::new(seed, &format!("client:{}", config.name)),
            source,
            arrivals: 0,
            last_arrival_ns: config.start_us * 1000,
            written: Vec::new(),
            blocked_until_us: 0,
            ahead: None,
            config: config.clone(),
        }
    }

    /// Draws each command one ahead of its use (see [`Lookahead`]), when that leaves the
    /// stream's sequence as it is: a generated workload whose refills draw nothing (no refill,
    /// or a fixed value size and no TTL). Call before the first draw.
    pub fn enable_lookahead(&mut self) {
        let Source::Generated(generator) = &self.source else {
            return;
        };
        let workload = &generator.workload;
        let refill_draws = workload.on_miss == OnMiss::Set
            && (workload.ttl.is_some() || !matches!(workload.value_size, ValueSize::Fixed(_)));
        if !refill_draws && self.arrivals == 0 {
            self.ahead = Some(Lookahead::default());
        }
    }

    /// A key this client will use soon, when it is known before the command is asked for: a
    /// replay's record `REPLAY_PREFETCH_AHEAD` places on (its slot then has eight commands'
    /// time to load, where the next record's has a fraction of one), a draw made ahead. With
    /// it, whether that command may insert the key (a generated read never does; any record
    /// may, by its refill).
    pub fn upcoming_key(&self, keys: &KeyTable) -> Option<(KeyId, bool)> {
        let (local, may_insert) = match &self.source {
            Source::Replay(replay) => {
                let records = &replay.trace.records;
                let ahead = (replay.cursor + REPLAY_PREFETCH_AHEAD).min(records.len());
                if ahead == 0 || replay.cursor >= records.len() {
                    return None;
                }
                (u64::from(records.key(ahead - 1)), true)
            }
            Source::Generated(_) => {
                let (command, local, _) = self.ahead.as_ref()?.command?;
                (local, !command.is_read())
            }
        };
        Some((keys.key(self.family, local), may_insert))
    }

    /// The connection is blocked (WAIT) until `at_us`: no command of this client starts before.
    pub fn block_until(&mut self, at_us: u64) {
        self.blocked_until_us = self.blocked_until_us.max(at_us);
        // Open-loop arrivals queue behind the blocked call rather than overlapping it.
        self.last_arrival_ns = self.last_arrival_ns.max(at_us * 1000);
    }

    /// Time of the next round trip in µs: a pipelining client sends its next `pipeline`
    /// commands together when the last of them arrives. None once the client has stopped.
    pub fn next_round_trip_us(&mut self) -> Option<u64> {
        let mut at_us = None;
        for _ in 0..self.config.pipeline {
            at_us = Some(self.next_arrival_us()?);
        }
        at_us
    }

    /// Time of the next command in µs, or None once the client has stopped.
    pub fn next_arrival_us(&mut self) -> Option<u64> {
        let at_us = self.next_unblocked_arrival_us()?;
        Some(at_us.max(self.blocked_until_us))
    }

    fn next_unblocked_arrival_us(&mut self) -> Option<u64> {
        let generator = match &mut self.source {
            Source::Replay(replay) => {
                let at_us = replay.arrival_us(replay.cursor, self.config.start_us)?;
                return match self.config.stop_us {
                    Some(stop) if at_us >= stop => None,
                    _ => Some(at_us),
                };
            }
            Source::Generated(generator) => generator,
        };
        let start_ns = self.config.start_us * 1000;
        let rate = generator.workload.rate;
        let pipeline = u64::from(self.config.pipeline);
        let at_ns = match generator.workload.arrivals {
            Arrivals::Poisson => {
                let ahead = self.ahead.as_mut();
                self.last_arrival_ns + take_gap(generator, &mut self.stream, ahead, pipeline)
            }
            Arrivals::Fixed => start_ns + round_to_u64(self.arrivals as f64 * 1e9 / rate),
        };
        self.arrivals += 1;
        self.last_arrival_ns = at_ns;
        let at_us = at_ns / 1000;
        match self.config.stop_us {
            Some(stop) if at_us >= stop => None,
            _ => Some(at_us),
        }
    }

    /// The client's next command.
    pub fn next_request(&mut self, keys: &KeyTable) -> Request {
        let generator = match &mut self.source {
            Source::Replay(replay) => {
                let (request_db, command, local, argument, next_use, flags) = replay.next(self.db);
                let key = keys.key(self.family, local);
                let argument = match argument {
                    Argument::Target { key: target, db } => Argument::Target {
                        key: keys.key(self.family, u64::from(target.0)),
                        db,
                    },
                    other => other,
                };
                return Request {
                    client: self.actor,
                    db: request_db,
                    command,
                    key,
                    argument,
                    client_wrote_key: self.has_written(key),
                    next_use,
                    primary_has_key: false,
                    flags,
                };
            }
            Source::Generated(generator) => generator,
        };
        let pipeline = u64::from(self.config.pipeline);
        let (command, local, argument) =
            take_command(generator, &mut self.stream, self.ahead.as_mut(), pipeline);
        let key = keys.key(self.family, local);
        Request {
            client: self.actor,
            db: self.db,
            command,
            key,
            argument,
            client_wrote_key: self.has_written(key),
            next_use: 0,
            primary_has_key: false,
            flags: 0,
        }
    }

    /// Whether a GET miss is followed by a SET (cache-aside, or a read-through trace).
    pub fn refills_on_miss(&self) -> bool {
        match &self.source {
            Source::Generated(generator) => generator.workload.on_miss == OnMiss::Set,
            Source::Replay(replay) => replay.trace.read_through,
        }
    }

    /// The cache-aside refill after a GET miss (`request` is the GET).
    pub fn refill_request(&mut self, request: &Request) -> Request {
        let key = request.key;
        let generator = match &self.source {
            Source::Replay(replay) => {
                // The GET being refilled is the latest record replayed.
                assert!(replay.cursor > 0, "a refill follows the GET it refills");
                let record = replay.trace.records.at(replay.cursor - 1);
                return Request {
                    command: CommandKind::Set,
                    argument: Argument::Value {
                        len: record.value_size,
                        ttl_ms: None,
                    },
                    ..*request
                };
            }
            Source::Generated(generator) => generator,
        };
        let len = sample_value_size(&generator.workload.value_size, &mut self.stream);
        let ttl_ms = generator.ttl_for_write(&mut self.stream);
        Request {
            client: self.actor,
            db: self.db,
            command: CommandKind::Set,
            key,
            argument: Argument::Value { len, ttl_ms },
            client_wrote_key: self.has_written(key),
            next_use: 0,
            primary_has_key: false,
            flags: 0,
        }
    }

    /// Hints the CPU to load the word of `key`'s written bit, read by its next command.
    #[inline]
    pub fn prefetch_written(&self, key: KeyId) {
        if let Some(word) = self.written.get(key.0 as usize / 64) {
            crate::sim::keyspace::prefetch(word);
        }
    }

    #[inline]
    pub fn has_written(&self, key: KeyId) -> bool {
        let index = key.0 as usize;
        self.written
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// Remembers that the key's current value is this client's.
    #[inline]
    pub fn mark_written(&mut self, key: KeyId, key_count: usize) {
        if self.written.is_empty() {
            self.written = vec![0; key_count.div_ceil(64)];
        }
        let index = key.0 as usize;
        self.written[index / 64] |= 1 << (index % 64);
    }
}

impl Generator {
    fn new(workload: &GeneratedWorkload) -> Generator {
        let mut cumulative = 0;
        let commands = workload
            .commands
            .iter()
            .map(|&(kind, weight)| {
                cumulative += u64::from(weight);
                (cumulative, kind)
            })
            .collect();
        Generator {
            picker: KeyPicker::new(workload.keyspace.keys, workload.keyspace.popularity),
            commands,
            total_weight: cumulative,
            mean_gap_ns: 1e9 / workload.rate,
            workload: workload.clone(),
        }
    }

    /// One command's draws, in the stream's order: the command, its key, its argument.
    fn draw_command(&mut self, stream: &mut Stream) -> (CommandKind, u64, Argument) {
        let command = self.pick_command(stream);
        let local = self.picker.pick(stream);
        let argument = self.argument(command, stream);
        (command, local, argument)
    }

    fn pick_command(&self, stream: &mut Stream) -> CommandKind {
        let ticket = stream.below(self.total_weight);
        let index = self
            .commands
            .partition_point(|&(cumulative, _)| cumulative <= ticket);
        self.commands[index.min(self.commands.len() - 1)].1
    }

    fn ttl_for_write(&self, stream: &mut Stream) -> Option<u64> {
        let ttl = self.workload.ttl?;
        if !stream.chance_ppm(ttl.share_ppm) {
            return None;
        }
        Some(stream.between(ttl.min_us, ttl.max_us) / 1000)
    }

    /// What `command` carries: a value and TTL, a field, a member, or nothing.
    fn argument(&self, command: CommandKind, stream: &mut Stream) -> Argument {
        let fields = u64::from(self.workload.fields);
        let value_size = &self.workload.value_size;
        match command {
            CommandKind::Set => {
                let len = sample_value_size(value_size, stream);
                Argument::Value {
                    len,
                    ttl_ms: self.ttl_for_write(stream),
                }
            }
            CommandKind::Lpush => Argument::Value {
                len: sample_value_size(value_size, stream),
                ttl_ms: None,
            },
            CommandKind::Expire => {
                let ms = match self.workload.ttl {
                    Some(ttl) => stream.between(ttl.min_us, ttl.max_us) / 1000,
                    None => 0,
                };
                Argument::Ttl { ms }
            }
            CommandKind::Hset | CommandKind::Hget | CommandKind::Hdel => {
                let id = stream.below(fields) as u32;
                let len = if command == CommandKind::Hset {
                    sample_value_size(value_size, stream)
                } else {
                    0
                };
                Argument::Field { id, len }
            }
            CommandKind::Sadd | CommandKind::Srem | CommandKind::Zadd | CommandKind::Zrem => {
                let id = stream.below(fields) as u32;
                let score = if command == CommandKind::Zadd {
                    stream.below(SCORE_RANGE) as i64
                } else {
                    0
                };
                Argument::Member { id, score }
            }
            _ => Argument::None,
        }
    }
}

/// The next arrival gap of a Poisson workload, ns: drawn ahead, or now.
fn take_gap(
    generator: &Generator,
    stream: &mut Stream,
    ahead: Option<&mut Lookahead>,
    pipeline: u64,
) -> u64 {
    if let Some(ahead) = ahead {
        if let Some(gap) = ahead.gaps.pop_front() {
            return gap;
        }
        assert!(
            ahead.command.is_none(),
            "a gap is used after a command drawn ahead of it"
        );
        let gap = ahead.advance(pipeline, true);
        assert!(gap, "a gap is used where a round trip draws a command");
    }
    exponential_gap_ns(generator.mean_gap_ns, stream)
}

/// The next command's draws (command, key within the keyspace, argument): drawn ahead, or
/// now; then, looking ahead, the draws up to and including the command after it (the next
/// round trip's gaps first when this command ends one).
fn take_command(
    generator: &mut Generator,
    stream: &mut Stream,
    ahead: Option<&mut Lookahead>,
    pipeline: u64,
) -> (CommandKind, u64, Argument) {
    let Some(ahead) = ahead else {
        return generator.draw_command(stream);
    };
    let poisson = generator.workload.arrivals == Arrivals::Poisson;
    let taken = match ahead.command.take() {
        Some(drawn) => {
            assert!(
                ahead.gaps.is_empty(),
                "a command drawn ahead is used before the gaps drawn before it"
            );
            drawn
        }
        None => {
            let gap = ahead.advance(pipeline, poisson);
            assert!(!gap, "a command is used where a round trip draws a gap");
            generator.draw_command(stream)
        }
    };
    loop {
        if !ahead.advance(pipeline, poisson) {
            ahead.command = Some(generator.draw_command(stream));
            return taken;
        }
        let gap = exponential_gap_ns(generator.mean_gap_ns, stream);
        ahead.gaps.push_back(gap);
    }
}

/// When the records of an untimed trace paced at `rate` requests per second arrive: record
/// `index` at `index × 10^6 / rate` µs, rounded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pacing {
    rate: f64,
    /// µs between records when a whole rate divides a second: record `index` then arrives at
    /// `index × step` exactly, which is what the division gives (`index × 10^6` is exact below
    /// 2^53 and so is the quotient), without a division per record (6 % of a replay).
    step_us: Option<u64>,
}

/// Indices below this keep `index × 10^6` exact in an f64.
const PACING_EXACT_INDEX: u64 = (1 << 53) / 1_000_000;

impl Pacing {
    pub(super) fn new(rate: f64) -> Pacing {
        let whole = (1.0..=1e6).contains(&rate) && rate.fract() == 0.0;
        let step_us = (whole && 1_000_000 % (rate as u64) == 0).then(|| 1_000_000 / rate as u64);
        Pacing { rate, step_us }
    }

    #[inline]
    pub(super) fn at_us(&self, index: usize) -> u64 {
        match self.step_us {
            Some(step) if (index as u64) < PACING_EXACT_INDEX => index as u64 * step,
            _ => round_to_u64(index as f64 * 1e6 / self.rate),
        }
    }
}

/// What a replayed record's command carries, by the command's behaviour.
fn record_argument(record: &TraceRecord) -> Argument {
    let ttl_ms = (record.ttl_ms > 0).then_some(record.ttl_ms);
    match record.op.behaviour() {
        Behaviour::Set | Behaviour::Append => Argument::Value {
            len: record.value_size,
            ttl_ms,
        },
        Behaviour::Expire | Behaviour::GetEx => Argument::Ttl { ms: record.ttl_ms },
        Behaviour::Add | Behaviour::Remove => match record.op.key_type() {
            KeyType::Hash => Argument::Field {
                id: record.element(),
                len: record.value_size,
            },
            KeyType::List => Argument::Value {
                len: record.value_size,
                ttl_ms: None,
            },
            _ => Argument::Member {
                id: record.element(),
                score: record.score(),
            },
        },
        Behaviour::Rename | Behaviour::Copy => Argument::Target {
            key: KeyId(record.value_size),
            db: record.ttl_ms as u32,
        },
        Behaviour::Move => Argument::Target {
            key: KeyId(record.key),
            db: record.ttl_ms as u32,
        },
        Behaviour::Store
        | Behaviour::Transfer
        | Behaviour::Trim
        | Behaviour::MultiPop
        | Behaviour::SwapDb => Argument::Part {
            step: record.value_size as u8,
            low: record.element() as i32,
            high: record.score() as i32,
        },
        Behaviour::Incr => match record.op {
            CommandKind::Incrby => Argument::Increment {
                by: record.ttl_ms as i64,
            },
            CommandKind::Decrby => Argument::Increment {
                by: (record.ttl_ms as i64).wrapping_neg(),
            },
            CommandKind::Incrbyfloat => Argument::FloatIncrement {
                bits: record.ttl_ms,
            },
            _ => Argument::None,
        },
        Behaviour::Read
        | Behaviour::ReadNoTouch
        | Behaviour::GetDel
        | Behaviour::Del
        | Behaviour::Persist
        | Behaviour::Pop
        | Behaviour::FlushDb
        | Behaviour::FlushAll
        | Behaviour::Select => Argument::None,
    }
}

impl Replay {
    fn new(trace: Arc<Trace>, rate: Option<f64>, start_us: u64, needs_future: bool) -> Replay {
        let mut replay = Replay {
            next_use_us: Vec::new(),
            trace,
            cursor: 0,
            pacing: rate.map(Pacing::new),
            time_run: 0,
        };
        if !needs_future {
            return replay;
        }
        replay.next_use_us = vec![0; replay.trace.records.len()];
        // Walk backwards remembering each key's next arrival: OPT needs the future.
        let mut next_by_key: Vec<u64> = vec![0; replay.trace.key_names.len()];
        for index in (0..replay.trace.records.len()).rev() {
            let key = replay.trace.records.key(index) as usize;
            // Every record's key is one of the trace's names: `next_by_key` has a slot for it.
            replay.next_use_us[index] = next_by_key[key];
            if let (Some(slot), Some(at)) = (
                next_by_key.get_mut(key),
                replay.arrival_at_any_us(index, start_us),
            ) {
                // +1 keeps 0 free for "never".
                *slot = at + 1;
            }
        }
        replay
    }

    /// The next record as (database, command, key within the trace, argument, next use,
    /// flags); `client_db` applies unless records carry their own. A target key in the
    /// argument is still the trace's index.
    fn next(&mut self, client_db: u32) -> (u32, CommandKind, u64, Argument, u64, u8) {
        let index = self.cursor;
        self.cursor += 1;
        let record = self.trace.records.at_from(index, &mut self.time_run);
        let db = if self.trace.per_record_db {
            record.db
        } else {
            client_db
        };
        // Only OPT needs the future: without it, every next use is 0 ("never known").
        let next_use = if self.next_use_us.is_empty() {
            0
        } else {
            self.next_use_us[index]
        };
        let argument = record_argument(&record);
        (
            db,
            record.op,
            u64::from(record.key),
            argument,
            next_use,
            record.flags,
        )
    }

    /// When record `index` arrives, µs of virtual time, for a reader going forwards.
    fn arrival_us(&mut self, index: usize, start_us: u64) -> Option<u64> {
        if index >= self.trace.records.len() {
            return None;
        }
        let offset_us = match self.pacing {
            Some(pacing) => pacing.at_us(index),
            None => self.trace.records.time_from(index, &mut self.time_run),
        };
        Some(start_us + offset_us)
    }

    /// When record `index` arrives, in any order.
    fn arrival_at_any_us(&self, index: usize, start_us: u64) -> Option<u64> {
        let record = self.trace.records.get(index)?;
        let offset_us = match self.pacing {
            Some(pacing) => pacing.at_us(index),
            None => record.time_us,
        };
        Some(start_us + offset_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::{KeyspaceConfig, Popularity, TtlConfig};

    fn client_config(arrivals: Arrivals, pipeline: u32, on_miss: OnMiss) -> ClientConfig {
        let mut config = ClientConfig::new(
            "app",
            Workload::Generated(GeneratedWorkload {
                rate: 50_000.0,
                arrivals,
                keyspace: KeyspaceConfig {
                    keys: 10_000,
                    prefix: "k:".into(),
                    popularity: Popularity::Zipf { skew: 0.99 },
                },
                commands: vec![
                    (CommandKind::Get, 60),
                    (CommandKind::Set, 30),
                    (CommandKind::Hset, 10),
                ],
                value_size: ValueSize::Uniform { min: 10, max: 500 },
                ttl: None,
                on_miss,
                fields: 16,
            }),
        );
        config.pipeline = pipeline;
        config
    }

    /// Round trips as the engine asks for them: the trip's arrivals, then its commands.
    fn trips(config: &ClientConfig, lookahead: bool) -> Vec<(Option<u64>, Request)> {
        let (keys, families) = KeyTable::from_clients(std::slice::from_ref(config));
        let mut client = Client::new(0, config, families[0], 7, false);
        if lookahead {
            client.enable_lookahead();
            assert!(client.ahead.is_some());
        }
        let mut seen = Vec::new();
        for _ in 0..2_000 {
            let at = client.next_round_trip_us();
            for _ in 0..config.pipeline {
                let request = client.next_request(&keys);
                if lookahead {
                    assert!(client.upcoming_key(&keys).is_some());
                }
                seen.push((at, request));
            }
        }
        seen
    }

    #[test]
    fn pacing_by_steps_gives_what_the_division_gives() {
        for rate in [
            1.0,
            3.0,
            7.0,
            1_000.0,
            20_000.0,
            333.0,
            1e6,
            2.5,
            4e6,
            1_000_000.5,
        ] {
            let pacing = Pacing::new(rate);
            for index in (0..5_000).chain([123_456_789, 9_007_199_254]) {
                let divided = round_to_u64(index as f64 * 1e6 / rate);
                assert_eq!(pacing.at_us(index), divided, "rate {rate}, record {index}");
            }
        }
        assert_eq!(Pacing::new(1e6).step_us, Some(1));
        assert_eq!(Pacing::new(333.0).step_us, None);
    }

    #[test]
    fn drawing_ahead_gives_the_same_arrivals_and_commands() {
        for arrivals in [Arrivals::Poisson, Arrivals::Fixed] {
            for pipeline in [1, 3] {
                let config = client_config(arrivals, pipeline, OnMiss::None);
                assert_eq!(
                    trips(&config, true),
                    trips(&config, false),
                    "{arrivals:?}, pipeline {pipeline}"
                );
            }
        }
    }

    #[test]
    fn a_refill_that_draws_keeps_draws_in_their_time() {
        let config = client_config(Arrivals::Poisson, 1, OnMiss::Set);
        let mut client = Client::new(0, &config, 0, 7, false);
        client.enable_lookahead();
        assert!(client.ahead.is_none(), "a refill's value size is drawn");
        let mut fixed = client_config(Arrivals::Poisson, 1, OnMiss::Set);
        if let Workload::Generated(generated) = &mut fixed.workload {
            generated.value_size = ValueSize::Fixed(100);
        }
        let mut client = Client::new(0, &fixed, 0, 7, false);
        client.enable_lookahead();
        assert!(
            client.ahead.is_some(),
            "a fixed size and no TTL draw nothing"
        );
        if let Workload::Generated(generated) = &mut fixed.workload {
            generated.ttl = Some(TtlConfig {
                share_ppm: 500_000,
                min_us: 1_000_000,
                max_us: 2_000_000,
            });
        }
        let mut client = Client::new(0, &fixed, 0, 7, false);
        client.enable_lookahead();
        assert!(client.ahead.is_none(), "a refill's TTL is drawn");
    }
}
