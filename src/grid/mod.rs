//! Grids of scenario variants, shared by `vanish compare` and `vanish sweep`: the axes (lists or
//! geometric ranges) and the grid they span, each point as a validated [`Variant`], running the
//! variants on the current rayon pool and collecting them in order, each run's [`Figures`]
//! (computed once from its output, or from the one-pass LRU curve), and the deterministic shards
//! of a grid that `vanish merge` joins again.
//!
//! Nothing here formats output: `report::sweep` and `report::compare` write what the grid
//! produced, and `report::target` judges it against a target.

mod axes;
mod fast;
mod figures;
mod shard;
mod variant;

pub use axes::{
    check_distinct, check_grid_size, grid_size, points, worker_threads, Axis, RUNS_FORCED_MAX,
    RUNS_MAX,
};
pub use fast::fast_rows;
pub use figures::Figures;
pub use shard::{check_shards, merge_runs, scenario_digest, Shard};
pub use variant::{build_variants, run_variants, Variant};
