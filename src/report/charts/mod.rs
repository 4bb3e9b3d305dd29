//! Charts of a run, a comparison and a sweep, drawn with plotters in memory: every chart comes
//! back as SVG text and PNG bytes, 1200×700, for the CLI to write or the HTML report to embed.
//!
//! Nothing here touches the filesystem, the clock or the system's fonts. Text is drawn with the
//! DejaVu Sans face embedded in the binary (the `dejavu` crate), registered with plotters once;
//! PNGs are encoded here ([`png`]) because plotters can only save a bitmap to a path. The same
//! input gives byte-identical SVG and PNG.
//!
//! A cause has one colour in every chart ([`cause_colour`], also as CSS for the HTML report), and
//! series that are not causes (policies, variants) take [`series_colour`]'s palette in order.
//! Legends sit in a panel right of the plot, so they never cover data.

mod compare;
mod frame;
mod png;
mod run;
mod sweep;

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::sim::ledger::Cause;

pub use compare::{compare_charts, CompareRow};
pub use run::run_charts;
pub use sweep::{sweep_charts, Recommendation, SweepPoint, SweepSeries};

/// Every chart's size in pixels (the SVG's too).
pub const WIDTH_PX: u32 = 1200;
pub const HEIGHT_PX: u32 = 700;

/// The two encodings every chart is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Svg,
}

impl ImageFormat {
    pub const ALL: [ImageFormat; 2] = [ImageFormat::Png, ImageFormat::Svg];

    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Svg => "svg",
        }
    }
}

/// One chart, drawn both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The file name without extension: `memory`, `misses-by-cause`, `sweep-hit-ratio`...
    pub file_stem: String,
    /// The title drawn at the top of the chart (for an HTML caption or `alt` text).
    pub title: String,
    pub svg: String,
    pub png: Vec<u8>,
}

impl Rendered {
    /// `memory.png`, `memory.svg`.
    pub fn file_name(&self, format: ImageFormat) -> String {
        format!("{}.{}", self.file_stem, format.extension())
    }

    pub fn bytes(&self, format: ImageFormat) -> &[u8] {
        match format {
            ImageFormat::Png => &self.png,
            ImageFormat::Svg => self.svg.as_bytes(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the embedded chart font (DejaVu Sans) could not be loaded")]
    Font,
    /// plotters' errors are generic over the backend; they are kept as their message.
    #[error("drawing a chart failed: {0}")]
    Draw(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(error: DrawingAreaErrorKind<E>) -> ChartError {
        ChartError::Draw(error.to_string())
    }
}

/// The colour of a cause in every chart.
pub fn cause_colour(cause: Cause) -> RGBColor {
    match cause {
        Cause::Expired => RGBColor(0xF2, 0x8E, 0x2B),
        Cause::Deleted => RGBColor(0xE1, 0x57, 0x59),
        Cause::Flushed => RGBColor(0x8E, 0x5E, 0xA2),
        Cause::Overwritten => RGBColor(0x4B, 0xA3, 0xA0),
        Cause::Evicted => RGBColor(0x4E, 0x79, 0xA7),
        Cause::OomRejected => RGBColor(0x9C, 0x75, 0x5F),
        Cause::WrongDb => RGBColor(0xD4, 0xB0, 0x1E),
        Cause::NeverWritten => RGBColor(0xA5, 0xA0, 0x9A),
        Cause::ReplicaLag => RGBColor(0x59, 0xA1, 0x4F),
        Cause::Restart => RGBColor(0xB0, 0x7A, 0xA1),
        Cause::ResyncFlush => RGBColor(0x76, 0xB7, 0xB2),
        Cause::Failover => RGBColor(0xFF, 0x9D, 0xA7),
        Cause::SplitBrain => RGBColor(0x8B, 0x1E, 0x3F),
        Cause::NoreplicasRejected => RGBColor(0x2F, 0x4B, 0x7C),
        Cause::Renamed => RGBColor(0x6B, 0x8E, 0x23),
        Cause::Moved => RGBColor(0xC7, 0x7C, 0xCF),
        Cause::Emptied => RGBColor(0xD9, 0x6C, 0x3A),
    }
}

/// [`cause_colour`] as CSS: `#f28e2b`.
pub fn cause_colour_hex(cause: Cause) -> String {
    let RGBColor(r, g, b) = cause_colour(cause);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Series that are not causes (policies, variants) take these colours in order, then repeat.
const SERIES_PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x33, 0x33, 0x33),
    RGBColor(0x8C, 0x56, 0x4B),
];

/// The colour of the `index`-th series (a policy's line in the sweep charts).
pub fn series_colour(index: usize) -> RGBColor {
    SERIES_PALETTE[index % SERIES_PALETTE.len()]
}

/// used_memory's line (not a cause).
const MEMORY_COLOUR: RGBColor = RGBColor(0x2E, 0x8B, 0x57);
/// Limits and targets: maxmemory, the sweep's target.
const LIMIT_COLOUR: RGBColor = RGBColor(0x20, 0x20, 0x20);
/// Bars that are not split by cause (the hit ratio of each variant).
const BAR_COLOUR: RGBColor = RGBColor(0x4E, 0x79, 0xA7);

/// Registers DejaVu Sans as plotters' `sans-serif` once per process. Both backends need it:
/// the SVG backend measures text with it for layout.
fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// A chart's drawing, written once for any backend.
trait Chart {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), ChartError>;
}

/// Draws `chart` on an SVG and on a bitmap, and encodes the bitmap as PNG.
fn render(file_stem: &str, title: &str, chart: &impl Chart) -> Result<Rendered, ChartError> {
    ensure_font()?;
    let size = (WIDTH_PX, HEIGHT_PX);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart.draw(&root, title)?;
        root.present()?;
    }
    let mut rgb = vec![0u8; WIDTH_PX as usize * HEIGHT_PX as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        chart.draw(&root, title)?;
        root.present()?;
    }
    Ok(Rendered {
        file_stem: file_stem.to_string(),
        title: title.to_string(),
        svg,
        png: png::encode_rgb(WIDTH_PX, HEIGHT_PX, &rgb)
            .map_err(|error| ChartError::Draw(error.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_has_its_own_colour() {
        let mut hexes: Vec<String> = Cause::ALL.iter().map(|c| cause_colour_hex(*c)).collect();
        assert!(hexes.iter().all(|h| h.len() == 7 && h.starts_with('#')));
        assert_eq!(cause_colour_hex(Cause::Expired), "#f28e2b");
        hexes.sort();
        hexes.dedup();
        assert_eq!(hexes.len(), Cause::ALL.len());
    }

    #[test]
    fn the_palette_repeats_in_order() {
        assert_eq!(series_colour(0), series_colour(SERIES_PALETTE.len()));
        assert_ne!(series_colour(0), series_colour(1));
    }
}
