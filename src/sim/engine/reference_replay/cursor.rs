//! A trace client's requests for the kernel: when each record arrives, its key, its value's
//! size and (for OPT) when its key is used next, read from the trace's columns without
//! building records.
//!
//! The same arithmetic as `workload.rs`'s `Replay` and `Client` for a trace client with one
//! command a round trip and no WAIT: records paced at `rate` or at their own times, from
//! `start_us`, none at or after `stop_us`. The equality tests hold the two together.

use std::sync::Arc;

use crate::sim::config::{ClientConfig, Trace, Workload};
use crate::sim::engine::workload::Pacing;
use crate::sim::reference::exact::NEVER;

pub(super) struct Cursor {
    trace: Arc<Trace>,
    index: usize,
    /// Where the records' times were last found (`TraceRecords::time_from`).
    time_run: usize,
    pacing: Option<Pacing>,
    start_us: u64,
    stop_us: Option<u64>,
    /// The first key id of the client's key family.
    first_key: u32,
    /// Per record: when its key is next requested + 1, 0 for never (OPT only; empty otherwise).
    next_use_us: Vec<u64>,
}

/// One record as the kernel runs it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Next {
    pub key: u32,
    pub value_size: u32,
    /// The reference order's next use (`Request::next_use_or_never`).
    pub next_use: u64,
}

impl Cursor {
    /// `config` is a trace client (`eligible.rs`); `first_key` its family's first key id.
    pub(super) fn new(config: &ClientConfig, first_key: u32, needs_future: bool) -> Cursor {
        let Workload::Trace(replay) = &config.workload else {
            unreachable_generated();
        };
        let mut cursor = Cursor {
            trace: replay.trace.clone(),
            index: 0,
            time_run: 0,
            pacing: replay.rate.map(Pacing::new),
            start_us: config.start_us,
            stop_us: config.stop_us,
            first_key,
            next_use_us: Vec::new(),
        };
        if needs_future {
            cursor.next_use_us = cursor.next_uses();
        }
        cursor
    }

    /// `Replay::new`'s walk backwards: each record's key's next arrival.
    fn next_uses(&self) -> Vec<u64> {
        let records = &self.trace.records;
        let mut next_use_us = vec![0; records.len()];
        let mut next_by_key: Vec<u64> = vec![0; self.trace.key_names.len()];
        for index in (0..records.len()).rev() {
            let key = records.key(index) as usize;
            next_use_us[index] = next_by_key[key];
            let offset_us = match self.pacing {
                Some(pacing) => pacing.at_us(index),
                None => records.at(index).time_us,
            };
            // +1 keeps 0 free for "never".
            next_by_key[key] = self.start_us + offset_us + 1;
        }
        next_use_us
    }

    /// When the next record arrives, µs; None once the trace or the client's time is over.
    #[inline]
    pub(super) fn next_arrival_us(&mut self) -> Option<u64> {
        let records = &self.trace.records;
        if self.index >= records.len() {
            return None;
        }
        let offset_us = match self.pacing {
            Some(pacing) => pacing.at_us(self.index),
            None => records.time_from(self.index, &mut self.time_run),
        };
        let at_us = self.start_us + offset_us;
        match self.stop_us {
            Some(stop) if at_us >= stop => None,
            _ => Some(at_us),
        }
    }

    /// The next record, consumed.
    #[inline]
    pub(super) fn next(&mut self) -> Next {
        let index = self.index;
        self.index += 1;
        let records = &self.trace.records;
        let next_use = match self.next_use_us.get(index) {
            None | Some(0) => NEVER,
            Some(&at) => at,
        };
        Next {
            key: self.first_key + records.key(index),
            value_size: records.value_size(index),
            next_use,
        }
    }

    /// The key ids of the records `ahead..ahead + count` past the next one (as many as there
    /// are), every `count` records, to warm the cache with.
    #[inline]
    pub(super) fn upcoming_keys(
        &self,
        ahead: usize,
        count: usize,
    ) -> Option<impl Iterator<Item = u32> + Clone + '_> {
        let records = &self.trace.records;
        let from = self.index + ahead;
        (self.index.is_multiple_of(count) && from < records.len()).then(|| {
            (from..(from + count).min(records.len()))
                .map(|index| self.first_key + records.key(index))
        })
    }

    pub(super) fn read_through(&self) -> bool {
        self.trace.read_through
    }
}

#[cold]
fn unreachable_generated() -> ! {
    unreachable!("the kernel runs trace clients only")
}
