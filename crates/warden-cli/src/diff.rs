//! `warden diff`: what a policy change does to decisions. Both policy sets
//! (the change and its base: a folder, or a git revision of the same
//! folder) decide every manifest given; each decision that changed is
//! reported (verdict, findings added or removed, obligations), grouped by
//! rule, as text, as a pull-request comment (markdown) or as JSON.

use crate::check::{self, FileResult};
use crate::{
    Failure, PolicyArgs, base_engine_with_data, describe, engine_with_data, parse_now, print_out,
};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct DiffArgs {
    /// The policy set before the change: a folder, or a git revision
    /// (`main`, `HEAD~1`, a commit) of the `--policy` folder.
    #[arg(long, value_name = "DIR_OR_GIT_REV")]
    base: String,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Manifests, or folders of them, decided by both sets (repeatable).
    #[arg(
        long = "inputs",
        value_name = "PATH",
        required_unless_present_any = ["decision_logs", "tests"]
    )]
    inputs: Vec<PathBuf>,
    /// A decision log whose inputs (logged with `log.include_input`) both
    /// sets decide again, each against its target at its time (repeatable).
    #[arg(long = "decision-log", value_name = "FILE")]
    decision_logs: Vec<PathBuf>,
    /// Also decide the inputs of the changed set's `test` blocks (each with
    /// the data and time its test gives) with both sets.
    #[arg(long)]
    tests: bool,
    /// Most decision-log records replayed, over all logs.
    #[arg(long, default_value_t = 100_000)]
    max_records: usize,
    /// A data file both sets decide with (repeatable).
    #[arg(long = "data", value_name = "[NAME=]FILE")]
    data: Vec<String>,
    /// The evaluation time, RFC 3339 (default: now): the same for both.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// `human` (default), `markdown` (a pull-request comment) or `json`.
    #[arg(long, value_enum, default_value = "human")]
    format: DiffFormat,
    /// Exit 1 when any decision changed.
    #[arg(long)]
    fail_on_change: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum DiffFormat {
    Human,
    Markdown,
    Json,
}

/// What one input's decision was, for comparing.
#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    /// `allow`, `deny`, or `error E0401` when it could not be decided.
    verdict: String,
    /// Rules with a deny or allow finding.
    findings: BTreeSet<String>,
    /// Rules with a warning.
    warnings: BTreeSet<String>,
    obligations: Json,
}

/// A finding as compared: its rule, and the code of an evaluation error
/// (`t.r [E0503]`), so a rule that now fails is not the rule that fires.
fn keyed(finding: &warden::FindingReport) -> String {
    match &finding.code {
        Some(code) => format!("{} [{code}]", finding.rule),
        None => finding.rule.to_string(),
    }
}

impl Outcome {
    fn of(result: &FileResult) -> Outcome {
        Outcome::decided(result.outcome.as_ref().map_err(|e| e.code.to_string()))
    }

    fn decided(outcome: Result<&warden::Decision, String>) -> Outcome {
        match outcome {
            Ok(decision) => Outcome {
                verdict: decision.decision.as_str().to_string(),
                findings: decision.findings.iter().map(keyed).collect(),
                warnings: decision
                    .warnings
                    .iter()
                    .map(|f| format!("{} (warning)", keyed(f)))
                    .collect(),
                obligations: Json::Object(decision.obligations.clone()),
            },
            Err(code) => Outcome {
                verdict: format!("error {code}"),
                findings: BTreeSet::new(),
                warnings: BTreeSet::new(),
                obligations: Json::Null,
            },
        }
    }
}

/// One input whose decision changed.
struct Change {
    file: String,
    before: Outcome,
    after: Outcome,
}

impl Change {
    /// Findings (warnings included, marked) it has now and had not.
    fn added(&self) -> impl Iterator<Item = &String> {
        let warnings = self.after.warnings.difference(&self.before.warnings);
        self.after
            .findings
            .difference(&self.before.findings)
            .chain(warnings)
    }
    fn removed(&self) -> impl Iterator<Item = &String> {
        let warnings = self.before.warnings.difference(&self.after.warnings);
        self.before
            .findings
            .difference(&self.after.findings)
            .chain(warnings)
    }
    fn to_json(&self) -> Json {
        json!({
            "file": self.file,
            "before": self.before.verdict,
            "after": self.after.verdict,
            "findings_added": self.added().collect::<Vec<_>>(),
            "findings_removed": self.removed().collect::<Vec<_>>(),
            "warnings_added": self.after.warnings.difference(&self.before.warnings).collect::<Vec<_>>(),
            "warnings_removed": self.before.warnings.difference(&self.after.warnings).collect::<Vec<_>>(),
            "obligations_changed": self.before.obligations != self.after.obligations,
        })
    }
}

