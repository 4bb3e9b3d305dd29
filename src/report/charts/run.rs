//! The charts of one run, from its time series: used_memory, evictions and expirations per
//! second, and misses per second stacked by cause.
//!
//! A sample holds the state at its time and the counts over the interval ending there, so a
//! rate is a count divided by the sample interval, plotted at the interval's end.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{
    axis_top, format_count, format_mib, format_size, frame, mib, note_on_plot, text_style,
    trim_float, LegendEntry, Mark, AXIS_COLOUR, AXIS_DESC_PX, GRID_COLOUR, PLOT_MARGIN_PX, TICK_PX,
    X_LABEL_AREA_PX, Y_LABEL_AREA_PX,
};
use super::{
    cause_colour, render, series_colour, Chart, ChartError, Rendered, LIMIT_COLOUR, MEMORY_COLOUR,
};

use crate::sim::engine::{RunOutput, Sample};
use crate::sim::ledger::Cause;

/// Client errors.
const ERRORS_COLOUR: RGBColor = RGBColor(0xC0, 0x39, 0x2B);
/// Fault and promotion markers.
const MARKER_COLOUR: RGBColor = RGBColor(0x55, 0x55, 0x55);
const MARKER_PX: u32 = 15;

/// `memory`, `evictions-expirations` and `misses-by-cause`, in that order. `maxmemory_bytes` 0
/// means no limit (no maxmemory line); `sample_every_us` is the run's sample interval.
pub fn run_charts(
    output: &RunOutput,
    maxmemory_bytes: u64,
    sample_every_us: u64,
) -> Result<Vec<Rendered>, ChartError> {
    let series = TimeSeries::new(&output.samples, sample_every_us, &output.timeline);
    Ok(vec![
        render(
            "memory",
            "used_memory over time",
            &MemoryChart {
                series: &series,
                maxmemory_bytes,
            },
        )?,
        render(
            "evictions-expirations",
            "Evictions and expirations per second",
            &removals_chart(&series),
        )?,
        render(
            "misses-by-cause",
            "Misses per second, by cause",
            &MissesChart { series: &series },
        )?,
    ]
    .into_iter()
    .chain(replication_lag_chart(output, &series)?)
    .chain(errors_chart(&series)?)
    .collect())
}

/// `client-errors`, when some request failed (refused, timed out, -OOM, -READONLY,
/// -NOREPLICAS…): the unavailability window of a crash, a stall or a failover.
fn errors_chart(series: &TimeSeries) -> Result<Option<Rendered>, ChartError> {
    if series.samples.iter().all(|s| s.errors == 0) {
        return Ok(None);
    }
    let chart = LinesChart {
        series,
        lines: vec![Line {
            colour: ERRORS_COLOUR,
            label: "all clients".to_string(),
            points: series.points(|s| series.rate(s.errors)),
            width: 3,
        }],
        y_desc: "errors per second",
        when_all_zero: None,
    };
    render("client-errors", "Client errors per second", &chart).map(Some)
}

/// `replication-lag`, when the run has replicas: how far behind the primary each one is.
fn replication_lag_chart(
    output: &RunOutput,
    series: &TimeSeries,
) -> Result<Option<Rendered>, ChartError> {
    let kib = |bytes: u64| bytes as f64 / 1024.0;
    let lines: Vec<Line> = output
        .nodes
        .iter()
        .skip(1)
        .enumerate()
        .map(|(index, node)| Line {
            colour: series_colour(index),
            label: node.node.clone(),
            points: series.points(|s| kib(s.replica_lag_bytes[index])),
            width: 2,
        })
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let chart = LinesChart {
        series,
        lines,
        y_desc: "bytes behind the primary (KiB)",
        when_all_zero: None,
    };
    render("replication-lag", "Replication lag per replica", &chart).map(Some)
}

/// Evictions and expirations per second.
fn removals_chart<'a>(series: &'a TimeSeries<'a>) -> LinesChart<'a> {
    let line = |cause: Cause, label: &str, count: fn(&Sample) -> u64| Line {
        colour: cause_colour(cause),
        label: label.to_string(),
        points: series.points(|s| series.rate(count(s))),
        width: 2,
    };
    LinesChart {
        series,
        lines: vec![
            line(Cause::Evicted, "evicted/s", |s| s.evicted),
            line(Cause::Expired, "expired/s", |s| s.expired),
        ],
        y_desc: "keys removed per second",
        when_all_zero: Some("no key was evicted or expired in this run"),
    }
}

/// One line of a [`LinesChart`].
struct Line {
    colour: RGBColor,
    label: String,
    points: Vec<(f64, f64)>,
    width: u32,
}

