//! The world checks itself: invariants of every node, the ledger and replication, verified at
//! every sample and before every operator event when [`super::RunOptions::check_invariants`]
//! is on (debug builds, tests, and the random-scenario simulator `examples/vopr.rs`).
//!
//! The checker is separate from the code it checks (as TigerBeetle's are): it recounts what the
//! nodes keep as running totals and compares. A broken invariant is a bug in vanish, never bad
//! input, so it asserts with the node, the database and both figures.
//!
//! What holds, per node and database: the keys and volatile keys counted from the slots equal
//! the main and expires dicts' sizes and INFO's `keys=`/`expires=`; every key in the main dict
//! is present; an absent key has no TTL; the entry bytes recounted from the slots equal the
//! running total in `used_memory`. Per node: `expired_keys` and `evicted_keys` equal the
//! ledger's `expired` and `evicted` removals on that node since the process started (fewer for
//! a node that has been a replica: it records its master's removals too); a reference policy
//! (exact LRU, OPT) tracks exactly the keys present. Across the world: the per-family ledger
//! tallies add up to the totals; acknowledged writes lost never exceed those acknowledged; no
//! replica whose link is up has applied past the offset of the node it follows.

use std::cell::RefCell;
use std::rc::Rc;

use super::World;
use crate::sim::config::EventAction;
use crate::sim::keyspace::db::{entry_overhead_bytes, Db};
use crate::sim::keyspace::keys::KeyTable;
use crate::sim::ledger::Ledger;
use crate::sim::ledger::{Cause, EntryKind, KeyId, LedgerEntry, LedgerSink, PerCause};
use crate::sim::server::Node;

/// Removals seen in the ledger, per node and cause, shared by the checker and its sink.
type RemovalsPerNode = Rc<RefCell<Vec<PerCause<u64>>>>;

pub(super) struct Checker {
    removals: RemovalsPerNode,
    /// Per node: its ledger removals when its process last started, since INFO counters
    /// start again with the process.
    since_start: Vec<PerCause<u64>>,
    /// Per node: whether it has been a replica since its process started. A replica records
    /// the expiries and evictions its master sends under their causes, but its own INFO
    /// counters count only what it removed itself.
    was_replica: Vec<bool>,
    checks: u64,
    /// The recount of every slot costs a pass over the key table per database, so it runs
    /// at checks 1, 2, 4, 8… and at the end; the cheap checks run every time.
    next_recount: u64,
}

/// Forwards every row to the run's sink and counts removals per node for the checker.
pub(super) struct Tee<'a> {
    inner: &'a mut dyn LedgerSink,
    removals: RemovalsPerNode,
}

impl LedgerSink for Tee<'_> {
    fn record(&mut self, entry: &LedgerEntry) {
        if entry.kind == EntryKind::Removal {
            self.removals.borrow_mut()[entry.node.0 as usize][entry.cause] += 1;
        }
        self.inner.record(entry);
    }
}

impl Checker {
    pub(super) fn new(nodes: usize) -> Checker {
        Checker {
            removals: Rc::new(RefCell::new(vec![PerCause::default(); nodes])),
            since_start: vec![PerCause::default(); nodes],
            was_replica: (0..nodes).map(|node| node > 0).collect(),
            checks: 0,
            next_recount: 1,
        }
    }

    pub(super) fn tee<'a>(&self, inner: &'a mut dyn LedgerSink) -> Tee<'a> {
        Tee {
            inner,
            removals: self.removals.clone(),
        }
    }

    /// After an operator event: a restarted process counts from zero again.
    pub(super) fn after_operator(&mut self, action: &EventAction) {
        if let EventAction::Restart { node } = action {
            self.since_start[*node] = self.removals.borrow()[*node];
            self.was_replica[*node] = true;
        }
    }

    /// Every invariant, the slot recount included.
    pub(super) fn check_all(&mut self, world: &World<'_>, ledger: &Ledger) {
        self.next_recount = self.checks + 1;
        self.check(world, ledger);
    }

    pub(super) fn check(&mut self, world: &World<'_>, ledger: &Ledger) {
        self.checks += 1;
        if self.checks == self.next_recount {
            self.next_recount *= 2;
            for node in &world.nodes {
                recount_node(node, &world.keys, world.queue.now_us());
            }
        }
        let now_us = world.queue.now_us();
        let removals = self.removals.borrow();
        for (index, node) in world.nodes.iter().enumerate() {
            self.was_replica[index] |= node.replica().is_some();
            if let Some(tracked) = node.reference_tracked_keys() {
                assert_eq!(
                    tracked,
                    node.total_keys(),
                    "{} at {now_us} µs: keys the reference policy tracks against the keyspace",
                    node.name
                );
            }
            let counted = |cause: Cause| removals[index][cause] - self.since_start[index][cause];
            for (figure, cause) in [
                (node.stats.expired_keys, Cause::Expired),
                (node.stats.evicted_keys, Cause::Evicted),
            ] {
                let recorded = counted(cause);
                assert!(
                    figure == recorded || (self.was_replica[index] && figure < recorded),
                    "{} at {now_us} µs: INFO counts {figure} keys {} but the ledger {recorded}",
                    node.name,
                    cause.name()
                );
            }
        }
        check_ledger(ledger);
        check_replication(world);
        let acknowledged: u64 = world
            .clients
            .iter()
            .map(|c| c.counts.acknowledged_writes)
            .sum();
        let lost: u64 = world.nodes.iter().map(|n| n.acknowledged_writes_lost).sum();
        assert!(
            lost <= acknowledged,
            "{lost} acknowledged writes lost of only {acknowledged} acknowledged"
        );
    }
}

