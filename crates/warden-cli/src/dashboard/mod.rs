//! `warden report`: the governance dashboard. The catalog, the manifests
//! (decided now), `warden check --format json` results kept from earlier
//! runs and the gateway's decision logs (their hash chains verified while
//! read) become one set of figures ([`Figures`]), printed as JSON or drawn
//! as one self-contained HTML page ([`html`]).

mod chart;
mod figures;
mod html;

use crate::{Failure, LimitArgs, PolicyArgs, check};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use warden::Code;
use warden_server::decision_log;

/// How `warden report` prints.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// One self-contained HTML page: no request leaves it.
    Html,
    /// The same figures, for other dashboards.
    Json,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The app catalog (JSON or YAML): `{"apps": {...}}`, as `data.catalog`
    /// holds it; it is also the `catalog` data the manifests are decided with.
    #[arg(long, value_name = "FILE")]
    catalog: PathBuf,
    /// Manifests (files, or folders searched for `*.yaml`, `*.yml`,
    /// `*.json`) decided now against the `manifest` target (repeatable).
    #[arg(long = "manifests", value_name = "PATH")]
    manifests: Vec<PathBuf>,
    /// A decision log of `warden serve` (repeatable): its hash chain is
    /// verified while read, and a break is shown on the page.
    #[arg(long = "decision-log", value_name = "FILE")]
    decision_logs: Vec<PathBuf>,
    /// The output of an earlier `warden check --format json` run, kept for
    /// the compliance trend (repeatable).
    #[arg(long = "check-run", value_name = "FILE")]
    check_runs: Vec<PathBuf>,
    #[command(flatten)]
    policy: PolicyArgs,
    /// More data for deciding the manifests, as `warden check` takes it
    /// (`--data waivers.json`, `--data NAME=FILE`); its waivers are listed too.
    #[arg(long = "data", value_name = "[NAME=]FILE")]
    data: Vec<String>,
    /// The report's time, RFC 3339 (default: now): expiry and waivers are
    /// judged at it, and the period ends at it.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// How many days before `--now` the period covers (1 to 3660).
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    days: u32,
    /// `html` (default) or `json`.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    format: ReportFormat,
    /// Write the report here instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The most `--check-run` files and decision logs one report reads.
const MOST_FILES: usize = 1000;

/// A request `warden report` cannot take (E0801).
fn bad(message: String) -> Failure {
    Failure {
        code: Some(Code::E0801),
        message,
    }
}

