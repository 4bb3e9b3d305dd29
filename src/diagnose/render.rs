//! A diagnosis as text for the terminal and as the `--json` object: fixed precision, causes in
//! their ranked order, evidence sorted by counter.

use serde_json::{json, Map, Value};

use crate::diagnose::reason::{Diagnosis, Evidence, Finding};

/// What the dumps were: "before.txt → after.txt" or a URL.
pub struct Origin {
    pub before: Option<String>,
    pub after: String,
}

fn interval_text(diagnosis: &Diagnosis) -> String {
    let seconds = diagnosis
        .interval_s
        .map_or("an unknown time".to_string(), |s| format!("{s} s"));
    if diagnosis.single {
        format!("one dump: counters since the server started ({seconds} ago)")
    } else if diagnosis.restarted {
        format!("the server restarted in between: counters since the restart ({seconds})")
    } else {
        format!("{seconds} apart")
    }
}

fn evidence_text(evidence: &[(String, Evidence)]) -> String {
    evidence
        .iter()
        .map(|(name, value)| match value {
            Evidence::Number(n) => format!("{name}={n}"),
            Evidence::Text(t) => format!("{name}={t}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The terminal's diagnosis.
pub fn text(origin: &Origin, diagnosis: &Diagnosis) -> String {
    let mut out = String::new();
    let dumps = match &origin.before {
        Some(before) => format!("{before} → {}", origin.after),
        None => origin.after.clone(),
    };
    out.push_str(&format!(
        "vanish diagnose · {dumps} · {}\n",
        interval_text(diagnosis)
    ));
    if diagnosis.causes.is_empty() {
        out.push_str("nothing vanished: no counter shows a key removed, refused or lost\n");
    } else {
        out.push_str("causes, most keys first\n");
        for (rank, finding) in diagnosis.causes.iter().enumerate() {
            let keys = finding
                .keys
                .map_or("keys unknown".to_string(), |n| format!("{n} keys"));
            out.push_str(&format!("  {}. {:<20} {keys}\n", rank + 1, finding.cause));
            out.push_str(&format!(
                "     evidence: {}\n",
                evidence_text(&finding.evidence)
            ));
            out.push_str(&format!("     next: {}\n", finding.next_step));
        }
    }
    out.push_str("counters cannot tell\n");
    for note in &diagnosis.cannot_tell {
        out.push_str(&format!("  - {note}\n"));
    }
    if !diagnosis.not_available.is_empty() {
        out.push_str(&format!(
            "not available (not in the dumps): {}\n",
            diagnosis.not_available.join(", ")
        ));
    }
    out
}

fn finding_json(finding: &Finding) -> Value {
    let evidence: Map<String, Value> = finding
        .evidence
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Evidence::Number(n) => json!(n),
                Evidence::Text(t) => json!(t),
            };
            (name.clone(), value)
        })
        .collect();
    json!({
        "cause": finding.cause,
        "keys": finding.keys,
        "evidence": evidence,
        "next_step": finding.next_step,
    })
}

/// The `--json` object.
pub fn json(origin: &Origin, diagnosis: &Diagnosis) -> Value {
    json!({
        "before": origin.before,
        "after": origin.after,
        "interval_s": diagnosis.interval_s,
        "single_dump": diagnosis.single,
        "restarted": diagnosis.restarted,
        "db": diagnosis.db,
        "causes": diagnosis.causes.iter().map(finding_json).collect::<Vec<_>>(),
        "cannot_tell": diagnosis.cannot_tell,
        "not_available": diagnosis.not_available,
    })
}
