//! The report's figures: what each input says, gathered into one
//! [`Figures`] value that both the JSON and the HTML form print.

use crate::check::FileResult;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use warden::Engine;
use warden_server::decision_log;

const DAY: i64 = 86_400_000_000;
/// Apps expiring within this many days are flagged, as are waivers.
pub const SOON_DAYS: i64 = 14;
/// An active app with no decision at the gateway in this many days is stale.
pub const STALE_DAYS: i64 = 30;
/// The most distinct apps the logs are counted by; decisions about others
/// are counted apart.
const MOST_APPS: usize = 100_000;
/// The most distinct revisions kept per source.
const MOST_REVISIONS: usize = 100;
/// The most distinct controls denials are counted by; the others are
/// counted together.
const MOST_CONTROLS: usize = 1000;
/// Where denials past [`MOST_CONTROLS`] controls are counted.
pub const OTHER_CONTROLS: &str = "other controls";
/// A decision taken for a time this far (5 minutes) from when it was
/// logged was decided for another time (a `/v1/decide` caller's `now`).
const OTHER_TIME: i64 = 5 * 60 * 1_000_000;
/// What the server logs in place of a masked value.
const MASKED: &str = "***";
/// A period longer than this many days is drawn in weeks, not days.
const DAILY_UP_TO: i64 = 120;
/// The label of denials no rule's deny finding names (a target that
/// denies when no rule allows).
pub const NO_RULE_ALLOWED: &str = "no rule allowed";

/// Everything the report shows.
#[derive(Serialize)]
pub struct Figures {
    /// What this document is, and its version.
    pub report: &'static str,
    /// The report's time.
    pub now: String,
    pub period: Period,
    pub sources: Sources,
    pub kpis: Kpis,
    pub compliance_by_control: Vec<ControlRate>,
    pub compliance_by_tier: Vec<TierRate>,
    pub compliance_trend: Vec<TrendPoint>,
    pub denials_by_control: Vec<ControlCount>,
    pub denials_over_time: Vec<Bucket>,
    pub apps: Vec<AppRow>,
    pub waivers: Vec<WaiverRow>,
    /// What was left out or counted apart: inputs given twice, manifests
    /// that could not be decided, catalog entries that are no app.
    pub warnings: Vec<String>,
}

#[derive(Serialize)]
pub struct Period {
    pub from: String,
    pub to: String,
    pub days: u32,
    /// `day` or `week`: the width of one bar of the time series.
    pub bucket: &'static str,
}

#[derive(Serialize)]
pub struct Sources {
    pub catalog: CatalogSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifests: Option<ManifestSource>,
    pub check_runs: Vec<CheckRunSource>,
    pub decision_logs: Vec<LogSource>,
    /// The policy revisions the figures come from, and where each was seen.
    pub policy_revisions: Vec<RevisionSeen>,
    pub data_revisions: Vec<RevisionSeen>,
}

#[derive(Serialize)]
pub struct CatalogSource {
    pub file: String,
    pub sha256: String,
    pub apps: usize,
}

#[derive(Serialize)]
pub struct ManifestSource {
    pub paths: Vec<String>,
    pub files: usize,
    pub decided: usize,
    /// Files that could not be decided (not a manifest, not the schema).
    pub errors: usize,
}

#[derive(Serialize)]
pub struct CheckRunSource {
    pub file: String,
    pub evaluated_at: Option<String>,
    /// Whether it was taken within the period (only those are drawn).
    pub in_period: bool,
    pub files: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    /// Every line follows the one before.
    Intact,
    /// Some line does not: it or one before it was changed, removed or moved.
    Broken,
    /// Intact, but the last line was cut short (a crash mid-write).
    Truncated,
}

impl Chain {
    pub fn as_str(self) -> &'static str {
        match self {
            Chain::Intact => "intact",
            Chain::Broken => "broken",
            Chain::Truncated => "truncated",
        }
    }
}

#[derive(Serialize)]
pub struct LogSource {
    pub file: String,
    pub chain: Chain,
    /// Whole lines read.
    pub lines: usize,
    /// Lines that record a decision (not an event of the log itself).
    pub decisions: u64,
    /// Decisions within the period: the ones the figures count.
    pub in_period: u64,
    /// Decisions whose line does not follow the one before: counted, and
    /// shown as not vouched for by the chain.
    pub unverified: u64,
    /// Decisions taken for a time more than 5 minutes from when they were
    /// logged (a `/v1/decide` caller's `now`): placed at the logged time.
    pub decided_for_other_times: u64,
    /// Decisions whose line has no `timestamp` the report can read: placed
    /// at their `evaluated_at`, or, with neither, in no period.
    pub without_timestamp: u64,
    /// The first lines where the chain breaks.
    pub breaks: Vec<decision_log::Break>,
    pub break_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated_bytes: Option<usize>,
    /// The hash of the last whole line.
    pub head: String,
    /// The SHA-256 of the whole file.
    pub file_sha256: String,
    #[serde(skip)]
    pub first_line: Option<String>,
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Serialize)]
pub struct RevisionSeen {
    pub revision: String,
    pub seen_in: Vec<String>,
}