pub fn report(args: ReportArgs) -> Result<ExitCode, Failure> {
    let now = crate::parse_now(args.now.as_deref())?;
    if !(1..=3660).contains(&args.days) {
        return Err(bad(format!(
            "--days {}: the period is 1 to 3660 days",
            args.days
        )));
    }
    if args.check_runs.len() > MOST_FILES || args.decision_logs.len() > MOST_FILES {
        return Err(bad(format!(
            "at most {MOST_FILES} check runs and {MOST_FILES} decision logs"
        )));
    }
    let data_limits = args.limits.data();
    refuse_output_over_input(&args)?;
    let (catalog, catalog_sha, wrapped) = read_catalog(&args.catalog, &data_limits)?;
    let (mut engine, _) = crate::engine_with_data(&args.policy, &args.data, &data_limits)?;
    // The catalog is the manifests' `data.catalog` too, unless given apart.
    let names_catalog = args
        .data
        .iter()
        .any(|d| warden::split_data_arg(d, |p| Path::new(p).exists()).0 == Some("catalog"));
    if engine.declares_data("catalog") && !names_catalog {
        // A file that holds `{"catalog": ...}` is merged as it is.
        let arg = if wrapped {
            args.catalog.display().to_string()
        } else {
            format!("catalog={}", args.catalog.display())
        };
        engine = engine
            .with_data_arg(&arg, &data_limits)
            .map_err(|e| Failure {
                code: e.code(),
                message: format!("--catalog {}: {e}", args.catalog.display()),
            })?;
    }

    let mut inputs = figures::Inputs::new(
        &engine,
        now,
        args.days,
        &args.catalog,
        (catalog, catalog_sha),
    );
    if !args.manifests.is_empty() {
        if !engine.has_target(check::TARGET) {
            return Err(Failure {
                code: Some(Code::E0404),
                message: format!(
                    "the policy set declares no `{}` target to decide the manifests with",
                    check::TARGET
                ),
            });
        }
        let (files, skipped) = check::collect(&args.manifests)?;
        crate::warn_skipped(&skipped);
        // A manifest under two of the paths given (or linked twice) is decided once.
        let mut seen = std::collections::HashSet::new();
        let files: Vec<PathBuf> = files
            .into_iter()
            .filter(|f| file_id(f).is_none_or(|id| seen.insert(id)))
            .collect();
        let results = check::run(
            &engine,
            &files,
            now,
            &args.limits.decide(false),
            &args.limits.input(),
            check::Progress::Never,
        );
        inputs.add_manifests(&args.manifests, &results);
    }
    let mut runs_read = std::collections::HashSet::new();
    for file in &args.check_runs {
        if file_id(file).is_some_and(|id| !runs_read.insert(id)) {
            inputs.skip(format!("{}: given twice: read once", file.display()));
            continue;
        }
        let run = read_json(file, &data_limits)?;
        inputs
            .add_check_run(file, &run)
            .map_err(|why| bad(format!("{}: {why}", file.display())))?;
    }
    let mut logs_read = std::collections::HashSet::new();
    for file in &args.decision_logs {
        if file_id(file).is_some_and(|id| !logs_read.insert(id)) {
            inputs.skip(format!("{}: given twice: read once", file.display()));
            continue;
        }
        inputs.add_decision_log(file).map_err(|e| match e {
            decision_log::VerifyError::NotAFile { .. } => Failure {
                code: Some(Code::E0409),
                message: e.to_string(),
            },
            e => Failure(format!("{}: {e}", file.display())),
        })?;
    }
    let figures = inputs.finish();
    let text = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&figures)?,
        ReportFormat::Html => html::page(&figures),
    };
    match &args.output {
        // Written beside and renamed over: a reader never sees half a
        // page, and a link at the path is replaced, never written through.
        Some(path) => {
            warden::replace_file(path, |file| {
                use std::io::Write as _;
                file.write_all(text.as_bytes())
            })
            .map_err(|e| Failure(format!("cannot write `{}`: {e}", path.display())))?;
        }
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", text.trim_end())
                .and_then(|()| out.flush())
                .map_err(|e| Failure(format!("cannot write the report: {e}")))?;
        }
    }
    for warning in &figures.warnings {
        crate::print_err(&format!("warning: {}\n", printable(warning)));
    }
    for log in &figures.sources.decision_logs {
        if log.chain != figures::Chain::Intact {
            crate::print_err(&format!(
                "warning: {}: the hash chain is {}: the report shows where\n",
                printable(&log.file),
                log.chain.as_str()
            ));
        }
    }
    let broken = figures
        .sources
        .decision_logs
        .iter()
        .any(|l| l.chain != figures::Chain::Intact);
    Ok(if broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The catalog document: `{"apps": {...}}`, or a data file that holds it
/// as `{"catalog": {"apps": {...}}}` (then `true`); and the file's SHA-256.
type Catalog = (serde_json::Map<String, serde_json::Value>, String, bool);

fn read_catalog(path: &Path, limits: &warden::InputLimits) -> Result<Catalog, Failure> {
    let (mut document, sha) = read_json_hashed(path, limits)?;
    let mut wrapped = false;
    if document.get("apps").is_none()
        && let Some(inner) = document.get_mut("catalog")
    {
        document = inner.take();
        wrapped = true;
    }
    match document {
        serde_json::Value::Object(map) if map.get("apps").is_some_and(|a| a.is_object()) => {
            Ok((map, sha, wrapped))
        }
        _ => Err(bad(format!(
            "{}: not a catalog: expected an object with `apps`, an object of apps by id",
            path.display()
        ))),
    }
}

/// Writing the report over one of its inputs would destroy it: the output
/// may not be an input file (by device and inode, whatever the path or
/// link), nor lie in a policy or manifests folder.
fn refuse_output_over_input(args: &ReportArgs) -> Result<(), Failure> {
    let Some(output) = &args.output else {
        return Ok(());
    };
    // A FIFO, a device or a folder is no file to write a report to.
    if let Ok(meta) = std::fs::metadata(output)
        && !meta.is_file()
    {
        return Err(Failure {
            code: Some(Code::E0409),
            message: format!(
                "-o {}: not a regular file; give a file's path, or leave -o out to print the report",
                output.display()
            ),
        });
    }
    let refuse = |what: String| {
        Err(bad(format!(
            "-o {}: {what}; write the report elsewhere",
            output.display()
        )))
    };
    let data = args
        .data
        .iter()
        .map(|d| PathBuf::from(warden::split_data_arg(d, |p| Path::new(p).exists()).1));
    let inputs: Vec<PathBuf> = [args.catalog.clone()]
        .into_iter()
        .chain(args.decision_logs.iter().cloned())
        .chain(args.check_runs.iter().cloned())
        .chain(data)
        .collect();
    if let Some(id) = file_id(output)
        && let Some(input) = inputs.iter().find(|i| file_id(i) == Some(id))
    {
        return refuse(format!(
            "that is {}, an input of the report",
            input.display()
        ));
    }
    // Where the file is (or would be): its folder, links resolved.
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(folder) = parent.canonicalize() else {
        return Ok(()); // no such folder: writing fails on its own
    };
    let policy = args.policy.paths().unwrap_or_default();
    for given in policy.iter().chain(args.manifests.iter()) {
        let Ok(input) = given.canonicalize() else {
            continue;
        };
        let inside = if input.is_dir() {
            folder.starts_with(&input)
        } else {
            file_id(&input).is_some_and(|id| file_id(output) == Some(id))
        };
        if inside {
            return refuse(format!(
                "inside {}, whose files the report reads",
                given.display()
            ));
        }
    }
    Ok(())
}

/// A JSON or YAML file, within the data limits.
fn read_json(path: &Path, limits: &warden::InputLimits) -> Result<serde_json::Value, Failure> {
    read_json_hashed(path, limits).map(|(document, _)| document)
}

/// [`read_json`], and the SHA-256 of the file as read.
fn read_json_hashed(
    path: &Path,
    limits: &warden::InputLimits,
) -> Result<(serde_json::Value, String), Failure> {
    let coded = |e: warden::EngineError| Failure {
        code: e.code(),
        message: e.to_string(),
    };
    let name = path.display().to_string();
    let text = warden::read_file_bounded(path, limits.max_bytes).map_err(coded)?;
    let document = warden::parse_document_with(&name, &text, limits).map_err(coded)?;
    Ok((document, warden::sha256_text(text.as_bytes())))
}

/// What names a file whatever the path: its device and inode.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Text from an input, safe to print on a terminal: control characters
/// (escape sequences) are shown escaped.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
