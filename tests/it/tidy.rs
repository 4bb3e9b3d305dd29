//! Architecture invariants checked on the source: the simulation core does no I/O, reads no
//! clock and iterates no hash map.

use std::fs;
use std::path::{Path, PathBuf};

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

/// Every Rust file under `src/sim/`, in subfolders too, in a fixed order.
fn core_files() -> Vec<PathBuf> {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim");
    let files: Vec<PathBuf> = source_files()
        .into_iter()
        .filter(|path| path.starts_with(&core))
        .collect();
    assert!(files.len() > 20, "found the core: {files:?}");
    assert!(files.iter().any(|f| f.ends_with("engine/links.rs")));
    files
}

#[test]
fn the_core_does_no_io_and_reads_no_clock() {
    let mut offences = Vec::new();
    for path in core_files() {
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
    for path in core_files() {
        let text = fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            assert!(
                !code.contains("crate::report")
                    && !code.contains("crate::scenario")
                    && !code.contains("crate::trace")
                    && !code.contains("crate::grid"),
                "{} depends on the shell: {line}",
                path.display()
            );
        }
    }
}

/// Every Rust file under `src/`, in a fixed order.
fn source_files() -> Vec<PathBuf> {
    let mut folders = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut files = Vec::new();
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn no_input_can_reach_a_panic() {
    // Scenarios, traces and flags reach only non-test code: there, a failure must be an error
    // with a message, never an unwrap, an expect or a panic. Test modules (`#[cfg(test)] mod
    // tests`, last in their file, or a `tests.rs` declared that way) may use them.
    let mut offences = Vec::new();
    for path in source_files() {
        if path.file_name().is_some_and(|name| name == "tests.rs") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let production = match text.find("#[cfg(test)]\nmod tests {") {
            Some(at) => &text[..at],
            None => &text[..],
        };
        for (number, line) in production.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for token in [".unwrap()", ".expect(", "panic!", "todo!", "unimplemented!"] {
                if code.contains(token) {
                    offences.push(format!("{}:{}: {token}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "a panic reachable from input:\n{}",
        offences.join("\n")
    );
    // The declared test modules really are test-only.
    for (module, parent) in [
        ("scenario", "src/scenario/mod.rs"),
        ("trace", "src/trace/mod.rs"),
    ] {
        let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(parent)).unwrap();
        assert!(
            text.contains("#[cfg(test)]\nmod tests;"),
            "{module}/tests.rs is compiled only for tests"
        );
    }
}