/// Lines over time from 0 up, each in the legend, with the run's faults marked.
struct LinesChart<'a> {
    series: &'a TimeSeries<'a>,
    lines: Vec<Line>,
    y_desc: &'static str,
    /// Said on the plot when every line stays at 0.
    when_all_zero: Option<&'static str>,
}

impl Chart for LinesChart<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), ChartError> {
        let series = self.series;
        let legend: Vec<LegendEntry> = self
            .lines
            .iter()
            .map(|line| LegendEntry::new(Mark::Line(line.colour), line.label.clone()))
            .collect();
        let plot = frame(root, title, &legend)?;
        let largest = self
            .lines
            .iter()
            .flat_map(|line| line.points.iter().map(|(_, y)| *y))
            .fold(0.0, f64::max);
        let y_top = axis_top(largest);
        let mut chart = time_axes(&plot, series.end_s, y_top, self.y_desc, &|v| {
            format_count(*v)
        })?;
        if series.samples.is_empty() {
            return note_on_plot(&plot, "no samples: the run is shorter than sample-every");
        }
        for line in &self.lines {
            chart.draw_series(LineSeries::new(
                line.points.iter().copied(),
                line.colour.stroke_width(line.width),
            ))?;
        }
        if let (Some(note), true) = (self.when_all_zero, largest == 0.0) {
            note_on_plot(&plot, note)?;
        }
        series.draw_markers(&mut chart, y_top)?;
        Ok(())
    }
}

/// The samples with times in seconds and counts as per-second rates.
struct TimeSeries<'a> {
    samples: &'a [Sample],
    times_s: Vec<f64>,
    per_second: f64,
    /// The x axis ends here: the last sample, or one interval when there is none.
    end_s: f64,
    /// Faults and promotions: a dashed line and a label at each.
    markers: &'a [(u64, String)],
}

impl<'a> TimeSeries<'a> {
    fn new(
        samples: &'a [Sample],
        sample_every_us: u64,
        markers: &'a [(u64, String)],
    ) -> TimeSeries<'a> {
        let times_s: Vec<f64> = samples.iter().map(|s| s.time_us as f64 / 1e6).collect();
        let interval_s = sample_every_us.max(1) as f64 / 1e6;
        let end_s = times_s
            .last()
            .copied()
            .unwrap_or(interval_s)
            .max(interval_s);
        TimeSeries {
            samples,
            times_s,
            per_second: 1.0 / interval_s,
            end_s,
            markers,
        }
    }

    /// A dashed vertical line at each fault or promotion, labelled near the top; labels step
    /// down so that events close in time stay readable.
    fn draw_markers<DB: DrawingBackend>(
        &self,
        chart: &mut TimeChart<'_, DB>,
        y_top: f64,
    ) -> Result<(), ChartError> {
        for (index, (time_us, label)) in self.markers.iter().enumerate() {
            let t = *time_us as f64 / 1e6;
            if t > self.end_s {
                continue;
            }
            chart.draw_series(DashedLineSeries::new(
                [(t, 0.0), (t, y_top)],
                6,
                6,
                MARKER_COLOUR.stroke_width(1),
            ))?;
            let level = 0.97 - 0.06 * (index % 4) as f64;
            chart.draw_series(std::iter::once(Text::new(
                format!(" {label}"),
                (t, y_top * level),
                text_style(MARKER_PX).color(&MARKER_COLOUR),
            )))?;
        }
        Ok(())
    }

    fn rate(&self, count: u64) -> f64 {
        count as f64 * self.per_second
    }

    fn points(&self, value: impl Fn(&Sample) -> f64) -> Vec<(f64, f64)> {
        self.times_s
            .iter()
            .zip(self.samples)
            .map(|(t, s)| (*t, value(s)))
            .collect()
    }
}

type TimeChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Axes for a time series: time in seconds from 0 across, `y_desc` from 0 to `y_top` up.
fn time_axes<'a, DB: DrawingBackend>(
    plot: &'a DrawingArea<DB, Shift>,
    end_s: f64,
    y_top: f64,
    y_desc: &str,
    y_format: &dyn Fn(&f64) -> String,
) -> Result<TimeChart<'a, DB>, ChartError> {
    let mut chart = ChartBuilder::on(plot)
        .margin(PLOT_MARGIN_PX)
        .x_label_area_size(X_LABEL_AREA_PX)
        .y_label_area_size(Y_LABEL_AREA_PX)
        .build_cartesian_2d(0.0..end_s, 0.0..y_top)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(y_desc)
        .x_labels(12)
        .y_labels(10)
        .x_label_formatter(&|t| trim_float(*t, 2))
        .y_label_formatter(y_format)
        .axis_desc_style(text_style(AXIS_DESC_PX))
        .label_style(text_style(TICK_PX))
        .axis_style(AXIS_COLOUR)
        .bold_line_style(GRID_COLOUR)
        .light_line_style(TRANSPARENT)
        .draw()?;
    Ok(chart)
}

