//! What every chart shares: the white page and title, the legend panel on the right, text
//! styles, and number formats for axis ticks.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartError;

pub(super) const FONT: &str = "sans-serif";
pub(super) const TITLE_PX: u32 = 30;
pub(super) const AXIS_DESC_PX: u32 = 20;
pub(super) const TICK_PX: u32 = 17;
pub(super) const LEGEND_PX: u32 = 18;
/// Notes drawn on a plot ("no misses in this run") and labels beside bars and markers.
pub(super) const NOTE_PX: u32 = 17;

/// Space left of the plot for the y tick labels and description.
pub(super) const Y_LABEL_AREA_PX: u32 = 84;
/// Space below the plot for the x tick labels and description.
pub(super) const X_LABEL_AREA_PX: u32 = 60;
/// Space around the plot inside its area.
pub(super) const PLOT_MARGIN_PX: u32 = 16;

pub(super) const GRID_COLOUR: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
pub(super) const AXIS_COLOUR: RGBColor = RGBColor(0x60, 0x60, 0x60);
pub(super) const TEXT_COLOUR: RGBColor = RGBColor(0x20, 0x20, 0x20);

const LEGEND_ROW_PX: i32 = 30;
const LEGEND_MARK_PX: i32 = 34;
const LEGEND_WIDTH_MIN_PX: i32 = 170;
const LEGEND_WIDTH_MAX_PX: i32 = 360;

pub(super) fn text_style(size_px: u32) -> TextStyle<'static> {
    (FONT, size_px).into_font().color(&TEXT_COLOUR)
}

/// How a legend entry shows its series.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mark {
    Line(RGBColor),
    Dashed(RGBColor),
    Area(RGBColor),
    Point(RGBColor),
}

pub(super) struct LegendEntry {
    pub mark: Mark,
    pub label: String,
}

impl LegendEntry {
    pub fn new(mark: Mark, label: impl Into<String>) -> LegendEntry {
        LegendEntry {
            mark,
            label: label.into(),
        }
    }
}

/// Fills the page, draws the title and the legend panel; returns the area left for the plot.
pub(super) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendEntry],
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    root.fill(&WHITE)?;
    let body = root
        .margin(12, 0, 0, 0)
        .titled(title, (FONT, TITLE_PX).into_font().color(&TEXT_COLOUR))?;
    let (width, _) = body.dim_in_pixel();
    if legend.is_empty() {
        return Ok(body.margin(0, 0, 0, 24));
    }
    let style = text_style(LEGEND_PX);
    let mut widest = 0;
    for entry in legend {
        widest = widest.max(body.estimate_text_size(&entry.label, &style)?.0 as i32);
    }
    let panel = (widest + LEGEND_MARK_PX + 40).clamp(LEGEND_WIDTH_MIN_PX, LEGEND_WIDTH_MAX_PX);
    let (plot, side) = body.split_horizontally(width as i32 - panel);
    draw_legend(&side, legend)?;
    Ok(plot)
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    legend: &[LegendEntry],
) -> Result<(), ChartError> {
    let style = text_style(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
    let top = PLOT_MARGIN_PX as i32 + 8;
    for (row, entry) in legend.iter().enumerate() {
        let y = top + row as i32 * LEGEND_ROW_PX;
        let (x0, x1) = (4, 4 + LEGEND_MARK_PX - 6);
        match entry.mark {
            Mark::Line(colour) => {
                area.draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    colour.stroke_width(3),
                ))?;
            }
            Mark::Dashed(colour) => {
                for dash in 0..3 {
                    let start = x0 + dash * 11;
                    area.draw(&PathElement::new(
                        vec![(start, y), (start + 6, y)],
                        colour.stroke_width(2),
                    ))?;
                }
            }
            Mark::Area(colour) => {
                area.draw(&Rectangle::new(
                    [(x0 + 4, y - 8), (x1 - 4, y + 8)],
                    colour.filled(),
                ))?;
            }
            Mark::Point(colour) => {
                let centre = ((x0 + x1) / 2, y);
                area.draw(&Circle::new(centre, 7, colour.filled()))?;
                area.draw(&Circle::new(centre, 7, BLACK.stroke_width(2)))?;
            }
        }
        area.draw(&Text::new(
            entry.label.clone(),
            (x0 + LEGEND_MARK_PX, y),
            style.clone(),
        ))?;
    }
    Ok(())
}