/// A median and an average over some apps, in days.
#[derive(Serialize, Default)]
pub struct Stat {
    pub apps: usize,
    pub median: Option<f64>,
    pub average: Option<f64>,
}

impl Stat {
    fn of(mut values: Vec<f64>) -> Stat {
        if values.is_empty() {
            return Stat::default();
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Stat {
            apps: n,
            median: Some(round(median)),
            average: Some(round(values.iter().sum::<f64>() / n as f64)),
        }
    }
}

/// One decimal; never `-0`.
fn round(x: f64) -> f64 {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded == 0.0 { 0.0 } else { rounded }
}

#[derive(Serialize)]
pub struct Kpis {
    /// Apps the catalog, the logs or the manifests name.
    pub apps_known: usize,
    pub apps_registered: usize,
    pub apps_active: usize,
    /// Registered apps among the known ones.
    pub registered_share: Option<f64>,
    /// Apps the gateway decided about in the period that the catalog does
    /// not hold (`None` without a decision log).
    pub unregistered_at_gateway: Option<usize>,
    pub expiring_soon: usize,
    /// Apps with decisions in the period taken after their registration lapsed.
    pub expired_with_traffic: Option<usize>,
    /// Disabled or retired apps with decisions in the period (a retired
    /// app with `retired_at`: decisions after it).
    pub inactive_with_traffic: Option<usize>,
    pub stale: Option<usize>,
    /// Incidents the catalog ties to apps, opened in the period, and how
    /// many apps they touch.
    pub incidents: usize,
    pub apps_with_incidents: usize,
    pub lifetime_days: Stat,
    /// From `metadata.registered_at` to an approved review, by risk tier.
    pub approval_days: BTreeMap<String, ApprovalStat>,
    pub manifests_decided: usize,
    pub compliance_rate: Option<f64>,
    /// Waivers not yet expired, those expiring within 14 days included.
    pub waivers_in_force: usize,
    pub waivers_expiring: usize,
    pub waivers_expired: usize,
    pub decisions: Option<u64>,
    pub denials: Option<u64>,
    /// Decisions about apps past the 100,000 the report counts one by one.
    pub decisions_about_uncounted_apps: u64,
}

/// Approval times of one risk tier's manifests, in days.
#[derive(Serialize, Default)]
pub struct ApprovalStat {
    /// Manifests of the tier decided.
    pub manifests: usize,
    /// Of those, the ones with an approved review (the others need none,
    /// or wait for one).
    pub approved: usize,
    pub median: Option<f64>,
    pub average: Option<f64>,
}

#[derive(Serialize)]
pub struct ControlRate {
    pub control: String,
    pub manifests: usize,
    pub failing: usize,
    pub waived: usize,
    pub rate: Option<f64>,
}

#[derive(Serialize)]
pub struct TierRate {
    pub tier: String,
    pub manifests: usize,
    pub passing: usize,
    pub rate: Option<f64>,
}

#[derive(Serialize)]
pub struct TrendPoint {
    pub at: String,
    /// The run's file, or `now` for the manifests decided for this report.
    pub source: String,
    pub passed: usize,
    pub failed: usize,
    pub rate: Option<f64>,
}

#[derive(Serialize)]
pub struct ControlCount {
    pub control: String,
    pub denials: u64,
}

#[derive(Serialize)]
pub struct Bucket {
    pub start: String,
    pub decisions: u64,
    pub denials: u64,
    pub by_control: BTreeMap<String, u64>,
}

#[derive(Serialize, Default)]
pub struct AppRow {
    pub app: String,
    pub registered: bool,
    pub status: Option<String>,
    pub risk_tier: Option<String>,
    pub owner: Option<String>,
    pub expires_at: Option<String>,
    /// `expires_at` exactly: flags compare it, not the rounded days.
    #[serde(skip)]
    pub expires_micros: Option<i64>,
    pub days_to_expiry: Option<f64>,
    pub registered_at: Option<String>,
    pub lifetime_days: Option<f64>,
    pub approval_days: Option<f64>,
    /// Decisions about it in the period, and how many denied.
    pub decisions: u64,
    pub denials: u64,
    pub last_seen: Option<String>,
    /// Incidents tied to it (the catalog's `incidents`) opened in the period.
    pub incidents: usize,
    /// Decisions taken after its registration expired.
    pub decisions_after_expiry: u64,
    /// Decisions taken after it was retired (`retired_at`), or in the
    /// period while it is disabled.
    pub decisions_while_inactive: u64,
    /// `passed`, `failed` or absent: its manifest as decided now.
    pub manifest: Option<&'static str>,
    pub failing_controls: Vec<String>,
    pub flags: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct WaiverRow {
    #[serde(flatten)]
    pub waiver: warden::WaiverInfo,
    pub control: Option<String>,
    /// `in_force`, `expiring` (within 14 days) or `expired`.
    pub state: &'static str,
    pub days_left: f64,
}

/// What one app's traffic in the logs was.
#[derive(Default)]
struct Traffic {
    /// Decisions in the period, and how many denied.
    decisions: u64,
    denials: u64,
    /// The last decision at or before the report's time, in or before the period.
    last: Option<i64>,
    after_expiry: u64,
    after_retired: u64,
}

/// Counts of one bucket of one log.
#[derive(Clone, Default)]
struct Counts {
    decisions: u64,
    denials: u64,
    by_control: BTreeMap<String, u64>,
}

/// What one decision log adds to the report, kept apart until the log is
/// known not to repeat one already read.
#[derive(Default)]
struct Tally {
    decisions: u64,
    denials: u64,
    buckets: Vec<Counts>,
    by_control: BTreeMap<String, u64>,
    apps: HashMap<String, Traffic>,
    untracked_apps: u64,
    policy_revisions: BTreeMap<String, BTreeSet<String>>,
    data_revisions: BTreeMap<String, BTreeSet<String>>,
}

impl Tally {
    /// An app's traffic, unless it is past the apps counted one by one.
    fn traffic(&mut self, app: &str) -> Option<&mut Traffic> {
        if self.apps.len() >= MOST_APPS && !self.apps.contains_key(app) {
            self.untracked_apps += 1;
            return None;
        }
        Some(self.apps.entry(app.to_string()).or_default())
    }