struct MemoryChart<'a> {
    series: &'a TimeSeries<'a>,
    maxmemory_bytes: u64,
}

impl Chart for MemoryChart<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), ChartError> {
        let series = self.series;
        let mut legend = vec![LegendEntry::new(Mark::Line(MEMORY_COLOUR), "used_memory")];
        if self.maxmemory_bytes > 0 {
            legend.push(LegendEntry::new(
                Mark::Dashed(LIMIT_COLOUR),
                format!("maxmemory ({})", format_size(self.maxmemory_bytes)),
            ));
        }
        let plot = frame(root, title, &legend)?;
        // The axis holds every sample and the limit.
        let top = series
            .samples
            .iter()
            .map(|s| s.used_memory)
            .fold(self.maxmemory_bytes, u64::max);
        let y_top = axis_top(mib(top));
        let mut chart = time_axes(&plot, series.end_s, y_top, "used_memory (MiB)", &|v| {
            format_mib(*v)
        })?;
        if series.samples.is_empty() {
            return note_on_plot(&plot, "no samples: the run is shorter than sample-every");
        }
        chart.draw_series(LineSeries::new(
            series.points(|s| mib(s.used_memory)),
            MEMORY_COLOUR.stroke_width(3),
        ))?;
        // The limit over the line, so a run held at maxmemory still shows it.
        if self.maxmemory_bytes > 0 {
            let limit = mib(self.maxmemory_bytes);
            chart.draw_series(DashedLineSeries::new(
                [(0.0, limit), (series.end_s, limit)],
                12,
                8,
                LIMIT_COLOUR.stroke_width(2),
            ))?;
        }
        series.draw_markers(&mut chart, y_top)?;
        Ok(())
    }
}

struct MissesChart<'a> {
    series: &'a TimeSeries<'a>,
}

impl Chart for MissesChart<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), ChartError> {
        let series = self.series;
        let causes: Vec<Cause> = Cause::ALL
            .into_iter()
            .filter(|cause| series.samples.iter().any(|s| s.misses_by_cause[cause] > 0))
            .collect();
        // Layer k's top edge: the rates of causes 0..=k added up, per sample.
        let mut tops: Vec<Vec<f64>> = Vec::with_capacity(causes.len());
        for cause in &causes {
            let below = tops
                .last()
                .cloned()
                .unwrap_or_else(|| vec![0.0; series.samples.len()]);
            tops.push(
                below
                    .iter()
                    .zip(series.samples)
                    .map(|(base, s)| base + series.rate(s.misses_by_cause[cause]))
                    .collect(),
            );
        }
        // The legend reads top down, as the stack does.
        let legend: Vec<LegendEntry> = causes
            .iter()
            .rev()
            .map(|cause| LegendEntry::new(Mark::Area(cause_colour(*cause)), cause.name()))
            .collect();
        let plot = frame(root, title, &legend)?;
        let largest = tops
            .last()
            .map_or(0.0, |top| top.iter().copied().fold(0.0, f64::max));
        let y_top = axis_top(largest);
        let mut chart = time_axes(&plot, series.end_s, y_top, "misses per second", &|v| {
            format_count(*v)
        })?;
        if series.samples.is_empty() {
            return note_on_plot(&plot, "no samples: the run is shorter than sample-every");
        }
        if causes.is_empty() {
            series.draw_markers(&mut chart, y_top)?;
            return note_on_plot(&plot, "no misses in this run");
        }
        let zeros = vec![0.0; series.samples.len()];
        for (layer, cause) in causes.iter().enumerate() {
            let bottom = if layer == 0 { &zeros } else { &tops[layer - 1] };
            let top = &tops[layer];
            // The band between the two edges: along the top, back along the bottom.
            let outline: Vec<(f64, f64)> = series
                .times_s
                .iter()
                .zip(top)
                .map(|(t, y)| (*t, *y))
                .chain(
                    series
                        .times_s
                        .iter()
                        .zip(bottom)
                        .rev()
                        .map(|(t, y)| (*t, *y)),
                )
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                cause_colour(*cause).filled(),
            )))?;
        }
        series.draw_markers(&mut chart, y_top)?;
        Ok(())
    }
}
