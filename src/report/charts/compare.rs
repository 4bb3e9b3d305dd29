//! The charts of `vanish compare`: each variant's hit ratio, and its misses split by cause, as
//! horizontal bars (variant labels such as `allkeys-lru 64mb` stay readable), the first variant
//! on top.

use crate::sim::ledger::PerCause;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::{
    axis_top, format_count, frame, note_on_plot, text_style, trim_float, LegendEntry, Mark,
    AXIS_COLOUR, AXIS_DESC_PX, GRID_COLOUR, NOTE_PX, PLOT_MARGIN_PX, TICK_PX, X_LABEL_AREA_PX,
};
use super::{cause_colour, render, Chart, ChartError, Rendered, BAR_COLOUR};
use crate::report::ratio;
use crate::report::summary::thousands;
use crate::sim::engine::RunOutput;
use crate::sim::ledger::Cause;

/// One variant of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    pub label: String,
    /// Hits over reads, from 0 to 1.
    pub hit_ratio: f64,
    /// Indexed by `Cause::index()`.
    pub misses_by_cause: PerCause<u64>,
}

impl CompareRow {
    pub fn new(label: impl Into<String>, output: &RunOutput) -> CompareRow {
        CompareRow {
            label: label.into(),
            hit_ratio: ratio(output.hits, output.reads),
            misses_by_cause: output.totals.misses_by_cause,
        }
    }
}

/// `compare-hit-ratio` and `compare-misses`, in that order.
pub fn compare_charts(rows: &[CompareRow]) -> Result<Vec<Rendered>, ChartError> {
    Ok(vec![
        render(
            "compare-hit-ratio",
            "Hit ratio by variant",
            &HitRatioBars { rows },
        )?,
        render(
            "compare-misses",
            "Misses by cause, by variant",
            &MissBars { rows },
        )?,
    ])
}

/// Longest variant label drawn in full; longer ones end in `…`.
const LABEL_WIDTH_MAX_PX: u32 = 380;
/// A bar fills this share of its row.
const BAR_SHARE: f64 = 0.64;

type BarChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Rows laid out top down: row `i` is the band [n-1-i, n-i] of the y axis.
struct Rows {
    labels: Vec<String>,
    label_px: u32,
}

impl Rows {
    fn new<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        labels: impl Iterator<Item = String>,
    ) -> Result<Rows, ChartError> {
        let labels: Vec<String> = labels.collect();
        // Rows must not be shorter than their text: shrink the labels for long comparisons.
        let row_px = 520 / labels.len().max(1) as u32;
        let label_px = (row_px * 3 / 4).clamp(9, TICK_PX);
        let style = text_style(label_px);
        let mut fitted = Vec::with_capacity(labels.len());
        for label in labels {
            fitted.push(fit(root, label, &style, LABEL_WIDTH_MAX_PX)?);
        }
        Ok(Rows {
            labels: fitted,
            label_px,
        })
    }

    fn len(&self) -> usize {
        self.labels.len()
    }

    /// The y band of row `index`: (bottom, top) of its bar.
    fn bar(&self, index: usize) -> (f64, f64) {
        let base = (self.len() - 1 - index) as f64;
        let gap = (1.0 - BAR_SHARE) / 2.0;
        (base + gap, base + 1.0 - gap)
    }

    fn centre(&self, index: usize) -> f64 {
        (self.len() - 1 - index) as f64 + 0.5
    }

    fn label_area_px<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<u32, ChartError> {
        let style = text_style(self.label_px);
        let mut widest = 0;
        for label in &self.labels {
            widest = widest.max(root.estimate_text_size(label, &style)?.0);
        }
        Ok((widest + 24).max(60))
    }

    /// Axes with the value across and the rows down, and the rows' labels left of the plot.
    fn axes<'a, DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plot: &'a DrawingArea<DB, Shift>,
        x_top: f64,
        x_desc: &str,
        x_format: &dyn Fn(&f64) -> String,
    ) -> Result<BarChart<'a, DB>, ChartError> {
        let mut chart = ChartBuilder::on(plot)
            .margin(PLOT_MARGIN_PX)
            .x_label_area_size(X_LABEL_AREA_PX)
            .y_label_area_size(self.label_area_px(root)?)
            .build_cartesian_2d(0.0..x_top, 0.0..self.len().max(1) as f64)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .x_labels(10)
            .y_labels(0)
            .disable_y_mesh()
            .x_label_formatter(x_format)
            .axis_desc_style(text_style(AXIS_DESC_PX))
            .label_style(text_style(TICK_PX))
            .axis_style(AXIS_COLOUR)
            .bold_line_style(GRID_COLOUR)
            .light_line_style(TRANSPARENT)
            .draw()?;
        let style = text_style(self.label_px).pos(Pos::new(HPos::Right, VPos::Center));
        for (index, label) in self.labels.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(0.0, self.centre(index)));
            root.draw(&Text::new(label.clone(), (x - 10, y), style.clone()))?;
        }
        Ok(chart)
    }
}

