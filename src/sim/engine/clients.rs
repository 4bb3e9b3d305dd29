//! Clients against the cluster: where a request goes (the primary a client believes in, or a
//! replica for reads), whether it gets there, WAIT, and the tally of replies.

use super::World;
use crate::sim::config::{CommandKind, Discovery, ReadFrom, SentinelHost, WaitConfig};
use crate::sim::engine::workload::{Client, ClientCounts, Failure};
use crate::sim::ledger::watch::{Outcome, WatchEvent};
use crate::sim::ledger::{Cause, Ledger};
use crate::sim::server::connections::{Closed, ConnectionId};
use crate::sim::server::{Argument, ErrorReply, Node, Reply, Request};

/// A round trip in progress: the node holding the client's pool, and its connection there.
struct RoundTrip {
    node: usize,
    connection: ConnectionId,
    /// Commands of the round trip still to come after the one being sent.
    behind: u32,
}

impl World<'_> {
    /// The node a read of client `index` goes to.
    pub(super) fn read_target(&mut self, index: usize, primary: usize) -> usize {
        let nodes = self.nodes.len();
        match self.clients[index].config.read_from {
            ReadFrom::Replica(replica) if replica + 1 < nodes => replica + 1,
            ReadFrom::AnyReplica if nodes > 1 => {
                // The k-th node that is not the primary.
                let k = self.routing[index].below(nodes as u64 - 1) as usize;
                if k < primary {
                    k
                } else {
                    k + 1
                }
            }
            _ => primary,
        }
    }

    /// A Sentinel-aware client asks the first Sentinel it can reach where the primary is; with
    /// no Sentinels it follows the operator's failovers.
    pub(super) fn resolve(&mut self, index: usize, now_us: u64) {
        let Discovery::Sentinel { every_us } = self.clients[index].config.connection.discovery
        else {
            return;
        };
        if now_us < self.next_resolve_us[index] {
            return;
        }
        self.next_resolve_us[index] = now_us + every_us;
        self.believed[index] = match &self.sentinels {
            None => self.primary,
            Some(sentinels) => (0..sentinels.len())
                .find(|&s| {
                    let host = sentinels.host(s);
                    let up = match host {
                        SentinelHost::Node(node) => !self.nodes[node].machine_down(),
                        SentinelHost::Client(_) => true,
                    };
                    up && self.net.client_reaches_host(index, host)
                })
                .map_or(self.believed[index], |s| sentinels.master_of(s)),
        };
    }

    /// Why client `index` cannot talk to `node` now, if it cannot.
    pub(super) fn unreachable(&self, index: usize, node: usize) -> Option<ErrorReply> {
        let target = &self.nodes[node];
        if !self.net.client_reaches(index, node) || target.machine_down() || target.is_paused() {
            Some(ErrorReply::Timeout)
        } else if target.is_down() {
            Some(ErrorReply::ConnectionRefused)
        } else {
            None
        }
    }

    /// Runs one round trip of client `index` (its `pipeline` commands, sent together on the
    /// next connection of its pool); returns when its next round trip starts.
    pub(super) fn client_command(
        &mut self,
        index: usize,
        now_us: u64,
        ledger: &mut Ledger,
    ) -> Option<u64> {
        let mut trip = self.begin_round_trip(index, now_us);
        let pipeline = self.clients[index].config.pipeline;
        for sent in 1..=pipeline {
            if let Some(trip) = trip.as_mut() {
                trip.behind = pipeline - sent;
            }
            self.one_command(index, now_us, ledger, trip.as_mut());
        }
        if let Some(trip) = trip {
            self.nodes[trip.node].end_round_trip(trip.connection);
        }
        self.note_closed_connections(now_us);
        let next = self.clients[index].next_round_trip_us();
        if next.is_none() {
            // The application stopped: its pool closes.
            self.nodes[self.pool_node[index]].disconnect_client(index as u32);
        }
        next
    }

    /// Puts the connections the nodes closed on the timeline, one line per node, client and
    /// reason: a storm of evictions reads as a few lines, INFO `evicted_clients` counts them.
    pub(super) fn note_closed_connections(&mut self, now_us: u64) {
        for node in 0..self.nodes.len() {
            self.note_closed_on(node, now_us);
        }
    }

    fn note_closed_on(&mut self, node: usize, now_us: u64) {
        if !self.nodes[node].closed_connections_pending() {
            return;
        }
        let closed = self.nodes[node].take_closed_connections();
        if closed.is_empty() {
            return;
        }
        let mut counts: Vec<((u32, Closed), u64)> = Vec::new();
        for entry in closed {
            match counts.iter_mut().find(|(seen, _)| *seen == entry) {
                Some((_, count)) => *count += 1,
                None => counts.push((entry, 1)),
            }
        }
        for ((owner, why), count) in counts {
            let plural = if count == 1 { "" } else { "s" };
            let why = match why {
                Closed::Evicted => "maxmemory-clients",
                Closed::OutputBufferLimit => "client-output-buffer-limit normal",
            };
            let what = format!(
                "{} closed {count} connection{plural} of client {} ({why})",
                self.nodes[node].name, self.clients[owner as usize].config.name
            );
            self.timeline.push((now_us, what));
        }
    }

    /// The connection of client `index`'s round trip, on the primary it believes in: its pool
    /// follows a promoted primary (closed on the old node, opened on the new one, as a client
    /// library reconnects), and reopens on a restarted process, whose connections died with the
    /// old one. None while that node is down.
    fn begin_round_trip(&mut self, index: usize, now_us: u64) -> Option<RoundTrip> {
        let node = self.believed[index];
        let old = self.pool_node[index];
        if old != node {
            self.nodes[old].disconnect_client(index as u32);
            self.pool_node[index] = node;
        }
        let pool = &mut self.nodes[node];
        if pool.is_down() {
            return None;
        }
        pool.set_time(now_us);
        pool.connect_client(index as u32, self.clients[index].config.connections);
        let connection = pool.begin_round_trip(index as u32)?;
        Some(RoundTrip {
            node,
            connection,
            behind: 0,
        })
    }

    /// One command of client `index`, read on the round trip's connection when it goes to the
    /// node holding it.
    fn one_command(
        &mut self,
        index: usize,
        now_us: u64,
        ledger: &mut Ledger,
        trip: Option<&mut RoundTrip>,
    ) {
        self.resolve(index, now_us);
        let primary = self.believed[index];
        let mut request = self.clients[index].next_request(&self.keys);
        if let Some((upcoming, may_insert)) = self.clients[index].upcoming_key(&self.keys) {
            // The next command's slot loads while this one runs; where it would insert the key
            // too unless it is a read (a hint spared frees one of the core's few fill buffers).
            let db = self.clients[index].db;
            if may_insert {
                self.nodes[primary].prefetch(db, upcoming);
            } else {
                self.nodes[primary].prefetch_read(db, upcoming);
            }
            self.clients[index].prefetch_written(upcoming);
        }
        let target = if request.command.is_read() {
            self.read_target(index, primary)
        } else {
            primary
        };
        let paused_write = !request.command.is_read() && self.writes_paused(target);
        if let Some(error) = self
            .unreachable(index, target)
            .or(paused_write.then_some(ErrorReply::Timeout))
        {
            let client = &mut self.clients[index];
            tally(&mut client.counts, request.command, Reply::Error(error));
            return;
        }
        if target != primary {
            self.nodes[primary].set_time(now_us);
            request.primary_has_key = self.nodes[primary].is_alive(request.db, request.key);
        }
        let node = &mut self.nodes[target];
        node.set_time(now_us);
        let client = &mut self.clients[index];
        let on_pool = trip.filter(|trip| trip.node == target);
        let closed = Reply::Error(ErrorReply::ConnectionClosed);
        if on_pool.is_none() && target == self.pool_node[index] && node.refuses_client(index as u32)
        {
            // maxclients: Redis wrote "-ERR max number of clients reached" and closed it.
            tally(&mut client.counts, request.command, closed);
            return;
        }
        let reply = match on_pool {
            Some(trip) => {
                // A connection the server closed loses the rest of the round trip.
                if !node.connection_open(trip.connection) {
                    tally(&mut client.counts, request.command, closed);
                    return;
                }
                node.read_request(trip.connection, &request, trip.behind > 0);
                if !node.before_command(trip.connection) {
                    tally(&mut client.counts, request.command, closed);
                    return;
                }
                let reply = node.execute(&request, ledger);
                if node.queue_reply(trip.connection, &request, reply) {
                    reply
                } else {
                    closed
                }
            }
            None => node.execute(&request, ledger),
        };
        if ledger.watches(request.key) {
            note_command(ledger, node, &request, reply);
        }
        tally(&mut client.counts, request.command, reply);
        let acknowledged =
            matches!(reply, Reply::Ok | Reply::Integer(_)) && !request.command.is_read();
        if acknowledged {
            remember_write(client, node, request.db, request.key, self.keys.len());
            if let Some(divergent) = node.divergent.as_mut() {
                divergent.push((request.db, request.key));
            }
        }
        node.before_sleep(ledger);
        if reply == Reply::Error(ErrorReply::NoReplicas) {
            // Whichever node holds the data when the client looks again (a replica promoted
            // later, say) names the refusal.
            let (db, key) = (request.db, request.key);
            for (index, other) in self.nodes.iter_mut().enumerate() {
                if index != target {
                    other.remember_absence(db, key, Cause::NoreplicasRejected, request.client);
                }
            }
        }
        if reply == Reply::Miss
            && client.refills_on_miss()
            && request.command == CommandKind::Get
            && self.unreachable(index, primary).is_none()
            && !self.writes_paused(primary)
        {
            // The refill is a write: it goes to the primary.
            let client = &mut self.clients[index];
            let refill = client.refill_request(&request);
            let primary_node = &mut self.nodes[primary];
            primary_node.set_time(now_us);
            let refill_reply = primary_node.execute(&refill, ledger);
            if ledger.watches(refill.key) {
                note_command(ledger, primary_node, &refill, refill_reply);
            }
            tally(&mut client.counts, refill.command, refill_reply);
            if matches!(refill_reply, Reply::Ok | Reply::Integer(_)) {
                remember_write(client, primary_node, refill.db, refill.key, self.keys.len());
                if let Some(divergent) = primary_node.divergent.as_mut() {
                    divergent.push((refill.db, refill.key));
                }
            }
            primary_node.before_sleep(ledger);
        }
        self.ship_from(target, now_us);
        if target != primary {
            self.ship_from(primary, now_us);
        }
        if acknowledged {
            if let Some(wait) = self.clients[index].config.connection.wait {
                let until = self.wait_until(target, now_us, wait);
                self.clients[index].block_until(until);
            }
        }
    }

    /// WAIT after a write just shipped by `master`: returns when `wait.replicas` replicas have
    /// acknowledged it (the entry's arrival plus the way back), or at the timeout.
    pub(super) fn wait_until(&mut self, master: usize, now_us: u64, wait: WaitConfig) -> u64 {
        let deadline = now_us + wait.timeout_us;
        if self.nodes[master].stream().is_none() {
            return now_us;
        }
        let mut acks: Vec<u64> = (0..self.nodes.len())
            .filter(|&r| r != master && self.streams_to(master, r) && !self.nodes[r].is_paused())
            .filter_map(|r| {
                let link = &self.links[r];
                let (due, _) = link.queue.back()?;
                Some(due + due.saturating_sub(now_us))
            })
            .collect();
        acks.sort_unstable();
        match acks.get(wait.replicas as usize - 1) {
            Some(&at) => at.min(deadline),
            None => deadline,
        }
    }
}

