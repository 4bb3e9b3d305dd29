//! The replay kernel: a trace replayed without the full engine's machinery, for the scenarios
//! where that machinery changes no figure (`eligible.rs`).
//!
//! Replaying a cache trace is how users size caches and compare policies on their own
//! workload; through the full engine each request pays for the event queue, the client model,
//! the connection model and the per-command bookkeeping (2.8 M requests/s). Under a reference
//! policy (exact LRU, OPT) a request here is a lookup in dense per-key arrays (the trace's
//! keys are already interned) and a move in the reference order, the way libCacheSim's
//! simulators work. Under Redis's own policies the node keeps the keys and runs each command
//! (`on_node.rs`): only the engine around it is left out.
//!
//! Equality with the full engine is the contract: same `RunOutput`, same ledger rows in the
//! same order. It is kept by reusing what decides each figure rather than restating it: the
//! engine's event queue orders clients, `serverCron` and samples; `Client` draws the requests
//! and `clients::tally` counts the replies; `ReferenceCache` picks the victims; a real `Node`
//! (holding no keys under a reference policy) runs serverCron (LRU clock, clientsCron, the
//! expire cycle), keeps the connections and Commandstats and writes INFO, with the keyspace
//! figures the kernel holds.
//! `tests/it/replay_kernel.rs` runs random eligible scenarios through both paths and compares
//! everything, ledger rows included.

mod cursor;
mod eligible;
mod keyspace;
mod on_node;

pub use eligible::{eligible, Ineligible};

use std::sync::Arc;

use super::clients::tally;
use super::queue::EventQueue;
use super::workload::ClientCounts;
use super::{build_nodes, Event, Progress, RunOutput, Sample, PROGRESS_EVERY_EVENTS};
use crate::sim::config::{MaxmemoryPolicy, SimConfig};
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::{Actor, Cause, Detail, EntryKind, KeyId, Ledger, LedgerSink, PerCause};
use crate::sim::server::info::{DbInfo, NodeInfo};
use crate::sim::server::{resp, Argument, CommandKind, Node};
use cursor::Cursor;
use keyspace::{Found, Keyspace, Rows};

/// Every `WARM_BATCH` requests, the entries of the batch `WARM_AHEAD` records ahead are loaded
/// together (`Keyspace::warm`).
const WARM_BATCH: usize = 16;
const WARM_AHEAD: usize = 16;

/// Runs `config` on the kernel if it is eligible; None sends it to the full engine.
pub(super) fn try_run(
    config: &SimConfig,
    sink: &mut dyn LedgerSink,
    progress: &mut dyn Progress,
) -> Option<RunOutput> {
    eligible::eligible_config(config).ok()?;
    let (table, family_of_client) = KeyTable::from_clients(&config.clients);
    eligible::key_lengths(&table).ok()?;
    let keys = Arc::new(table);
    let mut ledger = Ledger::new(sink, keys.groups().len());
    let mut kernel = Kernel::new(config, keys.clone(), &family_of_client);
    kernel.run_events(&mut ledger, progress);
    progress.advance(config.duration_us);
    Some(kernel.finish(keys, &ledger))
}

/// One trace client: its requests, its counts, the keys it wrote, its round trips since the
/// last clientsCron.
struct Replayer {
    cursor: Cursor,
    actor: Actor,
    counts: ClientCounts,
    /// Whether its pool is open (it opens at its first round trip).
    opened: bool,
    /// One bit per key: this client wrote the key's current or an earlier value (only kept
    /// when another client could overwrite it).
    written: Vec<u64>,
    trips: Trips,
}

impl Replayer {
    fn has_written(&self, key: KeyId) -> bool {
        let index = key.0 as usize;
        self.written
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    fn mark_written(&mut self, key: KeyId, key_count: usize) {
        if self.written.is_empty() {
            self.written = vec![0; key_count.div_ceil(64)];
        }
        let index = key.0 as usize;
        self.written[index / 64] |= 1 << (index % 64);
    }
}

/// A client's round trips since the last clientsCron: the longest key name and value
/// replied, whether a miss was replied, and when the last one was read
/// (`server/replay_io.rs` applies them).
#[derive(Debug, Clone, Copy, Default)]
struct Trips {
    pending: bool,
    last_us: u64,
    key_len: u16,
    hit_len: Option<u32>,
    missed: bool,
    /// Round trips the node ran (`on_node.rs`): their largest reply, in bytes.
    reply_bytes: u64,
}

impl Trips {
    /// The largest request and reply: both grow with the key's and the value's length.
    fn bytes(&self) -> (u64, u64) {
        let request =
            resp::request_bytes(CommandKind::Get, u64::from(self.key_len), Argument::None);
        let hit = self
            .hit_len
            .map_or(0, |len| resp::bulk_bytes(u64::from(len)));
        let miss = if self.missed {
            resp::miss_bytes(CommandKind::Get)
        } else {
            0
        };
        // Either path's replies (the other's figure is 0).
        (request, hit.max(miss).max(self.reply_bytes))
    }

