//! `vanish diagnose` and `vanish from-info` on INFO dump files, through the built binary: the
//! text and JSON of a diagnosis, errors naming the file and line, and a written scenario that
//! `vanish check` accepts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vanish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vanish"))
        .args(args)
        .output()
        .unwrap()
}

fn folder(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("vanish-it-diagnose-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dump(uptime: u64, expired: u64, gets: u64, hits: u64, misses: u64) -> String {
    format!(
        "# Server\r\nredis_version:7.0.15\r\nrun_id:abc\r\nuptime_in_seconds:{uptime}\r\n\r\n\
         # Clients\r\nconnected_clients:3\r\n\r\n# Memory\r\nused_memory:2000000\r\n\
         used_memory_dataset:500000\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n\r\n\
         # Persistence\r\naof_enabled:0\r\n\r\n# Stats\r\nexpired_keys:{expired}\r\n\
         evicted_keys:0\r\nkeyspace_hits:{hits}\r\nkeyspace_misses:{misses}\r\n\r\n\
         # Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n\r\n\
         # Commandstats\r\ncmdstat_get:calls={gets},usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n\
         cmdstat_set:calls={gets},usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n\r\n\
         # Errorstats\r\n\r\n# Keyspace\r\ndb0:keys=1000,expires=500,avg_ttl=2000\r\n"
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_pair_of_dumps_is_diagnosed_in_text_and_json() {
    let dir = folder("pair");
    let before = write(&dir, "before.txt", &dump(100, 0, 1000, 800, 200));
    let after = write(&dir, "after.txt", &dump(160, 2400, 3000, 2400, 600));
    let text = vanish(&["diagnose", &before, &after]);
    assert!(text.status.success());
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("1. expired"), "{stdout}");
    assert!(
        stdout.contains("keys expire at 40.0/s while avg_ttl is 2.0 s"),
        "{stdout}"
    );
    let json = vanish(&["diagnose", &before, &after, "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["causes"][0]["cause"], "expired");
    assert_eq!(value["causes"][0]["keys"], 2400);
    assert_eq!(value["causes"][0]["evidence"]["expired_keys"], 2400);
    assert_eq!(value["interval_s"], 60);
    // The same dumps give the same bytes.
    assert_eq!(
        json.stdout,
        vanish(&["diagnose", &before, &after, "--json"]).stdout
    );
}

#[test]
fn bad_dumps_name_their_line() {
    let dir = folder("bad");
    let good = write(&dir, "good.txt", &dump(100, 0, 10, 5, 5));
    let cut = dump(160, 5, 20, 10, 10);
    let cut = write(&dir, "cut.txt", &cut[..cut.len() - 30]);
    let output = vanish(&["diagnose", &good, &cut]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines = std::fs::read_to_string(&cut).unwrap().lines().count();
    assert!(stderr.contains(&format!("cut.txt:{lines}: ")), "{stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");
    let foreign = write(&dir, "foreign.csv", "t_ms,op,key\n1,GET,a\n");
    let output = vanish(&["diagnose", &foreign]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("foreign.csv:1: not an INFO dump"));
}

#[test]
fn from_info_writes_a_scenario_that_check_accepts() {
    let dir = folder("from-info");
    let before = write(&dir, "before.txt", &dump(100, 0, 1000, 800, 200));
    let after = write(&dir, "after.txt", &dump(110, 100, 3000, 2400, 600));
    let config = write(
        &dir,
        "config.txt",
        "maxmemory\n0\nhz\n10\nsave\n\nappendonly\nno\n",
    );
    let out = dir.join("scenario.toml").display().to_string();
    let output = vanish(&[
        "from-info",
        &before,
        &after,
        "--config",
        &config,
        "-o",
        &out,
        "-q",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("commands = { GET = 2000, SET = 2000 }"),
        "{text}"
    );
    assert!(
        text.contains("ttl = { share = 0.5000, min = \"4000ms\""),
        "{text}"
    );
    assert!(text.contains("connections = 2"), "{text}");
    let check = vanish(&["check", &out]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
