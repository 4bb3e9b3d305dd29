//! Scenario files: TOML text (plus command-line overrides) in, a validated `SimConfig` out.
//!
//! Reading happens in four steps: parse the TOML syntax into a spanned document
//! (`raw::parse_document`), apply `--set` overrides to that document (`overrides`), read it into
//! the serde mirror that checks its shape (`raw`), then check meaning, ranges and units while
//! building the `SimConfig` (`validate`, with per-value checks in `check`, one table per keyword
//! choice in `keywords`, ranges and limits in `limits`, unit parsing in `units`, events in
//! `events`, replication in `replicas`, and Sentinel, client connections and partitions in
//! `faults`). Any failure is a `ScenarioError` naming the file, line, column and field (`error`).
//! `load` reads the scenario file; validation reads the traces that trace clients replay
//! (`trace_client`, through `crate::trace`), relative to the scenario file's folder.
//! `effective_text` writes the overridden document back as TOML, the scenario a run really used
//! (`effective`).

mod check;
mod effective;
mod error;
pub mod estimate;
mod events;
mod faults;
mod keywords;
mod limits;
mod output_limits;
mod overrides;
mod raw;
mod replicas;
mod trace_client;
pub mod units;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

use crate::sim::config::SimConfig;

pub use error::ScenarioError;
pub use estimate::Estimate;

use error::{Problem, Sources};
use trace_client::TraceFiles;

/// Changes requested on the command line, applied before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--seed`: replaces `scenario.seed`, which the file may then omit.
    pub seed: Option<u64>,
    /// `--set section.key=value` entries, in order; later entries win.
    pub sets: Vec<String>,
}

/// Reads and validates the scenario file at `path`.
pub fn load(path: &Path, overrides: &Overrides) -> Result<SimConfig, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|io| ScenarioError::unreadable(path, io))?;
    parse(&path.display().to_string(), &text, overrides)
}

/// Validates scenario `text`; `source_name` is what error messages call the file, and its folder
/// is where trace paths start.
pub fn parse(
    source_name: &str,
    text: &str,
    overrides: &Overrides,
) -> Result<SimConfig, ScenarioError> {
    let sources = Sources::new(source_name, text, &overrides.sets);
    let folder = Path::new(source_name).parent().unwrap_or(Path::new(""));
    let traces = TraceFiles::relative_to(folder);
    read(text, overrides, &sources, &traces).map_err(|problem| sources.locate(problem))
}

/// The scenario `parse` would validate, as TOML text: `--set` overrides applied, the seed
/// (`--seed`, else the file's) written in, comments and layout not kept. With `trace_folder`,
/// relative trace paths are joined to it, so the text runs from any folder; without, they stay
/// as written (what a sweep's digest needs, to agree across machines).
pub fn effective_text(
    source_name: &str,
    text: &str,
    overrides: &Overrides,
    trace_folder: Option<&Path>,
) -> Result<String, ScenarioError> {
    let sources = Sources::new(source_name, text, &overrides.sets);
    effective::render(
        text,
        &overrides.sets,
        overrides.seed,
        &sources,
        trace_folder,
    )
    .map_err(|problem| sources.locate(problem))
}

fn read(
    text: &str,
    overrides: &Overrides,
    sources: &Sources<'_>,
    traces: &TraceFiles,
) -> Result<SimConfig, Problem> {
    let mut document = raw::parse_document(text)?;
    overrides::apply(document.get_mut(), &overrides.sets, sources)?;
    let raw = raw::deserialize(document)?;
    validate::validate(&raw, overrides.seed, traces)
}
