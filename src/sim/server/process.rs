//! Whether a node's process runs. Only the state; the transitions (crash, kill, pause, resume,
//! restart) are in `lifecycle.rs`.

/// Whether a node's process runs, and if not, how it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// Serving commands.
    Running,
    /// Stopped (SIGSTOP): it answers nothing until resumed, and its connections stay open.
    Paused,
    /// The process died (`kill`); its machine answers connections with a refusal.
    Killed,
    /// The machine failed (`crash`): nothing answers, not even with a refusal, and a Sentinel
    /// running beside it is gone.
    MachineDown,
}
