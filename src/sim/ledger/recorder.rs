//! The core's side of the ledger: every row a node produces passes through one [`Ledger`],
//! which keeps the per-cause totals and the per-prefix-group counts a run reports, then forwards the
//! row to the user's [`LedgerSink`].

use crate::sim::ledger::watch::{KeyWatch, WatchEvent};
use crate::sim::ledger::{EntryKind, KeyId, LedgerEntry, LedgerSink, LedgerTotals, PerCause};

/// Records ledger rows: totals per cause and per key prefix group, and the user's sink.
pub struct Ledger<'a> {
    sink: &'a mut dyn LedgerSink,
    totals: LedgerTotals,
    /// Removals by cause for each key prefix group (`KeyTable::groups`).
    family_removals: Vec<PerCause<u64>>,
    /// Misses by cause for each key prefix group.
    family_misses: Vec<PerCause<u64>>,
    /// The key `vanish explain` follows, if any.
    watch: KeyWatch,
}

impl<'a> Ledger<'a> {
    pub fn new(sink: &'a mut dyn LedgerSink, families: usize) -> Ledger<'a> {
        Ledger {
            sink,
            totals: LedgerTotals::default(),
            family_removals: vec![PerCause::default(); families],
            family_misses: vec![PerCause::default(); families],
            watch: KeyWatch::default(),
        }
    }

    /// Follows the keys `keys` (one name's ids) through the run.
    pub fn watch(&mut self, keys: Vec<KeyId>) {
        self.watch = KeyWatch::new(keys);
    }

    /// Whether `key` is followed; one comparison when nothing is.
    #[inline]
    pub fn watches(&self, key: KeyId) -> bool {
        self.watch.watches(key)
    }

    /// Notes an event of the followed key.
    pub fn note(&mut self, event: WatchEvent) {
        self.watch.note(event);
    }

    /// What happened to the followed key.
    pub fn watched_events(&self) -> &[WatchEvent] {
        &self.watch.events
    }

    /// Counts `entry` under its cause and its key's prefix `group`, then hands it to the sink.
    pub fn record(&mut self, entry: LedgerEntry, family: usize) {
        assert!(
            family < self.family_removals.len(),
            "key family {family} outside the {} the ledger was built for",
            self.family_removals.len()
        );
        self.totals.add(&entry);
        match entry.kind {
            EntryKind::Removal => self.family_removals[family][entry.cause] += 1,
            EntryKind::Miss => self.family_misses[family][entry.cause] += 1,
            EntryKind::OverwrittenHit | EntryKind::Rejected | EntryKind::LostWrite => {}
        }
        if self.watch.watches(entry.key) {
            self.watch.note(WatchEvent::Row(entry));
        }
        self.sink.record(&entry);
    }

    /// Every row recorded so far, counted by kind and cause.
    pub fn totals(&self) -> &LedgerTotals {
        &self.totals
    }

    /// Removals by cause, one entry per key family.
    pub fn family_removals(&self) -> &[PerCause<u64>] {
        &self.family_removals
    }

    /// Misses by cause, one entry per key family.
    pub fn family_misses(&self) -> &[PerCause<u64>] {
        &self.family_misses
    }
}
