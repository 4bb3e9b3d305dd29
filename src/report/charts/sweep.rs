//! The charts of a capacity sweep: hit ratio, and keys lost beside writes refused with -OOM,
//! against maxmemory, one line per policy, with each policy's recommended size marked and the
//! target drawn.
//!
//! maxmemory is in MiB across, on a logarithmic axis (ticks at powers of two) when the sizes span
//! more than ten times. Runs without a limit (maxmemory 0) have no place on a size axis and are
//! left out.

use std::ops::Range;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::{
    axis_top, format_count, format_mib, format_size, frame, mib, note_on_plot, text_style,
    trim_float, LegendEntry, Mark, AXIS_COLOUR, AXIS_DESC_PX, GRID_COLOUR, NOTE_PX, PLOT_MARGIN_PX,
    TICK_PX, X_LABEL_AREA_PX, Y_LABEL_AREA_PX,
};
use super::{render, series_colour, Chart, ChartError, Rendered, LIMIT_COLOUR};

/// One policy's (or group's) runs across sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSeries {
    /// The legend's name for the line: the policy, or the values of the non-maxmemory axes.
    pub policy: String,
    /// Sorted by maxmemory.
    pub points: Vec<SweepPoint>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    pub maxmemory_bytes: u64,
    /// Hits over reads, from 0 to 1.
    pub hit_ratio: f64,
    /// Keys removed for any reason but an overwrite; None when not computed (`--fast`).
    pub keys_lost: Option<u64>,
    /// Writes refused with -OOM: never stored, so not among the keys lost; None when not
    /// computed (`--fast`).
    pub oom_rejected: Option<u64>,
}

/// The smallest size at which `policy` meets the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    pub policy: String,
    pub maxmemory_bytes: u64,
}

/// `sweep-hit-ratio` and `sweep-keys-lost`, in that order. `target_hit_ratio` (0 to 1) draws
/// the target line; a recommendation whose policy has no series is not drawn.
pub fn sweep_charts(
    series: &[SweepSeries],
    recommendations: &[Recommendation],
    target_hit_ratio: Option<f64>,
) -> Result<Vec<Rendered>, ChartError> {
    let scale = Scale::of(series);
    Ok(vec![
        render(
            "sweep-hit-ratio",
            "Hit ratio against maxmemory",
            &HitRatioChart {
                series,
                recommendations,
                target_hit_ratio,
                scale: &scale,
            },
        )?,
        render(
            "sweep-keys-lost",
            "Keys lost and writes refused against maxmemory",
            &KeysLostChart {
                series,
                scale: &scale,
            },
        )?,
    ])
}

/// The maxmemory axis, in MiB.
#[derive(Debug, Clone, PartialEq)]
enum Scale {
    Linear(Range<f64>),
    Log2(Range<f64>),
    /// No run has a maxmemory.
    Empty,
}

impl Scale {
    fn of(series: &[SweepSeries]) -> Scale {
        let sizes = series
            .iter()
            .flat_map(|s| &s.points)
            .filter(|p| p.maxmemory_bytes > 0)
            .map(|p| mib(p.maxmemory_bytes));
        let (low, high) = sizes.fold((f64::INFINITY, 0.0f64), |(low, high), size| {
            (low.min(size), high.max(size))
        });
        if high == 0.0 {
            Scale::Empty
        } else if high / low > 10.0 {
            Scale::Log2(low / 1.12..high * 1.12)
        } else {
            let pad = ((high - low) * 0.05).max(high * 0.05);
            Scale::Linear((low - pad).max(0.0)..high + pad)
        }
    }
}

/// What a sweep chart draws, whatever its x axis.
struct Lines {
    y_desc: &'static str,
    y_range: Range<f64>,
    y_format: fn(&f64) -> String,
    /// One line per series: its colour and its (MiB, value) points.
    lines: Vec<(RGBColor, Vec<(f64, f64)>)>,
    /// Dashed lines beside them, the same way.
    dashed: Vec<(RGBColor, Vec<(f64, f64)>)>,
    /// A dashed horizontal line at this value.
    target: Option<f64>,
    /// Marked points: colour, (MiB, value), label.
    markers: Vec<(RGBColor, (f64, f64), String)>,
}

