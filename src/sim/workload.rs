//! A simulated client: when its commands arrive, which command, which key, which value.
//!
//! Each client draws from its own stream (`client:<name>`), so clients are independent of one
//! another: adding a client leaves every other client's commands unchanged.

use crate::sim::config::{Arrivals, ClientConfig, CommandKind};
use crate::sim::dist::{exponential_gap_ns, sample_value_size, KeyPicker};
use crate::sim::keys::KeyTable;
use crate::sim::ledger::{Actor, KeyId};
use crate::sim::node::{Argument, Request};
use crate::sim::rng::Stream;

/// ZADD scores are integers in 0..SCORE_RANGE.
const SCORE_RANGE: u64 = 1_000_000;

/// What a client saw, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCounts {
    pub commands: u64,
    pub reads: u64,
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
}

pub struct Client {
    pub config: ClientConfig,
    pub actor: Actor,
    /// The database the connection has SELECTed.
    pub db: u32,
    pub counts: ClientCounts,
    family: usize,
    stream: Stream,
    picker: KeyPicker,
    /// Cumulative command weights.
    commands: Vec<(u64, CommandKind)>,
    total_weight: u64,
    /// Arrivals so far (fixed spacing is computed from it, so it never drifts).
    arrivals: u64,
    /// Time of the latest arrival, ns.
    last_arrival_ns: u64,
    /// One bit per key: this client wrote the key's current or an earlier value.
    written: Vec<u64>,
}

impl Client {
    pub fn new(index: usize, config: &ClientConfig, family: usize, seed: u64) -> Client {
        let mut cumulative = 0;
        let commands = config
            .commands
            .iter()
            .map(|&(kind, weight)| {
                cumulative += u64::from(weight);
                (cumulative, kind)
            })
            .collect();
        Client {
            actor: Actor::client(index),
            db: config.db,
            counts: ClientCounts::default(),
            family,
            stream: Stream::new(seed, &format!("client:{}", config.name)),
            picker: KeyPicker::new(config.keyspace.keys, config.keyspace.popularity),
            commands,
            total_weight: cumulative,
            arrivals: 0,
            last_arrival_ns: config.start_us * 1000,
            written: Vec::new(),
            config: config.clone(),
        }
    }

    /// Time of the next command in µs, or None once the client has stopped.
    pub fn next_arrival_us(&mut self) -> Option<u64> {
        let start_ns = self.config.start_us * 1000;
        let at_ns = match self.config.arrivals {
            Arrivals::Poisson => {
                self.last_arrival_ns + exponential_gap_ns(self.config.rate, &mut self.stream)
            }
            Arrivals::Fixed => {
                start_ns + libm::round(self.arrivals as f64 * 1e9 / self.config.rate) as u64
            }
        };
        self.arrivals += 1;
        self.last_arrival_ns = at_ns;
        let at_us = at_ns / 1000;
        match self.config.stop_us {
            Some(stop) if at_us >= stop => None,
            _ => Some(at_us),
        }
    }

    fn pick_command(&mut self) -> CommandKind {
        let ticket = self.stream.below(self.total_weight);
        let index = self
            .commands
            .partition_point(|&(cumulative, _)| cumulative <= ticket);
        self.commands[index.min(self.commands.len() - 1)].1
    }

    fn ttl_for_write(&mut self) -> Option<u64> {
        let ttl = self.config.ttl?;
        if !self.stream.chance_ppm(ttl.share_ppm) {
            return None;
        }
        Some(self.stream.between(ttl.min_us, ttl.max_us) / 1000)
    }

    /// The client's next command.
    pub fn next_request(&mut self, keys: &KeyTable) -> Request {
        let command = self.pick_command();
        let local = self.picker.pick(&mut self.stream);
        let key = keys.key(self.family, local);
        let fields = u64::from(self.config.fields);
        let argument = match command {
            CommandKind::Set => {
                let len = sample_value_size(&self.config.value_size, &mut self.stream);
                Argument::Value {
                    len,
                    ttl_ms: self.ttl_for_write(),
                }
            }
            CommandKind::Lpush => Argument::Value {
                len: sample_value_size(&self.config.value_size, &mut self.stream),
                ttl_ms: None,
            },
            CommandKind::Expire => {
                let ms = match self.config.ttl {
                    Some(ttl) => self.stream.between(ttl.min_us, ttl.max_us) / 1000,
                    None => 0,
                };
                Argument::Ttl { ms }
            }
            CommandKind::Hset | CommandKind::Hget | CommandKind::Hdel => {
                let id = self.stream.below(fields) as u32;
                let len = if command == CommandKind::Hset {
                    sample_value_size(&self.config.value_size, &mut self.stream)
                } else {
                    0
                };
                Argument::Field { id, len }
            }
            CommandKind::Sadd | CommandKind::Srem | CommandKind::Zadd | CommandKind::Zrem => {
                let id = self.stream.below(fields) as u32;
                let score = if command == CommandKind::Zadd {
                    self.stream.below(SCORE_RANGE) as i64
                } else {
                    0
                };
                Argument::Member { id, score }
            }
            _ => Argument::None,
        };
        Request {
            client: self.actor,
            db: self.db,
            command,
            key,
            argument,
            client_wrote_key: self.has_written(key),
            next_use: 0,
        }
    }

    /// The cache-aside refill after a GET miss.
    pub fn refill_request(&mut self, key: KeyId) -> Request {
        let len = sample_value_size(&self.config.value_size, &mut self.stream);
        Request {
            client: self.actor,
            db: self.db,
            command: CommandKind::Set,
            key,
            argument: Argument::Value {
                len,
                ttl_ms: self.ttl_for_write(),
            },
            client_wrote_key: self.has_written(key),
            next_use: 0,
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
