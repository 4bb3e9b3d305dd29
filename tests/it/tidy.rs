//! Architecture invariants checked on the source: the simulation core does no I/O, reads no
//! clock and iterates no hash map.

use std::fs;
use std::path::Path;

const FORBIDDEN_IN_CORE: [&str; 9] = [
    "std::fs",
    "std::env",
    "std::io",
    "std::net",
    "Instant",
    "SystemTime",
    "RandomState",
    "println!",
    "thread_rng",
];

/// Hash maps are allowed only with a fixed, seedless hasher (`BuildHasherDefault`), whose
/// iteration order is the same on every run; std's default `RandomState` is not.
fn hash_map_line_is_seedless(file_text: &str, code: &str) -> bool {
    let mentions = code.contains("HashMap") || code.contains("HashSet");
    !mentions
        || code.contains("BuildHasherDefault")
        || (code.trim_start().starts_with("use ") && file_text.contains("BuildHasherDefault"))
}

#[test]
fn the_core_does_no_io_and_reads_no_clock() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim");
    let mut offences = Vec::new();
    for entry in fs::read_dir(&core).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for token in FORBIDDEN_IN_CORE {
                if code.contains(token) {
                    offences.push(format!("{}:{}: {token}", path.display(), number + 1));
                }
            }
            if !hash_map_line_is_seedless(&text, code) {
                offences.push(format!(
                    "{}:{}: a HashMap/HashSet without a fixed hasher",
                    path.display(),
                    number + 1
                ));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the core must stay pure:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_core_imports_nothing_from_the_shell() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim");
    for entry in fs::read_dir(&core).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            assert!(
                !code.contains("crate::report")
                    && !code.contains("crate::scenario")
                    && !code.contains("crate::trace")
                    && !code.contains("crate::compare"),
                "{} depends on the shell: {line}",
                path.display()
            );
        }
    }
}