/// `--base`: a folder, or a git revision of the `--policy` folder
/// ([`warden::checkout_base`]).
pub(crate) fn base_of(base: &str, policy: &Path) -> Result<warden::BaseCheckout, Failure> {
    warden::checkout_base(base, policy).map_err(Failure)
}

/// `warden diff`.
pub(crate) fn diff(args: DiffArgs) -> Result<ExitCode, Failure> {
    let now = parse_now(args.now.as_deref())?;
    let (mut files, skipped) = if args.inputs.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        check::collect(&args.inputs)?
    };
    // A file reached twice (a folder and a file in it) is one input.
    let mut seen = BTreeSet::new();
    files.retain(|f| seen.insert(f.canonicalize().unwrap_or_else(|_| f.clone())));
    crate::warn_skipped(&skipped);
    let paths = args.policy.paths()?;
    let [policy] = paths.as_slice() else {
        return Err(Failure(
            "`warden diff` compares one policy folder (one `--policy`)".into(),
        ));
    };
    let base = base_of(&args.base, policy)?;
    let limits = warden::InputLimits::DATA;
    let (after_engine, after_workspace) = engine_with_data(&args.policy, &args.data, &limits)?;
    let base_args = PolicyArgs {
        paths: vec![base.path.clone()],
    };
    let (before_engine, _) = base_engine_with_data(&base_args, &args.data, &limits)?;
    for (engine, which) in [(&before_engine, "base"), (&after_engine, "changed")] {
        if !files.is_empty() && !engine.has_target(check::TARGET) {
            return Err(Failure(format!(
                "the {which} policies declare no `{}` target to decide manifests against",
                check::TARGET
            )));
        }
    }
    let options = warden::DecideOptions::default();
    let input_limits = warden::InputLimits::INPUT;
    let decide = |engine: &warden::Engine| {
        check::run(
            engine,
            &files,
            now,
            &options,
            &input_limits,
            check::Progress::Never,
        )
    };
    let before = decide(&before_engine);
    let after = decide(&after_engine);
    let mut changes: Vec<Change> = before
        .iter()
        .zip(&after)
        .filter_map(|(b, a)| {
            let (before, after) = (Outcome::of(b), Outcome::of(a));
            (before != after).then(|| Change {
                file: a.file.clone(),
                before,
                after,
            })
        })
        .collect();
    let counts = replay_records(&args.decision_logs, args.max_records, |record| {
        let when = args.now.as_deref().map_or(record.at, |_| now);
        let replay = |engine: &warden::Engine| {
            let decided = engine.decide_with(&record.target, &record.input, when, &options);
            Outcome::decided(decided.as_ref().map_err(|e| e.code().to_string()))
        };
        let (before, after) = (replay(&before_engine), replay(&after_engine));
        if before != after {
            changes.push(Change {
                file: record.label.clone(),
                before,
                after,
            });
        }
    })?;
    let mut cases_decided = 0;
    if args.tests {
        let cases =
            after_engine.test_cases(Some(after_workspace.folders()), &warden::InputLimits::INPUT);
        for case in cases {
            let Ok(case) = case else {
                continue;
            };
            let when = args.now.as_deref().map_or(case.now, |_| now);
            let replay = |engine: &warden::Engine| {
                let engine = match engine.with_test_data(&case.data) {
                    Ok(engine) => engine,
                    Err(e) => {
                        return Outcome::decided(Err(e
                            .code()
                            .map_or_else(|| "data".to_string(), |c| c.to_string())));
                    }
                };
                let decided = engine.decide_with(&case.target, &case.input, when, &options);
                Outcome::decided(decided.as_ref().map_err(|e| e.code().to_string()))
            };
            cases_decided += 1;
            let (before, after) = (replay(&before_engine), replay(&after_engine));
            if before != after {
                changes.push(Change {
                    file: format!("test {}", case.name),
                    before,
                    after,
                });
            }
        }
    }
    if counts.unreplayable > 0 {
        eprintln!(
            "warden diff: {} decision-log record(s) not replayed: no input logged \
             (log.include_input off, or the input too large), no target (an older log), \
             or not a record",
            counts.unreplayable
        );
    }
    if counts.left_out > 0 {
        eprintln!(
            "warden diff: {} decision-log record(s) past --max-records {} not replayed",
            counts.left_out, args.max_records
        );
    }

    let decided = files.len() + counts.replayed + cases_decided;
    let text = match args.format {
        DiffFormat::Json => serde_json::to_string_pretty(&json!({
            "base": args.base,
            "base_revision": before_engine.revision(),
            "revision": after_engine.revision(),
            "inputs": decided,
            "changed": changes.len(),
            "by_rule": by_rule(&changes).into_iter().map(|(rule, (added, removed))| {
                (rule, json!({ "now_fires_on": added, "no_longer_fires_on": removed }))
            }).collect::<serde_json::Map<_, _>>(),
            "changes": changes.iter().map(Change::to_json).collect::<Vec<_>>(),
        }))?,
        DiffFormat::Markdown => markdown(&args.base, &describe(&paths), decided, &changes),
        DiffFormat::Human => human(&args.base, decided, &changes),
    };
    print_out(text.trim_end());
    Ok(if args.fail_on_change && !changes.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A decision-log record to decide again.
struct Record {
    /// `FILE:LINE`.
    label: String,
    target: String,
    input: Json,
    at: std::time::SystemTime,
}

/// The longest decision-log line read.
const LONGEST_LINE: u64 = 64 << 20;

/// What reading the decision logs found.
#[derive(Default)]
struct LogCounts {
    replayed: usize,
    /// Decision records without an input or a target, or not JSON.
    unreplayable: usize,
    /// Records past `--max-records`.
    left_out: usize,
}

/// Each record of `logs` that can be replayed (an input and a target),
/// given to `replay` as it is read (a log is not held whole), at most
/// `most` of them.
fn replay_records(
    logs: &[PathBuf],
    most: usize,
    mut replay: impl FnMut(Record),
) -> Result<LogCounts, Failure> {
    use std::io::{BufRead, Read};
    let mut counts = LogCounts::default();
    for log in logs {
        let meta = std::fs::metadata(log)
            .map_err(|e| Failure(format!("cannot read `{}`: {e}", log.display())))?;
        if !meta.is_file() {
            return Err(Failure(format!(
                "`{}` is not a regular file; a decision log is",
                log.display()
            )));
        }
        let file = std::fs::File::open(log)
            .map_err(|e| Failure(format!("cannot read `{}`: {e}", log.display())))?;
        let mut reader = std::io::BufReader::new(file);
        let mut line = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            let n = (&mut reader)
                .take(LONGEST_LINE)
                .read_until(b'\n', &mut line)
                .map_err(|e| Failure(format!("`{}`: {e}", log.display())))?;
            if n == 0 {
                break;
            }
            number += 1;
            if line.last() != Some(&b'\n') && n as u64 == LONGEST_LINE {
                // Longer than any record: the rest of it is skipped too.
                let mut rest = Vec::new();
                while (&mut reader)
                    .take(LONGEST_LINE)
                    .read_until(b'\n', &mut rest)
                    .map_err(|e| Failure(format!("`{}`: {e}", log.display())))?
                    > 0
                    && rest.last() != Some(&b'\n')
                {
                    rest.clear();
                }
                counts.unreplayable += 1;
                continue;
            }
            let Ok(record) = serde_json::from_slice::<Json>(&line) else {
                counts.unreplayable += 1;
                continue;
            };
            // The server's placeholder for an input too large to log is
            // exactly `{omitted, bytes, sha256}`; any other input replays.
            let placeholder = |i: &Json| {
                i.as_object().is_some_and(|o| {
                    o.len() == 3
                        && o.contains_key("omitted")
                        && o.contains_key("bytes")
                        && o.contains_key("sha256")
                })
            };
            let input = record.get("input").filter(|i| !placeholder(i));
            let target = record.get("target").and_then(Json::as_str);
            let at = record
                .get("evaluated_at")
                .and_then(Json::as_str)
                .and_then(warden::parse_now);
            match (input, target, at) {
                (Some(input), Some(target), Some(at)) => {
                    if counts.replayed >= most {
                        counts.left_out += 1;
                        continue;
                    }
                    counts.replayed += 1;
                    replay(Record {
                        label: format!("{}:{number}", log.display()),
                        target: target.to_string(),
                        input: input.clone(),
                        at,
                    });
                }
                _ if record.get("decision_id").is_some() => counts.unreplayable += 1,
                // A repair event, not a decision.
                _ => {}
            }
        }
    }
    Ok(counts)
}

