//! `report.html`: the whole report as one self-contained page, to open in a browser or print.
//!
//! The page is a pure function of the run: the same scenario, seed and charts give the same
//! bytes (no timestamps, no hash-map order). Everything it needs is inside it: the stylesheet is
//! inline, the charts are inlined SVG markup, and nothing refers to a network address, a font or
//! an image file; no JavaScript runs. Every string that came from the user — the scenario name,
//! client names, key prefixes, chart titles, the scenario text — is HTML-escaped. The chart
//! markup itself is trusted: it comes from [`crate::report::charts`].
//!
//! Sections, in order: the header with the diagnosis, the run's figures, misses and removals by
//! cause, OOM rejections, writes lost, the timeline, Sentinel, clients (with their failed
//! requests by kind), the key prefixes that lost most, the charts, `INFO` per node and the
//! scenario text. The figures and wording follow the terminal summary
//! ([`crate::report::summary`]).

use crate::sim::ledger::PerCause;
use std::fmt::Write;

use crate::report::charts::cause_colour_hex;
use crate::report::info::info_text;
use crate::report::json::families_by_loss;
use crate::report::summary::{self, human_bytes, human_duration, thousands};
use crate::report::top_cause;
use crate::sim::config::SimConfig;
use crate::sim::engine::workload::ClientCounts;
use crate::sim::engine::RunOutput;
use crate::sim::ledger::Cause;
use crate::sim::server::info::Role;

/// How many key prefixes the page lists.
const TOP_PREFIXES: usize = 10;

