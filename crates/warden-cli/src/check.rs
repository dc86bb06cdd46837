//! `warden check`: every manifest below the given paths, decided against the
//! `manifest` target in parallel, each finding placed on its manifest line.

use crate::Failure;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};
use warden::{Code, DecideOptions, Decision, Document, Engine, InputLimits};

/// The target `warden check` decides.
pub const TARGET: &str = "manifest";

/// The result for one manifest file.
pub struct FileResult {
    /// The path as the user wrote it (folders joined with `/`).
    pub file: String,
    /// The file's text, for snippets; absent when it could not be read.
    pub text: Option<String>,
    pub outcome: Result<Decision, FileError>,
}

/// Why a manifest could not be decided (exit code 2).
pub struct FileError {
    pub code: Code,
    pub message: String,
    /// For an input that does not match its type (E0401): every bad path,
    /// placed on its manifest line as findings are.
    pub errors: Vec<PlacedPathError>,
}

/// An input that does not match its target's type (E0401), each bad path
/// placed on its line as `FILE:LINE:COLUMN`, the way compilers (and
/// editors' problem matchers) place errors: the message, and the paths.
pub fn placed_mismatch(
    document: &Document,
    target: &str,
    errors: Vec<warden::PathError>,
) -> (String, Vec<PlacedPathError>) {
    let placed: Vec<PlacedPathError> = errors
        .into_iter()
        .map(|e| {
            let (line, column) = document.positions.locate(&e.path).unwrap_or((1, 1));
            PlacedPathError {
                path: e.path,
                expected: e.expected,
                found: e.found,
                line,
                column,
            }
        })
        .collect();
    let mut message = format!("the input does not match the type of target `{target}`:");
    for e in &placed {
        message.push_str(&format!(
            "\n  {}:{}:{}: {e}",
            document.name, e.line, e.column
        ));
    }
    (message, placed)
}

impl std::fmt::Display for PlacedPathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.path, self.expected, self.found
        )
    }
}

/// A path where the manifest does not match the schema, and where it stands
/// (a missing field: where its parent does).
#[derive(serde::Serialize)]
pub struct PlacedPathError {
    pub path: String,
    pub expected: String,
    pub found: String,
    pub line: u32,
    pub column: u32,
}

impl FileResult {
    pub fn passed(&self) -> bool {
        matches!(&self.outcome, Ok(d) if d.is_allowed())
    }
}

/// Every manifest file the arguments name: files as given, folders searched
/// recursively for `*.yaml`, `*.yml` and `*.json`, in a stable order; and
/// the files those searches left out (special files, links out of the folder).
pub fn collect(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<warden::Skipped>), Failure> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| Failure(format!("cannot read `{}`: {e}", path.display())))?;
        if meta.is_dir() {
            let found = warden::files_below(path, &|name| {
                [".yaml", ".yml", ".json"]
                    .iter()
                    .any(|ext| name.ends_with(ext))
            })?;
            if found.files.is_empty() {
                return Err(Failure(format!(
                    "no manifests (`*.yaml`, `*.yml`, `*.json`) in `{}`",
                    path.display()
                )));
            }
            out.extend(found.files);
            skipped.extend(found.skipped);
        } else {
            out.push(path.clone());
        }
    }
    Ok((out, skipped))
}

/// When the progress bar shows.
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub enum Progress {
    /// On a terminal, once the run has taken half a second.
    #[default]
    Auto,
    /// On a terminal, from the start.
    Always,
    Never,
}

/// Trace steps one `warden check --explain` run keeps, over all its files.
pub const TRACE_STEPS_PER_RUN: usize = 16_384;