/// Draws `text` centred on the plot (an empty chart says why it is empty).
pub(super) fn note_on_plot<DB: DrawingBackend>(
    plot: &DrawingArea<DB, Shift>,
    text: &str,
) -> Result<(), ChartError> {
    let (width, height) = plot.dim_in_pixel();
    let style = text_style(AXIS_DESC_PX)
        .color(&AXIS_COLOUR)
        .pos(Pos::new(HPos::Center, VPos::Center));
    plot.draw(&Text::new(
        text.to_string(),
        (width as i32 / 2, height as i32 / 2),
        style,
    ))?;
    Ok(())
}

/// A tick value with at most `decimals` decimals, trailing zeros dropped: `2.5`, `250`, `0.25`.
pub(super) fn trim_float(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" {
        "0".to_string()
    } else {
        text
    }
}

/// A count or rate on an axis: `950`, `12.5`, `5k`, `2.5k`, `1.25M`, `3G`.
pub(super) fn format_count(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e9 {
        format!("{}G", trim_float(value / 1e9, 2))
    } else if magnitude >= 1e6 {
        format!("{}M", trim_float(value / 1e6, 2))
    } else if magnitude >= 1e3 {
        format!("{}k", trim_float(value / 1e3, 2))
    } else {
        trim_float(value, 2)
    }
}

/// Bytes to MiB for plotting.
pub(super) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// MiB on an axis or a label: `0.25`, `48`, `1536`.
pub(super) fn format_mib(value: f64) -> String {
    if value.abs() >= 100.0 {
        trim_float(value, 0)
    } else if value.abs() >= 1.0 {
        trim_float(value, 1)
    } else {
        trim_float(value, 3)
    }
}

/// A size for a label: `512 KiB` below a MiB, `226 MiB` below a GiB, `1.29 GiB` above.
pub(super) fn format_size(bytes: u64) -> String {
    const GIB: u64 = 1 << 30;
    if bytes < 1 << 20 {
        format!("{} KiB", trim_float(bytes as f64 / 1024.0, 1))
    } else if bytes < GIB {
        format!("{} MiB", format_mib(mib(bytes)))
    } else {
        format!("{} GiB", trim_float(bytes as f64 / GIB as f64, 2))
    }
}

/// The top of a value axis: a little above the largest value, 1 when everything is 0.
pub(super) fn axis_top(largest: f64) -> f64 {
    if largest > 0.0 && largest.is_finite() {
        largest * 1.08
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_a_person_writes_them() {
        assert_eq!(trim_float(2.50, 2), "2.5");
        assert_eq!(trim_float(250.0, 2), "250");
        assert_eq!(trim_float(-0.0001, 2), "0");
        assert_eq!(format_count(950.0), "950");
        assert_eq!(format_count(12.345), "12.35");
        assert_eq!(format_count(15_000.0), "15k");
        assert_eq!(format_count(2_500.0), "2.5k");
        assert_eq!(format_count(1_250_000.0), "1.25M");
        assert_eq!(format_count(3e9), "3G");
        assert_eq!(format_mib(0.25), "0.25");
        assert_eq!(format_mib(48.0), "48");
        assert_eq!(format_mib(1536.0), "1536");
        assert_eq!(mib(64 << 20), 64.0);
        assert_eq!(axis_top(0.0), 1.0);
        assert_eq!(format_size(512 << 10), "512 KiB");
        assert_eq!(format_size(226 << 20), "226 MiB");
        assert_eq!(format_size(1_382_023_168), "1.29 GiB");
    }
}