/// `vanish explain`: a command on the watched key, with what it carried and its reply.
#[cold]
fn note_command(ledger: &mut Ledger, node: &Node, request: &Request, reply: Reply) {
    let (value_len, ttl_ms) = match request.argument {
        Argument::Value { len, ttl_ms } => (Some(len), ttl_ms),
        Argument::Field { len, .. } => (Some(len), None),
        Argument::Ttl { ms } => (None, Some(ms)),
        _ => (None, None),
    };
    let outcome = match reply {
        Reply::Ok | Reply::Continued => Outcome::Ok,
        Reply::Hit => Outcome::Hit,
        Reply::Miss => Outcome::Miss,
        Reply::Integer(n) => Outcome::Integer(n),
        Reply::Error(error) => Outcome::Error(error.prefix()),
    };
    ledger.note(WatchEvent::Command {
        time_us: node.now_us(),
        node: node.id,
        db: request.db,
        client: request.client,
        command: request.command,
        value_len,
        ttl_ms,
        outcome,
        offset: node.stream().map(|stream| stream.offset),
    });
}

pub(super) fn tally(counts: &mut ClientCounts, command: CommandKind, reply: Reply) {
    counts.commands += 1;
    if command.is_read() {
        counts.reads += 1;
    } else if matches!(reply, Reply::Ok | Reply::Integer(_)) {
        counts.acknowledged_writes += 1;
    }
    match reply {
        Reply::Hit => counts.hits += 1,
        Reply::Miss => counts.misses += 1,
        Reply::Error(error) => {
            counts.errors += 1;
            let failure = Failure::of(error);
            if command.is_read() {
                counts.read_errors += 1;
                counts.failed_reads[failure] += 1;
            } else {
                counts.failed_writes[failure] += 1;
            }
        }
        Reply::Ok | Reply::Integer(_) | Reply::Continued => {}
    }
}

/// A write that left this client's value in the key marks it as the client's.
pub(super) fn remember_write(
    client: &mut Client,
    node: &Node,
    db: u32,
    key: crate::sim::ledger::KeyId,
    key_count: usize,
) {
    if holds_write_of(node, db, key, client.actor) {
        client.mark_written(key, key_count);
    }
}

/// Whether `key` holds a value `writer` wrote.
pub(super) fn holds_write_of(
    node: &Node,
    db: u32,
    key: crate::sim::ledger::KeyId,
    writer: crate::sim::ledger::Actor,
) -> bool {
    let slot = node.db(db).slot(key);
    slot.is_present() && slot.actor == writer
}
