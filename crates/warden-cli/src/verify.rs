//! `warden verify`: symbolic checks with an SMT solver (crate
//! `warden-verify`, built in with the `verify` feature).

use crate::diff::base_of;
use crate::{Failure, PolicyArgs, base_engine_with_data, engine_with_data, parse_now, print_out};
use std::process::ExitCode;
use warden_verify::{Check, Options, Report, Verdict};

#[derive(clap::Subcommand)]
pub(crate) enum VerifyCommand {
    /// Prove that the policy set allows nothing its base denies (a safe
    /// tightening), or show an input it now allows.
    Tightening {
        #[command(flatten)]
        base: BaseArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Prove that the policy set and its base decide every input alike, or
    /// show one they decide differently.
    Equivalent {
        #[command(flatten)]
        base: BaseArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Prove that a rule (`package.rule`) can never make a finding (no
    /// clause holds, none fails), or show an input it makes one on.
    NeverFires {
        /// The rule, `package.rule`.
        rule: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Prove that removing a rule changes no decision (whenever it denies,
    /// another rule denies too; whenever it allows, another allows), or show
    /// an input whose decision it changes.
    Shadowed {
        /// The rule, `package.rule`.
        rule: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Prove that a target allows no input, or show one it allows.
    AlwaysDenies {
        /// The target, e.g. `manifest`.
        target: String,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(clap::Args)]
pub(crate) struct BaseArgs {
    /// The policy set before the change: a folder, or a git revision
    /// (`main`, `HEAD~1`, a commit) of the `--policy` folder.
    #[arg(long, value_name = "DIR_OR_GIT_REV")]
    base: String,
    /// Compare only this target (repeatable; default: every target both sets have).
    #[arg(long = "target", value_name = "NAME")]
    targets: Vec<String>,
}

#[derive(clap::Args)]
pub(crate) struct CommonArgs {
    #[command(flatten)]
    policy: PolicyArgs,
    /// A data file the policies decide with (repeatable).
    #[arg(long = "data", value_name = "[NAME=]FILE")]
    data: Vec<String>,
    /// The evaluation time, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// The bound: inputs whose lists hold at most this many elements (1 to 16).
    #[arg(long, default_value_t = 3)]
    max_items: u32,
    /// A bound for one list, by its path in the input (repeatable), e.g.
    /// `spec.logging.fields=9`; the items of a list are written `[]`
    /// (`spec.roles[].scopes=4`).
    #[arg(long = "items", value_name = "PATH=N", value_parser = list_bound)]
    list_bounds: Vec<(String, u32)>,
    /// How long the solver may take per target, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
    /// `human` (default) or `json`.
    #[arg(long, value_enum, default_value = "human")]
    format: VerifyFormat,
}

fn list_bound(text: &str) -> Result<(String, u32), String> {
    let (path, n) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("`{text}` is not PATH=N"))?;
    let n: u32 = n.parse().map_err(|_| format!("`{n}` is not a number"))?;
    let path = path.trim_start_matches("$.").to_string();
    if path.is_empty() || path.len() > 1_000 {
        return Err(format!("`{text}` names no list"));
    }
    Ok((path, n))
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum VerifyFormat {
    Human,
    Json,
}

pub(crate) fn verify(command: VerifyCommand) -> Result<ExitCode, Failure> {
    if !warden_verify::solver_available() {
        return Err(coded(warden_verify::VerifyError::NoSolver));
    }
    let (check, base, common) = match command {
        VerifyCommand::Tightening { base, common } => (Check::Tightening, Some(base), common),
        VerifyCommand::Equivalent { base, common } => (Check::Equivalent, Some(base), common),
        VerifyCommand::NeverFires { rule, common } => (Check::NeverFires { rule }, None, common),
        VerifyCommand::Shadowed { rule, common } => (Check::Shadowed { rule }, None, common),
        VerifyCommand::AlwaysDenies { target, common } => {
            (Check::AlwaysDenies { target }, None, common)
        }
    };
    let now = parse_now(common.now.as_deref())?;
    let limits = warden::InputLimits::DATA;
    let (engine, _) = engine_with_data(&common.policy, &common.data, &limits)?;
    let options = Options {
        max_items: common.max_items,
        timeout: std::time::Duration::from_secs(common.timeout),
        now,
        targets: base
            .as_ref()
            .filter(|b| !b.targets.is_empty())
            .map(|b| b.targets.clone()),
        list_bounds: common.list_bounds.clone(),
        progress: matches!(common.format, VerifyFormat::Human)
            && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        policy_folder: common
            .policy
            .paths()?
            .into_iter()
            .next()
            .filter(|p| p.is_dir()),
    };
    let report = match &base {
        Some(base_args) => {
            let paths = common.policy.paths()?;
            let [policy] = paths.as_slice() else {
                return Err(Failure(
                    "`warden verify` compares one policy folder (one `--policy`)".into(),
                ));
            };
            let base = base_of(&base_args.base, policy)?;
            let base_policy = PolicyArgs {
                paths: vec![base.path.clone()],
            };
            let (base_engine, _) = base_engine_with_data(&base_policy, &common.data, &limits)?;
            warden_verify::verify(&check, Some(&base_engine), &engine, &options)
        }
        None => warden_verify::verify(&check, None, &engine, &options),
    }
    .map_err(coded)?;
    match common.format {
        VerifyFormat::Json => print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        )),
        VerifyFormat::Human => print_out(&human(&check, &report)),
    }
    Ok(if report.holds() {
        ExitCode::SUCCESS
    } else if report.fails() {
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    })
}

fn coded(e: warden_verify::VerifyError) -> Failure {
    Failure {
        code: Some(e.code()),
        message: e.to_string(),
    }
}

/// What each verdict means for the check asked.
fn meaning(check: &Check, verdict: Verdict) -> &'static str {
    match (check, verdict) {
        (Check::Tightening, Verdict::Holds) => "the policy set allows nothing its base denies",
        (Check::Tightening, Verdict::Fails) => "the policy set allows an input its base denies",
        (Check::Equivalent, Verdict::Holds) => "the two sets decide every input alike",
        (Check::Equivalent, Verdict::Fails) => "the two sets decide an input differently",
        (Check::NeverFires { .. }, Verdict::Holds) => {
            "the rule makes no finding for any input (no clause holds, none fails)"
        }
        (Check::NeverFires { .. }, Verdict::Fails) => "the rule makes a finding on an input",
        (Check::Shadowed { .. }, Verdict::Holds) => "removing the rule changes no decision",
        (Check::Shadowed { .. }, Verdict::Fails) => {
            "removing the rule changes the decision of an input"
        }
        (Check::AlwaysDenies { .. }, Verdict::Holds) => "the target allows no input",
        (Check::AlwaysDenies { .. }, Verdict::Fails) => "the target allows an input",
        (_, Verdict::Unknown) => "not proved, not refuted",
    }
}

fn human(check: &Check, report: &Report) -> String {
    let mut out = String::new();
    for result in &report.results {
        let subject = match &result.rule {
            Some(rule) => format!("{rule} (on {})", result.target),
            None => result.target.clone(),
        };
        out.push_str(&format!(
            "{} {subject}: {}: {}\n",
            report.check,
            result.verdict.as_str(),
            meaning(check, result.verdict)
        ));
        let particular: Vec<String> = report
            .list_bounds
            .iter()
            .map(|(path, n)| format!("{path} at most {n}"))
            .collect();
        out.push_str(&format!(
            "  bound: every input whose lists hold at most {} elements{}\n",
            report.max_items,
            if particular.is_empty() {
                String::new()
            } else {
                format!(" ({})", particular.join(", "))
            }
        ));
        if let Some(reason) = &result.reason {
            out.push_str(&format!("  why: {reason}\n"));
        }
        if let Some(note) = &result.note {
            out.push_str(&format!("  note: {note}\n"));
        }
        for (label, decision) in [("base", &result.base), ("policy", &result.policy)] {
            if let Some(d) = decision {
                let findings = if d.findings.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", d.findings.join(", "))
                };
                let warnings = if d.warnings.is_empty() {
                    String::new()
                } else {
                    format!("; warnings: {}", d.warnings.join(", "))
                };
                out.push_str(&format!("  {label}: {}{findings}{warnings}\n", d.decision));
            }
        }
        if let Some(test) = &result.from_test {
            out.push_str(&format!(
                "  found in the input of test {test} (decided here at --now, with the data given)\n"
            ));
        }
        if let Some(input) = &result.counterexample {
            let label = if result.verdict == Verdict::Fails {
                "counterexample"
            } else {
                "the solver's candidate"
            };
            out.push_str(&format!("  {label}:\n"));
            let text = serde_json::to_string_pretty(input).unwrap_or_default();
            for line in text.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
        if !result.abstracted.is_empty() {
            out.push_str(&format!(
                "  abstracted ({}; a proof holds whatever they do, a counterexample is confirmed by the evaluator):\n",
                result.abstracted.len()
            ));
            for a in result.abstracted.iter().take(20) {
                out.push_str(&format!("    {} at {}: {}\n", a.rule, a.location, a.why));
            }
            if result.abstracted.len() > 20 {
                out.push_str(&format!(
                    "    … and {} more\n",
                    result.abstracted.len() - 20
                ));
            }
        }
    }
    out
}
