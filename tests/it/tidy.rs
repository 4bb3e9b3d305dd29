//! Architecture invariants checked on the source, as ARCHITECTURE.md states them: the
//! simulation core does no I/O, reads no clock, iterates no hash map and takes its
//! transcendental floats from libm; each layer imports only the layers below it; files,
//! threads and the terminal each belong to named places.

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

/// The non-test part of a source file.
fn production(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// `path` relative to the crate, with `/` separators.
fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// Lines of non-test code outside `allowed` (files or folders) that use one of `tokens`.
fn offences(tokens: &[&str], allowed: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for path in source_files() {
        let name = relative(&path);
        if name.ends_with("/tests.rs") || allowed.iter().any(|a| name.starts_with(a)) {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        for (number, line) in production(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for token in tokens {
                if code.contains(token) {
                    found.push(format!("{name}:{}: {token}", number + 1));
                }
            }
        }
    }
    found
}

#[test]
fn files_threads_and_the_terminal_each_have_their_place() {
    let files = offences(
        &[
            "std::fs",
            " fs::",
            "(fs::",
            "File::open",
            "File::create",
            "OpenOptions",
        ],
        &[
            "src/main.rs",
            "src/report/files.rs",
            "src/scenario/mod.rs",
            "src/trace/input.rs",
        ],
    );
    assert!(
        files.is_empty(),
        "files read or written elsewhere:\n{}",
        files.join("\n")
    );
    // `live` is the one client of a real server: every other module stays off the network.
    let network = offences(
        &["std::net", "TcpStream", "redis::", "UdpSocket"],
        &["src/live.rs"],
    );
    assert!(
        network.is_empty(),
        "network connections opened elsewhere:\n{}",
        network.join("\n")
    );
    let threads = offences(
        &["rayon", "std::thread", "thread::spawn"],
        &["src/main.rs", "src/grid/"],
    );
    assert!(
        threads.is_empty(),
        "threads started elsewhere:\n{}",
        threads.join("\n")
    );
    let terminal = offences(
        &[
            "println!",
            "eprintln!",
            "print!(",
            "eprint!(",
            "indicatif",
            "stdout()",
            "stderr()",
        ],
        &["src/main.rs"],
    );
    assert!(
        terminal.is_empty(),
        "the terminal used elsewhere:\n{}",
        terminal.join("\n")
    );
}

#[test]
fn the_core_takes_transcendental_floats_from_libm() {
    // The platform's ln/exp/powf differ in the last bits between machines; libm's do not.
    let platform = [
        ".ln(", ".exp(", ".powf(", ".powi(", ".log10(", ".log2(", ".exp2(", ".ln_1p(", ".exp_m1(",
        ".sin(", ".cos(", ".tan(", ".cbrt(", ".hypot(",
    ];
    let found = offences(
        &platform,
        &[
            "src/main.rs",
            "src/grid/",
            "src/report/",
            "src/scenario/",
            "src/trace/",
            "src/vopr.rs",
            "src/lib.rs",
            // Estimates used only where a margin proves libm decides the same (its docs).
            "src/sim/random/estimate.rs",
        ],
    );
    assert!(
        found.is_empty(),
        "platform floats in the core:\n{}",
        found.join("\n")
    );
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    // Bottom to top: sim, trace, scenario, grid, report, vopr, diagnose; `live` beside them;
    // main.rs uses them all.
    let below: [(&str, &[&str]); 8] = [
        ("src/sim/", &[]),
        ("src/trace/", &["sim"]),
        ("src/scenario/", &["sim", "trace"]),
        ("src/grid/", &["sim", "trace", "scenario"]),
        ("src/report/", &["sim", "grid"]),
        ("src/vopr.rs", &["sim", "scenario"]),
        // Reads INFO text, writes and runs scenarios, reads the simulated INFO back.
        ("src/diagnose/", &["sim", "scenario", "report"]),
        // The network client: it knows nothing of the rest.
        ("src/live.rs", &[]),
    ];
    let layers = [
        "sim", "trace", "scenario", "grid", "report", "vopr", "diagnose", "live",
    ];
    let mut found = Vec::new();
    for path in source_files() {
        let name = relative(&path);
        let Some((layer, allowed)) = below.iter().find(|(l, _)| name.starts_with(l)) else {
            continue;
        };
        let text = fs::read_to_string(&path).unwrap();
        for (number, line) in production(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for other in layers {
                let used = code.contains(&format!("crate::{other}::"))
                    || code.contains(&format!("crate::{other};"))
                    || code.contains(&format!("crate::{other}::{{"));
                if used && !layer.contains(other) && !allowed.contains(&other) {
                    found.push(format!("{name}:{}: uses {other}", number + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "a layer imports one above it:\n{}",
        found.join("\n")
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
        for (number, line) in production(&text).lines().enumerate() {
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
