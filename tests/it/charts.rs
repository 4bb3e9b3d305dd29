//! Charts: every chart has its title, axis labels and legend entries in its SVG, a 1200×700 PNG,
//! and the same bytes when drawn twice. The data is checked, not the pixels.

use vanish::report::charts::{
    cause_colour_hex, compare_charts, run_charts, sweep_charts, CompareRow, ImageFormat,
    Recommendation, Rendered, SweepPoint, SweepSeries,
};
use vanish::scenario::{self, Overrides};
use vanish::sim::config::SimConfig;
use vanish::sim::engine::{run, NoProgress, RunOutput};
use vanish::sim::ledger::PerCause;
use vanish::sim::ledger::{Cause, DiscardLedger};

/// A small cache that expires, evicts and is flushed once.
const SCENARIO: &str = r#"
[scenario]
name = "charts"
seed = 7
duration = "30s"

[server]
maxmemory = "2mb"
maxmemory-policy = "allkeys-lru"

[[client]]
name = "web"
rate = 2000
keyspace = { keys = 20000, prefix = "k:", popularity = "zipf" }
commands = { GET = 70, SET = 30 }
value-size = 200
ttl = { share = 0.5, min = "2s", max = "10s" }
on-miss = "set"

[[event]]
at = "15s"
do = "flushdb"
"#;

fn run_scenario(sets: &[&str]) -> (SimConfig, RunOutput) {
    run_text(SCENARIO, sets)
}