/// Decides every file, using every core; results come back in file order.
pub fn run(
    engine: &Engine,
    files: &[PathBuf],
    now: SystemTime,
    options: &DecideOptions,
    limits: &InputLimits,
    progress: Progress,
) -> Vec<FileResult> {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(files.len() as u64),
        indicatif::ProgressDrawTarget::hidden(),
    )
    .with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} checking {pos}/{len} manifests [{bar:30}] {elapsed}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let shown = AtomicBool::new(false);
    let show = || {
        if !shown.swap(true, Ordering::Relaxed) {
            // Draws only when standard error is a terminal.
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    };
    if matches!(progress, Progress::Always) {
        show();
    }
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    // Explained decisions are kept until the report is written: past this
    // many trace steps in the run, files are decided without a trace (a
    // folder of thousands of manifests would otherwise hold gigabytes).
    let traces_left = AtomicUsize::new(TRACE_STEPS_PER_RUN);
    let plain = DecideOptions {
        explain: false,
        ..options.clone()
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len())
        .max(1);
    let mut results: Vec<(usize, FileResult)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(i) else {
                            break;
                        };
                        let options = if options.explain && traces_left.load(Ordering::Relaxed) > 0
                        {
                            options
                        } else {
                            &plain
                        };
                        let result = check_file(engine, path, now, options, limits);
                        if let Ok(decision) = &result.outcome {
                            let steps = decision
                                .findings
                                .iter()
                                .chain(&decision.warnings)
                                .chain(&decision.waived)
                                .map(|f| f.trace.len())
                                .sum::<usize>();
                            let _ = traces_left.fetch_update(
                                Ordering::Relaxed,
                                Ordering::Relaxed,
                                |left| Some(left.saturating_sub(steps)),
                            );
                        }
                        done.push((i, result));
                        bar.inc(1);
                        if matches!(progress, Progress::Auto)
                            && started.elapsed() > Duration::from_millis(500)
                        {
                            show();
                        }
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    bar.finish_and_clear();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn display(path: &Path) -> String {
    path.display().to_string().replace('\\', "/")
}

/// Reads, parses and decides one manifest. Never panics: every failure is a [`FileError`].
/// Only a regular file within the size limit is read: a FIFO or a device
/// named like a manifest is refused, not waited on or read for ever.
fn check_file(
    engine: &Engine,
    path: &Path,
    now: SystemTime,
    options: &DecideOptions,
    limits: &InputLimits,
) -> FileResult {
    let file = display(path);
    let text = match warden::read_file_bounded(path, limits.max_bytes) {
        Ok(text) => text,
        Err(e) => {
            let message = match &e {
                warden::EngineError::Io { source, .. }
                    if source.kind() == std::io::ErrorKind::InvalidData =>
                {
                    "the file is not UTF-8 text".to_string()
                }
                warden::EngineError::Io { source, .. } => format!("cannot read the file: {source}"),
                other => other.to_string(),
            };
            return FileResult {
                file,
                text: None,
                outcome: Err(FileError {
                    code: e.code().unwrap_or(Code::E0403),
                    message,
                    errors: Vec::new(),
                }),
            };
        }
    };
    let outcome = decide(engine, &file, &text, now, options, limits);
    FileResult {
        file,
        text: Some(text),
        outcome,
    }
}

fn decide(
    engine: &Engine,
    file: &str,
    text: &str,
    now: SystemTime,
    options: &DecideOptions,
    limits: &InputLimits,
) -> Result<Decision, FileError> {
    let document = Document::parse_with(file, text, limits).map_err(|e| FileError {
        code: e.code().unwrap_or(Code::E0403),
        message: e.to_string(),
        errors: Vec::new(),
    })?;
    let mut decision = engine
        .decide_with(TARGET, &document.value, now, options)
        .map_err(|e| match e {
            warden::DecideError::InputMismatch { target, errors } => {
                let (message, errors) = placed_mismatch(&document, &target, errors);
                FileError {
                    code: Code::E0401,
                    message,
                    errors,
                }
            }
            other => FileError {
                code: other.code(),
                message: other.to_string(),
                errors: Vec::new(),
            },
        })?;
    decision.locate_input(&document);
    Ok(decision)
}
