//! vanish's integration tests, one binary grouped by area.

mod charts;
mod cli;
mod crosscheck;
mod diagnose;
mod eviction;
mod expiry;
mod explain;
mod faults;
mod html;
mod ledger;
mod limits;
mod memory;
mod outdir;
mod replay_kernel;
mod replication;
mod reproduce;
mod scenarios;
mod support;
mod sweep;
mod tidy;
mod trace;
mod vopr;