/// The page's stylesheet: one column at most 1100 px wide, numbers right-aligned in tabular
/// figures, system fonts only, and a print layout that keeps tables and charts whole.
const STYLE: &str = r#"
:root { --ink: #1d2329; --muted: #5b6670; --rule: #d9dee3; --band: #f4f6f8; }
* { box-sizing: border-box; }
html { color-scheme: light; }
body { margin: 0; background: #fff; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 48px; }
header { border-bottom: 2px solid var(--ink); padding-bottom: 16px; }
h1 { font-size: 26px; line-height: 1.25; margin: 0 0 2px; overflow-wrap: anywhere; }
h1 .product { color: var(--muted); font-weight: 400; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 15px; margin: 22px 0 6px; overflow-wrap: anywhere; }
p { margin: 6px 0; }
.meta { color: var(--muted); margin: 0 0 12px; }
.diagnosis { font-size: 18px; margin: 0; padding: 10px 14px; background: var(--band);
  border-left: 5px solid var(--cause, var(--ink)); }
.note { color: var(--muted); }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
code { font-size: 0.92em; }
table { border-collapse: collapse; margin: 4px 0 6px; }
th, td { padding: 5px 14px 5px 0; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th:last-child, td:last-child { padding-right: 0; }
thead th { border-bottom: 2px solid var(--ink); font-weight: 600; white-space: nowrap; vertical-align: bottom; }
tfoot td { border-bottom: none; border-top: 2px solid var(--ink); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { overflow-wrap: anywhere; }
table.figures th, table.figures td { padding-right: 28px; }
table.figures td { font-size: 20px; font-weight: 600; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); column-gap: 48px; }
.pair table { width: 100%; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.45em; border-radius: 2px;
  vertical-align: -0.05em; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.causes { display: flex; flex-wrap: wrap; gap: 2px 16px; }
.causes span { white-space: nowrap; }
figure { margin: 0 0 18px; }
figure svg { display: block; max-width: 100%; height: auto; }
details { border: 1px solid var(--rule); margin: 8px 0; }
summary { cursor: pointer; padding: 6px 12px; background: var(--band); }
summary .note { margin-left: 8px; }
pre { font-size: 12.5px; line-height: 1.4; margin: 0; padding: 12px 14px; background: var(--band);
  white-space: pre-wrap; overflow-wrap: anywhere; }
details pre { background: #fff; column-width: 330px; column-gap: 28px; column-rule: 1px solid var(--rule); }
pre.scenario { border: 1px solid var(--rule); }
@page { margin: 14mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  h2, h3 { break-after: avoid; }
  table, figure, .diagnosis { break-inside: avoid; }
  summary { background: none; }
  details::details-content { content-visibility: visible; display: block; }
  details pre { column-width: 230px; }
}
"#;

/// The page for one run. `scenario_text` is the scenario file as given; `charts` are
/// (title, SVG markup) pairs, shown in order, each under its title.
pub fn report_html(
    config: &SimConfig,
    scenario_text: &str,
    output: &RunOutput,
    charts: &[(String, String)],
) -> String {
    let mut page =
        String::with_capacity(64 * 1024 + charts.iter().map(|c| c.1.len()).sum::<usize>());
    let name = escape(&config.name);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"vanish {}\">\n\
         <title>vanish · {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        env!("CARGO_PKG_VERSION")
    );
    header(&mut page, config, output);
    figures(&mut page, output);
    causes(&mut page, output);
    oom_rejections(&mut page, output);
    writes_lost(&mut page, output);
    timeline_section(&mut page, output);
    sentinel_section(&mut page, output);
    clients(&mut page, output);
    prefixes(&mut page, output);
    chart_section(&mut page, charts);
    nodes(&mut page, output);
    page.push_str("<section id=\"scenario\">\n<h2>Scenario</h2>\n<pre class=\"scenario\">");
    page.push_str(&escape(scenario_text));
    page.push_str("</pre>\n</section>\n</main>\n</body>\n</html>\n");
    page
}

/// Text made safe for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// A small square in the cause's colour, the same as in the charts.
fn swatch(cause: Cause) -> String {
    format!(
        "<span class=\"swatch\" style=\"background:{}\"></span>",
        cause_colour_hex(cause)
    )
}

/// A cause's name behind its colour swatch.
fn cause_label(cause: Cause) -> String {
    format!("{}{}", swatch(cause), cause.name())
}

/// `part` as a percentage of `whole` with one decimal, as the terminal summary prints it.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_string()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

fn header(page: &mut String, config: &SimConfig, output: &RunOutput) {
    let _ = write!(
        page,
        "<header>\n<h1><span class=\"product\">vanish ·</span> {}</h1>\n\
         <p class=\"meta\">seed {} · {} of virtual time</p>\n",
        escape(&config.name),
        config.seed,
        human_duration(config.duration_us)
    );
    match top_cause(output) {
        Some((cause, reads)) => {
            let _ = writeln!(
                page,
                "<p class=\"diagnosis\" style=\"--cause:{}\">diagnosis: <code>{}</code> cost the \
                 most reads ({} of {})</p>",
                cause_colour_hex(cause),
                cause.name(),
                thousands(reads),
                thousands(output.reads)
            );
        }
        None => page.push_str("<p class=\"diagnosis\">diagnosis: no read missed</p>\n"),
    }
    page.push_str("</header>\n");
}

fn figures(page: &mut String, output: &RunOutput) {
    page.push_str(
        "<section id=\"figures\">\n<h2>Run</h2>\n<table class=\"figures\">\n<thead><tr>\
         <th class=\"num\">commands</th><th class=\"num\">reads</th><th class=\"num\">hits</th>\
         <th class=\"num\">misses</th><th class=\"num\">hit ratio</th>\
         <th class=\"num\">peak used_memory (primary)</th></tr></thead>\n<tbody><tr>",
    );
    for cell in [
        thousands(output.commands),
        thousands(output.reads),
        thousands(output.hits),
        thousands(output.misses),
        percent(output.hits, output.reads),
    ] {
        let _ = write!(page, "<td class=\"num\">{cell}</td>");
    }
    let _ = write!(
        page,
        "<td class=\"num\" title=\"{} bytes\">{}</td></tr></tbody>\n</table>\n</section>\n",
        thousands(output.peak_used_memory),
        human_bytes(output.peak_used_memory)
    );
}

/// Causes with a non-zero count, largest first; ties keep `Cause::ALL`'s order.
fn ranked(counts: &PerCause<u64>) -> Vec<(Cause, u64)> {
    let mut ranked: Vec<(Cause, u64)> = Cause::ALL
        .iter()
        .map(|cause| (*cause, counts[cause]))
        .filter(|(_, count)| *count > 0)
        .collect();
    ranked.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    ranked
}

/// One table of counts by cause with each count's share of the total, and an optional note.
fn cause_table(
    page: &mut String,
    heading: &str,
    counted: &str,
    counts: &PerCause<u64>,
    note: Option<String>,
) {
    let _ = write!(page, "<div>\n<h3>{heading}</h3>\n");
    let rows = ranked(counts);
    if rows.is_empty() {
        page.push_str("<p class=\"note\">none</p>\n");
    } else {
        cause_rows(page, counted, counts, rows);
    }
    if let Some(note) = note {
        let _ = writeln!(page, "<p class=\"note\">{note}</p>");
    }
    page.push_str("</div>\n");
}

fn cause_rows(page: &mut String, counted: &str, counts: &PerCause<u64>, rows: Vec<(Cause, u64)>) {
    let total: u64 = counts.iter().sum();
    let _ = write!(
        page,
        "<table>\n<thead><tr><th>cause</th><th class=\"num\">{counted}</th>\
         <th class=\"num\">share</th></tr></thead>\n<tbody>\n"
    );
    for (cause, count) in rows {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            cause_label(cause),
            thousands(count),
            percent(count, total)
        );
    }
    let _ = write!(
        page,
        "</tbody>\n<tfoot><tr><td>total</td><td class=\"num\">{}</td><td></td></tr></tfoot>\n\
         </table>\n",
        thousands(total)
    );
}

fn causes(page: &mut String, output: &RunOutput) {
    page.push_str("<section id=\"causes\">\n<h2>Why keys vanished</h2>\n<div class=\"pair\">\n");
    let overwritten_hits = (output.totals.overwritten_hits > 0).then(|| {
        format!(
            "plus {} hits on a value another client overwrote (counted as \
             <code>overwritten</code> in the diagnosis)",
            thousands(output.totals.overwritten_hits)
        )
    });
    cause_table(
        page,
        "Misses by cause",
        "misses",
        &output.totals.misses_by_cause,
        overwritten_hits,
    );
    cause_table(
        page,
        "Keys removed, by cause",
        "keys",
        &output.totals.removals_by_cause,
        None,
    );
    page.push_str("</div>\n</section>\n");
}

fn oom_rejections(page: &mut String, output: &RunOutput) {
    let rejected = output.totals.rejected_by_cause[Cause::OomRejected];
    if rejected == 0 {
        return;
    }
    let _ = write!(
        page,
        "<section id=\"oom\">\n<h2>Writes refused with -OOM</h2>\n<p>{}{} writes were refused \
         with <code>-OOM</code>; those keys were never stored.</p>\n</section>\n",
        swatch(Cause::OomRejected),
        thousands(rejected)
    );
}

/// Acknowledged writes lost (Jepsen's measure), by cause, and writes refused for want of
/// replicas.
fn writes_lost(page: &mut String, output: &RunOutput) {
    let refused = output.totals.rejected_by_cause[Cause::NoreplicasRejected];
    if output.acknowledged_writes_lost == 0 && refused == 0 {
        return;
    }
    let _ = write!(
        page,
        "<section id=\"writes-lost\">\n<h2>Acknowledged writes lost</h2>\n<p>{} of {} \
         acknowledged writes ({}) are gone: the server replied OK, and the data did not \
         survive.</p>\n<div class=\"pair\">\n",
        thousands(output.acknowledged_writes_lost),
        thousands(output.acknowledged_writes),
        percent(output.acknowledged_writes_lost, output.acknowledged_writes)
    );
    cause_table(
        page,
        "Lost, by cause",
        "writes",
        &output.totals.lost_writes_by_cause,
        None,
    );
    page.push_str("</div>\n");
    if refused > 0 {
        let _ = writeln!(
            page,
            "<p>{}{} writes were refused with <code>-NOREPLICAS</code> \
             (<code>min-replicas-to-write</code> not met); those keys were never stored.</p>",
            swatch(Cause::NoreplicasRejected),
            thousands(refused)
        );
    }
    page.push_str("</section>\n");
}

/// A Sentinel event's time, Sentinel, event and node, escaped for the page.
fn event_cells(
    output: &RunOutput,
    event: &crate::sim::cluster::sentinel::SentinelEvent,
) -> [String; 4] {
    [
        summary::clock(event.time_us),
        event.sentinel.to_string(),
        escape(event.event),
        escape(summary::event_node(output, event)),
    ]
}

/// What the Sentinels did and when: the highlights, then their whole log.
fn sentinel_section(page: &mut String, output: &RunOutput) {
    if output.sentinel_log.is_empty() {
        return;
    }
    page.push_str(
        "<section id=\"sentinel\">\n<h2>Sentinel</h2>\n<table>\n<thead><tr>\
         <th class=\"num\">time</th><th>sentinel</th><th>event</th><th>node</th></tr></thead>\n\
         <tbody>\n",
    );
    for event in summary::sentinel_highlights(output) {
        let [time, sentinel, what, node] = event_cells(output, event);
        let _ = writeln!(
            page,
            "<tr><td class=\"num\">{time}</td><td>{sentinel}</td><td><code>{what}</code></td>\
             <td>{node}</td></tr>"
        );
    }
    page.push_str("</tbody>\n</table>\n<details>\n<summary>Every Sentinel event</summary>\n<pre>");
    for event in &output.sentinel_log {
        let [time, sentinel, what, node] = event_cells(output, event);
        let _ = writeln!(page, "{time:>10}  sentinel {sentinel}  {what} {node}");
    }
    page.push_str("</pre>\n</details>\n</section>\n");
}

fn clients(page: &mut String, output: &RunOutput) {
    page.push_str(
        "<section id=\"clients\">\n<h2>Clients</h2>\n<table>\n<thead><tr><th>client</th>\
         <th class=\"num\">commands</th><th class=\"num\">reads</th><th class=\"num\">hits</th>\
         <th class=\"num\">misses</th><th class=\"num\">hit ratio</th>\
         <th class=\"num\">failed reads</th><th class=\"num\">failed writes</th>\
         <th>failed, by kind</th></tr></thead>\n<tbody>\n",
    );
    for (name, counts) in &output.clients {
        let _ = writeln!(
            page,
            "<tr><td class=\"name\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(name),
            thousands(counts.commands),
            thousands(counts.reads),
            thousands(counts.hits),
            thousands(counts.misses),
            percent(counts.hits, counts.reads),
            thousands(counts.failed_reads.total()),
            thousands(counts.failed_writes.total()),
            failures_by_kind(counts)
        );
    }
    page.push_str(
        "</tbody>\n</table>\n<p class=\"note\">A client's reads are its hits, its misses and its \
         failed reads. <code>timeout</code>: no answer in time (a paused process, a crashed \
         machine, a partition); <code>refused</code>: the connection was refused (a killed \
         process); the others are Redis's error replies.</p>\n</section>\n",
    );
}

/// "timeout 51,399 · -READONLY 2,247": a client's failed requests, reads and writes together.
fn failures_by_kind(counts: &ClientCounts) -> String {
    let mut all = counts.failed_reads;
    all.add(&counts.failed_writes);
    let parts: Vec<String> = all
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(failure, count)| {
            format!(
                "<span>{} {}</span>",
                escape(failure.label()),
                thousands(*count)
            )
        })
        .collect();
    format!("<div class=\"causes\">{}</div>", parts.concat())
}

/// Operator events, faults and promotions, in time order.
fn timeline_section(page: &mut String, output: &RunOutput) {
    if output.timeline.is_empty() {
        return;
    }
    page.push_str(
        "<section id=\"timeline\">\n<h2>Timeline</h2>\n<table>\n<thead><tr>\
         <th class=\"num\">time</th><th>event</th></tr></thead>\n<tbody>\n",
    );
    for (time_us, what) in &output.timeline {
        let _ = writeln!(
            page,
            "<tr><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            summary::clock(*time_us),
            escape(what)
        );
    }
    page.push_str("</tbody>\n</table>\n");
    if let Some(note) = summary::promotion_note(output) {
        let note = note.replace('\n', " ");
        let _ = writeln!(page, "<p class=\"note\">{}</p>", escape(&note));
    }
    page.push_str("</section>\n");
}

fn prefixes(page: &mut String, output: &RunOutput) {
    let lost: Vec<(usize, u64)> = families_by_loss(output)
        .into_iter()
        .filter(|(_, lost)| *lost > 0)
        .take(TOP_PREFIXES)
        .collect();
    if lost.is_empty() {
        return;
    }
    let _ = write!(
        page,
        "<section id=\"prefixes\">\n<h2>Top key prefixes lost</h2>\n<table>\n<thead><tr>\
         <th>prefix</th><th class=\"num\">keys lost</th><th class=\"num\">misses</th>\
         <th>keys removed, by cause</th></tr></thead>\n<tbody>\n"
    );
    for (family, total) in lost {
        let removals = &output.family_removals[family];
        let misses: u64 = output.family_misses[family].iter().sum();
        let by_cause: Vec<String> = ranked(removals)
            .into_iter()
            .map(|(cause, count)| {
                format!("<span>{} {}</span>", cause_label(cause), thousands(count))
            })
            .collect();
        let _ = writeln!(
            page,
            "<tr><td class=\"name\"><code>{}</code></td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td><div class=\"causes\">{}</div></td></tr>",
            escape(&output.keys.groups()[family]),
            thousands(total),
            thousands(misses),
            by_cause.concat()
        );
    }
    page.push_str(
        "</tbody>\n</table>\n<p class=\"note\">Keys lost count every removal except overwrites \
         (the key still exists).</p>\n</section>\n",
    );
}

fn chart_section(page: &mut String, charts: &[(String, String)]) {
    if charts.is_empty() {
        return;
    }
    page.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
    for (title, svg) in charts {
        let _ = write!(
            page,
            // The chart draws its own title; the figure carries it for screen readers.
            "<figure aria-label=\"{}\">\n{}\n</figure>\n",
            escape(title),
            inline_svg(svg).trim_end()
        );
    }
    page.push_str("</section>\n");
}

fn nodes(page: &mut String, output: &RunOutput) {
    page.push_str("<section id=\"info\">\n<h2>INFO per node</h2>\n");
    for info in &output.nodes {
        let role = match info.role {
            Role::Master => "primary",
            Role::Replica(_) => "replica",
        };
        let keys: u64 = info.keyspace.iter().map(|db| db.keys).sum();
        let _ = write!(
            page,
            "<details>\n<summary><strong>{}</strong><span class=\"note\">",
            escape(&info.node)
        );
        if info.node != role {
            let _ = write!(page, "{role} · ");
        }
        let _ = write!(
            page,
            "used_memory {} · {} keys · expired {} · evicted {}</span></summary>\n<pre>{}</pre>\n\
             </details>\n",
            human_bytes(info.used_memory),
            thousands(keys),
            thousands(info.expired_keys),
            thousands(info.evicted_keys),
            info_html(&info_text(info))
        );
    }
    page.push_str("</section>\n");
}

/// INFO text for a `<pre>`: escaped, LF line ends, and a line-break opportunity after each comma
/// so a long `cmdstat_` line wraps between its fields rather than inside one.
fn info_html(text: &str) -> String {
    escape(&text.replace("\r\n", "\n")).replace(',', ",<wbr>")
}

/// Chart markup ready to sit inside an HTML body. Anything before the root `<svg` (an XML
/// declaration, a doctype, comments) is dropped, since HTML does not allow it there, and
/// `xmlns` declarations are removed from `<svg>` tags: the HTML parser puts `<svg>` and its
/// `xlink:` attributes in their namespaces by itself, and without them the page holds no URL.
fn inline_svg(svg: &str) -> String {
    let markup = svg.find("<svg").map_or(svg, |at| &svg[at..]);
    let mut out = String::with_capacity(markup.len());
    let mut rest = markup;
    while let Some(at) = rest.find("<svg") {
        out.push_str(&rest[..at]);
        let tag_end = rest[at..].find('>').map_or(rest.len(), |end| at + end + 1);
        out.push_str(&without_xmlns(&rest[at..tag_end]));
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    out
}

/// A start tag without its `xmlns` and `xmlns:*` attributes.
fn without_xmlns(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len());
    let mut rest = tag;
    while let Some(at) = rest.find(" xmlns") {
        out.push_str(&rest[..at]);
        let attribute = &rest[at + 1..];
        let value_start = attribute.find('=').map(|eq| eq + 1);
        let quote = value_start.and_then(|start| attribute[start..].chars().next());
        let end = match (value_start, quote) {
            (Some(start), Some(quote @ ('"' | '\''))) => attribute[start + 1..]
                .find(quote)
                .map(|close| start + 1 + close + 1),
            _ => None,
        };
        match end {
            Some(end) => rest = &attribute[end..],
            // Not a well-formed attribute: keep the text as it is.
            None => {
                out.push(' ');
                rest = attribute;
                let skip = "xmlns".len();
                out.push_str(&rest[..skip]);
                rest = &rest[skip..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain · text"), "plain · text");
    }

    #[test]
    fn svg_loses_its_prologue_and_namespace_declarations() {
        let svg = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg width=\"10\" \
                   xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink='http://www.w3.org/1999/xlink' \
                   viewBox=\"0 0 10 10\"><text>xmlns stays in text</text><svg xmlns=\"http://x\">\
                   </svg></svg>";
        assert_eq!(
            inline_svg(svg),
            "<svg width=\"10\" viewBox=\"0 0 10 10\"><text>xmlns stays in text</text><svg>\
             </svg></svg>"
        );
        // Malformed declarations are left alone rather than eating the tag.
        assert_eq!(inline_svg("<svg xmlns>"), "<svg xmlns>");
        assert_eq!(inline_svg("<svg xmlns=x y=\"1\">"), "<svg xmlns=x y=\"1\">");
    }

    #[test]
    fn percent_matches_the_terminal_summary() {
        assert_eq!(percent(1, 3), "33.3 %");
        assert_eq!(percent(0, 0), "-");
    }
}
