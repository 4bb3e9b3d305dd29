//! `report.html`: one self-contained, escaped, deterministic page; and the same page as headless
//! Chromium renders it.
//!
//! The browser test needs Debian's `chromium` (`apt-get install chromium`). Without it the test
//! fails when `CI` is set and is skipped otherwise, so `cargo test` still passes on a machine
//! without a browser.

use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use vanish::report::charts::run_charts;
use vanish::report::html::report_html;
use vanish::report::info::info_text;
use vanish::scenario::{self, Overrides};
use vanish::sim::config::SimConfig;
use vanish::sim::engine::{run, NoProgress, RunOutput};
use vanish::sim::ledger::{Cause, DiscardLedger};

/// A small run losing keys several ways. The comment and the key prefix carry markup that must
/// reach the page as text.
const SCENARIO: &str = r#"# The HTML report's test scenario: expiry, DEL, overwrites, the wrong database, a flush.
# Markup in a comment must stay text: <script>alert("vanish")</script> & <b>bold</b>
[scenario]
name = "html-report"
seed = 7
duration = "20s"

[[client]]
name = "web"
rate = 400
keyspace = { keys = 400, prefix = "sess<&>':", popularity = "zipf" }
commands = { GET = 80, SET = 15, DEL = 5 }
ttl = { share = 0.5, min = "2s", max = "5s" }
on-miss = "set"

[[client]]
name = "canary"
rate = 20
keyspace = { keys = 400, prefix = "sess<&>':" }
commands = { GET = 50, SET = 50 }

[[client]]
name = "admin-script"
rate = 10
db = 1
keyspace = { keys = 400, prefix = "sess<&>':" }
commands = { GET = 1 }

[[event]]
at = "10s"
do = "flushdb"
"#;

fn simulate() -> (SimConfig, RunOutput) {
    let config = scenario::parse("html-report.toml", SCENARIO, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let output = run(&config, &mut DiscardLedger, &mut NoProgress);
    (config, output)
}

/// HTML escaping written out independently of the report's own.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A chart shaped like plotters' SVG output (XML namespace, width, height and viewBox): one
/// polyline per cause of misses, over the run's samples.
fn fake_chart(output: &RunOutput, width: u32, height: u32) -> String {
    let samples = &output.samples;
    let peak = samples
        .iter()
        .flat_map(|s| s.misses_by_cause.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = format!(
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n<rect x=\"0\" y=\"0\" width=\"{width}\" \
         height=\"{height}\" fill=\"#fff\"/>\n<line x1=\"40\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" \
         stroke=\"#000\"/>\n<text x=\"40\" y=\"20\" font-family=\"sans-serif\" \
         font-size=\"14\">misses per sample</text>\n",
        height - 30,
        width - 10
    );
    for cause in Cause::ALL {
        if samples.iter().all(|s| s.misses_by_cause[cause] == 0) {
            continue;
        }
        let points: Vec<String> = samples
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let x = 40 + i as u64 * u64::from(width - 50) / samples.len().max(1) as u64;
                let y = u64::from(height - 30)
                    - s.misses_by_cause[cause] * u64::from(height - 60) / peak;
                format!("{x},{y}")
            })
            .collect();
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"#555\" stroke-width=\"2\" points=\"{}\"/>\n",
            points.join(" ")
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vanish-it-html-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn report_html_is_one_self_contained_escaped_deterministic_page() {
    let (config, output) = simulate();
    let charts = vec![(
        "Misses <per> sample".to_string(),
        fake_chart(&output, 600, 200),
    )];
    let html = report_html(&config, SCENARIO, &output, &charts);

    // One document, nothing fetched from anywhere.
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.ends_with("</html>\n"));
    for once in [
        "<html", "<head>", "</head>", "<body>", "</body>", "<style>", "<main>",
    ] {
        assert_eq!(html.matches(once).count(), 1, "{once} appears once");
    }
    for reference in [
        "http://", "https://", "src=", "url(", "@import", "<link", "<img", "<script", "<iframe",
    ] {
        assert!(!html.contains(reference), "the page holds {reference}");
    }

    // The run's figures and every cause that cost a read or removed a key.
    assert!(html.contains(&format!(
        "diagnosis: <code>{}</code> cost the most reads",
        vanish::report::top_cause(&output).unwrap().0.name()
    )));
    let mut causes_seen = 0;
    for cause in Cause::ALL {
        let misses = output.totals.misses_by_cause[cause];
        let removals = output.totals.removals_by_cause[cause];
        if misses + removals > 0 {
            causes_seen += 1;
            assert!(
                html.contains(&format!("</span>{}</td>", cause.name())),
                "{} is in a cause table",
                cause.name()
            );
        }
    }
    assert!(
        causes_seen >= 4,
        "the scenario shows several causes, saw {causes_seen}"
    );
    for (name, _) in &output.clients {
        assert!(
            html.contains(&format!(">{}<", escaped(name))),
            "client {name}"
        );
    }
    assert!(html.contains(&format!("<code>{}</code>", escaped("sess<&>':"))));

    // The chart, inline, under its escaped title, without its XML namespace.
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(html.contains("<figure aria-label=\"Misses &lt;per&gt; sample\">\n<svg width=\"600\""));

    // INFO per node (a line may wrap after a comma) and the scenario, as text.
    for info in &output.nodes {
        let text = escaped(&info_text(info).replace("\r\n", "\n")).replace(',', ",<wbr>");
        assert!(
            html.contains(&format!("<pre>{text}</pre>")),
            "INFO of {}",
            info.node
        );
    }
    assert!(html.contains(&escaped(SCENARIO)));
    assert!(html.contains("&lt;script&gt;alert(&quot;vanish&quot;)&lt;/script&gt; &amp;"));

    // Same input, same bytes; a fresh run of the same scenario too.
    assert_eq!(report_html(&config, SCENARIO, &output, &charts), html);
    let (config_again, output_again) = simulate();
    let charts_again = vec![(
        "Misses <per> sample".to_string(),
        fake_chart(&output_again, 600, 200),
    )];
    assert_eq!(
        report_html(&config_again, SCENARIO, &output_again, &charts_again),
        html
    );
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs headless Chromium on `page` with `arguments`, its stdout into `stdout`; kills it (and
/// the renderer processes it started) after [`CHROMIUM_TIMEOUT`].
fn chromium(dir: &Path, label: &str, page: &Path, arguments: &[String], stdout: &Path) {
    let profile = dir.join(format!("profile-{label}"));
    let _ = fs::remove_dir_all(&profile);
    let stderr = dir.join(format!("chromium-{label}.stderr"));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(arguments)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(File::create(stdout).unwrap())
        .stderr(File::create(&stderr).unwrap())
        // Its own process group, so a timeout can stop every process it started.
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {CHROMIUM}: {e}"));
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    let status: ExitStatus = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium {label} did not finish within {CHROMIUM_TIMEOUT:?}; stderr:\n{}",
                fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = fs::remove_dir_all(&profile);
    assert!(
        status.success(),
        "chromium {label} failed ({status}); stderr:\n{}",
        fs::read_to_string(&stderr).unwrap_or_default()
    );
}

/// Whether the browser test can run: fails in CI without chromium, else skips with a note.
fn chromium_installed() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CHROMIUM} is missing: the browser test needs Debian's chromium (apt-get install chromium)"
    );
    println!("skipped: chromium not installed (apt-get install chromium)");
    false
}