fn run_text(text: &str, sets: &[&str]) -> (SimConfig, RunOutput) {
    let overrides = Overrides {
        seed: None,
        sets: sets.iter().map(|s| s.to_string()).collect(),
    };
    let config = scenario::parse("charts.toml", text, &overrides).unwrap_or_else(|e| panic!("{e}"));
    let output = run(&config, &mut DiscardLedger, &mut NoProgress);
    (config, output)
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

/// Width and height from the PNG's IHDR chunk, which must come first.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(png[..8], PNG_SIGNATURE, "PNG signature");
    assert_eq!(&png[12..16], b"IHDR", "IHDR comes first");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

/// The SVG holds each text (plotters writes a text element's content on its own line).
fn assert_texts(chart: &Rendered, texts: &[&str]) {
    for text in texts {
        assert!(
            chart.svg.contains(&format!("\n{text}\n")),
            "{}.svg should show {text:?}",
            chart.file_stem
        );
    }
}

fn assert_no_text(chart: &Rendered, text: &str) {
    assert!(
        !chart.svg.contains(&format!("\n{text}\n")),
        "{}.svg should not show {text:?}",
        chart.file_stem
    );
}

/// Every chart is a 1200×700 PNG and an SVG of the same size, titled.
fn assert_well_formed(charts: &[Rendered], stems: &[&str]) {
    let got: Vec<&str> = charts.iter().map(|c| c.file_stem.as_str()).collect();
    assert_eq!(got, stems);
    for chart in charts {
        assert_eq!(png_size(&chart.png), (1200, 700), "{}.png", chart.file_stem);
        assert!(
            chart
                .svg
                .starts_with(r#"<svg width="1200" height="700" viewBox="0 0 1200 700""#),
            "{}.svg size",
            chart.file_stem
        );
        assert!(chart.svg.trim_end().ends_with("</svg>"));
        assert_texts(chart, &[&chart.title]);
        assert_eq!(
            chart.file_name(ImageFormat::Png),
            format!("{}.png", chart.file_stem)
        );
        assert_eq!(chart.bytes(ImageFormat::Svg), chart.svg.as_bytes());
    }
}

#[test]
fn run_charts_show_memory_removals_and_misses_by_cause() {
    let (config, output) = run_scenario(&[]);
    assert_eq!(output.samples.len(), 30);
    let charts = run_charts(
        &output,
        config.server.maxmemory_bytes,
        config.sample_every_us,
    )
    .unwrap();
    assert_well_formed(
        &charts,
        &["memory", "evictions-expirations", "misses-by-cause"],
    );
    for chart in &charts {
        assert_texts(chart, &["time (s)"]);
    }
    assert_texts(
        &charts[0],
        &["used_memory (MiB)", "used_memory", "maxmemory (2 MiB)"],
    );
    assert_texts(
        &charts[1],
        &["keys removed per second", "evicted/s", "expired/s"],
    );

    // The stack shows the causes this run had, and only those, each in its colour.
    let misses = &charts[2];
    assert_texts(misses, &["misses per second"]);
    let present: Vec<Cause> = Cause::ALL
        .into_iter()
        .filter(|c| output.totals.misses_by_cause[c] > 0)
        .collect();
    for cause in [Cause::Expired, Cause::Evicted, Cause::Flushed] {
        assert!(
            present.contains(&cause),
            "the scenario shows {}",
            cause.name()
        );
    }
    for cause in Cause::ALL {
        let colour = cause_colour_hex(cause).to_uppercase();
        if present.contains(&cause) {
            assert_texts(misses, &[cause.name()]);
            assert!(
                misses.svg.contains(&format!("fill=\"{colour}\"")),
                "{}",
                cause.name()
            );
        } else {
            assert_no_text(misses, cause.name());
        }
    }
}

#[test]
fn run_charts_are_the_same_bytes_every_time() {
    let (config, output) = run_scenario(&[]);
    let first = run_charts(
        &output,
        config.server.maxmemory_bytes,
        config.sample_every_us,
    )
    .unwrap();
    let second = run_charts(
        &output,
        config.server.maxmemory_bytes,
        config.sample_every_us,
    )
    .unwrap();
    assert_eq!(first, second);
}

#[test]
fn without_maxmemory_there_is_no_limit_line() {
    let (config, output) = run_scenario(&["server.maxmemory=0"]);
    assert_eq!(config.server.maxmemory_bytes, 0);
    let charts = run_charts(&output, 0, config.sample_every_us).unwrap();
    assert!(!charts[0].svg.contains("maxmemory ("));
}

#[test]
fn a_run_without_samples_still_draws_its_charts() {
    let early_flush = SCENARIO.replace("at = \"15s\"", "at = \"100ms\"");
    let (config, output) = run_text(&early_flush, &["scenario.duration=500ms"]);
    assert!(output.samples.is_empty());
    let charts = run_charts(
        &output,
        config.server.maxmemory_bytes,
        config.sample_every_us,
    )
    .unwrap();
    assert_well_formed(
        &charts,
        &["memory", "evictions-expirations", "misses-by-cause"],
    );
    assert_texts(
        &charts[2],
        &["no samples: the run is shorter than sample-every"],
    );
}

fn compare_rows() -> Vec<CompareRow> {
    let row = |label: &str, hit_ratio: f64, evicted: u64, expired: u64| {
        let mut misses_by_cause = PerCause::default();
        misses_by_cause[Cause::Evicted] = evicted;
        misses_by_cause[Cause::Expired] = expired;
        CompareRow {
            label: label.to_string(),
            hit_ratio,
            misses_by_cause,
        }
    };
    vec![
        row("allkeys-lru", 0.9012, 40_000, 12_000),
        row("allkeys-lfu", 0.9345, 25_000, 12_000),
        row("allkeys-random", 0.05, 190_000, 0),
    ]
}

#[test]
fn compare_charts_show_each_variant_and_its_causes() {
    let rows = compare_rows();
    let charts = compare_charts(&rows).unwrap();
    assert_well_formed(&charts, &["compare-hit-ratio", "compare-misses"]);
    let (hit_ratio, misses) = (&charts[0], &charts[1]);
    for row in &rows {
        assert_texts(hit_ratio, &[&row.label]);
        assert_texts(misses, &[&row.label]);
    }
    // Values beside the bars: inside a long bar, past a short one.
    assert_texts(
        hit_ratio,
        &["hit ratio (%)", "90.12 %", "93.45 %", "5.00 %"],
    );
    assert_texts(
        misses,
        &[
            "misses", "expired", "evicted", "52,000", "37,000", "190,000",
        ],
    );
    assert_no_text(misses, "flushed");
    assert_eq!(compare_charts(&rows).unwrap(), charts);
}

#[test]
fn compare_row_takes_its_figures_from_a_run() {
    let (_, output) = run_scenario(&[]);
    let row = CompareRow::new("allkeys-lru", &output);
    assert_eq!(row.misses_by_cause, output.totals.misses_by_cause);
    assert!((row.hit_ratio - output.hits as f64 / output.reads as f64).abs() < 1e-6);
}

fn sweep_series(sizes_mib: &[u64]) -> Vec<SweepSeries> {
    ["allkeys-lru", "allkeys-lfu"]
        .iter()
        .enumerate()
        .map(|(policy, name)| SweepSeries {
            policy: name.to_string(),
            points: sizes_mib
                .iter()
                .enumerate()
                .map(|(i, mib)| SweepPoint {
                    maxmemory_bytes: mib << 20,
                    hit_ratio: 0.5 + 0.1 * i as f64 - 0.05 * policy as f64,
                    keys_lost: Some(100_000 / (i as u64 + 1)),
                    oom_rejected: Some(if policy == 1 { 50_000 } else { 0 }),
                })
                .collect(),
        })
        .collect()
}

#[test]
fn sweep_charts_mark_the_recommendation_and_the_target() {
    let series = sweep_series(&[16, 32, 64, 128, 256, 512]);
    let recommendations = [Recommendation {
        policy: "allkeys-lru".to_string(),
        maxmemory_bytes: 256 << 20,
    }];
    let charts = sweep_charts(&series, &recommendations, Some(0.9)).unwrap();
    assert_well_formed(&charts, &["sweep-hit-ratio", "sweep-keys-lost"]);
    let (hit_ratio, keys_lost) = (&charts[0], &charts[1]);
    for chart in &charts {
        assert_texts(chart, &["maxmemory (MiB)", "allkeys-lru", "allkeys-lfu"]);
    }
    assert_texts(
        hit_ratio,
        &[
            "hit ratio (%)",
            "target: 90 %",
            "recommended size",
            "allkeys-lru: 256 MiB",
        ],
    );
    // 16 to 512 MiB spans more than ten times: ticks at powers of two.
    assert_texts(hit_ratio, &["16", "32", "64", "128", "256", "512"]);
    assert_texts(
        keys_lost,
        &[
            "keys lost (solid), writes refused (dashed)",
            "100k",
            "writes refused (-OOM)",
        ],
    );
    assert_no_text(keys_lost, "target: 90 %");
    assert_eq!(
        sweep_charts(&series, &recommendations, Some(0.9)).unwrap(),
        charts
    );
}

#[test]
fn the_keys_lost_chart_says_what_a_fast_sweep_never_computed() {
    let mut series = sweep_series(&[16, 32, 64]);
    for point in series.iter_mut().flat_map(|s| &mut s.points) {
        point.keys_lost = None;
        point.oom_rejected = None;
    }
    let charts = sweep_charts(&series, &[], None).unwrap();
    assert_texts(&charts[1], &["keys lost are not computed by sweep --fast"]);
    assert_no_text(&charts[1], "writes refused (-OOM)");
    // A full sweep without refusals has no refused line either.
    let mut series = sweep_series(&[16, 32, 64]);
    for point in series.iter_mut().flat_map(|s| &mut s.points) {
        point.oom_rejected = Some(0);
    }
    let charts = sweep_charts(&series, &[], None).unwrap();
    assert_texts(&charts[1], &["keys lost (removed, not overwritten)"]);
    assert_no_text(&charts[1], "keys lost are not computed by sweep --fast");
    assert_no_text(&charts[1], "writes refused (-OOM)");
}

#[test]
fn operator_events_are_on_the_timeline_and_marked_on_the_time_charts() {
    let (config, output) = run_scenario(&[]);
    assert_eq!(
        output.timeline,
        vec![(15_000_000, "flushdb db0".to_string())]
    );
    let charts = run_charts(&output, 2 << 20, config.sample_every_us).unwrap();
    for stem in ["memory", "evictions-expirations", "misses-by-cause"] {
        let chart = charts.iter().find(|c| c.file_stem == stem).unwrap();
        assert_texts(chart, &[" flushdb db0"]);
    }
}

#[test]
fn sweep_charts_without_a_target_or_a_wide_range() {
    let series = sweep_series(&[64, 80, 96, 112, 128]);
    let charts = sweep_charts(&series, &[], None).unwrap();
    assert_well_formed(&charts, &["sweep-hit-ratio", "sweep-keys-lost"]);
    assert!(!charts[0].svg.contains("target:"));
    assert_no_text(&charts[0], "recommended size");
}

#[test]
fn empty_inputs_still_draw() {
    let charts = compare_charts(&[]).unwrap();
    assert_well_formed(&charts, &["compare-hit-ratio", "compare-misses"]);
    assert_texts(&charts[0], &["no variants"]);
    let charts = sweep_charts(&[], &[], Some(0.95)).unwrap();
    assert_well_formed(&charts, &["sweep-hit-ratio", "sweep-keys-lost"]);
    assert_texts(&charts[1], &["no run with a maxmemory to plot"]);
}
