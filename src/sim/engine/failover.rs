//! Faults and failovers: crashes, kills, restarts, pauses, partitions; promotions by an
//! operator or by the Sentinels, and nodes told to follow the new primary.

use std::collections::VecDeque;

use super::{pair_mut, Event, World};
use crate::sim::cluster::network::Network;
use crate::sim::cluster::replication::{PrimaryStream, ReplicaState, StreamEntry};
use crate::sim::cluster::sentinel::{Action, ClusterView};
use crate::sim::config::{EventAction, SentinelHost};
use crate::sim::ledger::watch::WatchEvent;
use crate::sim::ledger::{Cause, KeyId, Ledger};
use crate::sim::server::durability::Durability;
use crate::sim::server::{Node, Role};

/// What Sentinels see of the world.
struct View<'w> {
    nodes: &'w [Node],
    net: &'w Network,
}

impl ClusterView for View<'_> {
    fn nodes(&self) -> usize {
        self.nodes.len()
    }
    fn host_up(&self, host: SentinelHost) -> bool {
        match host {
            SentinelHost::Node(node) => !self.nodes[node].machine_down(),
            SentinelHost::Client(_) => true,
        }
    }
    fn refuses(&self, host: SentinelHost, node: usize) -> bool {
        let n = &self.nodes[node];
        n.is_down() && !n.machine_down() && self.net.host_reaches_node(host, node)
    }
    fn answers(&self, host: SentinelHost, node: usize) -> bool {
        let n = &self.nodes[node];
        !n.is_down() && !n.is_paused() && self.net.host_reaches_node(host, node)
    }
    fn hosts_connected(&self, a: SentinelHost, b: SentinelHost) -> bool {
        self.net.host_side(a) == self.net.host_side(b)
    }
    fn acts_as_primary(&self, node: usize) -> bool {
        self.nodes[node].stream().is_some()
    }
    fn master_of(&self, node: usize) -> Option<usize> {
        self.nodes[node].replica().map(|r| r.master)
    }
    fn replica_rank(&self, node: usize) -> Option<(u32, u64, &str)> {
        let n = &self.nodes[node];
        n.replica()
            .map(|r| (r.priority, r.processed_offset, n.run_id.as_str()))
    }
    fn in_sync(&self, node: usize) -> bool {
        self.nodes[node]
            .replica()
            .is_some_and(|r| r.link_up && !r.syncing)
    }
}

/// `vanish explain`: the offsets behind the watched key's write lost at a promotion.
fn note_offsets(ledger: &mut Ledger, key: KeyId, write_offset: Option<u64>, promoted_offset: u64) {
    if ledger.watches(key) {
        ledger.note(WatchEvent::FailoverOffsets {
            write_offset,
            promoted_offset,
        });
    }
}

