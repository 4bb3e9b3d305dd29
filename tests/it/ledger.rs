//! `ledger.csv` as written by `vanish run`: fields quoted as CSV requires, key names that look
//! like spreadsheet formulas neutralised, and every time to the microsecond.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::cli::{temp_dir, vanish, write_scenario, SMALL};

fn run(scenario: &str, out: &Path) -> String {
    let output = vanish(&["run", scenario, "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    fs::read_to_string(out.join("ledger.csv")).unwrap()
}

fn records(ledger: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(ledger.as_bytes())
        .records()
        .map(|record| record.unwrap())
        .collect()
}

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

#[test]
fn a_key_that_looks_like_a_formula_is_quoted_and_neutralised() {
    let dir = temp_dir("ledger-injection");
    fs::create_dir_all(dir.join("traces")).unwrap();
    let keys = ["=cmd|calc", "+1", "-2+3", "@SUM(A1)", "odd,key", "plain"];
    let mut trace = String::from("t_ms,op,key,value_size,ttl_ms\n");
    for (step, op) in ["SET", "DEL", "GET"].iter().enumerate() {
        for (index, key) in keys.iter().enumerate() {
            let quoted = format!("\"{}\"", key.replace('"', "\"\""));
            trace.push_str(&format!("{},{op},{quoted},10,0\n", step * 100 + index));
        }
    }
    fs::write(dir.join("traces/app.csv"), trace).unwrap();
    let path = write_scenario(
        &dir,
        "[scenario]\nname = \"injection\"\nseed = 1\nduration = \"1s\"\n\n\
         [[client]]\nname = \"app\"\ntrace = \"traces/app.csv\"\nformat = \"csv\"\n",
    );
    let ledger = run(&path, &dir.join("out"));
    assert!(ledger.contains(",\"'=cmd|calc\","), "{ledger}");
    assert!(ledger.contains(",\"'@SUM(A1)\","), "{ledger}");
    assert!(ledger.contains(",\"odd,key\","), "{ledger}");
    assert!(ledger.contains(",plain,"), "{ledger}");
    let rows = records(&ledger);
    let read_back: Vec<&str> = rows.iter().map(|row| &row[4]).collect();
    for key in [
        "'=cmd|calc",
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "odd,key",
        "plain",
    ] {
        assert!(read_back.contains(&key), "{key} in {read_back:?}");
    }
    for row in &rows {
        for field in row {
            assert!(!field.starts_with(FORMULA_STARTS), "{field} in {row:?}");
        }
    }
}

#[test]
fn removed_at_has_the_microseconds_of_the_removal_row() {
    let dir = temp_dir("ledger-precision");
    let path = write_scenario(&dir, SMALL);
    let rows = records(&run(&path, &dir.join("out")));
    // The last removal of each (db, key), as `time_s`.
    let mut removed: BTreeMap<(String, String), String> = BTreeMap::new();
    let (mut checked, mut sub_millisecond) = (0, 0);
    for row in &rows {
        let (time_s, db, key, event) = (&row[1], &row[3], &row[4], &row[5]);
        let place = (db.to_string(), key.to_string());
        if event == "removal" {
            removed.insert(place, time_s.to_string());
        } else if let Some(at) = row[8].strip_prefix("removed_at_s=") {
            let at = at.split(' ').next().unwrap();
            assert_eq!(Some(&at.to_string()), removed.get(&place), "{row:?}");
            checked += 1;
            sub_millisecond += usize::from(!at.ends_with("000"));
        }
    }
    assert!(checked > 100, "{checked} misses name their removal");
    assert!(
        sub_millisecond > 100,
        "{sub_millisecond} of {checked} below the ms"
    );
}

#[test]
fn every_row_names_its_node_replicas_included() {
    // The sink once knew only the primary's name: every replica row had an empty node.
    let dir = temp_dir("ledger-nodes");
    let with_replica = SMALL.replace(
        "[[client]]",
        "[[replica]]\nname = \"replica-1\"\nlag = \"50ms\"\n\n[[client]]",
    );
    let scenario = dir.join("replica.toml");
    fs::write(&scenario, with_replica).unwrap();
    let ledger = run(scenario.to_str().unwrap(), &dir.join("out"));
    let mut nodes: BTreeMap<String, u64> = BTreeMap::new();
    for record in records(&ledger) {
        *nodes.entry(record[2].to_string()).or_default() += 1;
    }
    assert!(!nodes.contains_key(""), "rows without a node: {nodes:?}");
    assert!(nodes["replica-1"] > 0 && nodes["primary"] > 0, "{nodes:?}");
}