fn series_name(series: &SweepSeries) -> &str {
    if series.policy.is_empty() {
        "scenario"
    } else {
        &series.policy
    }
}

/// The series' points that have a size and a value.
fn line_points(
    series: &SweepSeries,
    value: impl Fn(&SweepPoint) -> Option<f64>,
) -> Vec<(f64, f64)> {
    series
        .points
        .iter()
        .filter(|p| p.maxmemory_bytes > 0)
        .filter_map(|p| Some((mib(p.maxmemory_bytes), value(p)?)))
        .collect()
}

/// Each series' line in its colour.
fn coloured_lines(
    series: &[SweepSeries],
    value: impl Fn(&SweepPoint) -> Option<f64> + Copy,
) -> Vec<(RGBColor, Vec<(f64, f64)>)> {
    series
        .iter()
        .enumerate()
        .map(|(i, s)| (series_colour(i), line_points(s, value)))
        .collect()
}

/// The line's value at `x`: a point's own, or read off the line between its neighbours.
fn value_at(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let after = points.iter().position(|(px, _)| *px >= x);
    match after {
        None => points.last().map(|(_, y)| *y),
        Some(0) => points.first().map(|(_, y)| *y),
        Some(index) => {
            let (x0, y0) = points[index - 1];
            let (x1, y1) = points[index];
            Some(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
        }
    }
}

fn percent_label(value: &f64) -> String {
    trim_float(*value, 1)
}

fn count_label(value: &f64) -> String {
    format_count(*value)
}

struct HitRatioChart<'a> {
    series: &'a [SweepSeries],
    recommendations: &'a [Recommendation],
    target_hit_ratio: Option<f64>,
    scale: &'a Scale,
}

impl Chart for HitRatioChart<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), ChartError> {
        let lines = coloured_lines(self.series, |p| Some(p.hit_ratio * 100.0));
        let target = self.target_hit_ratio.map(|t| t * 100.0);
        let mut markers = Vec::new();
        for recommendation in self.recommendations {
            let Some(index) = self
                .series
                .iter()
                .position(|s| s.policy == recommendation.policy)
            else {
                continue;
            };
            let x = mib(recommendation.maxmemory_bytes);
            let Some(y) = value_at(&lines[index].1, x) else {
                continue;
            };
            let size = format_size(recommendation.maxmemory_bytes);
            let label = if self.series.len() > 1 {
                format!("{}: {size}", series_name(&self.series[index]))
            } else {
                size
            };
            markers.push((series_colour(index), (x, y), label));
        }

        let mut legend: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry::new(Mark::Line(series_colour(i)), series_name(s)))
            .collect();
        if let Some(target) = target {
            legend.push(LegendEntry::new(
                Mark::Dashed(LIMIT_COLOUR),
                format!("target: {} %", trim_float(target, 2)),
            ));
        }
        if !markers.is_empty() {
            legend.push(LegendEntry::new(
                Mark::Point(RGBColor(0xB0, 0xB0, 0xB0)),
                "recommended size",
            ));
        }

        // From a round ten below the lowest value (or target) to 100 %.
        let lowest = lines
            .iter()
            .flat_map(|(_, points)| points.iter().map(|(_, y)| *y))
            .chain(target)
            .fold(100.0, f64::min);
        let bottom = (((lowest - 5.0) / 10.0).floor() * 10.0).clamp(0.0, 90.0);
        let spec = Lines {
            y_desc: "hit ratio (%)",
            y_range: bottom..100.0,
            y_format: percent_label,
            lines,
            dashed: Vec::new(),
            target,
            markers,
        };
        let plot = frame(root, title, &legend)?;
        draw_scaled(root, &plot, self.scale, &spec)
    }
}

struct KeysLostChart<'a> {
    series: &'a [SweepSeries],
    scale: &'a Scale,
}

