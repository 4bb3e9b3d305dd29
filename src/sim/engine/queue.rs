//! The event queue: a min-heap of (time µs, sequence, event), so equal times run in the order
//! they were scheduled, and a clock that only moves forward.
//!
//! Scheduling before the current time is a bug in the engine, never an input error: it would
//! make an event run "in the past" and silently reorder cause and effect, so it is asserted.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Event;

pub(super) struct EventQueue {
    heap: BinaryHeap<Reverse<(u64, u64, Event)>>,
    sequence: u64,
    now_us: u64,
}

impl EventQueue {
    pub(super) fn new() -> EventQueue {
        EventQueue {
            heap: BinaryHeap::new(),
            sequence: 0,
            now_us: 0,
        }
    }

    /// The virtual time of the event being handled.
    pub(super) fn now_us(&self) -> u64 {
        self.now_us
    }

    pub(super) fn schedule(&mut self, at_us: u64, event: Event) {
        assert!(
            at_us >= self.now_us,
            "{event:?} scheduled at {at_us} µs, before the current time {} µs",
            self.now_us
        );
        self.sequence += 1;
        self.heap.push(Reverse((at_us, self.sequence, event)));
    }

    /// The earliest event, with the clock moved to its time.
    pub(super) fn pop(&mut self) -> Option<(u64, Event)> {
        let Reverse((at_us, _, event)) = self.heap.pop()?;
        debug_assert!(at_us >= self.now_us);
        self.now_us = at_us;
        Some((at_us, event))
    }

    /// When the earliest queued event is due (`u64::MAX` when none is).
    pub(super) fn next_due_us(&self) -> u64 {
        self.heap
            .peek()
            .map_or(u64::MAX, |Reverse((at_us, _, _))| *at_us)
    }

    /// Moves the clock to an event handled without going through the heap (a client running
    /// ahead of every queued event).
    pub(super) fn advance_to(&mut self, now_us: u64) {
        assert!(
            now_us >= self.now_us && now_us < self.next_due_us(),
            "ran ahead to {now_us} µs out of order (now {} µs, next queued {} µs)",
            self.now_us,
            self.next_due_us()
        );
        self.now_us = now_us;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_scheduling_order() {
        let mut queue = EventQueue::new();
        queue.schedule(5, Event::Sample);
        queue.schedule(5, Event::Cron(1));
        queue.schedule(3, Event::Cron(2));
        assert_eq!(queue.pop(), Some((3, Event::Cron(2))));
        assert_eq!(queue.pop(), Some((5, Event::Sample)));
        assert_eq!(queue.pop(), Some((5, Event::Cron(1))));
        assert_eq!(queue.now_us(), 5);
        assert_eq!(queue.pop(), None);
    }

    #[test]
    #[should_panic(expected = "before the current time")]
    fn scheduling_in_the_past_is_refused() {
        let mut queue = EventQueue::new();
        queue.schedule(10, Event::Sample);
        queue.pop();
        queue.schedule(9, Event::Sample);
    }
}
