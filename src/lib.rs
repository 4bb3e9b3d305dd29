//! vanish: a deterministic discrete-event simulator of Redis key disappearance.
//!
//! The layers, bottom to top, each importing only those below it (checked by `tests/it/tidy.rs`):
//! `sim` is the pure core (no files, clock, threads, terminal or environment); `trace` reads
//! recorded workloads and `scenario` reads scenario files into the core's validated
//! configuration (the only readers of files besides the binary); `grid` runs variants of a
//! scenario on a thread pool (the only threads); `report` formats what runs produced into any
//! `io::Write`, with `report::files` the only writer of files; `vopr` generates random worlds
//! and checks them. The binary (`src/main.rs`) parses flags, owns the terminal and the output
//! folder, and picks exit codes.

pub mod diagnose;
pub mod grid;
pub mod live;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod trace;
pub mod vopr;
