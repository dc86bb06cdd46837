//! `warden report`'s HTML page as a user sees it: rendered by a real
//! headless Chromium (Debian's `chromium`, which `.ci/run` installs) from
//! the bundled governance example, its DOM read back after the page's
//! script ran, and compared with the same figures printed as JSON.

mod common;

use common::{installed, root, scratch, warden_in};
use regex::Regex;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";
const NOW: &str = "2026-06-15T00:00:00Z";

fn example() -> PathBuf {
    root().join("stdlib-policies/examples/governance")
}

/// `warden report` over the bundled governance example, with `log` as
/// its decision log; its exit code and what it printed.
fn report(dir: &Path, log: &Path, format: &str, out: &Path) -> i32 {
    let example = example();
    let stdlib = root().join("stdlib-policies");
    let mut args: Vec<String> = vec![
        "report".into(),
        "--policy".into(),
        stdlib.display().to_string(),
        "--catalog".into(),
        example.join("catalog.json").display().to_string(),
        "--data".into(),
        example.join("waivers.json").display().to_string(),
        "--manifests".into(),
        example.join("manifests").display().to_string(),
        "--decision-log".into(),
        log.display().to_string(),
        "--now".into(),
        NOW.into(),
        "--days".into(),
        "60".into(),
        "--format".into(),
        format.into(),
        "-o".into(),
        out.display().to_string(),
    ];
    let mut runs: Vec<PathBuf> = std::fs::read_dir(example.join("check-runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    for run in runs {
        args.push("--check-run".into());
        args.push(run.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = warden_in(dir, &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    output.status.code().unwrap_or(-1)
}

/// Runs headless Chromium on `page` (a `file://` URL and fragment): the
/// DOM after the page's script ran, or a screenshot written to `shot`.
fn chromium(dir: &Path, url: &str, shot: Option<&Path>) -> String {
    let profile = dir.join(format!("profile-{}", shot.is_some()));
    let mut command = Command::new("timeout");
    command.args([
        "120",
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1280,2200",
        // Any request the page made would fail: it must need none.
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    match shot {
        Some(shot) => command.arg(format!("--screenshot={}", shot.display())),
        None => command.arg("--dump-dom"),
    };
    let output = command.arg(url).output().expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The text of the element that starts at `marker` and ends at `end`.
fn part<'a>(dom: &'a str, marker: &str, end: &str) -> &'a str {
    let start = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the page"));
    let rest = &dom[start..];
    &rest[..rest.find(end).map_or(rest.len(), |i| i + end.len())]
}

/// A tile's value as the page shows it.
fn tile(dom: &str, kpi: &str) -> String {
    let tile = part(dom, &format!(r#"data-kpi="{kpi}""#), "</div>");
    let value = Regex::new(r#"<div class="value">([^<]*)"#).unwrap();
    value
        .captures(tile)
        .unwrap_or_else(|| panic!("tile {kpi}: {tile}"))[1]
        .to_string()
}

fn shown(value: &Json, unit: &str) -> String {
    match value.as_f64() {
        Some(v) if v.fract() == 0.0 => format!("{v:.0}{unit}"),
        Some(v) => format!("{v:.1}{unit}"),
        None => "—".to_string(),
    }
}

#[test]
fn the_page_shows_the_figures_charts_and_sortable_tables_in_chromium() {
    if !installed(Path::new(CHROMIUM).exists(), "chromium") {
        return;
    }
    let dir = scratch("report-browser");
    let log = example().join("decision-log.jsonl");
    let (page, figures_file) = (dir.join("report.html"), dir.join("report.json"));
    assert_eq!(report(&dir, &log, "html", &page), 0);
    assert_eq!(report(&dir, &log, "json", &figures_file), 0);
    let figures: Json =
        serde_json::from_str(&std::fs::read_to_string(&figures_file).unwrap()).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();

    // Nothing on the page asks for anything: no element has a source or a
    // link, and its policy forbids every request.
    assert!(html.contains(r#"content="default-src 'none';"#), "no CSP");
    let tag = Regex::new(r"<[a-zA-Z][^>]*>").unwrap();
    for t in tag.find_iter(&html) {
        let t = t.as_str().to_ascii_lowercase();
        assert!(!t.contains(" src=") && !t.contains(" href="), "{t}");
    }

    // Sorted by decisions, most first, as the address asks.
    let headers = part(&html, r#"<table class="sortable" id="apps""#, "</thead>");
    let column = Regex::new(r#"<th data-column="(\d+)"[^>]*>decisions<"#).unwrap();
    let decisions = column.captures(headers).expect("a decisions column")[1].to_string();
    let url = format!("file://{}#sort=apps:{decisions}:desc", page.display());
    let dom = chromium(&dir, &url, None);
    assert!(
        dom.contains(r#"data-ready="true""#),
        "the script did not run"
    );

    // Tiles: the same figures as the JSON form.
    let k = &figures["kpis"];
    for (kpi, expected) in [
        ("registered_share", shown(&k["registered_share"], "%")),
        (
            "unregistered_at_gateway",
            k["unregistered_at_gateway"].to_string(),
        ),
        ("expiring_soon", k["expiring_soon"].to_string()),
        (
            "expired_with_traffic",
            k["expired_with_traffic"].to_string(),
        ),
        (
            "inactive_with_traffic",
            k["inactive_with_traffic"].to_string(),
        ),
        (
            "lifetime_median",
            shown(&k["lifetime_days"]["median"], " d"),
        ),
        (
            "approval_low_median",
            shown(&k["approval_days"]["low"]["median"], " d"),
        ),
        ("stale", k["stale"].to_string()),
        ("incidents", k["incidents"].to_string()),
        ("compliance_rate", shown(&k["compliance_rate"], "%")),
        ("denials", k["denials"].to_string()),
    ] {
        assert_eq!(tile(&dom, kpi), expected, "tile {kpi}");
    }
    // The example has something for every tile to show.
    for kpi in [
        "unregistered_at_gateway",
        "expiring_soon",
        "expired_with_traffic",
        "inactive_with_traffic",
        "stale",
        "incidents",
    ] {
        assert_ne!(k[kpi], 0, "{kpi}");
    }

    // Charts: one bar per control per period with denials, one per control
    // and per tier, one point per check run.
    let nonzero: usize = figures["denials_over_time"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["by_control"].as_object().unwrap().len())
        .sum();
    assert!(nonzero > 20, "{nonzero}");
    for (chart, mark, count) in [
        ("denials-over-time", r#"class="bar""#, nonzero),
        (
            "compliance-by-control",
            r#"class="bar""#,
            figures["compliance_by_control"].as_array().unwrap().len(),
        ),
        (
            "compliance-by-tier",
            r#"class="bar""#,
            figures["compliance_by_tier"].as_array().unwrap().len(),
        ),
        (
            "compliance-trend",
            r#"class="point""#,
            figures["compliance_trend"].as_array().unwrap().len(),
        ),
    ] {
        let svg = part(&dom, &format!(r#"data-chart="{chart}""#), "</svg>");
        assert_eq!(svg.matches(mark).count(), count, "chart {chart}");
        assert!(count > 0, "chart {chart} is empty");
    }

    // The apps table, sorted by the page's script: decisions descending.
    let table = part(&dom, r#"<table class="sortable" id="apps""#, "</table>");
    assert!(
        table.contains(&format!(r#"data-sorted="{decisions}:desc""#)),
        "not sorted"
    );
    let first = Regex::new(r#"<tbody><tr><td data-sort="([^"]*)""#).unwrap();
    let busiest = figures["apps"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|a| a["decisions"].as_u64())
        .unwrap();
    assert_eq!(
        &first.captures(table).unwrap()[1],
        busiest["app"].as_str().unwrap()
    );
    let rows = table.matches("<tr>").count() - 1;
    assert_eq!(rows, figures["apps"].as_array().unwrap().len());

    // The period, the revisions and the counts the figures come from.
    assert!(dom.contains(figures["period"]["from"].as_str().unwrap()));
    for revision in figures["sources"]["policy_revisions"]
        .as_array()
        .unwrap()
        .iter()
        .chain(figures["sources"]["data_revisions"].as_array().unwrap())
    {
        assert!(
            dom.contains(revision["revision"].as_str().unwrap()),
            "{revision}"
        );
    }
    let logged = &figures["sources"]["decision_logs"][0];
    assert!(dom.contains(&format!(
        "{} decisions ({} in the period)",
        logged["decisions"], logged["in_period"]
    )));
    assert_eq!(logged["chain"], "intact");
    assert!(
        !dom.contains(r#"class="banner""#),
        "an intact log has no banner"
    );

    // A screenshot as a user would take one.
    let shot = dir.join("report.png");
    chromium(&dir, &format!("file://{}", page.display()), Some(&shot));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{}",
        png.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_broken_chain_is_shown_first_and_hostile_log_values_stay_text() {
    if !installed(Path::new(CHROMIUM).exists(), "chromium") {
        return;
    }
    let dir = scratch("report-browser-broken");
    let log = dir.join("decision-log.jsonl");
    let mut lines: Vec<String> = std::fs::read_to_string(example().join("decision-log.jsonl"))
        .unwrap()
        .lines()
        .take(200)
        .map(str::to_string)
        .collect();
    // An attacker turns a denial into an allow, and adds an app whose id
    // and rule are markup.
    let denied = lines
        .iter()
        .position(|l| l.contains(r#""outcome":"deny""#))
        .unwrap();
    lines[denied] = lines[denied].replace(r#""outcome":"deny""#, r#""outcome":"allow""#);
    lines.push(
        serde_json::json!({"seq": 201, "prev": "sha256:0", "outcome": "deny",
            "evaluated_at": "2026-06-10T00:00:00Z", "app_id": "<script>document.title='owned'</script>",
            "deny_rules": ["<img src=x onerror=alert(1)>"]})
        .to_string(),
    );
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let page = dir.join("report.html");
    assert_eq!(
        report(&dir, &log, "html", &page),
        1,
        "a broken chain exits 1"
    );
    let dom = chromium(&dir, &format!("file://{}", page.display()), None);
    let banner = part(
        &dom,
        r#"<section class="banner" data-chain="broken""#,
        "</section>",
    );
    assert!(
        banner.contains(&format!(
            "line {}: does not follow line {}",
            denied + 2,
            denied + 1
        )),
        "{banner}"
    );
    assert!(
        banner.contains("line 201: does not follow line 200"),
        "{banner}"
    );
    // The banner comes before the tiles.
    assert!(dom.find(r#"class="banner""#) < dom.find(r#"class="tiles""#));
    // Markup from the log is text: one script (the page's), no image.
    assert_eq!(dom.matches("<script").count(), 1, "{dom}");
    assert!(!dom.contains("<img"), "an element was made from the log");
    assert!(
        dom.contains("&lt;script&gt;document.title"),
        "the app id is shown as text"
    );
    assert!(!dom.contains("<title>owned"), "the log's script ran");
    std::fs::remove_dir_all(&dir).ok();
}

/// A FIFO at `path`, which no one writes to or reads from.
fn fifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

/// Runs `warden ARGS` in `dir` (killed after a minute): it must refuse a
/// FIFO at once with `E0409`, not wait on it.
fn refuses_a_fifo(dir: &Path, args: &[&str]) {
    let output = Command::new("timeout")
        .arg("60")
        .arg(common::warden_bin())
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains("error[E0409]"), "{args:?}: {stderr}");
}

#[test]
fn a_decision_log_that_is_not_a_regular_file_is_refused() {
    let dir = scratch("report-fifo");
    fifo(&dir.join("log.fifo"));
    let (stdlib, catalog) = (
        root().join("stdlib-policies"),
        example().join("catalog.json"),
    );
    refuses_a_fifo(
        &dir,
        &[
            "report",
            "--policy",
            &stdlib.display().to_string(),
            "--catalog",
            &catalog.display().to_string(),
            "--decision-log",
            "log.fifo",
            "--format",
            "json",
        ],
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_report_is_never_written_over_an_input_by_another_name() {
    let dir = scratch("report-hard-link");
    let catalog = dir.join("catalog.json");
    std::fs::copy(example().join("catalog.json"), &catalog).unwrap();
    let linked = dir.join("linked.json");
    std::fs::hard_link(&catalog, &linked).unwrap();
    let before = std::fs::read(&catalog).unwrap();
    let stdlib = root().join("stdlib-policies").display().to_string();
    let output = warden_in(
        &dir,
        &[
            "report",
            "--policy",
            &stdlib,
            "--catalog",
            "catalog.json",
            "-o",
            "linked.json",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error[E0801]"), "{stderr}");
    assert_eq!(
        std::fs::read(&catalog).unwrap(),
        before,
        "the catalog was written over"
    );
    // Nor into the policy folder it reads.
    let policy = dir.join("policy");
    common::copy_tree(&root().join("stdlib-policies"), &policy);
    let output = warden_in(
        &dir,
        &[
            "report",
            "--policy",
            "policy",
            "--catalog",
            "catalog.json",
            "-o",
            "policy/new.html",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(!policy.join("new.html").exists());
    // A link elsewhere to a policy file is replaced, not written through.
    let rules = policy.join("rules/identity.warden");
    let rules_before = std::fs::read(&rules).unwrap();
    std::os::unix::fs::symlink(&rules, dir.join("link.html")).unwrap();
    let output = warden_in(
        &dir,
        &[
            "report",
            "--policy",
            "policy",
            "--catalog",
            "catalog.json",
            "-o",
            "link.html",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        std::fs::read(&rules).unwrap(),
        rules_before,
        "written through the link"
    );
    let written = std::fs::symlink_metadata(dir.join("link.html")).unwrap();
    assert!(written.is_file(), "the link is replaced by the report");
    // A FIFO is no file to write to: refused at once, not waited on.
    fifo(&dir.join("out.fifo"));
    refuses_a_fifo(
        &dir,
        &[
            "report",
            "--policy",
            "policy",
            "--catalog",
            "catalog.json",
            "-o",
            "out.fifo",
        ],
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn audit_verify_refuses_a_fifo_without_waiting_on_it() {
    let dir = scratch("audit-fifo");
    fifo(&dir.join("log.fifo"));
    refuses_a_fifo(&dir, &["audit", "verify", "log.fifo"]);
    std::fs::remove_dir_all(&dir).ok();
}
