//! The reference replay kernel: a trace replayed under exact LRU or OPT without the full
//! engine's machinery, for the scenarios where that machinery changes no figure
//! (`eligible.rs`).
//!
//! Replaying a cache trace is how users size caches and compare policies on their own
//! workload; through the full engine each request pays for the event queue, Redis's dict, the
//! connection model and the per-command bookkeeping (2.8 M requests/s). Here a request is a
//! lookup in dense per-key arrays (the trace's keys are already interned) and a move in the
//! reference order, the way libCacheSim's simulators work.
//!
//! Equality with the full engine is the contract: same `RunOutput`, same ledger rows in the
//! same order. It is kept by reusing what decides each figure rather than restating it: the
//! engine's event queue orders clients, `serverCron` and samples; `Client` draws the requests
//! and `clients::tally` counts the replies; `ReferenceCache` picks the victims; a real `Node`
//! (holding no keys) runs serverCron (LRU clock, clientsCron, the expire cycle), keeps the
//! connections and Commandstats and writes INFO, with the keyspace figures the kernel holds.
//! `tests/it/replay_kernel.rs` runs random eligible scenarios through both paths and compares
//! everything, ledger rows included.

mod eligible;

pub use eligible::{eligible, Ineligible};

use std::sync::Arc;

use super::clients::tally;
use super::queue::EventQueue;
use super::workload::{Client, ClientCounts};
use super::{build_nodes, Event, Progress, RunOutput, Sample, PROGRESS_EVERY_EVENTS};
use crate::sim::config::{MaxmemoryPolicy, SimConfig};
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::{
    Actor, Cause, Detail, EntryKind, KeyId, Ledger, LedgerEntry, LedgerSink, PerCause,
};
use crate::sim::reference::exact::ReferenceCache;
use crate::sim::server::info::DbInfo;
use crate::sim::server::{resp, Argument, CommandKind, Node, Reply, Request};

/// `value_len` of a key not in the keyspace.
const ABSENT: u32 = u32::MAX;
/// `removed_at_us` of a key never removed.
const NEVER_REMOVED: u64 = u64::MAX;

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

/// The one database the clients use: per key its value's length, its last removal and its
/// writer, and the reference order.
struct Cache {
    db: u32,
    policy: MaxmemoryPolicy,
    maxmemory: u64,
    value_len: Vec<u32>,
    removed_at_us: Vec<u64>,
    writer: Vec<Actor>,
    order: ReferenceCache,
    /// used_memory (the raw model: values' bytes), its peak, keys present, evictions.
    used: u64,
    peak: u64,
    live: u64,
    evicted: u64,
}

impl Cache {
    fn new(config: &SimConfig, keys: usize) -> Cache {
        let server = &config.server;
        Cache {
            db: config.clients[0].db,
            policy: server.maxmemory_policy,
            maxmemory: server.maxmemory_bytes,
            value_len: vec![ABSENT; keys],
            removed_at_us: vec![NEVER_REMOVED; keys],
            writer: vec![Actor::SERVER; keys],
            order: ReferenceCache::new(server.maxmemory_policy, server.databases, keys),
            used: 0,
            peak: 0,
            live: 0,
            evicted: 0,
        }
    }

    #[inline]
    fn contains(&self, key: KeyId) -> bool {
        self.value_len[key.0 as usize] != ABSENT
    }

    fn note_peak(&mut self) {
        self.peak = self.peak.max(self.used);
    }

    /// `make_room` of a write of `incoming` bytes to an absent key: exact LRU evicts before
    /// inserting, OPT after (`shed`).
    fn make_room(&mut self, incoming: u64, ctx: &mut Ctx) {
        if self.maxmemory == 0 || self.policy == MaxmemoryPolicy::Opt {
            return;
        }
        while self.used + incoming > self.maxmemory {
            let evicted = self.evict_one(ctx);
            assert!(
                evicted,
                "an eligible write always fits once the cache is empty"
            );
        }
    }

