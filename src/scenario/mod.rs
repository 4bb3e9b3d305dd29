//! TEMPORARY STUB — replaced by the scenario parser.
use crate::sim::config::SimConfig;
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub sets: Vec<String>,
}
#[derive(Debug)]
pub struct ScenarioError(pub String);
impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
pub fn parse(_source: &str, _text: &str, _o: &Overrides) -> Result<SimConfig, ScenarioError> {
    Err(ScenarioError("stub".into()))
}
