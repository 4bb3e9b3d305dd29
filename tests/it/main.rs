//! vanish's integration tests, one binary grouped by area.

mod expiry;
mod memory;
mod support;
