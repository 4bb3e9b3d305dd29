//! A node's counters: INFO Stats ([`NodeStats`]), and Commandstats and Errorstats
//! ([`CommandStats`]), one slot per command of the command table plus the administrative
//! commands the engine issues.

use crate::sim::server::command::{AdminCommand, CommandKind};
use crate::sim::server::protocol::ErrorReply;

const STAT_SLOTS: usize = CommandKind::ALL.len() + AdminCommand::ALL.len();

/// Modelled execution time of one command, for Commandstats `usec` (vanish does not measure
/// CPU; this keeps usec_per_call meaningful relative to work done).
const COMMAND_COST_US: u64 = 1;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// Counters INFO Stats reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeStats {
    pub total_commands_processed: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    /// EMA of the expired share of active-expire samples, as a fraction.
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub expire_cycle_cpu_us: u64,
    pub total_error_replies: u64,
    pub total_eviction_exceeded_time_ms: u64,
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
}

/// Which Commandstats row a call counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatSlot {
    Command(CommandKind),
    Admin(AdminCommand),
}

impl StatSlot {
    fn index(self) -> usize {
        match self {
            StatSlot::Command(kind) => kind as usize,
            StatSlot::Admin(command) => CommandKind::ALL.len() + command as usize,
        }
    }

    fn name(index: usize) -> String {
        match CommandKind::ALL.get(index) {
            Some(kind) => kind.name().to_ascii_lowercase(),
            None => AdminCommand::ALL[index - CommandKind::ALL.len()]
                .stat_name()
                .to_string(),
        }
    }
}

/// Commandstats (per command) and Errorstats (per error prefix).
#[derive(Debug, Clone)]
pub struct CommandStats {
    commands: [CommandStat; STAT_SLOTS],
    /// (error prefix, replies), sorted by prefix.
    errors: Vec<(&'static str, u64)>,
}

impl Default for CommandStats {
    fn default() -> Self {
        CommandStats {
            commands: [CommandStat::default(); STAT_SLOTS],
            errors: Vec::new(),
        }
    }
}

impl CommandStats {
    /// Counts one execution; true if it is the command's first (Redis then allocates its
    /// latency histogram).
    pub fn count_call(&mut self, slot: StatSlot) -> bool {
        let stat = &mut self.commands[slot.index()];
        let first = stat.calls == 0;
        stat.calls += 1;
        stat.usec += COMMAND_COST_US;
        first
    }

    /// Counts an error reply: `rejected` before execution (`rejected_calls`), else after
    /// (`failed_calls`).
    pub fn count_error(&mut self, slot: StatSlot, error: ErrorReply, rejected: bool) {
        let stat = &mut self.commands[slot.index()];
        if rejected {
            stat.rejected_calls += 1;
        } else {
            stat.failed_calls += 1;
        }
        let prefix = error.prefix();
        match self.errors.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, count)) => *count += 1,
            None => {
                self.errors.push((prefix, 1));
                self.errors.sort_unstable();
            }
        }
    }

    /// Commandstats rows: (Redis's lower-case name, counters), for commands ever called, by
    /// name.
    pub fn rows(&self) -> Vec<(String, CommandStat)> {
        let mut rows: Vec<(String, CommandStat)> = self
            .commands
            .iter()
            .enumerate()
            .filter(|(_, stat)| {
                stat.calls != 0 || stat.rejected_calls != 0 || stat.failed_calls != 0
            })
            .map(|(index, stat)| (StatSlot::name(index), *stat))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    }

    /// Errorstats: (error prefix, replies), sorted by prefix.
    pub fn errors(&self) -> &[(&'static str, u64)] {
        &self.errors
    }
}
