//! Loading as a whole: fixtures written to a temporary folder, gzip, unreadable files, format
//! names, and every public trace in `../shared/traces` checked against its README's counts.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::{load, load_trace, LoadedTrace, Location, TraceError, TraceFormat};

/// A fresh file path per call, so tests running in parallel never share one.
fn fixture_path(extension: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let directory = std::env::temp_dir().join(format!("vanish-trace-{}", std::process::id()));
    let _ = fs::create_dir_all(&directory);
    let index = NEXT.fetch_add(1, Ordering::Relaxed);
    directory.join(format!("fixture-{index}.{extension}"))
}

/// Writes `bytes` to a temporary file named `*.extension` and loads it.
pub(super) fn load_fixture(
    extension: &str,
    bytes: &[u8],
    format: TraceFormat,
) -> Result<LoadedTrace, TraceError> {
    let path = fixture_path(extension);
    fs::write(&path, bytes).expect("write fixture");
    let loaded = load(&path, format);
    let _ = fs::remove_file(&path);
    loaded
}

/// The error loading `bytes` gives, without the path in front (`:3: expected ...`).
pub(super) fn fixture_error(extension: &str, bytes: &[u8], format: TraceFormat) -> String {
    let error = load_fixture(extension, bytes, format).expect_err("a broken fixture");
    let rendered = error.to_string();
    rendered
        .strip_prefix(error.path())
        .unwrap_or(&rendered)
        .to_string()
}

pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

#[test]
fn gz_files_are_decompressed_including_concatenated_members() {
    let mut bytes = gzip(b"t_ms,op,key,value_size,ttl_ms\n0,SET,a,1,0\n");
    bytes.extend(gzip(b"1,GET,a,0,0\n"));
    let loaded = load_fixture("csv.gz", &bytes, TraceFormat::Csv).expect("valid");
    assert_eq!(loaded.trace.records.len(), 2);
    assert_eq!(loaded.trace.key_names, ["a"]);
}

#[test]
fn broken_gz_files_are_errors_not_panics() {
    let mut bad_header = gzip(b"1\n2\n3\n");
    bad_header[0] ^= 0xff;
    let error = load_fixture("trace.gz", &bad_header, TraceFormat::Lirs).expect_err("corrupt");
    assert_eq!(error.location(), Location::Line(1));
    assert!(
        error.message().starts_with("cannot read the trace here: "),
        "{error}"
    );

    let lines: String = (0..10_000).map(|key| format!("{key}\n")).collect();
    let mut truncated = gzip(lines.as_bytes());
    truncated.truncate(truncated.len() / 2);
    let error = load_fixture("trace.gz", &truncated, TraceFormat::Lirs).expect_err("truncated");
    assert!(
        error.message().starts_with("cannot read the trace here: "),
        "{error}"
    );
}

#[test]
fn a_missing_file_names_the_path() {
    let path = fixture_path("csv");
    let error = load_trace(&path, TraceFormat::Csv).expect_err("missing");
    assert_eq!(error.location(), Location::File);
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}: cannot read the trace: ", path.display())),
        "{error}"
    );
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn formats_round_trip_their_names() {
    for format in TraceFormat::ALL {
        assert_eq!(TraceFormat::parse(format.name()), Some(format));
    }
    assert_eq!(
        TraceFormat::parse("Oracle-General"),
        Some(TraceFormat::OracleGeneral)
    );
    assert_eq!(TraceFormat::parse("oraclegeneral"), None);
}

#[test]
fn the_source_is_the_path_given() {
    let path = fixture_path("trace");
    fs::write(&path, "1\n").expect("write");
    let trace = load_trace(&path, TraceFormat::Lirs);
    let _ = fs::remove_file(&path);
    assert_eq!(trace.expect("valid").source, path.display().to_string());
}

/// One row of the README's table: file, format, requests, distinct keys.
struct Published {
    file: String,
    format: TraceFormat,
    requests: usize,
    distinct: usize,
}

fn published_counts(readme: &str) -> Vec<Published> {
    let number = |cell: &str| cell.trim().replace(',', "").parse::<usize>().ok();
    readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let file = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let format = if cells.get(2)?.starts_with("libCacheSim oracleGeneral") {
                TraceFormat::OracleGeneral
            } else if cells.get(2)?.starts_with("LIRS") {
                TraceFormat::Lirs
            } else {
                return None;
            };
            Some(Published {
                file: file.to_string(),
                format,
                requests: number(cells.get(3)?)?,
                distinct: number(cells.get(4)?)?,
            })
        })
        .collect()
}

/// Where the README's table disagrees with the file: (file, requests, distinct keys, why).
const ERRATA: [(&str, usize, usize, &str); 1] = [(
    "gli.trace.gz",
    6_015,
    2_529,
    "the table says 2,530 distinct keys, but the file's 6,015 integer lines hold 2,529 distinct \
     values however they are compared (as text or as numbers); its one blank line is not a key",
)];

