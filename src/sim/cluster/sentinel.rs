//! Redis Sentinel (src/sentinel.c, redis-fidelity 5): each Sentinel pings the primary it
//! believes in, marks it subjectively down after `down-after-milliseconds` without a valid
//! reply, objectively down when a quorum of the Sentinels it can reach agree, and then runs for
//! leader; the leader promotes the best replica, and every Sentinel that hears of the new
//! configuration switches to it. Any node found acting as a primary that is not the configured
//! one is turned into a replica after it has answered for 8 s.
//!
//! The Sentinels decide; the engine acts. A tick reads the cluster through [`ClusterView`] and
//! returns [`Action`]s, so this module holds no reference to nodes or links.

use crate::sim::config::{SentinelConfig, SentinelHost};
use crate::sim::random::rng::Stream;

/// How often a Sentinel pings an instance: `min(down-after, 1 s)`.
const PING_PERIOD_US: u64 = 1_000_000;
/// Hello messages on `__sentinel__:hello`: how fast a new configuration spreads.
const HELLO_PERIOD_US: u64 = 2_000_000;
/// INFO to replicas of a master in failover: how soon a promotion is seen.
const INFO_PERIOD_US: u64 = 1_000_000;
/// A node acting as primary against the configuration is converted after answering this long.
const CONVERT_AFTER_US: u64 = 8_000_000;
/// Replica reconfiguration timeout.
const RECONF_TIMEOUT_US: u64 = 10_000_000;

/// What a Sentinel can learn about the cluster from where it runs.
pub trait ClusterView {
    fn nodes(&self) -> usize;
    /// The host machine of a Sentinel is up.
    fn host_up(&self, host: SentinelHost) -> bool;
    /// A node answers PING from a Sentinel on `host` (reachable, process running, not stopped).
    fn answers(&self, host: SentinelHost, node: usize) -> bool;
    /// The node's machine refuses the connection at once (its process died; the machine runs).
    fn refuses(&self, host: SentinelHost, node: usize) -> bool;
    /// Two hosts are on the same side of any partition.
    fn hosts_connected(&self, a: SentinelHost, b: SentinelHost) -> bool;
    /// The node reports `role:master`.
    fn acts_as_primary(&self, node: usize) -> bool;
    /// The node a replica follows.
    fn master_of(&self, node: usize) -> Option<usize>;
    /// A replica's (replica-priority, processed offset, run id) as its INFO shows them.
    fn replica_rank(&self, node: usize) -> Option<(u32, u64, &str)>;
    /// The replica has finished synchronising with its master.
    fn in_sync(&self, node: usize) -> bool;
}

/// What the Sentinels ask of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `REPLICAOF NO ONE` on `node`, replacing `old`.
    Promote { node: usize, old: usize },
    /// `REPLICAOF master` on `node`.
    Follow { node: usize, master: usize },
}

/// A line of the Sentinels' log, as `+sdown`, `+odown`, `+switch-master` and friends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelEvent {
    pub time_us: u64,
    pub sentinel: usize,
    pub event: &'static str,
    pub node: usize,
}

/// A failover led by one Sentinel, a state per timer tick as `sentinelFailoverStateMachine`
/// steps it: votes asked (their replies are counted on the next tick), elected, replica
/// selected, `SLAVEOF NO ONE` sent, promotion seen in INFO, replicas reconfigured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failover {
    Voting {
        epoch: u64,
        votes: u32,
    },
    Elected {
        epoch: u64,
    },
    Selected {
        node: usize,
        epoch: u64,
    },
    /// Promoted `node` at `at_us`; waiting to see it in INFO, then reconfiguring the others.
    Promoted {
        node: usize,
        old: usize,
        at_us: u64,
        epoch: u64,
    },
    /// Reconfiguring replicas `parallel-syncs` at a time.
    Reconfiguring {
        started_us: u64,
        batch_us: u64,
    },
}

struct Watcher {
    host: SentinelHost,
    stream: Stream,
    /// The primary this Sentinel believes in, and the epoch of that configuration.
    master: usize,
    config_epoch: u64,
    current_epoch: u64,
    /// The epoch this Sentinel last voted in.
    leader_epoch: u64,
    last_ping_us: u64,
    last_pong_us: u64,
    /// When the oldest PING still unanswered was sent (`act_ping_time`): SDOWN counts from it.
    act_ping_us: Option<u64>,
    last_hello_us: u64,
    sdown: bool,
    odown: bool,
    failover: Option<Failover>,
    /// No new failover attempt before this (2 × failover-timeout after the last one or a vote).
    quiet_until_us: u64,
    /// Per node: since when it has answered while acting as a primary against the configuration.
    rogue_since: Vec<Option<u64>>,
    /// Replicas already told to follow the new primary in this failover.
    reconfigured: Vec<bool>,
}