    fn seen(&mut self, app: &str, at: i64) {
        if self.apps.len() >= MOST_APPS && !self.apps.contains_key(app) {
            return;
        }
        let traffic = self.apps.entry(app.to_string()).or_default();
        traffic.last = traffic.last.max(Some(at));
    }

    /// A denial counted for `control` in bucket `index`; past
    /// [`MOST_CONTROLS`] names, under "other controls".
    fn denied(&mut self, index: usize, control: String) {
        let control =
            if self.by_control.len() >= MOST_CONTROLS && !self.by_control.contains_key(&control) {
                OTHER_CONTROLS.to_string()
            } else {
                control
            };
        *self.buckets[index]
            .by_control
            .entry(control.clone())
            .or_default() += 1;
        *self.by_control.entry(control).or_default() += 1;
    }

    fn revisions(&mut self, line: &decision_log::LogLine, source: &str) {
        note(
            &mut self.policy_revisions,
            line.policy_revision.as_str(),
            source,
        );
        note(
            &mut self.data_revisions,
            line.data_revision.as_str(),
            source,
        );
    }
}

/// One manifest as decided now.
struct ManifestState {
    app: Option<String>,
    tier: Option<String>,
    registered_at: Option<i64>,
    reviewed_at: Option<i64>,
    passed: bool,
    failing: BTreeSet<String>,
    waived: BTreeSet<String>,
}

/// The inputs as they are read; [`Inputs::finish`] makes the figures.
pub struct Inputs<'a> {
    engine: &'a Engine,
    now: i64,
    from: i64,
    days: u32,
    bucket: i64,
    catalog_file: PathBuf,
    catalog_sha: String,
    catalog: Map<String, Json>,
    /// Each rule's control, for findings and log lines.
    controls: HashMap<String, String>,
    /// Each catalog app's `expires_at` and `retired_at`, read once.
    expires: HashMap<String, i64>,
    retired: HashMap<String, i64>,
    manifest_paths: Vec<String>,
    manifests: Vec<ManifestState>,
    manifest_files: usize,
    manifest_errors: usize,
    check_runs: Vec<CheckRunSource>,
    trend: Vec<TrendPoint>,
    logs: Vec<LogSource>,
    traffic: HashMap<String, Traffic>,
    untracked_apps: u64,
    /// What was left out or counted apart, for the page and standard error.
    skipped: Vec<String>,
    buckets: Vec<Bucket>,
    denials_by_control: BTreeMap<String, u64>,
    decisions: u64,
    denials: u64,
    policy_revisions: BTreeMap<String, BTreeSet<String>>,
    data_revisions: BTreeMap<String, BTreeSet<String>>,
}

fn time_of(text: &str) -> Option<i64> {
    warden::parse_now(text).map(warden::micros)
}

fn text_at<'j>(value: &'j Json, path: &[&str]) -> Option<&'j str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Json::as_str)
}

fn note(seen: &mut BTreeMap<String, BTreeSet<String>>, revision: Option<&str>, source: &str) {
    let Some(revision) = revision else { return };
    if seen.len() >= MOST_REVISIONS && !seen.contains_key(revision) {
        return;
    }
    seen.entry(revision.to_string())
        .or_default()
        .insert(source.to_string());
}

