//! What `vanish compare` writes and prints: `compare.csv`, `compare.json`, the terminal table
//! and the data of the compare charts. The figures' columns come from
//! [`columns`](crate::report::columns).

use serde_json::{json, Map, Value};

use crate::grid::{Figures, Variant};
use crate::report::charts::CompareRow;
use crate::report::columns::{self, hit_ratio, loss_rate, Column};
use crate::report::json::by_cause;
use crate::report::summary::thousands;
use crate::sim::engine::RunOutput;
use crate::sim::ledger::Cause;

/// One variant of a comparison: what it was, its figures, and its output.
pub struct Compared {
    pub label: String,
    pub sets: Vec<String>,
    pub figures: Figures,
    pub output: RunOutput,
}

impl Compared {
    pub fn new(run: usize, variant: &Variant, output: RunOutput) -> Compared {
        Compared {
            label: variant.label.clone(),
            sets: variant.sets.clone(),
            figures: Figures::new(run, variant, &output),
            output,
        }
    }
}

/// The terminal table.
pub fn table(rows: &[Compared]) -> String {
    let width = rows.iter().map(|v| v.label.len()).fold(7, usize::max);
    // Runs that lose acknowledged writes (crashes, failovers, partitions) get that column.
    let losses = rows.iter().any(|r| r.figures.acknowledged_writes_lost > 0);
    let lost_header = if losses {
        format!("  {:>18}", "writes lost")
    } else {
        String::new()
    };
    let mut out = format!(
        "{:<width$}  {:>9}  {:>12}  {:>12}  {:>10}  {:>21}{lost_header}  top miss causes\n",
        "variant", "hit ratio", "misses", "evicted", "oom", "peak memory (primary)"
    );
    for row in rows {
        let figures = &row.figures;
        let lost = if losses {
            format!(
                "  {:>18}",
                format!(
                    "{} ({:.1}%)",
                    thousands(figures.acknowledged_writes_lost),
                    loss_rate(figures) * 100.0
                )
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{:<width$}  {:>8.2}%  {:>12}  {:>12}  {:>10}  {:>21}{lost}  {}\n",
            row.label,
            hit_ratio(figures) * 100.0,
            thousands(figures.misses),
            thousands(figures.evicted_keys),
            thousands(figures.oom_rejected),
            thousands(figures.peak_used_memory),
            top_miss_causes(figures)
        ));
    }
    out
}

/// The three causes that cost the most misses, largest first: "expired 1,204, evicted 96".
fn top_miss_causes(figures: &Figures) -> String {
    let mut causes: Vec<(Cause, u64)> = figures
        .misses_by_cause
        .by_cause()
        .map(|(cause, count)| (cause, *count))
        .filter(|(_, count)| *count > 0)
        .collect();
    causes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    causes
        .iter()
        .take(3)
        .map(|(cause, count)| format!("{} {}", cause.name(), thousands(*count)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `compare.csv`.
pub fn write_csv<W: std::io::Write>(output: W, rows: &[Compared]) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(output);
    let mut header = vec!["variant".to_string()];
    header.extend(columns::csv_header(&Column::COMPARE_CSV));
    writer
        .write_record(&header)
        .map_err(std::io::Error::other)?;
    for row in rows {
        let mut record = vec![row.label.clone()];
        record.extend(columns::csv_cells(&Column::COMPARE_CSV, &row.figures));
        writer
            .write_record(&record)
            .map_err(std::io::Error::other)?;
    }
    writer.flush()
}

/// `compare.json`.
pub fn to_json(rows: &[Compared]) -> Value {
    // compare.json has never carried expired_keys (compare.csv does).
    let json_columns: Vec<Column> = Column::COMPARE_CSV
        .into_iter()
        .filter(|column| *column != Column::ExpiredKeys)
        .collect();
    let variants: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut object = Map::new();
            object.insert("variant".to_string(), json!(row.label));
            object.insert("sets".to_string(), json!(row.sets));
            columns::json_fields(&json_columns, &row.figures, &mut object);
            object.insert(
                "lost_writes_by_cause".to_string(),
                Value::Object(by_cause(&row.output.totals.lost_writes_by_cause)),
            );
            Value::Object(object)
        })
        .collect();
    json!({ "variants": variants })
}

/// The compare charts' data: each variant's hit ratio and misses by cause.
pub fn chart_rows(rows: &[Compared]) -> Vec<CompareRow> {
    rows.iter()
        .map(|row| CompareRow::new(&row.label, &row.output))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_whose_peak_memory_it_shows() {
        let header = table(&[]);
        assert!(header.contains("  peak memory (primary)  "), "{header}");
    }
}