/// `text`, cut to `width_px` with an ellipsis if it is wider.
fn fit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: String,
    style: &TextStyle,
    width_px: u32,
) -> Result<String, ChartError> {
    if root.estimate_text_size(&text, style)?.0 <= width_px {
        return Ok(text);
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().chain(['…'].iter()).collect();
        if root.estimate_text_size(&candidate, style)?.0 <= width_px {
            return Ok(candidate);
        }
    }
    Ok("…".to_string())
}

struct HitRatioBars<'a> {
    rows: &'a [CompareRow],
}

impl Chart for HitRatioBars<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), ChartError> {
        let plot = frame(root, title, &[])?;
        let rows = Rows::new(root, self.rows.iter().map(|r| r.label.clone()))?;
        let chart = rows.axes(root, &plot, 100.0, "hit ratio (%)", &|v| trim_float(*v, 1))?;
        if self.rows.is_empty() {
            return note_on_plot(&plot, "no variants");
        }
        let value_style = text_style(NOTE_PX.min(rows.label_px));
        for (index, row) in self.rows.iter().enumerate() {
            let percent = (row.hit_ratio * 100.0).clamp(0.0, 100.0);
            let (bottom, top) = rows.bar(index);
            chart.plotting_area().draw(&Rectangle::new(
                [(0.0, bottom), (percent, top)],
                BAR_COLOUR.filled(),
            ))?;
            // The value inside the bar's end when it fits there, else just past it.
            let text = format!("{:.2} %", row.hit_ratio * 100.0);
            let (text_px, _) = root.estimate_text_size(&text, &value_style)?;
            let (x0, _) = chart.backend_coord(&(0.0, 0.0));
            let (x, y) = chart.backend_coord(&(percent, rows.centre(index)));
            let inside = x - x0 > text_px as i32 + 16;
            let style = if inside {
                value_style
                    .clone()
                    .color(&WHITE)
                    .pos(Pos::new(HPos::Right, VPos::Center))
            } else {
                value_style
                    .clone()
                    .color(&AXIS_COLOUR)
                    .pos(Pos::new(HPos::Left, VPos::Center))
            };
            let at = if inside { (x - 8, y) } else { (x + 8, y) };
            root.draw(&Text::new(text, at, style))?;
        }
        Ok(())
    }
}

struct MissBars<'a> {
    rows: &'a [CompareRow],
}

impl Chart for MissBars<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), ChartError> {
        let causes: Vec<Cause> = Cause::ALL
            .into_iter()
            .filter(|cause| self.rows.iter().any(|r| r.misses_by_cause[cause] > 0))
            .collect();
        let legend: Vec<LegendEntry> = causes
            .iter()
            .map(|cause| LegendEntry::new(Mark::Area(cause_colour(*cause)), cause.name()))
            .collect();
        let plot = frame(root, title, &legend)?;
        let rows = Rows::new(root, self.rows.iter().map(|r| r.label.clone()))?;
        let totals: Vec<u64> = self
            .rows
            .iter()
            .map(|r| causes.iter().map(|c| r.misses_by_cause[c]).sum())
            .collect();
        let largest = totals.iter().copied().fold(0, u64::max) as f64;
        // Room right of the longest bar for its total.
        let x_top = axis_top(largest * 1.12);
        let chart = rows.axes(root, &plot, x_top, "misses", &|v| format_count(*v))?;
        if self.rows.is_empty() {
            return note_on_plot(&plot, "no variants");
        }
        if causes.is_empty() {
            return note_on_plot(&plot, "no misses in any variant");
        }
        let value_style = text_style(NOTE_PX.min(rows.label_px))
            .color(&AXIS_COLOUR)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (index, row) in self.rows.iter().enumerate() {
            let (bottom, top) = rows.bar(index);
            let mut start = 0.0;
            for cause in &causes {
                let count = row.misses_by_cause[cause] as f64;
                if count > 0.0 {
                    chart.plotting_area().draw(&Rectangle::new(
                        [(start, bottom), (start + count, top)],
                        cause_colour(*cause).filled(),
                    ))?;
                }
                start += count;
            }
            let (x, y) = chart.backend_coord(&(start, rows.centre(index)));
            root.draw(&Text::new(
                thousands(totals[index]),
                (x + 8, y),
                value_style.clone(),
            ))?;
        }
        Ok(())
    }
}