impl<'a> Inputs<'a> {
    pub fn new(
        engine: &'a Engine,
        now: SystemTime,
        days: u32,
        catalog_file: &Path,
        (catalog, catalog_sha): (Map<String, Json>, String),
    ) -> Inputs<'a> {
        let now = warden::micros(now);
        let from = now - i64::from(days) * DAY;
        let bucket = if i64::from(days) <= DAILY_UP_TO {
            DAY
        } else {
            7 * DAY
        };
        let count = (now - from + bucket - 1) / bucket;
        let buckets = (0..count)
            .map(|i| Bucket {
                start: warden_ir::format_time(from + i * bucket),
                decisions: 0,
                denials: 0,
                by_control: BTreeMap::new(),
            })
            .collect();
        let not_apps: Vec<&String> = catalog
            .get("apps")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
            .filter(|(_, app)| !app.is_object())
            .map(|(id, _)| id)
            .collect();
        let mut skipped = Vec::new();
        if !not_apps.is_empty() {
            skipped.push(format!(
                "{}: {} entr{} of `apps` {} not an object and {} not counted as apps (first: `{}`)",
                catalog_file.display(),
                not_apps.len(),
                if not_apps.len() == 1 { "y" } else { "ies" },
                if not_apps.len() == 1 { "is" } else { "are" },
                if not_apps.len() == 1 { "is" } else { "are" },
                not_apps[0]
            ));
        }
        let (expires, retired) = (dated(&catalog, "expires_at"), dated(&catalog, "retired_at"));
        let controls = engine
            .rules()
            .into_iter()
            .filter_map(|r| Some((r.name, r.control?)))
            .collect();
        let mut inputs = Inputs {
            engine,
            now,
            from,
            days,
            bucket,
            catalog_file: catalog_file.to_path_buf(),
            catalog_sha,
            catalog,
            controls,
            expires,
            retired,
            manifest_paths: Vec::new(),
            manifests: Vec::new(),
            manifest_files: 0,
            manifest_errors: 0,
            check_runs: Vec::new(),
            trend: Vec::new(),
            logs: Vec::new(),
            traffic: HashMap::new(),
            untracked_apps: 0,
            skipped,
            buckets,
            denials_by_control: BTreeMap::new(),
            decisions: 0,
            denials: 0,
            policy_revisions: BTreeMap::new(),
            data_revisions: BTreeMap::new(),
        };
        let (policy, data) = (
            engine.revision().to_string(),
            engine.data_revision().to_string(),
        );
        note(&mut inputs.policy_revisions, Some(&policy), "this report");
        note(&mut inputs.data_revisions, Some(&data), "this report");
        inputs
    }

    fn apps(&self) -> &Map<String, Json> {
        // `read_catalog` admits only a catalog whose `apps` is an object.
        self.catalog
            .get("apps")
            .and_then(Json::as_object)
            .expect("a catalog has apps")
    }

    fn control_of(&self, rule: &str) -> String {
        control_of(&self.controls, rule)
    }

    /// The manifests decided now: compliance, tiers, approval times.
    pub fn add_manifests(&mut self, paths: &[PathBuf], results: &[FileResult]) {
        self.manifest_paths = paths.iter().map(|p| p.display().to_string()).collect();
        self.manifest_files = results.len();
        for result in results {
            let decision = match &result.outcome {
                Ok(decision) => decision,
                Err(e) => {
                    self.manifest_errors += 1;
                    if self.manifest_errors <= 10 {
                        self.skipped.push(format!(
                            "{}: not decided, counted as not compliant: error[{}]: {}",
                            result.file,
                            e.code,
                            e.message
                                .lines()
                                .next()
                                .unwrap_or_default()
                                .trim_end_matches(':')
                        ));
                    }
                    continue;
                }
            };
            let document = result
                .text
                .as_deref()
                .and_then(|t| warden::parse_document(&result.file, t).ok())
                .unwrap_or(Json::Null);
            let decision = serde_json::to_value(decision).unwrap_or(Json::Null);
            let metadata = |key: &str| text_at(&document, &["metadata", key]).map(str::to_string);
            let approved =
                text_at(&document, &["metadata", "approval", "status"]) == Some("approved");
            let (failing, waived) = self.controls_of(&decision);
            self.manifests.push(ManifestState {
                app: metadata("name").or_else(|| subject_of(&decision)),
                tier: metadata("risk_tier"),
                registered_at: metadata("registered_at").as_deref().and_then(time_of),
                reviewed_at: approved
                    .then(|| text_at(&document, &["metadata", "approval", "reviewed_at"]))
                    .flatten()
                    .and_then(time_of),
                passed: decision.get("decision").and_then(Json::as_str) == Some("allow"),
                failing,
                waived,
            });
        }
        if self.manifest_errors > 10 {
            self.skipped.push(format!(
                "{} more manifests not decided",
                self.manifest_errors - 10
            ));
        }
        // A manifest that could not be decided is not compliant: `warden
        // check` fails the run for it too.
        let passed = self.manifests.iter().filter(|m| m.passed).count();
        let files = self.manifests.len() + self.manifest_errors;
        self.trend.push(TrendPoint {
            at: warden_ir::format_time(self.now),
            source: "now".into(),
            passed,
            failed: files - passed,
            rate: rate(passed, files),
        });
    }

    /// The controls a decision's deny findings fail, and those waived.
    fn controls_of(&self, decision: &Json) -> (BTreeSet<String>, BTreeSet<String>) {
        let controls = |key: &str, deny_only: bool| -> BTreeSet<String> {
            decision
                .get(key)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter(|f| !deny_only || f.get("effect").and_then(Json::as_str) == Some("deny"))
                .filter_map(|f| {
                    let control = f.get("control").and_then(Json::as_str).map(str::to_string);
                    control.or_else(|| Some(self.control_of(f.get("rule")?.as_str()?)))
                })
                .collect()
        };
        (controls("findings", true), controls("waived", false))
    }

    /// Something left out or counted apart, said on the page and on
    /// standard error.
    pub fn skip(&mut self, warning: String) {
        self.skipped.push(warning);
    }

    /// One kept `warden check --format json` output: a point of the trend.
    pub fn add_check_run(&mut self, file: &Path, run: &Json) -> Result<(), String> {
        let not_a_run = || {
            "not the output of `warden check --format json` (an object with `summary` and `results`)"
                .to_string()
        };
        let summary = run.get("summary").ok_or_else(not_a_run)?;
        let results = run
            .get("results")
            .and_then(Json::as_array)
            .ok_or_else(not_a_run)?;
        let count = |key: &str| {
            summary
                .get(key)
                .and_then(Json::as_u64)
                .map(|n| n as usize)
                .ok_or_else(not_a_run)
        };
        let (files, passed, failed) = (count("files")?, count("passed")?, count("failed")?);
        let errors = match summary.get("errors") {
            None => 0,
            Some(_) => count("errors")?,
        };
        if passed
            .checked_add(failed)
            .and_then(|n| n.checked_add(errors))
            != Some(files)
        {
            return Err(format!(
                "its summary does not add up: {passed} passed, {failed} failed and {errors} errors of {files} files"
            ));
        }
        let name = file.display().to_string();
        let mut at = None;
        for result in results {
            let Some(decision) = result.get("decision") else {
                continue;
            };
            if at.is_none() {
                at = text_at(decision, &["evaluated_at"]).and_then(time_of);
            }
            note(
                &mut self.policy_revisions,
                text_at(decision, &["policy_revision"]),
                &name,
            );
            note(
                &mut self.data_revisions,
                text_at(decision, &["data_revision"]),
                &name,
            );
        }
        let in_period = at.is_some_and(|at| at >= self.from && at <= self.now);
        if let Some(at) = at.filter(|_| in_period) {
            self.trend.push(TrendPoint {
                at: warden_ir::format_time(at),
                source: name.clone(),
                passed,
                failed,
                rate: rate(passed, passed + failed),
            });
        }
        self.check_runs.push(CheckRunSource {
            file: name,
            evaluated_at: at.map(warden_ir::format_time),
            in_period,
            files,
            passed,
            failed,
            errors,
        });
        Ok(())
    }

    /// One decision log, its chain verified as it is read. A log already
    /// read (the same file, or a copy: the same chain head) is left out,
    /// and the warning says so.
    pub fn add_decision_log(&mut self, file: &Path) -> Result<(), decision_log::VerifyError> {
        let name = file.display().to_string();
        let (expiry, retired) = (&self.expires, &self.retired);
        let (from, now, width) = (self.from, self.now, self.bucket);
        let mut tally = Tally {
            buckets: vec![Counts::default(); self.buckets.len()],
            ..Tally::default()
        };
        let mut source = LogSource {
            file: name.clone(),
            chain: Chain::Intact,
            lines: 0,
            decisions: 0,
            in_period: 0,
            unverified: 0,
            decided_for_other_times: 0,
            without_timestamp: 0,
            breaks: Vec::new(),
            break_count: 0,
            truncated_bytes: None,
            head: String::new(),
            file_sha256: String::new(),
            first_line: None,
            first: None,
            last: None,
        };
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        let controls = &self.controls;
        let reading = decision_log::read(file, |line, linked| {
            if line.event.0 {
                return;
            }
            source.decisions += 1;
            if !linked {
                source.unverified += 1;
            }
            // When it happened is the server's clock: a `/v1/decide` caller
            // chooses `evaluated_at`, and could move its decision out of
            // the period. A line without `timestamp` has only the other.
            let logged = line.timestamp.as_str().and_then(time_of);
            let decided = line.evaluated_at.as_str().and_then(time_of);
            match (logged, decided) {
                (Some(logged), Some(decided)) if (logged - decided).abs() > OTHER_TIME => {
                    source.decided_for_other_times += 1;
                }
                (Some(_), _) => {}
                // No server time: placed at the decision's own, and said.
                (None, _) => source.without_timestamp += 1,
            }
            let Some(at) = logged.or(decided) else { return };
            first = first.min(at);
            last = last.max(at);
            if at > now {
                return;
            }
            // A masked app id (`log.mask`) names no app.
            let app = line
                .app_id
                .text()
                .or_else(|| line.input.as_ref()?.app_id.text())
                .filter(|app| app != MASKED);
            // The last time an app was seen counts whatever the period.
            if let Some(app) = &app {
                tally.seen(app, at);
            }
            if at < from {
                return;
            }
            source.in_period += 1;
            tally.revisions(line, &name);
            let denied = line.outcome.as_str() == Some("deny");
            tally.decisions += 1;
            // The period's last instant belongs to its last bucket.
            let index = (((at - from) / width) as usize).min(tally.buckets.len() - 1);
            let bucket = &mut tally.buckets[index];
            bucket.decisions += 1;
            if denied {
                tally.denials += 1;
                bucket.denials += 1;
                // `deny_rules` names the rules whose deny findings decided;
                // a line written before it had only `rules`, every finding's.
                let rules = line.deny_rules.as_ref().unwrap_or(&line.rules);
                let mut named: BTreeSet<String> =
                    rules.0.iter().map(|r| control_of(controls, r)).collect();
                if named.is_empty() {
                    named.insert(NO_RULE_ALLOWED.to_string());
                }
                for control in named {
                    tally.denied(index, control);
                }
            }
            let Some(app) = app else { return };
            let Some(traffic) = tally.traffic(&app) else {
                return;
            };
            traffic.decisions += 1;
            traffic.denials += u64::from(denied);
            if expiry.get(&app).is_some_and(|&expires| at >= expires) {
                traffic.after_expiry += 1;
            }
            if retired.get(&app).is_some_and(|&retired| at >= retired) {
                traffic.after_retired += 1;
            }
        })?;
        source.lines = reading.head.seq;
        source.head = reading.head.hash;
        source.break_count = reading.break_count;
        source.breaks = reading.breaks;
        source.truncated_bytes = reading.truncated;
        source.chain = if source.break_count > 0 {
            Chain::Broken
        } else if source.truncated_bytes.is_some() {
            Chain::Truncated
        } else {
            Chain::Intact
        };
        if first <= last {
            source.first = Some(warden_ir::format_time(first));
            source.last = Some(warden_ir::format_time(last));
        }
        // A byte-for-byte copy is counted once; two logs that start with
        // the same line are one chain (a backup, a prefix, an edited copy),
        // and their shared decisions would be counted twice.
        if let Some(earlier) = self
            .logs
            .iter()
            .find(|l| l.file_sha256 == reading.file_sha256)
        {
            self.skipped.push(format!(
                "{name}: the same bytes as {}: counted once",
                earlier.file
            ));
            return Ok(());
        }
        if let Some(earlier) = self
            .logs
            .iter()
            .find(|l| l.first_line.is_some() && l.first_line == reading.first_line)
        {
            self.skipped.push(format!(
                "{name} and {} start with the same line: they are parts of one chain (a copy, a backup, an earlier state of the log), and the decisions they share are counted twice; give only the whole log",
                earlier.file
            ));
        }
        source.file_sha256 = reading.file_sha256;
        source.first_line = reading.first_line;
        self.merge(tally);
        self.logs.push(source);
        Ok(())
    }

    /// One log's tally added to the report's.
    fn merge(&mut self, tally: Tally) {
        self.decisions += tally.decisions;
        self.denials += tally.denials;
        // Controls past the bound, over all logs, are counted together.
        let mut renamed: HashMap<String, String> = HashMap::new();
        for (control, n) in tally.by_control {
            let known = &self.denials_by_control;
            let name = if known.len() >= MOST_CONTROLS && !known.contains_key(&control) {
                OTHER_CONTROLS.to_string()
            } else {
                control.clone()
            };
            *self.denials_by_control.entry(name.clone()).or_default() += n;
            renamed.insert(control, name);
        }
        for (bucket, counts) in self.buckets.iter_mut().zip(tally.buckets) {
            bucket.decisions += counts.decisions;
            bucket.denials += counts.denials;
            for (control, n) in counts.by_control {
                let name = renamed.get(&control).cloned().unwrap_or(control);
                *bucket.by_control.entry(name).or_default() += n;
            }
        }
        self.untracked_apps += tally.untracked_apps;
        for (app, t) in tally.apps {
            if self.traffic.len() >= MOST_APPS && !self.traffic.contains_key(&app) {
                self.untracked_apps += t.decisions;
                continue;
            }
            let mine = self.traffic.entry(app).or_default();
            mine.decisions += t.decisions;
            mine.denials += t.denials;
            mine.after_expiry += t.after_expiry;
            mine.after_retired += t.after_retired;
            mine.last = mine.last.max(t.last);
        }
        for (revision, seen) in tally.policy_revisions {
            for s in seen {
                note(&mut self.policy_revisions, Some(&revision), &s);
            }
        }
        for (revision, seen) in tally.data_revisions {
            for s in seen {
                note(&mut self.data_revisions, Some(&revision), &s);
            }
        }
    }

    pub fn finish(mut self) -> Figures {
        let now = self.now;
        let days_from_now = |t: i64| round((t - now) as f64 / DAY as f64);
        let has_logs = !self.logs.is_empty();
        let mut rows: BTreeMap<String, AppRow> = BTreeMap::new();
        // An entry that is not an object is no app (`new` warned of it).
        for (id, app) in self.apps().iter().filter(|(_, a)| a.is_object()) {
            let field = |key: &str| app.get(key).and_then(Json::as_str).map(str::to_string);
            let expires = self.expires.get(id).copied();
            rows.insert(
                id.clone(),
                AppRow {
                    app: id.clone(),
                    registered: true,
                    status: field("status"),
                    risk_tier: field("risk_tier"),
                    owner: field("owner"),
                    expires_at: expires.map(warden_ir::format_time),
                    expires_micros: expires,
                    days_to_expiry: expires.map(days_from_now),
                    registered_at: field("registered_at"),
                    incidents: app
                        .get("incidents")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|i| time_of(i.get("opened_at")?.as_str()?))
                        .filter(|&at| at >= self.from && at <= now)
                        .count(),
                    ..AppRow::default()
                },
            );
        }
        for (id, traffic) in &self.traffic {
            let r = row(&mut rows, id);
            r.decisions = traffic.decisions;
            r.denials = traffic.denials;
            r.last_seen = traffic.last.map(warden_ir::format_time);
            r.decisions_after_expiry = traffic.after_expiry;
            r.decisions_while_inactive = traffic.after_retired;
        }
        let mut approval: BTreeMap<String, (usize, Vec<f64>)> = BTreeMap::new();
        for m in &self.manifests {
            let days = match (m.registered_at, m.reviewed_at) {
                (Some(registered), Some(reviewed)) if reviewed >= registered => {
                    Some(round((reviewed - registered) as f64 / DAY as f64))
                }
                _ => None,
            };
            let tier = approval
                .entry(m.tier.clone().unwrap_or_else(|| "unset".into()))
                .or_default();
            tier.0 += 1;
            tier.1.extend(days);
            let Some(app) = &m.app else { continue };
            let r = row(&mut rows, app);
            // Of several manifests of one app, a failing one speaks for it.
            if r.manifest != Some("failed") {
                r.manifest = Some(if m.passed { "passed" } else { "failed" });
            }
            r.failing_controls.extend(m.failing.iter().cloned());
            r.failing_controls.sort();
            r.failing_controls.dedup();
            r.risk_tier = r.risk_tier.take().or_else(|| m.tier.clone());
            if r.registered_at.is_none() {
                r.registered_at = m.registered_at.map(warden_ir::format_time);
            }
            r.approval_days = r.approval_days.or(days);
        }
        let mut lifetimes = Vec::new();
        for r in rows.values_mut() {
            let status = r.status.as_deref();
            let start = r.registered_at.as_deref().and_then(time_of);
            let retired_at = self.retired.get(&r.app).copied();
            let end = match (status, retired_at) {
                (_, Some(at)) => Some(at),
                (Some("retired"), None) => None,
                _ if r.registered => Some(now),
                _ => None,
            };
            if let (Some(start), Some(end)) = (start, end)
                && end >= start
            {
                let days = round((end - start) as f64 / DAY as f64);
                r.lifetime_days = Some(days);
                lifetimes.push(days);
            }
            let active = status == Some("active");
            if !r.registered {
                r.flags.push("unregistered");
            }
            // Expired at its `expires_at`, as the policies judge (`<= now()`).
            if let Some(expires) = r.expires_micros {
                if expires <= now && status != Some("retired") {
                    r.flags.push("expired");
                } else if active && expires > now && expires < now + SOON_DAYS * DAY {
                    r.flags.push("expiring");
                }
            }
            if r.decisions_after_expiry > 0 {
                r.flags.push("expired-with-traffic");
            }
            // A disabled app has no date: any decision in the period counts.
            if status == Some("disabled") {
                r.decisions_while_inactive = r.decisions;
            }
            if r.decisions_while_inactive > 0 {
                r.flags.push("inactive-with-traffic");
            }
            let recent = self
                .traffic
                .get(&r.app)
                .and_then(|t| t.last)
                .is_some_and(|t| t >= now - STALE_DAYS * DAY);
            if has_logs && r.registered && active && !recent {
                r.flags.push("stale");
            }
            if r.manifest == Some("failed") {
                r.flags.push("non-compliant");
            }
        }
        let apps: Vec<AppRow> = rows.into_values().collect();
        let count = |flag: &str| apps.iter().filter(|a| a.flags.contains(&flag)).count();
        let registered = apps.iter().filter(|a| a.registered).count();

        // Compliance by control: every control a manifest rule checks.
        let decided = self.manifests.len();
        let mut by_control: BTreeMap<String, (usize, usize)> = self
            .engine
            .rules()
            .into_iter()
            .filter(|r| r.target == crate::check::TARGET)
            .map(|r| (r.control.unwrap_or(r.name), (0, 0)))
            .collect();
        for m in &self.manifests {
            for c in &m.failing {
                by_control.entry(c.clone()).or_default().0 += 1;
            }
            for c in &m.waived {
                by_control.entry(c.clone()).or_default().1 += 1;
            }
        }
        let compliance_by_control = if decided == 0 {
            Vec::new()
        } else {
            by_control
                .into_iter()
                .map(|(control, (failing, waived))| ControlRate {
                    control,
                    manifests: decided,
                    failing,
                    waived,
                    rate: rate(decided - failing, decided),
                })
                .collect()
        };
        let mut by_tier: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for m in &self.manifests {
            let t = by_tier
                .entry(m.tier.clone().unwrap_or_else(|| "unset".into()))
                .or_default();
            t.0 += 1;
            t.1 += usize::from(m.passed);
        }
        let compliance_by_tier = by_tier
            .into_iter()
            .map(|(tier, (manifests, passing))| TierRate {
                tier,
                manifests,
                passing,
                rate: rate(passing, manifests),
            })
            .collect();
        let passed = self.manifests.iter().filter(|m| m.passed).count();

        let waivers: Vec<WaiverRow> = self
            .engine
            .waivers()
            .into_iter()
            .map(|w| {
                let days_left = days_from_now(w.until_micros);
                let state = if w.until_micros < now {
                    "expired"
                } else if days_left < SOON_DAYS as f64 {
                    "expiring"
                } else {
                    "in_force"
                };
                WaiverRow {
                    control: self.controls.get(&w.rule).cloned(),
                    waiver: w,
                    state,
                    days_left,
                }
            })
            .collect();
        let waiver_count = |s: &str| waivers.iter().filter(|w| w.state == s).count();
        self.trend.sort_by(|a, b| a.at.cmp(&b.at));
        let mut denials_by_control: Vec<ControlCount> =
            std::mem::take(&mut self.denials_by_control)
                .into_iter()
                .map(|(control, denials)| ControlCount { control, denials })
                .collect();
        denials_by_control
            .sort_by(|a, b| b.denials.cmp(&a.denials).then(a.control.cmp(&b.control)));
        let revisions = |seen: BTreeMap<String, BTreeSet<String>>| {
            seen.into_iter()
                .map(|(revision, seen_in)| RevisionSeen {
                    revision,
                    seen_in: seen_in.into_iter().collect(),
                })
                .collect()
        };
        let approval_days = approval
            .into_iter()
            .map(|(tier, (manifests, days))| {
                let stat = Stat::of(days);
                (
                    tier,
                    ApprovalStat {
                        manifests,
                        approved: stat.apps,
                        median: stat.median,
                        average: stat.average,
                    },
                )
            })
            .collect();
        Figures {
            report: "warden.report/v1",
            now: warden_ir::format_time(now),
            period: Period {
                from: warden_ir::format_time(self.from),
                to: warden_ir::format_time(now),
                days: self.days,
                bucket: if self.bucket == DAY { "day" } else { "week" },
            },
            kpis: Kpis {
                apps_known: apps.len(),
                apps_registered: registered,
                apps_active: apps
                    .iter()
                    .filter(|a| a.status.as_deref() == Some("active"))
                    .count(),
                registered_share: rate(registered, apps.len()),
                unregistered_at_gateway: has_logs.then(|| {
                    apps.iter()
                        .filter(|a| !a.registered && a.decisions > 0)
                        .count()
                }),
                expiring_soon: count("expiring"),
                expired_with_traffic: has_logs.then(|| count("expired-with-traffic")),
                inactive_with_traffic: has_logs.then(|| count("inactive-with-traffic")),
                stale: has_logs.then(|| count("stale")),
                incidents: apps.iter().map(|a| a.incidents).sum(),
                apps_with_incidents: apps.iter().filter(|a| a.incidents > 0).count(),
                lifetime_days: Stat::of(lifetimes),
                approval_days,
                manifests_decided: decided,
                compliance_rate: rate(passed, decided + self.manifest_errors),
                waivers_in_force: waiver_count("in_force") + waiver_count("expiring"),
                waivers_expiring: waiver_count("expiring"),
                waivers_expired: waiver_count("expired"),
                decisions: has_logs.then_some(self.decisions),
                denials: has_logs.then_some(self.denials),
                decisions_about_uncounted_apps: self.untracked_apps,
            },
            sources: Sources {
                catalog: CatalogSource {
                    file: self.catalog_file.display().to_string(),
                    sha256: self.catalog_sha.clone(),
                    apps: self.apps().len(),
                },
                manifests: (!self.manifest_paths.is_empty()).then(|| ManifestSource {
                    paths: self.manifest_paths.clone(),
                    files: self.manifest_files,
                    decided,
                    errors: self.manifest_errors,
                }),
                check_runs: std::mem::take(&mut self.check_runs),
                decision_logs: std::mem::take(&mut self.logs),
                policy_revisions: revisions(std::mem::take(&mut self.policy_revisions)),
                data_revisions: revisions(std::mem::take(&mut self.data_revisions)),
            },
            compliance_by_control,
            compliance_by_tier,
            compliance_trend: std::mem::take(&mut self.trend),
            denials_by_control,
            denials_over_time: std::mem::take(&mut self.buckets),
            apps,
            waivers,
            warnings: std::mem::take(&mut self.skipped),
        }
    }
}