impl Chart for KeysLostChart<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), ChartError> {
        let lines = coloured_lines(self.series, |p| p.keys_lost.map(|n| n as f64));
        let dashed = coloured_lines(self.series, |p| p.oom_rejected.map(|n| n as f64));
        let refused = dashed
            .iter()
            .any(|(_, points)| points.iter().any(|p| p.1 > 0.0));
        let largest = lines
            .iter()
            .chain(refused.then_some(&dashed).into_iter().flatten())
            .flat_map(|(_, points)| points.iter().map(|(_, y)| *y))
            .fold(0.0, f64::max);
        let mut legend: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry::new(Mark::Line(series_colour(i)), series_name(s)))
            .collect();
        if refused {
            legend.push(LegendEntry::new(
                Mark::Dashed(RGBColor(0x70, 0x70, 0x70)),
                "writes refused (-OOM)",
            ));
        }
        let computed = lines.iter().any(|(_, points)| !points.is_empty());
        let spec = Lines {
            y_desc: if refused {
                "keys lost (solid), writes refused (dashed)"
            } else {
                "keys lost (removed, not overwritten)"
            },
            y_range: 0.0..axis_top(largest),
            y_format: count_label,
            lines,
            // Refused writes were never stored: beside the keys lost, not counted in them.
            dashed: if refused { dashed } else { Vec::new() },
            target: None,
            markers: Vec::new(),
        };
        let plot = frame(root, title, &legend)?;
        draw_scaled(root, &plot, self.scale, &spec)?;
        let fast = self
            .series
            .iter()
            .flat_map(|s| &s.points)
            .any(|p| p.maxmemory_bytes > 0 && p.keys_lost.is_none());
        if fast && !computed {
            note_on_plot(&plot, "keys lost are not computed by sweep --fast")?;
        }
        Ok(())
    }
}

fn draw_scaled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &DrawingArea<DB, Shift>,
    scale: &Scale,
    spec: &Lines,
) -> Result<(), ChartError> {
    match scale {
        Scale::Linear(range) => draw_lines(root, plot, RangedCoordf64::from(range.clone()), spec),
        Scale::Log2(range) => {
            let axis: LogCoord<f64> = range.clone().log_scale().base(2.0).into();
            draw_lines(root, plot, axis, spec)
        }
        Scale::Empty => {
            draw_lines(root, plot, RangedCoordf64::from(0.0..1.0), spec)?;
            note_on_plot(plot, "no run with a maxmemory to plot")
        }
    }
}

fn draw_lines<DB: DrawingBackend, X: Ranged<ValueType = f64> + ValueFormatter<f64>>(
    root: &DrawingArea<DB, Shift>,
    plot: &DrawingArea<DB, Shift>,
    x_axis: X,
    spec: &Lines,
) -> Result<(), ChartError> {
    let x_range = x_axis.range();
    let mut chart = ChartBuilder::on(plot)
        .margin(PLOT_MARGIN_PX)
        .x_label_area_size(X_LABEL_AREA_PX)
        .y_label_area_size(Y_LABEL_AREA_PX)
        .build_cartesian_2d(x_axis, spec.y_range.clone())?;
    chart
        .configure_mesh()
        .x_desc("maxmemory (MiB)")
        .y_desc(spec.y_desc)
        .x_labels(12)
        .y_labels(10)
        .x_label_formatter(&|v| format_mib(*v))
        .y_label_formatter(&spec.y_format)
        .axis_desc_style(text_style(AXIS_DESC_PX))
        .label_style(text_style(TICK_PX))
        .axis_style(AXIS_COLOUR)
        .bold_line_style(GRID_COLOUR)
        .light_line_style(TRANSPARENT)
        .draw()?;

    if let Some(target) = spec.target {
        chart.draw_series(DashedLineSeries::new(
            [(x_range.start, target), (x_range.end, target)],
            12,
            8,
            LIMIT_COLOUR.stroke_width(2),
        ))?;
    }
    for (colour, points) in &spec.lines {
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            colour.stroke_width(3),
        ))?;
        chart.draw_series(
            points
                .iter()
                .map(|point| Circle::new(*point, 4, colour.filled())),
        )?;
    }
    for (colour, points) in &spec.dashed {
        chart.draw_series(DashedLineSeries::new(
            points.iter().copied(),
            10,
            6,
            colour.stroke_width(2),
        ))?;
        chart.draw_series(
            points
                .iter()
                .map(|point| Circle::new(*point, 4, colour.stroke_width(2))),
        )?;
    }

    // Each marker drops a dashed line to the size axis, and its label sits at the foot of that
    // line (the curves are high there, past the target), raised above labels already placed.
    let style = text_style(NOTE_PX);
    let (plot_x, plot_y) = chart.plotting_area().get_pixel_range();
    let mut order: Vec<usize> = (0..spec.markers.len()).collect();
    order.sort_by_key(|&i| chart.backend_coord(&spec.markers[i].1));
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    for (colour, point, _) in &spec.markers {
        let (x, y) = chart.backend_coord(point);
        root.draw(&DashedPathElement::new(
            [(x, y), (x, plot_y.end)],
            5,
            4,
            colour.stroke_width(2),
        ))?;
    }
    for &index in &order {
        let (colour, point, label) = &spec.markers[index];
        let (x, _) = chart.backend_coord(point);
        let (width, height) = root.estimate_text_size(label, &style)?;
        let size = (width as i32 + 10, height as i32 + 8);
        let (left, top) = label_place(&placed, x, size, plot_x.end, plot_y.end);
        let (width, height) = size;
        placed.push((left, top, left + width, top + height));
        draw_label(root, (left, top), size, colour, label, &style)?;
    }
    // The markers go over everything else.
    for (colour, point, _) in &spec.markers {
        chart.draw_series([
            Circle::new(*point, 9, colour.filled()),
            Circle::new(*point, 9, BLACK.stroke_width(2)),
        ])?;
    }
    Ok(())
}