#[test]
fn shared_traces_match_their_published_counts() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces");
    let Ok(readme) = fs::read_to_string(folder.join("README.md")) else {
        println!("skipped: ../shared/traces not found");
        return;
    };
    let table = published_counts(&readme);
    assert!(
        table.len() >= 11,
        "the README table has {} rows",
        table.len()
    );
    let mut files: Vec<String> = fs::read_dir(&folder)
        .expect("readable folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != "README.md")
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for file in &files {
        let Some(row) = table.iter().find(|row| &row.file == file) else {
            failures.push(format!("{file}: not in the README table"));
            continue;
        };
        match load_trace(&folder.join(file), row.format) {
            Err(error) => failures.push(error.to_string()),
            Ok(trace) => {
                let got = (trace.records.len(), trace.key_names.len());
                let expected = ERRATA.iter().find(|(name, ..)| name == file).map_or(
                    (row.requests, row.distinct),
                    |(_, requests, distinct, _)| (*requests, *distinct),
                );
                if got != expected {
                    failures.push(format!(
                        "{file}: expected {} requests and {} distinct keys, found {} and {}",
                        expected.0, expected.1, got.0, got.1
                    ));
                }
                if row.format == TraceFormat::OracleGeneral {
                    let bytes: u64 = trace
                        .records
                        .iter()
                        .map(|record| u64::from(record.value_size))
                        .sum();
                    // The README's "total request bytes" for cloudPhysicsIO.
                    if file.starts_with("cloudPhysicsIO") && bytes != 4_368_040_448 {
                        failures.push(format!("{file}: {bytes} request bytes"));
                    }
                }
            }
        }
    }
    for row in &table {
        if !files.contains(&row.file) {
            failures.push(format!(
                "{}: in the README table but not in the folder",
                row.file
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A fixed-seed linear congruential generator (Knuth's MMIX constants), as in the scenario tests.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

#[test]
fn mangled_traces_fail_cleanly_and_never_panic() {
    let monitor = "OK\n1795438220.415845 [0 127.0.0.1:51792] \"set\" \"sp ace\" \"q\\\"uo\\\\te\\n\\x01\" \"EX\" \"100\"\n\
                   1795438220.5 [3 [::1]:6379] \"mget\" \"a\" \"b\"\n\
                   1795438221.000001 [0 lua] \"mset\" \"a\" \"1\" \"b\" \"2\"\n\
                   1795438221.000002 [0 lua] \"set\" \"a\" \"1\" \"PXAT\" \"1795438221500\" \"NX\"\n";
    let csv = "t_ms,op,key,value_size,ttl_ms\n0,SET,\"a,\"\"b\",10,100\n5,GET,c,,\n7,EXPIRE,\"multi\nline\",0,5\n";
    let fixtures: [(&str, &[u8], TraceFormat); 4] = [
        ("monitor", monitor.as_bytes(), TraceFormat::Monitor),
        ("csv", csv.as_bytes(), TraceFormat::Csv),
        ("csv", b"1,a,10\n2,b,20\n2,a,10\n", TraceFormat::TimeIdSize),
        ("trace", b"1\n*\n22\n333\n", TraceFormat::Lirs),
    ];
    let replacements = b"\"\\,.[] \n\r*x0123456789-";
    let mut random = Lcg(0x7ace);
    for (extension, good, format) in fixtures {
        load_fixture(extension, good, format).unwrap_or_else(|error| panic!("{error}"));
        for round in 0..150 {
            let mut bytes = good.to_vec();
            if round % 3 == 0 {
                bytes.truncate(random.below(bytes.len()));
            }
            for _ in 0..=random.below(3) {
                if bytes.is_empty() {
                    break;
                }
                let position = random.below(bytes.len());
                bytes[position] = replacements[random.below(replacements.len())];
            }
            let outcome = std::panic::catch_unwind(|| load_fixture(extension, &bytes, format));
            match outcome {
                Err(_) => panic!(
                    "{format:?} panicked on {:?}",
                    String::from_utf8_lossy(&bytes)
                ),
                Ok(Ok(_)) => {}
                Ok(Err(error)) => assert!(
                    !error.message().is_empty() && !error.path().is_empty(),
                    "{error}"
                ),
            }
        }
    }
}

#[test]
fn a_device_is_refused_before_anything_is_read() {
    for format in [
        TraceFormat::Csv,
        TraceFormat::Lirs,
        TraceFormat::OracleGeneral,
    ] {
        let error = load(Path::new("/dev/zero"), format).expect_err("a device");
        assert_eq!(error.location(), Location::File);
        assert!(
            error.message().starts_with("expected a regular file"),
            "{error}"
        );
    }
    let folder = std::env::temp_dir();
    let error = load(&folder, TraceFormat::Csv).expect_err("a folder");
    assert!(
        error.message().starts_with("expected a regular file"),
        "{error}"
    );
}

#[test]
fn a_gz_bomb_of_one_long_line_stops_at_the_line_limit() {
    // Gzip members of 1 MiB of digits each, concatenated: 80 MiB without a line break, from a
    // file of a few hundred KiB. Reading stops at the limit (64 MiB), with the line's number.
    let member = gzip(&vec![b'7'; 1 << 20]);
    let mut bomb = gzip(b"1\n2\n");
    for _ in 0..80 {
        bomb.extend_from_slice(&member);
    }
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let error = load_fixture("trace.gz", &bomb, TraceFormat::Lirs).expect_err("too long");
    assert_eq!(error.location(), Location::Line(3));
    assert_eq!(
        error.message(),
        format!(
            "expected a line of at most {} bytes, found a longer one (is this the declared \
             format?)",
            super::LINE_BYTES_MAX
        )
    );
}

#[test]
fn an_oracle_file_of_partial_records_is_refused_before_reading() {
    let error = fixture_error("bin", &[0u8; 24 * 3 + 5], TraceFormat::OracleGeneral);
    assert_eq!(
        error,
        ": expected 24-byte records, found 77 bytes, which is not a multiple of 24 (is this an \
         oracleGeneral trace?)"
    );
}
