//! A plain-text comparison table: every fidelity test prints one (visible with `--nocapture`)
//! and puts it in its failure message, so a disagreement reads as simulated vs real, row by row.

/// The agreement criterion of the eviction tests: hit ratio within this many points...
pub const HIT_RATIO_TOLERANCE_PP: f64 = 1.0;
/// ...and evictions and OOM refusals within this share of the real figure...
pub const COUNT_TOLERANCE_PERCENT: f64 = 5.0;
/// ...or, below this many, within ±this (a handful of events is noise).
pub const COUNT_TOLERANCE_ABSOLUTE: u64 = 50;

/// Rows of cells under a header; the last column is the verdict.
pub struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    failures: usize,
}

impl Table {
    pub fn new(title: &str, header: &[&str]) -> Table {
        let mut header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        header.push("verdict".to_string());
        Table {
            title: title.to_string(),
            header,
            rows: Vec::new(),
            failures: 0,
        }
    }

    /// Adds a row; `ok` is whether it is within tolerance.
    pub fn row(&mut self, cells: Vec<String>, ok: bool) {
        if !ok {
            self.failures += 1;
        }
        let mut cells = cells;
        cells.push(if ok { "ok" } else { "DIFFERS" }.to_string());
        self.rows.push(cells);
    }

    /// Adds a row shown for context and not judged; `remark` fills the verdict column.
    pub fn note(&mut self, cells: Vec<String>, remark: &str) {
        let mut cells = cells;
        cells.push(remark.to_string());
        self.rows.push(cells);
    }

    pub fn failures(&self) -> usize {
        self.failures
    }

    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths = vec![0; columns];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |row: &[String]| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, cell)| format!("{cell:>width$}", width = widths[i]))
                .collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let mut out = format!("\n{}\n", self.title);
        out.push_str(&line(&self.header));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }

    /// Prints the table and panics with it if any row is out of tolerance.
    pub fn check(&self, tolerance: &str) {
        let text = self.render();
        println!("{text}tolerance: {tolerance}");
        assert!(
            self.failures == 0,
            "{} of {} rows differ beyond tolerance ({tolerance}):{text}",
            self.failures,
            self.rows.len()
        );
    }
}

/// `a` within `percent` % of `b`.
pub fn within_percent(a: f64, b: f64, percent: f64) -> bool {
    (a - b).abs() <= b.abs() * percent / 100.0
}

/// Signed relative difference of `simulated` from `real`, in percent.
pub fn diff_percent(simulated: f64, real: f64) -> String {
    if real == 0.0 {
        return if simulated == 0.0 {
            "0.00%".to_string()
        } else {
            "n/a".to_string()
        };
    }
    format!("{:+.2}%", (simulated - real) / real * 100.0)
}