    /// OPT's `shed_reference_victims` after every command.
    fn shed(&mut self, ctx: &mut Ctx) {
        if self.policy != MaxmemoryPolicy::Opt || self.maxmemory == 0 {
            return;
        }
        while self.used > self.maxmemory && self.evict_one(ctx) {}
    }

    /// `evict_key` of the reference order's victim, with its ledger row.
    fn evict_one(&mut self, ctx: &mut Ctx) -> bool {
        let value_len = &self.value_len;
        let Some((db, key)) = self
            .order
            .victim(|_, key| value_len[key.0 as usize] != ABSENT)
        else {
            return false;
        };
        let detail = Detail::Eviction {
            policy: self.policy,
            score: self.order.score(db, key),
            used_memory: self.used,
            maxmemory: self.maxmemory,
        };
        let index = key.0 as usize;
        self.used -= u64::from(self.value_len[index]);
        self.live -= 1;
        self.value_len[index] = ABSENT;
        self.removed_at_us[index] = ctx.now_us;
        self.order.on_remove(db, key);
        ctx.record(
            self.db,
            key,
            EntryKind::Removal,
            Cause::Evicted,
            Actor::SERVER,
            detail,
        );
        self.evicted += 1;
        true
    }

    fn insert(&mut self, key: KeyId, len: u32, writer: Actor, next_use: u64) {
        let index = key.0 as usize;
        self.value_len[index] = len;
        self.writer[index] = writer;
        self.used += u64::from(len);
        self.live += 1;
        self.order.on_insert(self.db, key, next_use);
    }
}

/// What a ledger row needs besides its fields: the time, the ledger and the key groups.
struct Ctx<'l, 'k> {
    now_us: u64,
    ledger: &'l mut Ledger<'k>,
    keys: &'l KeyTable,
}

impl Ctx<'_, '_> {
    fn record(
        &mut self,
        db: u32,
        key: KeyId,
        kind: EntryKind,
        cause: Cause,
        actor: Actor,
        detail: Detail,
    ) {
        let entry = LedgerEntry {
            time_us: self.now_us,
            node: crate::sim::ledger::NodeId(0),
            db,
            key,
            kind,
            cause,
            actor,
            detail,
        };
        self.ledger.record(entry, self.keys.group_of(key));
    }
}

/// A client's round trips since the last clientsCron: the largest request and reply, and when
/// the last one was read (`server/replay_io.rs` applies them).
#[derive(Debug, Clone, Copy, Default)]
struct Trips {
    pending: bool,
    last_us: u64,
    request_bytes: u64,
    reply_bytes: u64,
}

struct Kernel<'a> {
    config: &'a SimConfig,
    keys: Arc<KeyTable>,
    /// The node without its keys: identity, serverCron, connections, Commandstats, INFO.
    node: Node,
    clients: Vec<Client>,
    /// Per client: whether its pool is open (it opens at its first round trip).
    opened: Vec<bool>,
    trips: Vec<Trips>,
    queue: EventQueue,
    cache: Cache,
    gets: u64,
    sets: u64,
    hits: u64,
    misses: u64,
    samples: Vec<Sample>,
    previous_hits: u64,
    previous_errors: u64,
    previous_misses: PerCause<u64>,
    previous_evicted: u64,
}

