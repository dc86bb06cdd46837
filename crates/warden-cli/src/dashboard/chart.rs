//! The report's charts, drawn as SVG text: no script and no library draws
//! them, so the page shows them as it is saved, printed or mailed.

use std::fmt::Write as _;

/// Text made safe inside XML and HTML, in element content and in quoted
/// attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Colors for series, told apart by people with the common color-vision
/// deficiencies (Okabe–Ito), then grays.
const PALETTE: &[&str] = &[
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#7f7f7f", "#b0b0b0",
];

pub fn color(index: usize) -> &'static str {
    PALETTE[index.min(PALETTE.len() - 1)]
}

/// The opening of a chart: its size, and its title for screen readers and
/// tooltips.
fn open_svg(id: &str, title: &str, width: f64, height: f64) -> String {
    format!(
        r#"<svg class="chart" data-chart="{id}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-title"><title id="{id}-title">{title}</title>"#,
        id = escape(id),
        title = escape(title),
    )
}

/// A round number at or above `max` for the top of an axis, and its step.
fn axis(max: f64) -> (f64, f64) {
    if max <= 0.0 {
        return (1.0, 1.0);
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0] {
        let step = (step * magnitude).max(1.0);
        if max / step <= 5.0 {
            return ((max / step).ceil() * step, step);
        }
    }
    (max, max)
}

/// One stacked bar per period: each series' count in it.
pub struct Stacked<'a> {
    pub id: &'a str,
    pub title: &'a str,
    /// Each bar's label (a date).
    pub labels: Vec<String>,
    /// Each series' name and its count per bar.
    pub series: Vec<(String, Vec<u64>)>,
}

pub fn stacked_bars(chart: &Stacked) -> String {
    let (width, height) = (1100.0, 260.0);
    let (left, right, top, bottom) = (44.0, 10.0, 10.0, 40.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let bars = chart.labels.len().max(1);
    let totals: Vec<u64> = (0..chart.labels.len())
        .map(|i| chart.series.iter().map(|(_, v)| v[i]).sum())
        .collect();
    let (top_value, step) = axis(totals.iter().copied().max().unwrap_or(0) as f64);
    let mut svg = open_svg(chart.id, chart.title, width, height);
    grid(&mut svg, left, top, plot_w, plot_h, top_value, step, "");
    let slot = plot_w / bars as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let label_every = (bars as f64 / 10.0).ceil().max(1.0) as usize;
    for (i, label) in chart.labels.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar_w) / 2.0;
        let mut y = top + plot_h;
        for (s, (name, values)) in chart.series.iter().enumerate() {
            let v = values[i];
            if v == 0 {
                continue;
            }
            let h = v as f64 / top_value * plot_h;
            y -= h;
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{}" data-series="{}" data-value="{v}"><title>{}: {} {v}</title></rect>"#,
                color(s),
                escape(name),
                escape(label),
                escape(name),
            );
        }
        if i % label_every == 0 {
            let _ = write!(
                svg,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x + bar_w / 2.0,
                top + plot_h + 16.0,
                escape(label.get(5..10).unwrap_or(label)),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal gridlines and the value axis.
#[allow(clippy::too_many_arguments)]
fn grid(
    svg: &mut String,
    left: f64,
    top: f64,
    plot_w: f64,
    plot_h: f64,
    top_value: f64,
    step: f64,
    unit: &str,
) {
    let mut value = 0.0;
    while value <= top_value + 1e-9 {
        let y = top + plot_h - value / top_value * plot_h;
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}{unit}</text>"#,
            left + plot_w,
            left - 6.0,
            y + 4.0,
            if step.fract() == 0.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.1}")
            },
        );
        value += step;
    }
}

/// One bar of [`percent_bars`].
pub struct Bar {
    pub label: String,
    pub percent: f64,
    /// What the tooltip adds.
    pub note: String,
    /// Items met only through a waiver: drawn in their own color.
    pub waived: usize,
}