    /// A round trip the node ran, read at `at_us`, with its reply's size.
    #[inline]
    fn note_reply(&mut self, at_us: u64, reply_bytes: u64) {
        self.pending = true;
        self.last_us = at_us;
        self.reply_bytes = self.reply_bytes.max(reply_bytes);
    }
}

struct Kernel<'a> {
    config: &'a SimConfig,
    keys: Arc<KeyTable>,
    /// The node without its keys: identity, serverCron, connections, Commandstats, INFO.
    node: Node,
    clients: Vec<Replayer>,
    /// More than one client: a hit may be on a value another client wrote.
    shared: bool,
    queue: EventQueue,
    /// The keys under a reference policy; None when the node holds them (`on_node.rs`).
    keyspace: Option<Keyspace>,
    samples: Vec<Sample>,
    previous_hits: u64,
    previous_errors: u64,
    previous_misses: PerCause<u64>,
    previous_evicted: u64,
    previous_expired: u64,
}

impl<'a> Kernel<'a> {
    fn new(config: &'a SimConfig, keys: Arc<KeyTable>, family_of_client: &[usize]) -> Kernel<'a> {
        let node = build_nodes(config, &keys).swap_remove(0);
        let server = &config.server;
        let needs_future = server.maxmemory_policy == MaxmemoryPolicy::Opt;
        let reference = server.maxmemory_policy.is_reference();
        let clients = config
            .clients
            .iter()
            .enumerate()
            .map(|(index, client)| Replayer {
                cursor: Cursor::new(client, keys.key(family_of_client[index], 0).0, needs_future),
                actor: Actor::client(index),
                counts: ClientCounts::default(),
                opened: client.start_us == 0,
                written: Vec::new(),
                trips: Trips::default(),
            })
            .collect();
        let keyspace = reference.then(|| {
            Keyspace::new(
                config.clients[0].db,
                server.maxmemory_policy,
                server.maxmemory_bytes,
                server.databases,
                &keys,
            )
        });
        let mut kernel = Kernel {
            config,
            node,
            clients,
            shared: config.clients.len() > 1,
            queue: EventQueue::new(),
            keyspace,
            keys,
            samples: Vec::new(),
            previous_hits: 0,
            previous_errors: 0,
            previous_misses: PerCause::default(),
            previous_evicted: 0,
            previous_expired: 0,
        };
        kernel.schedule_start();
        kernel
    }

    /// `World::schedule_start` for one node and no operator events or Sentinels: cron,
    /// clients, samples, in that order.
    fn schedule_start(&mut self) {
        self.queue
            .schedule(self.node.cron_period_us(), Event::Cron(0));
        for index in 0..self.clients.len() {
            if let Some(first) = self.clients[index].cursor.next_arrival_us() {
                self.queue.schedule(first, Event::Client(index as u32));
            }
        }
        self.queue
            .schedule(self.config.sample_every_us, Event::Sample);
    }

    fn run_events(&mut self, ledger: &mut Ledger, progress: &mut dyn Progress) {
        let duration_us = self.config.duration_us;
        let mut events = 0u64;
        while let Some((time_us, event)) = self.queue.pop() {
            if time_us > duration_us {
                break;
            }
            events += 1;
            match event {
                Event::Client(index) => {
                    events += self.run_client(index as usize, time_us, ledger, progress, events)
                }
                Event::Cron(_) => {
                    self.flush_all_trips();
                    self.node.cron(time_us, ledger);
                    if let Some(keyspace) = self.keyspace.as_mut() {
                        keyspace.note_peak();
                    }
                    let next = time_us + self.node.cron_period_us();
                    self.queue.schedule(next, Event::Cron(0));
                }
                Event::Sample => {
                    self.sample(time_us, ledger);
                    let next = time_us + self.config.sample_every_us;
                    self.queue.schedule(next, Event::Sample);
                }
                other => unreachable_event(other),
            }
        }
    }

    /// `World::run_client`: the client's round trips that come strictly before every queued
    /// event run at once.
    fn run_client(
        &mut self,
        index: usize,
        time_us: u64,
        ledger: &mut Ledger,
        progress: &mut dyn Progress,
        events_before: u64,
    ) -> u64 {
        let duration_us = self.config.duration_us;
        let mut rows = Rows {
            now_us: time_us,
            ledger,
            keys: &self.keys,
        };
        let mut ran_ahead = 0;
        let db = self.config.clients[0].db;
        loop {
            let client = &mut self.clients[index];
            let next = match self.keyspace.as_mut() {
                Some(keyspace) => {
                    round_trip(client, keyspace, &mut self.node, self.shared, &mut rows)
                }
                None => on_node::round_trip(client, &mut self.node, db, self.shared, &mut rows),
            };
            let Some(next) = next else {
                // The application stopped: its pool closes.
                flush_trips(&mut self.node, index, &mut self.clients[index].trips);
                self.node.disconnect_client(index as u32);
                break;
            };
            if next < self.queue.next_due_us() && next <= duration_us {
                self.queue.advance_to(next);
                rows.now_us = next;
                ran_ahead += 1;
                if (events_before + ran_ahead).is_multiple_of(PROGRESS_EVERY_EVENTS) {
                    progress.advance(next);
                }
                continue;
            }
            self.queue.schedule(next, Event::Client(index as u32));
            break;
        }
        ran_ahead
    }

    fn flush_all_trips(&mut self) {
        for (index, client) in self.clients.iter_mut().enumerate() {
            flush_trips(&mut self.node, index, &mut client.trips);
        }
    }

    /// `World::sample` for one node and no replicas.
    fn sample(&mut self, now_us: u64, ledger: &Ledger) {
        let hits: u64 = self.clients.iter().map(|c| c.counts.hits).sum();
        let errors: u64 = self.clients.iter().map(|c| c.counts.errors).sum();
        let totals = ledger.totals();
        let mut misses_by_cause = totals.misses_by_cause;
        for (now, before) in misses_by_cause.iter_mut().zip(self.previous_misses) {
            *now -= before;
        }
        let (used_memory, keys, expires, evicted) = match &self.keyspace {
            Some(keyspace) => (keyspace.used, keyspace.live, 0, keyspace.evicted),
            None => {
                let node = &self.node;
                let expires = node.total_volatile();
                (
                    node.used_memory(),
                    node.total_keys(),
                    expires,
                    node.stats.evicted_keys,
                )
            }
        };
        self.samples.push(Sample {
            time_us: now_us,
            used_memory,
            keys,
            expires,
            expired: self.node.stats.expired_keys - self.previous_expired,
            evicted: evicted - self.previous_evicted,
            hits: hits - self.previous_hits,
            errors: errors - self.previous_errors,
            misses_by_cause,
            replica_lag_bytes: Vec::new(),
        });
        self.previous_hits = hits;
        self.previous_errors = errors;
        self.previous_misses = totals.misses_by_cause;
        self.previous_evicted = evicted;
        self.previous_expired = self.node.stats.expired_keys;
    }

    /// `World::finish`: the node's INFO, and the run's totals.
    fn finish(mut self, keys: Arc<KeyTable>, ledger: &Ledger) -> RunOutput {
        self.flush_all_trips();
        self.node.set_time(self.config.duration_us);
        let info = match self.keyspace.take() {
            Some(keyspace) => self.reference_info(&keyspace),
            // The node ran every command: its INFO is whole.
            None => self.node.snapshot(),
        };
        let clients: Vec<(String, ClientCounts)> = self
            .config
            .clients
            .iter()
            .zip(&self.clients)
            .map(|(config, client)| (config.name.clone(), client.counts.clone()))
            .collect();
        let sum = |field: fn(&ClientCounts) -> u64| clients.iter().map(|(_, c)| field(c)).sum();
        let peak_used_memory = info.used_memory_peak;
        RunOutput {
            keys,
            totals: ledger.totals().clone(),
            family_removals: ledger.family_removals().to_vec(),
            family_misses: ledger.family_misses().to_vec(),
            reads: sum(|c| c.reads),
            hits: sum(|c| c.hits),
            misses: sum(|c| c.misses),
            commands: sum(|c| c.commands),
            acknowledged_writes: sum(|c| c.acknowledged_writes),
            acknowledged_writes_lost: self.node.acknowledged_writes_lost,
            clients,
            nodes: vec![info],
            samples: self.samples,
            peak_used_memory,
            sentinel_log: Vec::new(),
            timeline: Vec::new(),
        }
    }

    /// INFO under a reference policy: the shadow node's, with the keyspace figures the kernel
    /// holds and the commands it ran counted.
    fn reference_info(&mut self, keyspace: &Keyspace) -> NodeInfo {
        let (gets, sets) = self.clients.iter().fold((0, 0), |(gets, sets), client| {
            (
                gets + client.counts.reads,
                sets + client.counts.acknowledged_writes,
            )
        });
        let node = &mut self.node;
        // Commandstats counts each call (and INFO total_commands_processed with it).
        for _ in 0..gets {
            node.count_command(CommandKind::Get);
        }
        for _ in 0..sets {
            node.count_command(CommandKind::Set);
        }
        node.stats.keyspace_hits = self.clients.iter().map(|c| c.counts.hits).sum();
        node.stats.keyspace_misses = self.clients.iter().map(|c| c.counts.misses).sum();
        node.stats.evicted_keys = keyspace.evicted;
        node.used_memory_peak = node.used_memory_peak.max(keyspace.peak);
        let mut info = node.snapshot();
        info.used_memory = keyspace.used;
        info.used_memory_peak = info.used_memory_peak.max(keyspace.used);
        info.keyspace = (keyspace.live > 0)
            .then_some(DbInfo {
                db: keyspace.db,
                keys: keyspace.live,
                expires: 0,
                avg_ttl: 0,
            })
            .into_iter()
            .collect();
        info
    }
}

/// `World::client_command` for one GET on one connection, and its read-through refill after a
/// miss; returns when the client's next round trip starts.
#[inline]
fn round_trip(
    client: &mut Replayer,
    keyspace: &mut Keyspace,
    node: &mut Node,
    shared: bool,
    rows: &mut Rows,
) -> Option<u64> {
    if !client.opened {
        client.opened = true;
        node.set_time(rows.now_us);
        node.connect_client(u32::from(client.actor.0), 1);
    }
    if let Some(upcoming) = client.cursor.upcoming_keys(WARM_AHEAD, WARM_BATCH) {
        keyspace.warm(upcoming);
    }
    let next = client.cursor.next();
    let key = KeyId(next.key);
    let found = keyspace.get(key, next.next_use);
    let counts = &mut client.counts;
    counts.commands += 1;
    counts.reads += 1;
    let trips = &mut client.trips;
    trips.pending = true;
    trips.last_us = rows.now_us;
    trips.key_len = trips.key_len.max(keyspace.key_len(key));
    match found {
        Found::Hit { value_len, writer } => {
            counts.hits += 1;
            trips.hit_len = trips.hit_len.max(Some(value_len));
            if shared {
                note_overwritten_hit(client, keyspace.db, key, writer, rows);
            }
        }
        Found::Miss { removed_at_us } => {
            counts.misses += 1;
            trips.missed = true;
            let (cause, detail) = match removed_at_us {
                None => (Cause::NeverWritten, Detail::None),
                Some(at_us) => (
                    Cause::Evicted,
                    Detail::RemovedEarlier {
                        at_us,
                        by: Actor::SERVER,
                    },
                ),
            };
            rows.record(
                keyspace.db,
                key,
                EntryKind::Miss,
                cause,
                client.actor,
                detail,
            );
        }
    }
    keyspace.shed(rows);
    // queue_reply notes the peak after each command read on a connection.
    keyspace.note_peak();
    if matches!(found, Found::Miss { .. }) && client.cursor.read_through() {
        refill(client, keyspace, key, next, shared, rows);
    }
    client.cursor.next_arrival_us()
}

/// `note_overwritten_hit`: a hit on a value another client wrote over the reader's own write.
fn note_overwritten_hit(client: &Replayer, db: u32, key: KeyId, writer: Actor, rows: &mut Rows) {
    if !client.has_written(key) || writer == client.actor || writer.client_index().is_none() {
        return;
    }
    rows.record(
        db,
        key,
        EntryKind::OverwrittenHit,
        Cause::Overwritten,
        client.actor,
        Detail::WrittenBy { writer },
    );
}

/// The read-through SET after a miss: stored (room made, OPT's shedding), acknowledged, and
/// the key marked as this client's if it stayed.
#[inline]
fn refill(
    client: &mut Replayer,
    keyspace: &mut Keyspace,
    key: KeyId,
    next: cursor::Next,
    shared: bool,
    rows: &mut Rows,
) {
    keyspace.insert(key, next.value_size, client.actor, next.next_use, rows);
    client.counts.commands += 1;
    client.counts.acknowledged_writes += 1;
    if shared && keyspace.contains(key) && keyspace.writer(key) == client.actor {
        client.mark_written(key, rows.keys.len());
    }
}

fn flush_trips(node: &mut Node, index: usize, trips: &mut Trips) {
    let trips = std::mem::take(trips);
    if trips.pending {
        let (request_bytes, reply_bytes) = trips.bytes();
        node.replayed_round_trips(index as u32, trips.last_us, request_bytes, reply_bytes);
    }
}

#[cold]
fn unreachable_event(event: Event) -> ! {
    unreachable!("the reference replay kernel schedules no {event:?}")
}