/// Per rule, the inputs it now fires on and those it no longer fires on.
fn by_rule(changes: &[Change]) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut rules: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for change in changes {
        for rule in change.added() {
            rules
                .entry(rule.clone())
                .or_default()
                .0
                .push(change.file.clone());
        }
        for rule in change.removed() {
            rules
                .entry(rule.clone())
                .or_default()
                .1
                .push(change.file.clone());
        }
    }
    rules
}

/// How many inputs went each way, as `allow → deny: 3`.
fn transitions(changes: &[Change]) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for change in changes {
        *counts
            .entry((change.before.verdict.clone(), change.after.verdict.clone()))
            .or_default() += 1;
    }
    counts
}

/// A name from the inputs (a file name a pull request chose) as a report
/// may show it: no control characters (a newline would forge report
/// lines).
fn shown(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A name as markdown shows it: in a code span, so no HTML, link or
/// emphasis in it takes effect, and no `|` ends a table cell.
fn code(name: &str) -> String {
    format!("`{}`", shown(name).replace('`', "'").replace('|', "\\|"))
}

/// At most `n` names, then how many more.
fn listed(files: &[String], n: usize) -> String {
    let mut out = files
        .iter()
        .take(n)
        .map(|f| shown(f))
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > n {
        out.push_str(&format!(" and {} more", files.len() - n));
    }
    out
}

fn human(base: &str, inputs: usize, changes: &[Change]) -> String {
    if changes.is_empty() {
        return format!("no decision changed against `{base}` ({inputs} inputs decided by both)");
    }
    let mut out = format!(
        "{} of {inputs} decisions changed against `{base}`\n",
        changes.len()
    );
    for ((from, to), n) in transitions(changes) {
        if from != to {
            out.push_str(&format!("  {from} -> {to}: {n}\n"));
        }
    }
    for (rule, (added, removed)) in by_rule(changes) {
        if !added.is_empty() {
            out.push_str(&format!(
                "  {rule}: now fires on {} ({})\n",
                added.len(),
                listed(&added, 5)
            ));
        }
        if !removed.is_empty() {
            out.push_str(&format!(
                "  {rule}: no longer fires on {} ({})\n",
                removed.len(),
                listed(&removed, 5)
            ));
        }
    }
    // Each input, up to a screenful or so; JSON lists them all.
    for change in changes.iter().take(LISTED_INPUTS) {
        let mut what = Vec::new();
        if change.before.verdict != change.after.verdict {
            what.push(format!(
                "{} -> {}",
                change.before.verdict, change.after.verdict
            ));
        }
        if change.before.warnings != change.after.warnings {
            what.push("warnings changed".into());
        }
        if change.before.obligations != change.after.obligations {
            what.push("obligations changed".into());
        }
        if what.is_empty() {
            what.push("findings changed".into());
        }
        out.push_str(&format!("  {}: {}\n", shown(&change.file), what.join("; ")));
    }
    if changes.len() > LISTED_INPUTS {
        out.push_str(&format!(
            "  … and {} more inputs (`--format json` lists them all)\n",
            changes.len() - LISTED_INPUTS
        ));
    }
    out
}

/// Inputs the human report lists one by one.
const LISTED_INPUTS: usize = 200;

/// A pull-request comment.
fn markdown(base: &str, policy: &str, inputs: usize, changes: &[Change]) -> String {
    let mut out = String::from("### Warden: decisions changed by this policy change\n\n");
    if changes.is_empty() {
        out.push_str(&format!(
            "No decision changed: {inputs} inputs decided by `{policy}` and by `{base}` alike.\n"
        ));
        return out;
    }
    out.push_str(&format!(
        "**{} of {inputs}** decisions differ between `{base}` and `{policy}`.\n\n",
        changes.len()
    ));
    out.push_str("| before | after | inputs |\n| --- | --- | ---: |\n");
    for ((from, to), n) in transitions(changes) {
        let to = if from == to {
            format!("{to} (findings changed)")
        } else {
            format!("**{to}**")
        };
        out.push_str(&format!("| {from} | {to} | {n} |\n"));
    }
    out.push_str("\n| rule | now fires on | no longer fires on |\n| --- | --- | --- |\n");
    for (rule, (added, removed)) in by_rule(changes) {
        let cell = |files: &[String]| {
            if files.is_empty() {
                "—".to_string()
            } else {
                let names: Vec<String> = files.iter().take(3).map(|f| code(f)).collect();
                let more = match files.len() {
                    n if n > 3 => format!(" and {} more", n - 3),
                    _ => String::new(),
                };
                format!("{} ({}{more})", files.len(), names.join(", "))
            }
        };
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            code(&rule),
            cell(&added),
            cell(&removed)
        ));
    }
    out
}
