//! Randomness, the only way it enters the core: one seeded ChaCha8 stream per entity, derived
//! from the scenario seed and the entity's stable name, and the distributions drawn from them
//! (Zipf, hot-set, normal, lognormal, exponential) with `libm` arithmetic so every platform
//! draws the same numbers (`estimate` speeds some of them up without changing one).

pub mod dist;
mod estimate;
pub mod rng;