fn recount_node(node: &Node, keys: &KeyTable, now_us: u64) {
    let info = node.snapshot();
    let mut dataset_bytes = 0;
    for db in (0..node.config.databases).map(|index| node.db(index)) {
        let (keys_counted, volatile_counted) = check_db(db, keys, node, now_us);
        dataset_bytes += db.used_bytes();
        let listed = info.keyspace.iter().find(|k| k.db == db.index);
        let (info_keys, info_expires) = listed.map_or((0, 0), |k| (k.keys, k.expires));
        assert_eq!(
            (info_keys, info_expires),
            (keys_counted, volatile_counted),
            "{} db{} at {now_us} µs: INFO keyspace against the slots",
            node.name,
            db.index
        );
    }
    assert!(
        node.used_memory() >= dataset_bytes,
        "{}: used_memory {} is less than its dataset {dataset_bytes}",
        node.name,
        node.used_memory()
    );
}

/// Recounts one database from its slots; returns (keys, volatile keys).
fn check_db(db: &Db, keys: &KeyTable, node: &Node, now_us: u64) -> (u64, u64) {
    let where_ = || format!("{} db{} at {now_us} µs", node.name, db.index);
    if !db.is_allocated() {
        assert_eq!(db.key_count(), 0, "{}: unallocated but not empty", where_());
        return (0, 0);
    }
    let raw = node.raw_memory();
    let (mut present, mut volatile, mut entry_bytes) = (0u64, 0u64, 0u64);
    for id in 0..keys.len() as u32 {
        let key = KeyId(id);
        let slot = db.slot(key);
        if !slot.is_present() {
            assert!(
                !slot.is_volatile(),
                "{}: absent key {id} has a TTL",
                where_()
            );
            continue;
        }
        present += 1;
        volatile += u64::from(slot.is_volatile());
        let overhead = if raw {
            0
        } else {
            entry_overhead_bytes(keys.key_len(key), slot.is_volatile())
        };
        entry_bytes += overhead + slot.value_bytes();
    }
    assert_eq!(
        present,
        db.key_count(),
        "{}: keys against the main dict",
        where_()
    );
    assert_eq!(
        volatile,
        db.volatile_count(),
        "{}: volatile keys against the expires dict",
        where_()
    );
    let in_dict = db.keys_in_bucket_order();
    assert_eq!(
        in_dict.len() as u64,
        present,
        "{}: main dict entries",
        where_()
    );
    assert!(
        in_dict.iter().all(|key| db.slot(*key).is_present()),
        "{}: a key in the main dict is absent",
        where_()
    );
    let buckets = if raw {
        0
    } else {
        db.main.bucket_bytes() + db.expires.bucket_bytes()
    };
    assert_eq!(
        entry_bytes + buckets,
        db.used_bytes(),
        "{}: bytes recounted from the slots against the running total",
        where_()
    );
    (present, volatile)
}

/// The per-family tallies add up to the totals.
fn check_ledger(ledger: &Ledger) {
    let sum = |families: &[PerCause<u64>], cause: Cause| -> u64 {
        families.iter().map(|family| family[cause]).sum()
    };
    for cause in Cause::ALL {
        assert_eq!(
            sum(ledger.family_removals(), cause),
            ledger.totals().removals_by_cause[cause],
            "removals of {} by family against the total",
            cause.name()
        );
        assert_eq!(
            sum(ledger.family_misses(), cause),
            ledger.totals().misses_by_cause[cause],
            "misses of {} by family against the total",
            cause.name()
        );
    }
}

/// No replica has applied more of a stream than the node it follows has written.
fn check_replication(world: &World<'_>) {
    check_links(world);
    for node in &world.nodes {
        let Some(replica) = node.replica() else {
            continue;
        };
        // A replica that lost its link or awaits a full sync may hold more than the node it now
        // follows (a demoted primary does): the sync will replace its data.
        if !replica.link_up || replica.syncing {
            continue;
        }
        let master = &world.nodes[replica.master];
        if let Some(stream) = master.stream() {
            assert!(
                replica.processed_offset <= stream.offset,
                "{} applied offset {} past {}'s {}",
                node.name,
                replica.processed_offset,
                master.name,
                stream.offset
            );
        }
    }
}

/// Each link holds its stream in order (kernel, then output buffer, then backlog), and the
/// kernel takes no more than its window while the master's output buffer waits (one entry
/// larger than the window may go alone, as a partial write).
fn check_links(world: &World<'_>) {
    for (index, link) in world.links.iter().enumerate() {
        let name = &world.nodes[index].name;
        let order = link
            .queue
            .iter()
            .map(|(_, e)| e)
            .chain(&link.output)
            .chain(&link.pending);
        let offsets: Vec<u64> = order.map(|e| e.offset).collect();
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "{name}'s link holds its stream out of order"
        );
        let held = world.kernel_bytes(index);
        let window = link.buffers.window_bytes(true);
        if let Some(next) = link.output.front() {
            assert!(
                link.queue.len() <= 1 || held <= window,
                "{name}'s kernel holds {held} bytes, past its {window}-byte window"
            );
            assert!(
                !link.queue.is_empty() || next.offset - next.start > window,
                "{name}'s output buffer waits behind an empty kernel"
            );
        }
    }
}