/// One horizontal bar per item, its value a percentage.
pub fn percent_bars(id: &str, title: &str, items: &[Bar]) -> String {
    let row = 22.0;
    let (left, right) = (90.0, 130.0);
    let width = 560.0;
    let height = row * items.len().max(1) as f64 + 10.0;
    let plot_w = width - left - right;
    let mut svg = open_svg(id, title, width, height);
    for (i, bar) in items.iter().enumerate() {
        let (label, percent, note) = (&bar.label, &bar.percent, &bar.note);
        let y = 5.0 + i as f64 * row;
        let w = percent.clamp(0.0, 100.0) / 100.0 * plot_w;
        let shown = if bar.waived > 0 {
            format!("{percent}% ({} waived)", bar.waived)
        } else {
            format!("{percent}%")
        };
        let fill = if bar.waived > 0 {
            "#56B4E9"
        } else if *percent >= 100.0 {
            "#009E73"
        } else if *percent >= 80.0 {
            "#E69F00"
        } else {
            "#D55E00"
        };
        let _ = write!(
            svg,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="track" x="{left}" y="{:.1}" width="{plot_w:.1}" height="14"/><rect class="bar" x="{left}" y="{:.1}" width="{w:.1}" height="14" fill="{fill}" data-label="{}" data-value="{percent}"><title>{}: {percent}% {}</title></rect><text class="value" x="{:.1}" y="{:.1}">{shown}</text>"#,
            left - 8.0,
            y + 11.0,
            escape(label),
            y,
            y,
            escape(label),
            escape(label),
            escape(note),
            left + plot_w + 6.0,
            y + 11.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A line through percentages over time: one point per labelled moment.
pub fn percent_line(id: &str, title: &str, points: &[(String, f64, String)]) -> String {
    let (width, height) = (560.0, 220.0);
    let (left, right, top, bottom) = (44.0, 16.0, 10.0, 40.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let mut svg = open_svg(id, title, width, height);
    grid(&mut svg, left, top, plot_w, plot_h, 100.0, 25.0, "%");
    let n = points.len();
    let x_of = |i: usize| {
        if n <= 1 {
            left + plot_w / 2.0
        } else {
            left + i as f64 * plot_w / (n - 1) as f64
        }
    };
    let y_of = |p: f64| top + plot_h - p.clamp(0.0, 100.0) / 100.0 * plot_h;
    if n > 1 {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (_, p, _))| format!("{:.1},{:.1}", x_of(i), y_of(*p)))
            .collect();
        let _ = write!(
            svg,
            r##"<polyline class="trend" fill="none" stroke="#0072B2" stroke-width="2" points="{}"/>"##,
            path.join(" ")
        );
    }
    for (i, (label, p, note)) in points.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<circle class="point" cx="{:.1}" cy="{:.1}" r="4" fill="#0072B2" data-value="{p}"><title>{}: {p}% ({})</title></circle><text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            x_of(i),
            y_of(*p),
            escape(label),
            escape(note),
            x_of(i),
            top + plot_h + 16.0,
            escape(label.get(5..10).unwrap_or(label)),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers_above_the_largest_value() {
        for (max, top, step) in [
            (0.0, 1.0, 1.0),
            (3.0, 3.0, 1.0),
            (7.0, 8.0, 2.0),
            (42.0, 50.0, 10.0),
            (100.0, 100.0, 20.0),
            (1234.0, 1250.0, 250.0),
        ] {
            assert_eq!(axis(max), (top, step), "{max}");
        }
    }

    #[test]
    fn text_cannot_leave_its_element_or_attribute() {
        let svg = percent_bars(
            "x\"><script>",
            "</title><script>alert(1)</script>",
            &[Bar {
                label: "<b>&".into(),
                percent: 50.0,
                note: "'".into(),
                waived: 0,
            }],
        );
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<b>"), "{svg}");
        assert!(svg.contains("&lt;b&gt;&amp;"), "{svg}");
    }
}