impl<'a> Kernel<'a> {
    fn new(config: &'a SimConfig, keys: Arc<KeyTable>, family_of_client: &[usize]) -> Kernel<'a> {
        let node = build_nodes(config, &keys).swap_remove(0);
        let needs_future = config.server.maxmemory_policy == MaxmemoryPolicy::Opt;
        let clients = config
            .clients
            .iter()
            .enumerate()
            .map(|(index, client)| {
                Client::new(
                    index,
                    client,
                    family_of_client[index],
                    config.seed,
                    needs_future,
                )
            })
            .collect();
        let cache = Cache::new(config, keys.len());
        let mut kernel = Kernel {
            config,
            node,
            clients,
            opened: config.clients.iter().map(|c| c.start_us == 0).collect(),
            trips: vec![Trips::default(); config.clients.len()],
            queue: EventQueue::new(),
            cache,
            keys,
            gets: 0,
            sets: 0,
            hits: 0,
            misses: 0,
            samples: Vec::new(),
            previous_hits: 0,
            previous_errors: 0,
            previous_misses: PerCause::default(),
            previous_evicted: 0,
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
            if let Some(first) = self.clients[index].next_round_trip_us() {
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
                    self.cache.note_peak();
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
        let mut now = time_us;
        let mut ran_ahead = 0;
        while let Some(next) = self.round_trip(index, now, ledger) {
            if next < self.queue.next_due_us() && next <= duration_us {
                self.queue.advance_to(next);
                now = next;
                ran_ahead += 1;
                if (events_before + ran_ahead).is_multiple_of(PROGRESS_EVERY_EVENTS) {
                    progress.advance(now);
                }
                continue;
            }
            self.queue.schedule(next, Event::Client(index as u32));
            break;
        }
        ran_ahead
    }

    /// `World::client_command` for one GET on one connection; returns when the client's next
    /// round trip starts.
    fn round_trip(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) -> Option<u64> {
        if !self.opened[index] {
            self.opened[index] = true;
            self.node.set_time(now_us);
            self.node
                .connect_client(index as u32, self.config.clients[index].connections);
        }
        self.get(index, now_us, ledger);
        let next = self.clients[index].next_round_trip_us();
        if next.is_none() {
            // The application stopped: its pool closes.
            self.flush_trips(index);
            self.node.disconnect_client(index as u32);
        }
        next
    }

    /// One GET of client `index`, and its read-through refill after a miss.
    fn get(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) {
        let request = self.clients[index].next_request(&self.keys);
        debug_assert!(request.command == CommandKind::Get && request.db == self.cache.db);
        let mut ctx = Ctx {
            now_us,
            ledger,
            keys: &self.keys,
        };
        let cache = &mut self.cache;
        let key = request.key;
        self.gets += 1;
        let reply = if cache.contains(key) {
            self.hits += 1;
            cache
                .order
                .on_access(cache.db, key, request.next_use_or_never());
            note_overwritten_hit(cache, &request, &mut ctx);
            Reply::Hit
        } else {
            self.misses += 1;
            let (cause, detail) = match cache.removed_at_us[key.0 as usize] {
                NEVER_REMOVED => (Cause::NeverWritten, Detail::None),
                at_us => (
                    Cause::Evicted,
                    Detail::RemovedEarlier {
                        at_us,
                        by: Actor::SERVER,
                    },
                ),
            };
            ctx.record(
                cache.db,
                key,
                EntryKind::Miss,
                cause,
                request.client,
                detail,
            );
            Reply::Miss
        };
        cache.shed(&mut ctx);
        let reply_bytes = match reply {
            Reply::Hit => resp::bulk_bytes(u64::from(cache.value_len[key.0 as usize])),
            _ => resp::miss_bytes(CommandKind::Get),
        };
        let request_bytes =
            resp::request_bytes(CommandKind::Get, self.keys.key_len(key), Argument::None);
        let trips = &mut self.trips[index];
        trips.pending = true;
        trips.last_us = now_us;
        trips.request_bytes = trips.request_bytes.max(request_bytes);
        trips.reply_bytes = trips.reply_bytes.max(reply_bytes);
        // queue_reply notes the peak after each command read on a connection.
        cache.note_peak();
        let client = &mut self.clients[index];
        tally(client, &request.command, reply);
        if reply == Reply::Miss && client.refills_on_miss() {
            let refill = client.refill_request(&request);
            self.sets += 1;
            refill_set(cache, client, &refill, &mut ctx);
        }
    }

    fn flush_trips(&mut self, index: usize) {
        let trips = std::mem::take(&mut self.trips[index]);
        if trips.pending {
            self.node.replayed_round_trips(
                index as u32,
                trips.last_us,
                trips.request_bytes,
                trips.reply_bytes,
            );
        }
    }

    fn flush_all_trips(&mut self) {
        for index in 0..self.trips.len() {
            self.flush_trips(index);
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
        self.samples.push(Sample {
            time_us: now_us,
            used_memory: self.cache.used,
            keys: self.cache.live,
            expires: 0,
            expired: 0,
            evicted: self.cache.evicted - self.previous_evicted,
            hits: hits - self.previous_hits,
            errors: errors - self.previous_errors,
            misses_by_cause,
            replica_lag_bytes: Vec::new(),
        });
        self.previous_hits = hits;
        self.previous_errors = errors;
        self.previous_misses = totals.misses_by_cause;
        self.previous_evicted = self.cache.evicted;
    }

    /// `World::finish`: the node's INFO from the shadow node and the kernel's keyspace.
    fn finish(mut self, keys: Arc<KeyTable>, ledger: &Ledger) -> RunOutput {
        self.flush_all_trips();
        let node = &mut self.node;
        node.set_time(self.config.duration_us);
        for _ in 0..self.gets {
            node.count_command(CommandKind::Get);
        }
        for _ in 0..self.sets {
            node.count_command(CommandKind::Set);
        }
        let cache = &self.cache;
        node.stats.keyspace_hits = self.hits;
        node.stats.keyspace_misses = self.misses;
        node.stats.evicted_keys = cache.evicted;
        node.used_memory_peak = node.used_memory_peak.max(cache.peak);
        let mut info = node.snapshot();
        info.used_memory = cache.used;
        info.used_memory_peak = info.used_memory_peak.max(cache.used);
        info.keyspace = (cache.live > 0)
            .then_some(DbInfo {
                db: cache.db,
                keys: cache.live,
                expires: 0,
                avg_ttl: 0,
            })
            .into_iter()
            .collect();
        let clients: Vec<(String, ClientCounts)> = self
            .clients
            .iter()
            .map(|client| (client.config.name.clone(), client.counts.clone()))
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
            acknowledged_writes_lost: node.acknowledged_writes_lost,
            clients,
            nodes: vec![info],
            samples: self.samples,
            peak_used_memory,
            sentinel_log: Vec::new(),
            timeline: Vec::new(),
        }
    }
}

/// `note_overwritten_hit`: a hit on a value another client wrote over the reader's own write.
fn note_overwritten_hit(cache: &Cache, request: &Request, ctx: &mut Ctx) {
    let writer = cache.writer[request.key.0 as usize];
    if !request.client_wrote_key || writer == request.client || writer.client_index().is_none() {
        return;
    }
    ctx.record(
        cache.db,
        request.key,
        EntryKind::OverwrittenHit,
        Cause::Overwritten,
        request.client,
        Detail::WrittenBy { writer },
    );
}

/// The read-through SET after a miss: room made, the value stored, OPT's shedding, the reply
/// counted, and the key marked as this client's if it stayed.
fn refill_set(cache: &mut Cache, client: &mut Client, refill: &Request, ctx: &mut Ctx) {
    let Argument::Value { len, ttl_ms: None } = refill.argument else {
        unreachable_refill();
    };
    cache.make_room(u64::from(len), ctx);
    cache.insert(refill.key, len, refill.client, refill.next_use_or_never());
    cache.shed(ctx);
    tally(client, &refill.command, Reply::Ok);
    let key = refill.key;
    if cache.contains(key) && cache.writer[key.0 as usize] == client.actor {
        client.mark_written(key, ctx.keys.len());
    }
}

#[cold]
fn unreachable_event(event: Event) -> ! {
    unreachable!("the reference replay kernel schedules no {event:?}")
}

#[cold]
fn unreachable_refill() -> ! {
    unreachable!("a trace's refill carries a value without a TTL")
}