/// Where a marker's label of `size` goes: right of its line at `x` (left of it near the right
/// edge of the plot), at the foot of the plot, raised above the labels already `placed`.
fn label_place(
    placed: &[(i32, i32, i32, i32)],
    x: i32,
    (width, height): (i32, i32),
    plot_right: i32,
    plot_bottom: i32,
) -> (i32, i32) {
    let left = if x + 6 + width <= plot_right {
        x + 6
    } else {
        x - 6 - width
    };
    let mut top = plot_bottom - 10 - height;
    while placed
        .iter()
        .any(|&(x0, y0, x1, y1)| left < x1 && x0 < left + width && top < y1 && y0 < top + height)
    {
        top -= height + 4;
    }
    (left, top)
}

/// A label in a white box framed in its marker's colour.
fn draw_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (left, top): (i32, i32),
    (width, height): (i32, i32),
    colour: &RGBColor,
    label: &str,
    style: &TextStyle,
) -> Result<(), ChartError> {
    let corners = [(left, top), (left + width, top + height)];
    root.draw(&Rectangle::new(corners, WHITE.mix(0.9).filled()))?;
    root.draw(&Rectangle::new(corners, colour.stroke_width(1)))?;
    root.draw(&Text::new(
        label.to_string(),
        (left + 5, top + height / 2),
        style
            .clone()
            .color(colour)
            .pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(mib: u64, hit_ratio: f64) -> SweepPoint {
        SweepPoint {
            maxmemory_bytes: mib << 20,
            hit_ratio,
            keys_lost: Some(0),
            oom_rejected: Some(0),
        }
    }

    #[test]
    fn wide_size_ranges_get_a_log_axis() {
        let narrow = [SweepSeries {
            policy: "allkeys-lru".into(),
            points: vec![point(16, 0.5), point(128, 0.9)],
        }];
        assert!(matches!(Scale::of(&narrow), Scale::Linear(_)));
        let wide = [SweepSeries {
            policy: "allkeys-lru".into(),
            points: vec![point(16, 0.5), point(256, 0.9)],
        }];
        assert!(matches!(Scale::of(&wide), Scale::Log2(_)));
        let unlimited = [SweepSeries {
            policy: String::new(),
            points: vec![point(0, 0.9)],
        }];
        assert_eq!(Scale::of(&unlimited), Scale::Empty);
    }

    #[test]
    fn a_marker_between_points_sits_on_the_line() {
        let points = [(10.0, 50.0), (20.0, 70.0), (40.0, 90.0)];
        assert_eq!(value_at(&points, 20.0), Some(70.0));
        assert_eq!(value_at(&points, 30.0), Some(80.0));
        assert_eq!(value_at(&points, 5.0), Some(50.0));
        assert_eq!(value_at(&points, 50.0), Some(90.0));
        assert_eq!(value_at(&[], 1.0), None);
    }
}