impl World<'_> {
    /// `REPLICAOF master` on `node`. A node that was acting as a primary loses the writes it
    /// accepted since it was replaced (`split-brain`) and resynchronises in full; a replica
    /// that is not ahead of its new master continues from its offset.
    pub(super) fn follow(&mut self, node: usize, master: usize, now_us: u64, ledger: &mut Ledger) {
        // Never a loop of replicas following each other.
        let loops = self.nodes[master]
            .replica()
            .is_some_and(|r| r.master == node);
        if node == master || loops {
            return;
        }
        self.nodes[node].set_time(now_us);
        let was_primary = self.nodes[node].stream().is_some();
        if was_primary {
            let what = format!("demoted {}", self.nodes[node].name);
            self.timeline.push((now_us, what));
        }
        // A node acting as a primary beside the promoted one lists its acknowledged writes
        // (None: it never did, and has none to discard).
        let divergent = self.nodes[node].divergent.take();
        let mut lost_here = std::mem::take(&mut self.links[node].lost_keys);
        if let Some(mut divergent) = divergent.filter(|writes| !writes.is_empty()) {
            let lost = divergent.len() as u64;
            self.nodes[node].acknowledged_writes_lost += lost;
            divergent.sort_unstable();
            divergent.dedup();
            let authority = &mut self.nodes[master];
            authority.set_time(now_us);
            for &(db, key) in &divergent {
                authority.note_lost_write(db, key, Cause::SplitBrain, ledger);
                lost_here.insert((db, key), Cause::SplitBrain);
            }
        }
        let priority = self.config_priority(node);
        let n = &mut self.nodes[node];
        let own_offset = n.role().offset();
        n.durability = None;
        n.set_role(Role::Replica(ReplicaState {
            processed_offset: own_offset,
            last_io_us: now_us,
            priority,
            master,
            link_up: false,
            syncing: false,
            link_down_since_us: now_us,
        }));
        // PSYNC to the new master, if it can be reached now: continuing works only for a
        // replica that has nothing the new master lacks (redis-fidelity 4, replid2 and
        // second_replid_offset). Otherwise the next reconnection resyncs in full.
        let promoted_at = self.nodes[master]
            .stream()
            .and_then(|s| s.promoted_at_offset);
        let m = &self.nodes[master];
        let reachable = !m.is_down() && !m.is_paused() && self.net.link_open(master, node);
        let continues = reachable && !was_primary && promoted_at.is_some_and(|at| own_offset <= at);
        let link = &mut self.links[node];
        link.reset();
        link.lost_keys = lost_here;
        link.needs_full_sync = !continues;
        if continues {
            // It holds nothing the new primary lacks.
            link.lost_keys.clear();
        }
        if continues {
            // What the replica missed before the promotion is in the new master's own data;
            // the reconnection below counts the partial sync and brings the link up.
            let (replica, source) = pair_mut(&mut self.nodes, node, master);
            let offset = source.stream().map_or(0, |s| s.offset);
            replica.full_sync_from(source, offset, &[], ledger);
            if let Some(r) = replica.replica_mut() {
                r.link_lost(now_us);
            }
        }
        // Its own replicas follow along.
        for sub in 0..self.nodes.len() {
            if sub != node
                && sub != master
                && self.nodes[sub].replica().is_some_and(|r| r.master == node)
            {
                self.follow(sub, master, now_us, ledger);
            }
        }
        self.reconnect(now_us, ledger);
    }

    pub(super) fn config_priority(&self, node: usize) -> u32 {
        node.checked_sub(1)
            .and_then(|i| self.config.replicas.get(i))
            .map_or(100, |r| r.priority)
    }

    /// The other replicas of `old` that it cannot reach will never receive what it streamed
    /// past `offset`, where `new` takes over its history: those writes are counted lost at this
    /// promotion, so they leave the links, and a later promotion of one of these replicas does
    /// not count them a second time. A replica `old` still streams to stays in `old`'s history
    /// (a split brain) and keeps them.
    fn forget_beyond(&mut self, old: usize, new: usize, offset: u64) {
        for other in 0..self.nodes.len() {
            let follows_old = self.nodes[other].replica().is_some_and(|r| r.master == old);
            if other == new || !follows_old || self.streams_to(old, other) {
                continue;
            }
            let link = &mut self.links[other];
            let held = link.queue.len() + link.output.len() + link.pending.len();
            link.queue.retain(|(_, entry)| entry.offset <= offset);
            link.output.retain(|entry| entry.offset <= offset);
            link.pending.retain(|entry| entry.offset <= offset);
            link.stranded.retain(|entry| entry.offset <= offset);
            // The link no longer holds `old`'s stream whole: should the replica reach `old`
            // again before it is told to follow `new` (a heal before the reconfiguration),
            // continuing from what the link holds would skip the writes dropped here, so it
            // resyncs in full (Redis would resend them from its backlog and count them lost
            // again at the reconfiguration).
            if link.queue.len() + link.output.len() + link.pending.len() < held {
                link.needs_full_sync = true;
            }
        }
    }

    /// When `new` still follows an older primary than `old` (it never followed `old`), what it
    /// lacks is `old`'s history: the older primary's writes up to where `old` took over (the
    /// ones past that were counted when `old` was promoted) and every client write `old`
    /// streamed since. Returns (the last offset of the older stream `old` had, the writes of
    /// `old`'s own stream); (`u64::MAX`, 0) when `new` follows `old`.
    fn lineage_gap(&self, new: usize, old: usize) -> (u64, u64) {
        let follows_old = self.nodes[new].replica().is_some_and(|r| r.master == old);
        match self.nodes[old].stream() {
            Some(stream) if !follows_old => (
                stream.promoted_at_offset.unwrap_or(u64::MAX),
                stream.client_writes,
            ),
            _ => (u64::MAX, 0),
        }
    }

    /// `REPLICAOF NO ONE` on `new`, replacing `old`. What the new primary had not received of
    /// the old one's acknowledged writes is lost (`failover`); the old one, if it still runs,
    /// goes on accepting writes until it is told to follow.
    pub(super) fn promote(&mut self, new: usize, old: usize, now_us: u64, ledger: &mut Ledger) {
        if self.nodes[new].replica().is_none() {
            return;
        }
        let link = &mut self.links[new];
        let mut in_flight: Vec<StreamEntry> = std::mem::take(&mut link.stranded);
        in_flight.extend(link.queue.drain(..).map(|(_, e)| e));
        in_flight.extend(link.output.drain(..));
        in_flight.extend(link.pending.drain(..));
        let unsent = std::mem::take(&mut link.unsent_writes);
        link.needs_full_sync = false;
        let offset = self.nodes[new].replica().map_or(0, |r| r.processed_offset);
        self.forget_beyond(old, new, offset);
        let (inherited_end, unseen_writes) = self.lineage_gap(new, old);
        let unsent = if inherited_end == u64::MAX {
            unsent
        } else {
            // Overflowed writes of an older lineage carry no offset: whether `old` had them
            // is unknown, so they are not counted (an undercount, never a second count).
            Vec::new()
        };
        let nodes = self.nodes.len();
        let keeps_durability = self.nodes[old].durability.is_some();
        let node = &mut self.nodes[new];
        node.set_time(now_us);
        let mut lost = unseen_writes;
        let mut failover_keys = Vec::new();
        for entry in &in_flight {
            if entry.offset <= offset || entry.offset > inherited_end || !entry.op.is_client_write()
            {
                continue;
            }
            lost += 1;
            if let Some((db, key)) = entry.op.key() {
                node.note_lost_write(db, key, Cause::Failover, ledger);
                note_offsets(ledger, key, Some(entry.offset), offset);
                failover_keys.push((db, key));
            }
        }
        for &(db, key) in &unsent {
            node.note_lost_write(db, key, Cause::Failover, ledger);
            note_offsets(ledger, key, None, offset);
            failover_keys.push((db, key));
        }
        lost += unsent.len() as u64;
        node.acknowledged_writes_lost += lost;
        node.divergent = None;
        let mut stream = PrimaryStream::new(nodes, new, offset);
        stream.promoted_at_offset = Some(offset);
        node.set_role(Role::Primary(stream));
        if keeps_durability {
            node.durability = Some(Durability::new(
                self.config.persistence.clone(),
                self.config.server.databases,
            ));
        }
        self.primary = new;
        // The moment the replica takes `REPLICAOF NO ONE`. Sentinels log `+promoted-slave`
        // later, when their next INFO (once a second) shows it with role:master, as in Redis.
        let what = format!("promoted {} (REPLICAOF NO ONE)", self.nodes[new].name);
        self.timeline.push((now_us, what));
        if old != new && self.nodes[old].stream().is_some() {
            // It does not know yet: what it accepts from now on diverges.
            self.nodes[old].divergent.get_or_insert_with(Vec::new);
        }
        // Nodes that still hold those writes (the old primary, replicas ahead of the new one)
        // lose them at their next full sync: as `failover`, not as an anonymous flush.
        for node in (0..self.nodes.len()).filter(|&n| n != new) {
            let held = &mut self.links[node].lost_keys;
            held.extend(failover_keys.iter().map(|&key| (key, Cause::Failover)));
        }
        self.count_good_replicas(new, now_us);
    }

    /// An operator's failover: promote `to` (or the replica Sentinel would pick), then tell the
    /// old primary and the other replicas to follow it, now or as soon as they can be reached.
    pub(super) fn operator_failover(
        &mut self,
        to: Option<usize>,
        now_us: u64,
        ledger: &mut Ledger,
    ) {
        let old = self.primary;
        let candidate = |node: &Node| {
            node.replica()
                .filter(|r| r.priority > 0 && !node.is_down())
                .map(|r| {
                    (
                        r.priority,
                        std::cmp::Reverse(r.processed_offset),
                        node.run_id.clone(),
                    )
                })
        };
        let chosen = match to {
            Some(node) if node != old && !self.nodes[node].is_down() => Some(node),
            Some(_) => None,
            None => (0..self.nodes.len())
                .filter_map(|n| candidate(&self.nodes[n]).map(|rank| (rank, n)))
                .min()
                .map(|(_, n)| n),
        };
        let Some(new) = chosen else {
            return;
        };
        self.promote(new, old, now_us, ledger);
        if let Some(sentinels) = self.sentinels.as_mut() {
            sentinels.announce(new, now_us);
        }
        for node in 0..self.nodes.len() {
            if node != new && (node == old || self.nodes[node].replica().is_some()) {
                self.to_demote.push(node);
            }
        }
        self.reconnect(now_us, ledger);
    }

    pub(super) fn sentinel_tick(&mut self, index: usize, now_us: u64, ledger: &mut Ledger) {
        let Some(mut sentinels) = self.sentinels.take() else {
            return;
        };
        let actions = sentinels.tick(
            index,
            now_us,
            &View {
                nodes: &self.nodes,
                net: &self.net,
            },
        );
        let next = sentinels.next_tick_us(index, now_us);
        self.sentinels = Some(sentinels);
        self.schedule(next, Event::Sentinel(index as u16));
        for action in actions {
            match action {
                Action::Promote { node, old } => self.promote(node, old, now_us, ledger),
                Action::Follow { node, master } => self.follow(node, master, now_us, ledger),
            }
        }
    }

    /// Crashes, restarts, pauses, partitions and failovers.
    pub(super) fn fault(&mut self, action: &EventAction, now_us: u64, ledger: &mut Ledger) {
        if let Some(what) = self.event_label(action) {
            self.timeline.push((now_us, what));
        }
        match action {
            EventAction::Crash { node } => self.process_lost(*node, true, now_us),
            EventAction::Kill { node } => self.process_lost(*node, false, now_us),
            EventAction::Shutdown { node, flags } => self.shutdown(*node, *flags, now_us),
            EventAction::Restart { node } => {
                let node = *node;
                self.nodes[node].set_time(now_us);
                let serving = self.primary == node;
                self.nodes[node].restart(serving, ledger);
                // A new process: its crons start over from now.
                self.cron_left_at_pause[node] = None;
                if self.nodes.len() > 1 {
                    self.schedule_replication_cron(node, now_us + 1_000_000);
                }
                if self.nodes[node].stream().is_some() {
                    if self.primary != node {
                        // Replaced while it was down: it comes back as a primary all the same.
                        self.nodes[node].divergent.get_or_insert_with(Vec::new);
                    }
                    // A new process: its replicas cannot continue; they resynchronise in full.
                    // What the old process still had on their links died with its backlog, and
                    // so did its count of streamed writes; a restart from persistence has
                    // already counted those writes as lost, so a later promotion must not count
                    // them again.
                    let counted = self.nodes[node].durability.is_some();
                    if counted {
                        if let Some(stream) = self.nodes[node].stream_mut() {
                            stream.client_writes = 0;
                        }
                    }
                    for other in 0..self.nodes.len() {
                        if self.nodes[other]
                            .replica()
                            .is_some_and(|r| r.master == node)
                        {
                            if counted {
                                self.links[other].reset();
                            }
                            self.links[other].needs_full_sync = true;
                            if let Some(r) = self.nodes[other].replica_mut() {
                                r.link_lost(now_us);
                            }
                        }
                    }
                }
                if let Some(r) = self.nodes[node].replica_mut() {
                    r.link_lost(now_us);
                    self.links[node].needs_full_sync = true;
                }
            }
            EventAction::Pause { node } => {
                let node = *node;
                if self.nodes[node].pause() {
                    // A stopped process's timers stop with it.
                    // A lone node runs no replication cron (due at u64::MAX): nothing to resume.
                    let due = self.replication_cron_due[node];
                    if due != u64::MAX {
                        self.cron_left_at_pause[node] = Some(due.saturating_sub(now_us));
                        self.replication_cron_due[node] = u64::MAX;
                    }
                }
            }
            EventAction::Resume { node } => {
                self.nodes[*node].resume();
                if let Some(left) = self.cron_left_at_pause[*node].take() {
                    // The overdue serverCron runs at once and its loop count carries on: the
                    // replication cron comes what was left of its second later, in whole ticks.
                    let tick = self.nodes[*node].cron_period_us().max(1);
                    self.schedule_replication_cron(*node, now_us + left / tick * tick);
                }
                if let Some(&(due, _)) = self.links[*node].queue.front() {
                    self.schedule(due.max(now_us), Event::Replicate(*node as u16));
                }
            }
            EventAction::Partition(partition) => {
                self.net.partition(partition);
                self.break_unreachable_links(now_us);
            }
            EventAction::Heal => self.net.heal(),
            EventAction::LinkDown { node } => {
                self.net.cut_link(*node, true);
                self.break_unreachable_links(now_us);
            }
            EventAction::LinkUp { node } => self.net.cut_link(*node, false),
            EventAction::Failover { to } => self.operator_failover(*to, now_us, ledger),
            _ => {}
        }
        self.reconnect(now_us, ledger);
    }

    /// A node's process dies, with its machine (`crash`) or alone (`kill`, or the exit of a
    /// SHUTDOWN), and its replicas' links close. Its output buffers die with the process. After
    /// a kill the kernel still delivers what the sockets hold; a crash strands everything but
    /// what had reached a replica's own receive buffer.
    pub(super) fn process_lost(&mut self, node: usize, machine: bool, now_us: u64) {
        self.nodes[node].set_time(now_us);
        self.shutdowns[node] = None;
        if machine {
            self.nodes[node].crash();
        } else {
            self.nodes[node].kill();
        }
        for other in 0..self.nodes.len() {
            let Some(processed) = self.nodes[other]
                .replica()
                .filter(|r| r.master == node)
                .map(|r| r.processed_offset)
            else {
                continue;
            };
            let link = &mut self.links[other];
            link.stranded.extend(link.output.drain(..));
            link.fork_from = None;
            if machine {
                let receive = link.buffers.receive_bytes;
                let mut arrived = VecDeque::new();
                let mut cut = false;
                for (due, entry) in link.queue.drain(..) {
                    // The replica's receive buffer holds the oldest bytes it has not read.
                    cut = cut || due > now_us || entry.offset.saturating_sub(processed) > receive;
                    if cut {
                        link.stranded.push(entry);
                    } else {
                        arrived.push_back((due, entry));
                    }
                }
                link.queue = arrived;
            }
            link.pending.clear();
            link.needs_full_sync = true;
            if let Some(r) = self.nodes[other].replica_mut() {
                r.link_lost(now_us);
            }
        }
        self.links[node].reset();
    }
}