/// The control a rule checks, or the rule's own name when it names none
/// (or is not in this policy set: a log from another revision).
fn control_of(controls: &HashMap<String, String>, rule: &str) -> String {
    controls
        .get(rule)
        .cloned()
        .unwrap_or_else(|| rule.to_string())
}

/// Each catalog app's time at `key` (`expires_at`, `retired_at`), where it
/// has one that reads as a time.
fn dated(catalog: &Map<String, Json>, key: &str) -> HashMap<String, i64> {
    catalog
        .get("apps")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(id, app)| Some((id.clone(), time_of(app.get(key)?.as_str()?)?)))
        .collect()
}

/// The row of app `id`, made for an app the catalog does not hold.
fn row<'m>(rows: &'m mut BTreeMap<String, AppRow>, id: &str) -> &'m mut AppRow {
    rows.entry(id.to_string()).or_insert_with(|| AppRow {
        app: id.to_string(),
        ..AppRow::default()
    })
}

/// The app a decision's findings are about.
fn subject_of(decision: &Json) -> Option<String> {
    decision
        .get("findings")?
        .as_array()?
        .iter()
        .find_map(|f| f.get("subject")?.as_str().map(str::to_string))
}

/// `part / whole` as a percentage with one decimal, when there is a whole.
fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| round(part as f64 * 100.0 / whole as f64))
}