#[test]
fn report_html_renders_in_headless_chromium() {
    if !chromium_installed() {
        return;
    }
    let started = Instant::now();
    let (config, output) = simulate();
    // The run's real charts (plotters' SVG, wider than the page), and a narrow one.
    let mut charts: Vec<(String, String)> = run_charts(
        &output,
        config.server.maxmemory_bytes,
        config.sample_every_us,
    )
    .expect("the run's charts draw")
    .into_iter()
    .map(|chart| (chart.title, chart.svg))
    .collect();
    charts.push(("A narrow chart".to_string(), fake_chart(&output, 480, 240)));
    let dir = temp_dir("browser");
    let page = dir.join("report.html");
    fs::write(&page, report_html(&config, SCENARIO, &output, &charts)).unwrap();

    // The DOM Chromium built: the charts are SVG elements, the tables are tables, and the
    // scenario's markup stayed text.
    let dom_file = dir.join("dom.html");
    chromium(&dir, "dom", &page, &["--dump-dom".to_string()], &dom_file);
    let dom = fs::read_to_string(&dom_file).unwrap();
    assert_eq!(
        dom.matches("<svg").count(),
        charts.len(),
        "chart <svg> elements"
    );
    for (title, _) in &charts {
        assert!(
            dom.contains(&format!("aria-label=\"{}\"", escaped(title))),
            "{title}"
        );
    }
    assert!(
        dom.matches("<table").count() >= 5,
        "tables: figures, misses, removals, clients, prefixes"
    );
    assert_eq!(dom.matches("<details").count(), output.nodes.len());
    assert!(dom.contains("diagnosis: <code>"));
    assert!(
        !dom.contains("<script"),
        "the scenario's <script> stayed text"
    );

    // A screenshot of the top of the page in a 1200-px window.
    let screenshot = dir.join("report.png");
    chromium(
        &dir,
        "screenshot",
        &page,
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1200,2000".to_string(),
            "--hide-scrollbars".to_string(),
        ],
        &dir.join("screenshot.stdout"),
    );
    let png = fs::read(&screenshot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 2000));
    assert!(
        png.len() > 30_000,
        "a page, not a blank: {} bytes",
        png.len()
    );
    println!(
        "report and screenshot in {} ({:.1} s)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
}
