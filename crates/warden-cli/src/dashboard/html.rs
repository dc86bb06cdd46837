//! The report as one HTML page: styles, charts and the table-sorting script
//! are inline, and its Content-Security-Policy forbids every request, so
//! the page works offline and a value from a log cannot make it fetch
//! anything.

use super::chart::Bar;
use super::chart::{self, escape};
use super::figures::{Chain, Figures, NO_RULE_ALLOWED, SOON_DAYS, STALE_DAYS, Stat};
use std::fmt::Write as _;

const STYLE: &str = include_str!("report.css");
/// The most apps the page's table lists.
const APP_ROWS: usize = 2000;
const SCRIPT: &str = include_str!("report.js");

/// A number for a tile: `—` when there is none.
fn shown(value: Option<f64>, unit: &str) -> String {
    match value {
        Some(v) if v.fract() == 0.0 => format!("{v:.0}{unit}"),
        Some(v) => format!("{v:.1}{unit}"),
        None => "—".to_string(),
    }
}

/// A table cell: its text, and the value it sorts by.
fn cell(text: &str, sort: &str) -> String {
    format!(r#"<td data-sort="{}">{}</td>"#, escape(sort), escape(text))
}

fn number_cell(value: Option<f64>) -> String {
    match value {
        Some(v) => cell(&shown(Some(v), ""), &format!("{v}")),
        None => cell("—", ""),
    }
}

fn tile(out: &mut String, kpi: &str, label: &str, value: &str, detail: &str, alert: bool) {
    let _ = write!(
        out,
        r#"<div class="tile{}" data-kpi="{kpi}"><div class="value">{}</div><div class="label">{}</div><div class="detail">{}</div></div>"#,
        if alert { " alert" } else { "" },
        escape(value),
        escape(label),
        escape(detail),
    );
}

fn stat_detail(stat: &Stat) -> String {
    match stat.average {
        Some(average) => format!(
            "average {} days, over {} app{}",
            shown(Some(average), ""),
            stat.apps,
            if stat.apps == 1 { "" } else { "s" }
        ),
        None => "no app with a registration date".to_string(),
    }
}

/// A sortable table: headers (label, key, numeric) and rows of cells.
fn table(out: &mut String, id: &str, headers: &[(&str, bool)], rows: &[String]) {
    let _ = write!(
        out,
        r#"<div class="scroll"><table class="sortable" id="{id}"><thead><tr>"#
    );
    for (i, (label, numeric)) in headers.iter().enumerate() {
        let _ = write!(
            out,
            r#"<th data-column="{i}" data-type="{}" tabindex="0" aria-sort="none">{}</th>"#,
            if *numeric { "number" } else { "text" },
            escape(label)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        let _ = write!(out, "<tr>{row}</tr>");
    }
    out.push_str("</tbody></table></div>");
    if rows.is_empty() {
        out.push_str(r#"<p class="empty">None.</p>"#);
    }
}

pub fn page(f: &Figures) -> String {
    let k = &f.kpis;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Warden governance report, {}</title><style>{STYLE}</style></head><body>"#,
        escape(&f.now[..10.min(f.now.len())])
    );
    let _ = write!(
        out,
        r#"<header><h1>Micro-app governance</h1><p class="period" data-period-from="{}" data-period-to="{}">Period {} to {} ({} days, by {}); expiry and waivers judged at {}.</p></header>"#,
        escape(&f.period.from),
        escape(&f.period.to),
        escape(&f.period.from),
        escape(&f.period.to),
        f.period.days,
        f.period.bucket,
        escape(&f.now),
    );

    // A log whose chain does not hold is the first thing on the page.
    for log in &f.sources.decision_logs {
        if log.chain == Chain::Intact {
            continue;
        }
        let _ = write!(
            out,
            r#"<section class="banner" data-chain="{}" data-log="{}"><h2>Decision log {}: hash chain {}</h2>"#,
            log.chain.as_str(),
            escape(&log.file),
            escape(&log.file),
            log.chain.as_str(),
        );
        if log.break_count > 0 {
            let _ = write!(
                out,
                "<p>The chain breaks {} time{} in {} lines: at each break the line, or the one before it, was changed, or lines were removed or moved. The figures below count every decision the log holds ({} on lines where the chain breaks); the chain does not vouch for the lines around a break. Check the log with <code>warden audit verify {}</code>.</p><ul>",
                log.break_count,
                if log.break_count == 1 { "" } else { "s" },
                log.lines,
                log.unverified,
                escape(&log.file),
            );
            for b in &log.breaks {
                let _ = write!(out, "<li>line {}: {}</li>", b.line, escape(&b.why));
            }
            out.push_str("</ul>");
        }
        if let Some(bytes) = log.truncated_bytes {
            let _ = write!(
                out,
                "<p>The last {bytes} byte(s) are not a whole line: a write cut short by a crash or a full disk (never answered).</p>"
            );
        }
        out.push_str("</section>");
    }

    if !f.warnings.is_empty() {
        out.push_str(r#"<section class="warnings"><h2>Left out or counted apart</h2><ul>"#);
        for warning in &f.warnings {
            let _ = write!(out, "<li>{}</li>", escape(warning));
        }
        out.push_str("</ul></section>");
    }

    out.push_str(r#"<section class="tiles">"#);
    tile(
        &mut out,
        "registered_share",
        "apps registered",
        &shown(k.registered_share, "%"),
        &format!(
            "{} of {} known apps are in the catalog ({} active)",
            k.apps_registered, k.apps_known, k.apps_active
        ),
        k.registered_share.is_some_and(|s| s < 100.0),
    );
    // Figures only a decision log gives are "—" without one.
    let logged = |n: Option<usize>| n.map_or("—".to_string(), |n| n.to_string());
    let needs_log = |n: Option<usize>, what: &'static str| {
        if n.is_some() {
            what
        } else {
            "needs a decision log"
        }
    };
    tile(
        &mut out,
        "unregistered_at_gateway",
        "unregistered apps seen at the gateway",
        &logged(k.unregistered_at_gateway),
        needs_log(
            k.unregistered_at_gateway,
            "decided about in the period, but not in the catalog",
        ),
        k.unregistered_at_gateway.is_some_and(|n| n > 0),
    );
    tile(
        &mut out,
        "expiring_soon",
        &format!("apps expiring within {SOON_DAYS} days"),
        &k.expiring_soon.to_string(),
        "active registrations that lapse soon",
        k.expiring_soon > 0,
    );
    tile(
        &mut out,
        "expired_with_traffic",
        "expired apps still receiving traffic",
        &logged(k.expired_with_traffic),
        needs_log(
            k.expired_with_traffic,
            "decisions in the period after the registration lapsed",
        ),
        k.expired_with_traffic.is_some_and(|n| n > 0),
    );
    tile(
        &mut out,
        "inactive_with_traffic",
        "disabled or retired apps still called",
        &logged(k.inactive_with_traffic),
        needs_log(
            k.inactive_with_traffic,
            "decisions in the period while disabled, or after retired_at",
        ),
        k.inactive_with_traffic.is_some_and(|n| n > 0),
    );
    tile(
        &mut out,
        "incidents",
        "incidents tied to micro apps",
        &k.incidents.to_string(),
        &format!(
            "opened in the period, in {} app{} (the catalog's incidents)",
            k.apps_with_incidents,
            if k.apps_with_incidents == 1 { "" } else { "s" }
        ),
        k.incidents > 0,
    );
    tile(
        &mut out,
        "lifetime_median",
        "median app lifetime",
        &shown(k.lifetime_days.median, " d"),
        &stat_detail(&k.lifetime_days),
        false,
    );
    let low = k.approval_days.get("low");
    let mut approval = match low {
        Some(low) if low.approved > 0 => format!(
            "average {} d, over {} of {} low-risk manifests (the others have no approved review)",
            shown(low.average, ""),
            low.approved,
            low.manifests
        ),
        _ => "no low-risk manifest with an approved review".to_string(),
    };
    for (tier, stat) in &k.approval_days {
        if tier != "low" && stat.approved > 0 {
            let _ = write!(approval, "; {tier}: {}", shown(stat.median, " d"));
        }
    }
    tile(
        &mut out,
        "approval_low_median",
        "median time to approve a low-risk app",
        &shown(low.and_then(|s| s.median), " d"),
        &approval,
        false,
    );
    tile(
        &mut out,
        "stale",
        &format!("stale apps (no traffic in {STALE_DAYS} days)"),
        &k.stale.map_or("—".to_string(), |n| n.to_string()),
        if k.stale.is_some() {
            "active in the catalog, no decision at the gateway in that time"
        } else {
            "needs a decision log"
        },
        k.stale.is_some_and(|n| n > 0),
    );
    tile(
        &mut out,
        "compliance_rate",
        "manifests compliant",
        &shown(k.compliance_rate, "%"),
        &format!("of {} manifests decided now", k.manifests_decided),
        k.compliance_rate.is_some_and(|r| r < 100.0),
    );
    tile(
        &mut out,
        "waivers_in_force",
        "waivers in force",
        &k.waivers_in_force.to_string(),
        &format!(
            "{} expiring within {SOON_DAYS} days; {} expired",
            k.waivers_expiring, k.waivers_expired
        ),
        k.waivers_expiring > 0,
    );
    tile(
        &mut out,
        "denials",
        "denials at the gateway",
        &k.denials.map_or("—".to_string(), |n| n.to_string()),
        &k.decisions.map_or("needs a decision log".to_string(), |n| {
            format!("of {n} decisions in the period")
        }),
        false,
    );
    out.push_str("</section>");

    // Denials over time, one series per control (the most frequent first).
    let mut order: Vec<String> = f
        .denials_by_control
        .iter()
        .map(|c| c.control.clone())
        .collect();
    if order.len() > 9 {
        order.truncate(8);
    }
    let mut series: Vec<(String, Vec<u64>)> = order
        .iter()
        .map(|c| {
            (
                c.clone(),
                f.denials_over_time
                    .iter()
                    .map(|b| b.by_control.get(c).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect();
    if f.denials_by_control.len() > order.len() {
        series.push((
            "other controls".into(),
            f.denials_over_time
                .iter()
                .map(|b| {
                    b.by_control
                        .iter()
                        .filter(|(c, _)| !order.contains(c))
                        .map(|(_, n)| n)
                        .sum()
                })
                .collect(),
        ));
    }
    out.push_str(r#"<section class="panel wide"><h2>Denials by control over time</h2>"#);
    out.push_str(&chart::stacked_bars(&chart::Stacked {
        id: "denials-over-time",
        title: "Denials at the gateway per period, by control",
        labels: f
            .denials_over_time
            .iter()
            .map(|b| b.start.clone())
            .collect(),
        series: series.clone(),
    }));
    out.push_str(r#"<ul class="legend">"#);
    for (i, (name, values)) in series.iter().enumerate() {
        let _ = write!(
            out,
            r#"<li><span class="swatch" style="background:{}"></span>{} ({})</li>"#,
            chart::color(i),
            escape(name),
            values.iter().sum::<u64>()
        );
    }
    out.push_str("</ul>");
    out.push_str(r#"<p class="note">A denial is counted once for each control whose rule denied it, so the series can add up to more than the denials.</p>"#);
    if f.denials_by_control
        .iter()
        .any(|c| c.control == NO_RULE_ALLOWED)
    {
        let _ = write!(
            out,
            r#"<p class="note">“{NO_RULE_ALLOWED}”: denied because no rule allowed the request (the target denies by default).</p>"#
        );
    }
    out.push_str("</section>");

    // The controls most manifests fail first.
    let mut by_rate: Vec<&super::figures::ControlRate> = f.compliance_by_control.iter().collect();
    by_rate.sort_by(|a, b| {
        a.rate
            .unwrap_or(100.0)
            .total_cmp(&b.rate.unwrap_or(100.0))
            .then(a.control.cmp(&b.control))
    });
    let controls: Vec<Bar> = by_rate
        .into_iter()
        .filter_map(|c| {
            Some(Bar {
                label: c.control.clone(),
                percent: c.rate?,
                waived: c.waived,
                note: format!(
                    "{} of {} manifests fail{}",
                    c.failing,
                    c.manifests,
                    if c.waived > 0 {
                        format!(", {} waived", c.waived)
                    } else {
                        String::new()
                    }
                ),
            })
        })
        .collect();
    out.push_str(r#"<section class="panel"><h2>Compliance by control</h2><p class="note">Light blue: met only through a waiver.</p>"#);
    if controls.is_empty() {
        out.push_str(r#"<p class="empty">No manifests decided (give --manifests).</p>"#);
    } else {
        out.push_str(&chart::percent_bars(
            "compliance-by-control",
            "Share of manifests that meet each control",
            &controls,
        ));
    }
    out.push_str("</section>");
    let tiers: Vec<Bar> = f
        .compliance_by_tier
        .iter()
        .filter_map(|t| {
            Some(Bar {
                label: t.tier.clone(),
                percent: t.rate?,
                note: format!("{} of {} manifests pass", t.passing, t.manifests),
                waived: 0,
            })
        })
        .collect();
    out.push_str(r#"<section class="panel"><h2>Compliance by risk tier</h2>"#);
    if tiers.is_empty() {
        out.push_str(r#"<p class="empty">No manifests decided.</p>"#);
    } else {
        out.push_str(&chart::percent_bars(
            "compliance-by-tier",
            "Share of manifests that pass, by risk tier",
            &tiers,
        ));
    }
    out.push_str(r#"<h2>Compliance over check runs</h2>"#);
    let trend: Vec<(String, f64, String)> = f
        .compliance_trend
        .iter()
        .filter_map(|p| {
            Some((
                // The manifests decided for this report: not a kept run.
                if p.source == "now" {
                    "now".to_string()
                } else {
                    p.at.clone()
                },
                p.rate?,
                format!("{}: {} passed, {} failed", p.source, p.passed, p.failed),
            ))
        })
        .collect();
    if trend.is_empty() {
        out.push_str(r#"<p class="empty">No check runs (give --check-run or --manifests).</p>"#);
    } else {
        out.push_str(&chart::percent_line(
            "compliance-trend",
            "Share of manifests compliant at each check run",
            &trend,
        ));
    }
    out.push_str("</section>");

    out.push_str(r#"<section class="panel wide"><h2>Apps</h2><p class="hint">Click a column to sort; the address keeps the order (<code>#sort=apps:N:asc</code> or <code>:desc</code>, N the column's place from 0).</p>"#);
    // The page lists the apps that need a look first, then the busiest, at
    // most `APP_ROWS`; the JSON form holds them all.
    let mut shown_apps: Vec<&super::figures::AppRow> = f.apps.iter().collect();
    if shown_apps.len() > APP_ROWS {
        shown_apps.sort_by(|a, b| {
            b.flags
                .len()
                .cmp(&a.flags.len())
                .then(b.decisions.cmp(&a.decisions))
                .then(a.app.cmp(&b.app))
        });
        shown_apps.truncate(APP_ROWS);
        let _ = write!(
            out,
            r#"<p class="note" data-apps-left-out="{}">{} apps in all: the {APP_ROWS} with the most flags, then the most decisions, are listed; <code>--format json</code> holds every one.</p>"#,
            f.apps.len() - APP_ROWS,
            f.apps.len()
        );
    }
    let rows: Vec<String> = shown_apps
        .iter()
        .map(|a| {
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            [
                cell(&a.app, &a.app),
                cell(&a.flags.join(", "), &a.flags.join(",")),
                cell(
                    &a.failing_controls.join(", "),
                    &a.failing_controls.join(","),
                ),
                cell(&text(&a.status), &text(&a.status)),
                cell(&text(&a.risk_tier), &tier_rank(a.risk_tier.as_deref())),
                number_cell(Some(a.decisions as f64)),
                number_cell(Some(a.denials as f64)),
                number_cell(Some(a.incidents as f64)),
                cell(&day(&a.last_seen), &text(&a.last_seen)),
                cell(&day(&a.expires_at), &text(&a.expires_at)),
                number_cell(a.days_to_expiry),
                number_cell(a.lifetime_days),
                number_cell(a.approval_days),
                cell(a.manifest.unwrap_or(""), a.manifest.unwrap_or("")),
                cell(&text(&a.owner), &text(&a.owner)),
            ]
            .concat()
        })
        .collect();
    table(
        &mut out,
        "apps",
        &[
            ("app", false),
            ("flags", false),
            ("failing controls", false),
            ("status", false),
            ("risk tier", true),
            ("decisions", true),
            ("denials", true),
            ("incidents", true),
            ("last seen", false),
            ("expires", false),
            ("days to expiry", true),
            ("lifetime (days)", true),
            ("approval (days)", true),
            ("manifest", false),
            ("owner", false),
        ],
        &rows,
    );
    out.push_str("</section>");

    out.push_str(r#"<section class="panel wide"><h2>Waivers</h2>"#);
    let rows: Vec<String> = f
        .waivers
        .iter()
        .map(|w| {
            [
                cell(&w.waiver.name, &w.waiver.name),
                cell(&w.waiver.rule, &w.waiver.rule),
                cell(
                    w.control.as_deref().unwrap_or(""),
                    w.control.as_deref().unwrap_or(""),
                ),
                cell(
                    w.waiver.subject.as_deref().unwrap_or("any"),
                    w.waiver.subject.as_deref().unwrap_or(""),
                ),
                cell(&w.waiver.until, &w.waiver.until),
                number_cell(Some(w.days_left)),
                cell(&w.state.replace('_', " "), w.state),
                cell(&w.waiver.reason, &w.waiver.reason),
                cell(&w.waiver.approved_by, &w.waiver.approved_by),
                cell(w.waiver.source, w.waiver.source),
            ]
            .concat()
        })
        .collect();
    table(
        &mut out,
        "waivers",
        &[
            ("waiver", false),
            ("rule", false),
            ("control", false),
            ("subject", false),
            ("until", false),
            ("days left", true),
            ("state", false),
            ("reason", false),
            ("approved by", false),
            ("from", false),
        ],
        &rows,
    );
    out.push_str("</section>");

    out.push_str(r#"<section class="panel wide"><h2>Controls</h2>"#);
    let denials: std::collections::HashMap<&str, u64> = f
        .denials_by_control
        .iter()
        .map(|c| (c.control.as_str(), c.denials))
        .collect();
    let mut names: Vec<&str> = f
        .compliance_by_control
        .iter()
        .map(|c| c.control.as_str())
        .chain(denials.keys().copied())
        .collect();
    names.sort_unstable();
    names.dedup();
    let rows: Vec<String> = names
        .iter()
        .map(|name| {
            let c = f.compliance_by_control.iter().find(|c| c.control == *name);
            [
                cell(name, name),
                number_cell(c.and_then(|c| c.rate)),
                number_cell(c.map(|c| c.failing as f64)),
                number_cell(c.map(|c| c.waived as f64)),
                number_cell(Some(denials.get(name).copied().unwrap_or(0) as f64)),
            ]
            .concat()
        })
        .collect();
    table(
        &mut out,
        "controls",
        &[
            ("control", false),
            ("manifests compliant (%)", true),
            ("manifests failing", true),
            ("waived", true),
            ("denials at the gateway", true),
        ],
        &rows,
    );
    out.push_str("</section>");

    sources(&mut out, f);
    let _ = write!(out, "<script>{SCRIPT}</script></body></html>");
    out
}

/// What the figures were computed from: files, counts and revisions.
fn sources(out: &mut String, f: &Figures) {
    let s = &f.sources;
    out.push_str(r#"<section class="panel wide sources"><h2>Computed from</h2><ul>"#);
    let _ = write!(
        out,
        r#"<li data-source="catalog">catalog <code>{}</code>: {} apps ({})</li>"#,
        escape(&s.catalog.file),
        s.catalog.apps,
        escape(&s.catalog.sha256)
    );
    if let Some(m) = &s.manifests {
        let _ = write!(
            out,
            r#"<li data-source="manifests">manifests in <code>{}</code>: {} files, {} decided, {} could not be decided</li>"#,
            escape(&m.paths.join(", ")),
            m.files,
            m.decided,
            m.errors
        );
    }
    for run in &s.check_runs {
        let _ = write!(
            out,
            r#"<li data-source="check-run">check run <code>{}</code> at {}{}: {} files, {} passed, {} failed, {} errors</li>"#,
            escape(&run.file),
            escape(run.evaluated_at.as_deref().unwrap_or("an unknown time")),
            if run.in_period {
                ""
            } else {
                " (outside the period: not drawn)"
            },
            run.files,
            run.passed,
            run.failed,
            run.errors
        );
    }
    for log in &s.decision_logs {
        let _ = write!(
            out,
            r#"<li data-source="decision-log" data-chain="{}">decision log <code>{}</code>: {} lines, {} decisions ({} in the period{}) from {} to {}; hash chain <strong>{}</strong>, head <code>{}</code></li>"#,
            log.chain.as_str(),
            escape(&log.file),
            log.lines,
            log.decisions,
            log.in_period,
            [
                (
                    log.decided_for_other_times,
                    "decided for another time than logged, placed when logged",
                ),
                (
                    log.without_timestamp,
                    "without a timestamp, placed at the time they were decided for, if any",
                ),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("; {n} {what}"))
            .collect::<String>(),
            escape(log.first.as_deref().unwrap_or("—")),
            escape(log.last.as_deref().unwrap_or("—")),
            log.chain.as_str(),
            escape(&log.head),
        );
    }
    out.push_str("</ul><h3>Policy revisions</h3><ul>");
    for r in &s.policy_revisions {
        let _ = write!(
            out,
            r#"<li data-revision="policy"><code>{}</code>: {}</li>"#,
            escape(&r.revision),
            escape(&r.seen_in.join(", "))
        );
    }
    out.push_str("</ul><h3>Data revisions</h3><ul>");
    for r in &s.data_revisions {
        let _ = write!(
            out,
            r#"<li data-revision="data"><code>{}</code>: {}</li>"#,
            escape(&r.revision),
            escape(&r.seen_in.join(", "))
        );
    }
    out.push_str("</ul></section>");
}

/// The date of an RFC 3339 time.
fn day(time: &Option<String>) -> String {
    time.as_deref()
        .map_or("", |t| t.get(..10).unwrap_or(t))
        .to_string()
}

/// Risk tiers sort by risk, not by name.
fn tier_rank(tier: Option<&str>) -> String {
    match tier {
        Some("low") => "1",
        Some("medium") => "2",
        Some("high") => "3",
        Some(_) => "4",
        None => "",
    }
    .to_string()
}