impl Watcher {
    /// Takes `master` (at `epoch`) as the primary to watch, with a fresh view of its health.
    fn switch_to(&mut self, master: usize, epoch: u64, now_us: u64) {
        self.master = master;
        self.config_epoch = epoch;
        self.last_pong_us = now_us;
        self.act_ping_us = None;
        self.sdown = false;
        self.odown = false;
    }
}

/// All the Sentinels of a scenario.
pub struct Sentinels {
    config: SentinelConfig,
    watchers: Vec<Watcher>,
    pub log: Vec<SentinelEvent>,
}

impl Sentinels {
    pub fn new(config: &SentinelConfig, nodes: usize, seed: u64) -> Sentinels {
        let watchers = config
            .hosts
            .iter()
            .enumerate()
            .map(|(index, &host)| Watcher {
                host,
                stream: Stream::new(seed, &format!("sentinel:{index}")),
                master: 0,
                config_epoch: 0,
                current_epoch: 0,
                leader_epoch: 0,
                last_ping_us: 0,
                last_pong_us: 0,
                act_ping_us: None,
                last_hello_us: 0,
                sdown: false,
                odown: false,
                failover: None,
                quiet_until_us: 0,
                rogue_since: vec![None; nodes],
                reconfigured: vec![false; nodes],
            })
            .collect();
        Sentinels {
            config: config.clone(),
            watchers,
            log: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.watchers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.watchers.is_empty()
    }

    pub fn host(&self, sentinel: usize) -> SentinelHost {
        self.watchers[sentinel].host
    }

    /// The primary a client asking this Sentinel is told about.
    pub fn master_of(&self, sentinel: usize) -> usize {
        self.watchers[sentinel].master
    }

    /// An operator's failover (`SENTINEL FAILOVER` or a manual promotion): every Sentinel
    /// takes the new configuration.
    pub fn announce(&mut self, master: usize, now_us: u64) {
        let newest = self.watchers.iter().map(|w| w.config_epoch).max();
        assert!(newest.is_some(), "a failover announced to no Sentinel");
        let epoch = newest.map_or(1, |epoch| epoch + 1);
        for (index, watcher) in self.watchers.iter_mut().enumerate() {
            watcher.switch_to(master, epoch, now_us);
            watcher.current_epoch = watcher.current_epoch.max(epoch);
            watcher.failover = None;
            self.log.push(SentinelEvent {
                time_us: now_us,
                sentinel: index,
                event: "+switch-master",
                node: master,
            });
        }
    }

    /// When Sentinel `index` ticks next: Sentinel randomises its hz between 10 and 19.
    pub fn next_tick_us(&mut self, index: usize, now_us: u64) -> u64 {
        let hz = 10 + self.watchers[index].stream.below(10);
        now_us + 1_000_000 / hz
    }

    /// The other Sentinels that Sentinel `index` can talk to now (running, on its side).
    fn peers(&self, index: usize, view: &dyn ClusterView) -> Vec<usize> {
        let host = self.watchers[index].host;
        (0..self.watchers.len())
            .filter(|&other| {
                let peer_host = self.watchers[other].host;
                other != index && view.host_up(peer_host) && view.hosts_connected(host, peer_host)
            })
            .collect()
    }

    fn note(&mut self, time_us: u64, sentinel: usize, event: &'static str, node: usize) {
        self.log.push(SentinelEvent {
            time_us,
            sentinel,
            event,
            node,
        });
    }

    /// One timer tick of Sentinel `index`.
    pub fn tick(&mut self, index: usize, now_us: u64, view: &dyn ClusterView) -> Vec<Action> {
        let mut actions = Vec::new();
        let host = self.watchers[index].host;
        if !view.host_up(host) {
            return actions;
        }
        self.ping(index, now_us, view);
        self.hello(index, now_us, view);
        // A failover started in this tick takes its next step in the next one (the votes asked
        // now are counted then).
        self.run_failover(index, now_us, view, &mut actions);
        self.check_down(index, now_us, view);
        self.convert_rogues(index, now_us, view, &mut actions);
        actions
    }

    /// PING when the last PONG is older than the period and the last PING older than half of
    /// it. A process that died on a running machine refuses the connection: Sentinel reconnects
    /// and pings at once, so that PING is the oldest unanswered one. A machine that is gone, or
    /// a stopped process, just leaves the next periodic PING unanswered.
    fn ping(&mut self, index: usize, now_us: u64, view: &dyn ClusterView) {
        let watcher = &mut self.watchers[index];
        let period = PING_PERIOD_US.min(self.config.down_after_us);
        if view.refuses(watcher.host, watcher.master) {
            watcher.last_ping_us = now_us;
            watcher.act_ping_us.get_or_insert(now_us);
            return;
        }
        let due = now_us.saturating_sub(watcher.last_pong_us) > period
            && now_us.saturating_sub(watcher.last_ping_us) > period / 2;
        if due {
            watcher.last_ping_us = now_us;
            if view.answers(watcher.host, watcher.master) {
                watcher.last_pong_us = now_us;
                watcher.act_ping_us = None;
            } else {
                watcher.act_ping_us.get_or_insert(now_us);
            }
        }
    }

    /// Sentinels that can talk share the newest configuration and epoch.
    fn hello(&mut self, index: usize, now_us: u64, view: &dyn ClusterView) {
        if now_us < self.watchers[index].last_hello_us + HELLO_PERIOD_US {
            return;
        }
        self.watchers[index].last_hello_us = now_us;
        let (master, epoch, current) = {
            let w = &self.watchers[index];
            (w.master, w.config_epoch, w.current_epoch)
        };
        for other in self.peers(index, view) {
            let peer = &mut self.watchers[other];
            peer.current_epoch = peer.current_epoch.max(current);
            if epoch > peer.config_epoch {
                let switched = peer.master != master;
                if switched {
                    peer.switch_to(master, epoch, now_us);
                } else {
                    peer.config_epoch = epoch;
                }
                if switched {
                    self.note(now_us, other, "+switch-master", master);
                }
            }
        }
    }

    fn check_down(&mut self, index: usize, now_us: u64, view: &dyn ClusterView) {
        let down_after = self.config.down_after_us;
        let watcher = &self.watchers[index];
        let master = watcher.master;
        let sdown = watcher
            .act_ping_us
            .is_some_and(|sent| now_us.saturating_sub(sent) > down_after);
        if sdown != watcher.sdown {
            self.watchers[index].sdown = sdown;
            self.note(
                now_us,
                index,
                if sdown { "+sdown" } else { "-sdown" },
                master,
            );
        }
        // ODOWN: this Sentinel and enough others it can reach (is-master-down-by-addr) agree.
        let agreeing = 1 + self
            .peers(index, view)
            .into_iter()
            .filter(|&other| self.watchers[other].sdown && self.watchers[other].master == master)
            .count() as u32;
        let odown = sdown && agreeing >= self.config.quorum;
        if odown != self.watchers[index].odown {
            self.watchers[index].odown = odown;
            self.note(
                now_us,
                index,
                if odown { "+odown" } else { "-odown" },
                master,
            );
        }
        let watcher = &mut self.watchers[index];
        if odown && watcher.failover.is_none() && now_us >= watcher.quiet_until_us {
            watcher.current_epoch += 1;
            let epoch = watcher.current_epoch;
            watcher.quiet_until_us = now_us + 2 * self.config.failover_timeout_us;
            self.note(now_us, index, "+try-failover", master);
            // Votes are asked at once (SENTINEL_ASK_FORCED); the replies are read next tick.
            let votes = self.request_votes(index, epoch, now_us, view);
            self.watchers[index].failover = Some(Failover::Voting { epoch, votes });
        }
    }

    fn run_failover(
        &mut self,
        index: usize,
        now_us: u64,
        view: &dyn ClusterView,
        actions: &mut Vec<Action>,
    ) {
        let Some(state) = self.watchers[index].failover else {
            return;
        };
        match state {
            Failover::Voting { epoch, votes } => {
                let master = self.watchers[index].master;
                let majority = self.watchers.len() as u32 / 2 + 1;
                if votes >= majority.max(self.config.quorum) {
                    self.note(now_us, index, "+elected-leader", master);
                    self.watchers[index].failover = Some(Failover::Elected { epoch });
                } else {
                    self.watchers[index].failover = None;
                    self.note(now_us, index, "-failover-abort-not-elected", master);
                }
            }
            Failover::Elected { epoch } => match self.select_replica(index, view) {
                Some(node) => {
                    self.note(now_us, index, "+selected-slave", node);
                    self.watchers[index].failover = Some(Failover::Selected { node, epoch });
                }
                None => {
                    let old = self.watchers[index].master;
                    self.watchers[index].failover = None;
                    self.note(now_us, index, "-failover-abort-no-good-slave", old);
                }
            },
            Failover::Selected { node, epoch } => {
                // SLAVEOF NO ONE reaches the replica, which is primary from then on.
                let old = self.watchers[index].master;
                actions.push(Action::Promote { node, old });
                self.note(now_us, index, "+failover-state-wait-promotion", node);
                self.watchers[index].failover = Some(Failover::Promoted {
                    node,
                    old,
                    at_us: now_us,
                    epoch,
                });
            }
            Failover::Promoted {
                node,
                old,
                at_us,
                epoch,
            } => {
                if now_us < at_us + INFO_PERIOD_US {
                    return;
                }
                if !view.acts_as_primary(node) {
                    if now_us > at_us + self.config.failover_timeout_us {
                        self.watchers[index].failover = None;
                        self.note(now_us, index, "-failover-abort-slave-timeout", node);
                    }
                    return;
                }
                self.note(now_us, index, "+promoted-slave", node);
                let watcher = &mut self.watchers[index];
                watcher.switch_to(node, epoch, now_us);
                watcher.reconfigured = vec![false; view.nodes()];
                watcher.reconfigured[node] = true;
                watcher.reconfigured[old] = true;
                watcher.failover = Some(Failover::Reconfiguring {
                    started_us: now_us,
                    batch_us: 0,
                });
                self.note(now_us, index, "+switch-master", node);
                // Other Sentinels learn the new configuration by hello at once.
                self.watchers[index].last_hello_us = 0;
                self.hello(index, now_us, view);
            }
            Failover::Reconfiguring {
                started_us,
                batch_us,
            } => self.reconfigure(index, now_us, started_us, batch_us, view, actions),
        }
    }

    /// Asks the reachable Sentinels for their vote in `epoch`; returns the votes it got (its
    /// own included), 0 if it already voted for another Sentinel in this epoch.
    fn request_votes(
        &mut self,
        index: usize,
        epoch: u64,
        now_us: u64,
        view: &dyn ClusterView,
    ) -> u32 {
        if self.watchers[index].leader_epoch >= epoch {
            return 0;
        }
        self.watchers[index].leader_epoch = epoch;
        let mut votes = 1u32;
        for other in self.peers(index, view) {
            let peer = &mut self.watchers[other];
            peer.current_epoch = peer.current_epoch.max(epoch);
            if peer.leader_epoch < epoch {
                peer.leader_epoch = epoch;
                votes += 1;
                // A Sentinel that voted for another does not try itself for a while.
                peer.quiet_until_us = peer
                    .quiet_until_us
                    .max(now_us + 2 * self.config.failover_timeout_us);
                if matches!(peer.failover, Some(Failover::Voting { .. })) {
                    peer.failover = None;
                }
            }
        }
        votes
    }

    /// `sentinelSelectSlave`: lower replica-priority, then the higher processed offset, then the
    /// smaller run id (all lower-case hex here, so Redis's case-insensitive order is plain order).
    fn select_replica(&self, index: usize, view: &dyn ClusterView) -> Option<usize> {
        let watcher = &self.watchers[index];
        (0..view.nodes())
            .filter(|&node| node != watcher.master && view.answers(watcher.host, node))
            .filter_map(|node| {
                let (priority, offset, name) = view.replica_rank(node)?;
                (priority > 0).then_some(((priority, std::cmp::Reverse(offset), name), node))
            })
            .min()
            .map(|(_, node)| node)
    }

    fn reconfigure(
        &mut self,
        index: usize,
        now_us: u64,
        started_us: u64,
        batch_us: u64,
        view: &dyn ClusterView,
        actions: &mut Vec<Action>,
    ) {
        let watcher = &self.watchers[index];
        let (host, master) = (watcher.host, watcher.master);
        let in_progress = (0..view.nodes())
            .filter(|&n| watcher.reconfigured[n] && n != master && !view.in_sync(n))
            .filter(|&n| view.answers(host, n))
            .count() as u32;
        let waiting: Vec<usize> = (0..view.nodes())
            .filter(|&n| !watcher.reconfigured[n] && view.answers(host, n))
            .collect();
        let timed_out = now_us > started_us + self.config.failover_timeout_us;
        // It ends once INFO shows every reconfigured replica synchronised.
        let settled = waiting.is_empty() && in_progress == 0 && now_us >= batch_us + INFO_PERIOD_US;
        if settled || timed_out {
            self.watchers[index].failover = None;
            self.note(now_us, index, "+failover-end", master);
            return;
        }
        let batch_done = in_progress == 0 || now_us > batch_us + RECONF_TIMEOUT_US;
        if !batch_done {
            return;
        }
        if waiting.is_empty() {
            return;
        }
        let parallel = self.config.parallel_syncs.max(1) as usize;
        for &node in waiting.iter().take(parallel) {
            self.watchers[index].reconfigured[node] = true;
            actions.push(Action::Follow { node, master });
            self.note(now_us, index, "+slave-reconf-sent", node);
        }
        self.watchers[index].failover = Some(Failover::Reconfiguring {
            started_us,
            batch_us: now_us,
        });
    }

    /// A node that answers as a primary but is not the configured one, or a replica of the
    /// wrong primary, is told to follow the configured primary once it has answered for 8 s.
    fn convert_rogues(
        &mut self,
        index: usize,
        now_us: u64,
        view: &dyn ClusterView,
        actions: &mut Vec<Action>,
    ) {
        let watcher = &self.watchers[index];
        if watcher.failover.is_some() || watcher.config_epoch == 0 {
            return;
        }
        let (host, master) = (watcher.host, watcher.master);
        if !view.answers(host, master) || !view.acts_as_primary(master) {
            return;
        }
        for node in 0..view.nodes() {
            let rogue = node != master
                && view.answers(host, node)
                && (view.acts_as_primary(node) || view.master_of(node) != Some(master));
            let since = &mut self.watchers[index].rogue_since[node];
            if !rogue {
                *since = None;
                continue;
            }
            let first = *since.get_or_insert(now_us);
            if now_us >= first + CONVERT_AFTER_US {
                self.watchers[index].rogue_since[node] = None;
                actions.push(Action::Follow { node, master });
                let event = if view.acts_as_primary(node) {
                    "+convert-to-slave"
                } else {
                    "+fix-slave-config"
                };
                self.note(now_us, index, event, node);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three nodes, a Sentinel beside each; node 0 primary.
    struct Fake {
        up: Vec<bool>,
        answering: Vec<bool>,
        side: Vec<u8>,
        primary: Vec<bool>,
        offsets: Vec<u64>,
    }

    impl Fake {
        /// Three running nodes on `side`s, node 0 primary, replica 2 the furthest along.
        fn three(side: Vec<u8>) -> Fake {
            Fake {
                up: vec![true; 3],
                answering: vec![true; 3],
                side,
                primary: vec![true, false, false],
                offsets: vec![0, 500, 900],
            }
        }

        fn index(host: SentinelHost) -> usize {
            match host {
                SentinelHost::Node(n) | SentinelHost::Client(n) => n,
            }
        }
    }

    impl ClusterView for Fake {
        fn nodes(&self) -> usize {
            self.up.len()
        }
        fn host_up(&self, host: SentinelHost) -> bool {
            self.up[Self::index(host)]
        }
        fn answers(&self, host: SentinelHost, node: usize) -> bool {
            self.answering[node] && self.side[Self::index(host)] == self.side[node]
        }
        fn hosts_connected(&self, a: SentinelHost, b: SentinelHost) -> bool {
            self.side[Self::index(a)] == self.side[Self::index(b)]
        }
        fn refuses(&self, _host: SentinelHost, _node: usize) -> bool {
            false
        }
        fn acts_as_primary(&self, node: usize) -> bool {
            self.primary[node]
        }
        fn master_of(&self, node: usize) -> Option<usize> {
            (!self.primary[node]).then_some(0)
        }
        fn replica_rank(&self, node: usize) -> Option<(u32, u64, &str)> {
            (!self.primary[node]).then(|| (100, self.offsets[node], ["a", "b", "c"][node]))
        }
        fn in_sync(&self, _node: usize) -> bool {
            true
        }
    }

    fn run_until(
        sentinels: &mut Sentinels,
        view: &mut Fake,
        from_us: u64,
        to_us: u64,
    ) -> Vec<(u64, Action)> {
        let mut next: Vec<u64> = vec![from_us; sentinels.len()];
        let mut done = Vec::new();
        loop {
            let (index, &at) = next
                .iter()
                .enumerate()
                .min_by_key(|(i, t)| (**t, *i))
                .unwrap_or((0, &u64::MAX));
            if at > to_us {
                return done;
            }
            for action in sentinels.tick(index, at, view) {
                if let Action::Promote { node, old } = action {
                    view.primary[node] = true;
                    view.primary[old] = false;
                }
                done.push((at, action));
            }
            next[index] = sentinels.next_tick_us(index, at);
        }
    }

    #[test]
    fn a_dead_primary_is_replaced_about_down_after_plus_a_second_or_two_later() {
        let config = SentinelConfig::beside_each(3);
        let mut sentinels = Sentinels::new(&config, 3, 7);
        let mut view = Fake {
            up: vec![true; 3],
            answering: vec![true; 3],
            side: vec![0; 3],
            primary: vec![true, false, false],
            offsets: vec![0, 500, 900],
        };
        assert!(run_until(&mut sentinels, &mut view, 0, 10_000_000).is_empty());
        // The primary's machine dies at 10 s (and its Sentinel with it).
        view.up[0] = false;
        view.answering[0] = false;
        let actions = run_until(&mut sentinels, &mut view, 10_000_000, 60_000_000);
        let (at, promote) = &actions[0];
        assert_eq!(*promote, Action::Promote { node: 2, old: 0 });
        // The first PING after the failure goes unanswered (within 1 s); SDOWN 30 s later; then
        // a tick each to count votes, select the replica and send SLAVEOF NO ONE.
        assert!(
            (40_000_000..=41_500_000).contains(at),
            "promoted at {at} µs"
        );
        for watcher in &sentinels.watchers[1..] {
            assert_eq!(watcher.master, 2);
        }
        assert!(sentinels.log.iter().any(|e| e.event == "+odown"));
        // The remaining replica is told to follow the new primary.
        assert!(actions
            .iter()
            .any(|(_, a)| *a == Action::Follow { node: 1, master: 2 }));
    }

    #[test]
    fn a_minority_cannot_fail_over() {
        let config = SentinelConfig::beside_each(3);
        let mut sentinels = Sentinels::new(&config, 3, 7);
        let mut view = Fake::three(vec![0, 1, 1]);
        // Sides {0} | {1, 2}: the majority promotes.
        let actions = run_until(&mut sentinels, &mut view, 0, 60_000_000);
        assert!(matches!(actions[0].1, Action::Promote { .. }));
        // Sides {0, 1} | {2}: Sentinel 2 alone sees node... nothing it cannot reach is promoted.
        let mut sentinels = Sentinels::new(&SentinelConfig::beside_each(3), 3, 7);
        let mut view = Fake::three(vec![0, 0, 1]);
        let actions = run_until(&mut sentinels, &mut view, 0, 120_000_000);
        assert!(actions.is_empty(), "{actions:?}");
        assert!(sentinels.log.iter().any(|e| e.event == "+sdown"));
        assert!(!sentinels.log.iter().any(|e| e.event == "+odown"));
    }

    #[test]
    fn an_old_primary_that_returns_is_converted_after_eight_seconds() {
        let config = SentinelConfig::beside_each(3);
        let mut sentinels = Sentinels::new(&config, 3, 11);
        let mut view = Fake::three(vec![0, 1, 1]);
        run_until(&mut sentinels, &mut view, 0, 60_000_000);
        // The partition heals; node 0 still says role:master.
        view.side = vec![0; 3];
        view.primary[0] = true;
        let actions = run_until(&mut sentinels, &mut view, 60_000_000, 80_000_000);
        let converted: Vec<u64> = actions
            .iter()
            .filter(|(_, a)| *a == Action::Follow { node: 0, master: 2 })
            .map(|(at, _)| *at)
            .collect();
        assert!(!converted.is_empty(), "{actions:?}");
        assert!(
            (68_000_000..71_000_000).contains(&converted[0]),
            "{converted:?}"
        );
    }
}
