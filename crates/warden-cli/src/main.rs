//! `warden`: the command-line entry point. A thin shell over the library:
//! parse arguments, read files, call the engine, render, choose the exit code.
//!
//! Exit codes: 0 allowed / clean; 1 denied; 2 the command could not do its job.

mod bundle;
mod bundled;
mod check;
mod dashboard;
mod diff;
mod explain;
mod fleet;
mod junit;
mod render;
mod report;
mod test_report;
mod verify;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;
use warden::{DecideOptions, Engine, PolicySources, Workspace};

#[derive(Parser)]
#[command(
    name = "warden",
    version,
    about = "A typed policy engine: write policies, check manifests, decide requests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check manifests (YAML or JSON files, or folders of them) against the `manifest` target.
    Check(CheckArgs),
    /// Parse and type-check policies; report diagnostics without evaluating.
    Compile(CompileArgs),
    /// `compile` plus policy-hygiene lints: rules without `@control`, rules no test names.
    Lint(CompileArgs),
    /// Explain a rule (description, controls, severity, source) or a diagnostic code such as E0204.
    Explain(ExplainArgs),
    /// Format policy files in the one canonical layout (comments kept), or check that they are.
    Fmt(FmtArgs),
    /// Run the policy set's `test` blocks.
    Test(TestArgs),
    /// Decide one input against a target and print the decision JSON.
    Decide(DecideArgs),
    /// Serve decisions over HTTP: JSON API, AuthZEN, nginx `auth_request`, Envoy `ext_authz`.
    Serve(Box<ServeArgs>),
    /// Work with decision logs.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The language server, on standard input and output (editors start it).
    Lsp,
    /// Build a bundle of a policy set and its data (tar.gz with a manifest of
    /// digests), signed with an Ed25519 key, for `warden serve --bundle`.
    Build(bundle::BuildArgs),
    /// Work with bundles.
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    /// Make an Ed25519 key pair to sign bundles with.
    Keygen(bundle::KeygenArgs),
    /// What a policy change does to decisions: both sets (the change, and a
    /// base folder or git revision) decide the same manifests; every decision
    /// that changed, grouped by rule.
    Diff(diff::DiffArgs),
    /// Prove or refute with an SMT solver, over every input within a bound:
    /// a change is a safe tightening, two sets are equivalent, a rule never
    /// fires, a target always denies, removing a rule changes nothing
    /// (needs the `verify` feature).
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
    /// The governance dashboard: KPIs, charts and sortable tables from the
    /// catalog, the manifests, kept check runs and decision logs, as one
    /// self-contained HTML page or as JSON.
    Report(Box<dashboard::ReportArgs>),
    /// Look at a fleet of `warden serve` replicas.
    #[command(subcommand)]
    Fleet(fleet::FleetCommand),
    /// Start a policy repository: the checklist in `policies/`, an example
    /// manifest in `apps/`, and a GitHub Actions workflow that checks them.
    Init(InitArgs),
}

#[derive(clap::Args)]
struct InitArgs {
    /// The folder to start it in (default: the current one).
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// A `warden.toml`; flags and environment variables override what it says.
    #[arg(long, env = "WARDEN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// A policy folder or file (repeatable; `WARDEN_POLICY`, comma-separated).
    #[arg(
        long = "policy",
        value_name = "PATH",
        env = "WARDEN_POLICY",
        value_delimiter = ','
    )]
    policy: Vec<PathBuf>,
    /// A data file merged into `data`, or `NAME=FILE` for one document
    /// (repeatable; `WARDEN_DATA`, comma-separated); replaces the config file's list.
    #[arg(
        long = "data",
        value_name = "[NAME=]FILE",
        env = "WARDEN_DATA",
        value_delimiter = ','
    )]
    data: Vec<String>,
    /// Where to listen (default 127.0.0.1:8181; port 0 picks a free one).
    #[arg(long, env = "WARDEN_ADDR", value_name = "HOST:PORT")]
    addr: Option<std::net::SocketAddr>,
    /// Also serve Envoy `ext_authz` over gRPC here.
    #[arg(long, env = "WARDEN_GRPC_ADDR", value_name = "HOST:PORT")]
    grpc_addr: Option<std::net::SocketAddr>,
    /// Append every decision to this hash-chained log (`warden audit verify` checks it).
    #[arg(long, env = "WARDEN_DECISION_LOG", value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Bearer token that `POST /v1/reload` requires.
    #[arg(
        long,
        env = "WARDEN_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
    /// The target AuthZEN evaluations decide (`[authzen] target`); without
    /// one the AuthZEN endpoints are off.
    #[arg(long, env = "WARDEN_AUTHZEN_TARGET", value_name = "TARGET")]
    authzen_target: Option<String>,
    /// A file of caller tokens, one per line (`[auth] tokens_file`): the
    /// decision endpoints then answer 401 to a caller without one.
    #[arg(long, env = "WARDEN_CALLER_TOKENS_FILE", value_name = "FILE")]
    caller_tokens_file: Option<PathBuf>,
    /// How to write the server's own logs on standard error.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "WARDEN_LOG_FORMAT")]
    log_format: LogFormat,
    /// Do not reload when the policy or data files change (SIGHUP and `POST /v1/reload` still do).
    #[arg(long, env = "WARDEN_NO_WATCH")]
    no_watch: bool,
    /// Serve the signed bundle at this URL (`warden build`), polled for new
    /// revisions, instead of `--policy` and `--data`.
    #[arg(long, env = "WARDEN_BUNDLE", value_name = "URL")]
    bundle: Option<String>,
    /// The Ed25519 public key (PEM) bundles must be signed with.
    #[arg(long, env = "WARDEN_VERIFY_KEY", value_name = "FILE")]
    verify_key: Option<PathBuf>,
    /// How often to poll the bundle URL (default 10s).
    #[arg(long, env = "WARDEN_POLL", value_name = "DURATION")]
    poll: Option<String>,
    /// Keep the last bundle served here, to serve it after a restart while
    /// the bundle URL cannot be reached.
    #[arg(long, env = "WARDEN_BUNDLE_CACHE", value_name = "DIR")]
    bundle_cache: Option<PathBuf>,
    /// Ship the decision log to this HTTP endpoint: batches of gzip JSON
    /// lines, retried with backoff; the log is the queue (`[ship.http]`).
    #[arg(long, env = "WARDEN_SHIP_HTTP", value_name = "URL")]
    ship_http: Option<String>,
    /// Ship the decision log to this syslog server: RFC 5424 over TCP
    /// (`HOST:PORT`), or over RELP, which acknowledges each line
    /// (`relp://HOST:PORT`) (`[ship.syslog]`).
    #[arg(long, env = "WARDEN_SHIP_SYSLOG", value_name = "HOST:PORT")]
    ship_syslog: Option<String>,
    /// Talk plain HTTP to the OCI registry of an `oci://` bundle.
    #[arg(long, env = "WARDEN_REGISTRY_PLAIN_HTTP")]
    registry_plain_http: bool,
    /// Serve bundles nobody signed (digests are still checked).
    #[arg(long, env = "WARDEN_ALLOW_UNSIGNED_BUNDLES")]
    allow_unsigned_bundles: bool,
    /// Serve HTTPS, TLS 1.3 only, with this certificate chain (PEM).
    #[arg(
        long,
        env = "WARDEN_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(
        long,
        env = "WARDEN_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM).
    #[arg(
        long,
        env = "WARDEN_TLS_CLIENT_CA",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_client_ca: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check a decision log's hash chain; name the first line that was changed, removed or reordered.
    Verify {
        /// The decision log.
        file: PathBuf,
        /// The head recorded elsewhere (the server logs it on shutdown; ship
        /// it to your SIEM): a changed or cut tail is then detected too.
        #[arg(long, value_name = "sha256:…")]
        head: Option<String>,
    },
}

/// The policy set a command works on.
#[derive(clap::Args)]
struct PolicyArgs {
    /// A policy folder or file; repeat it to compose a set, e.g. the checklist
    /// and a team's own rules (default: ./policies, else the bundled stdlib-policies).
    #[arg(long = "policy", value_name = "PATH")]
    paths: Vec<PathBuf>,
}

impl PolicyArgs {
    /// The paths given, or the default policy folder.
    fn paths(&self) -> Result<Vec<PathBuf>, Failure> {
        if self.paths.is_empty() {
            Ok(vec![default_policy()?])
        } else {
            Ok(self.paths.clone())
        }
    }
}

/// Bounds on what one run may read and one decision may cost.
#[derive(clap::Args, Clone)]
struct LimitArgs {
    /// Largest input document (manifest, request, fixture), in bytes (E0407 beyond).
    #[arg(long, value_name = "BYTES", default_value_t = warden::InputLimits::INPUT.max_bytes)]
    max_input_bytes: usize,
    /// Deepest nesting of lists and objects in an input or data document (E0408 beyond; at most 128).
    #[arg(long, value_name = "LEVELS", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=128))]
    max_input_depth: u16,
    /// Largest data file, in bytes (E0407 beyond).
    #[arg(long, value_name = "BYTES", default_value_t = warden::InputLimits::DATA.max_bytes)]
    max_data_bytes: usize,
    /// Expression steps one decision may take before it fails closed (E0501).
    #[arg(long, value_name = "STEPS", default_value_t = warden::DecideOptions::default().budget)]
    budget: u64,
    /// Wall-clock time one decision may take, in milliseconds, before it fails closed (E0505).
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    timeout_ms: u64,
}

impl LimitArgs {
    fn input(&self) -> warden::InputLimits {
        warden::InputLimits {
            max_bytes: self.max_input_bytes,
            max_depth: usize::from(self.max_input_depth),
        }
    }

    fn data(&self) -> warden::InputLimits {
        warden::InputLimits {
            max_bytes: self.max_data_bytes,
            max_depth: usize::from(self.max_input_depth),
        }
    }

    fn decide(&self, explain: bool) -> DecideOptions {
        DecideOptions {
            explain,
            budget: self.budget,
            timeout: Some(std::time::Duration::from_millis(self.timeout_ms)),
            ..DecideOptions::default()
        }
    }
}

#[derive(clap::Args)]
struct CompileArgs {
    /// Policy folders or files (default: ./policies, else the bundled stdlib-policies).
    paths: Vec<PathBuf>,
    /// A policy folder or file, as `check`, `decide`, `test` and `serve`
    /// take it (repeatable; adds to the paths given without it).
    #[arg(long = "policy", value_name = "PATH")]
    policy: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    format: DiagnosticFormat,
    /// The time `lint` judges waivers' `until` dates by, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// `lint`: print each rule's cost bound, in the sizes of the collections
    /// it walks (`O(|manifest.spec.endpoints| × |data.egress|)`).
    #[arg(long)]
    cost: bool,
    /// `lint`: refuse (exit 2) a rule whose cost bound, with every
    /// collection of `--size-cap` elements, exceeds this.
    #[arg(long, value_name = "N")]
    max_cost: Option<u128>,
    /// The size each collection is taken to have for `--max-cost`.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    size_cap: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiagnosticFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Manifest files, or folders searched recursively for `*.yaml`, `*.yml`, `*.json`.
    #[arg(required = true, value_name = "MANIFEST")]
    manifests: Vec<PathBuf>,
    #[command(flatten)]
    policy: PolicyArgs,
    /// A data file whose top-level object is merged into `data`, or
    /// `NAME=FILE` for a file holding the one document `data.NAME` (repeatable).
    #[arg(long = "data", value_name = "[NAME=]FILE")]
    data: Vec<String>,
    /// The evaluation time, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// How to report: for people, or for CI systems.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Record the sub-expressions that decided each finding (in `json` output).
    #[arg(long)]
    explain: bool,
    /// When to show a progress bar on standard error.
    #[arg(long, value_enum, default_value_t = check::Progress::Auto)]
    progress: check::Progress,
    /// A manifest field the schema does not declare is an error (a deny
    /// finding), not a warning, whatever the target's `@undeclared_fields`.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(clap::Args)]
struct FmtArgs {
    /// Policy files or folders (searched recursively for `*.warden`; default: ./policies).
    paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    check: bool,
}

#[derive(clap::Args)]
struct ExplainArgs {
    /// A rule (`microapps.identity.sso_required`, or a unique suffix such as `sso_required`) or a code (`E0204`).
    #[arg(value_name = "RULE|CODE")]
    what: String,
    #[command(flatten)]
    policy: PolicyArgs,
}

#[derive(clap::Args)]
struct TestArgs {
    /// Run only the tests whose full name contains this, e.g. `acme.` for a
    /// team's own tests in a set composed with the checklist.
    filter: Option<String>,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Report which rules and clauses no test reached.
    #[arg(long)]
    coverage: bool,
    /// How to report.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum TestFormat {
    Human,
    Json,
    Junit,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    /// Findings with the manifest line underlined; colour on a terminal unless NO_COLOR is set.
    Human,
    /// `{"summary": …, "results": [{"file", "decision"}]}`.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML: a test case per manifest × rule.
    Junit,
    /// GitHub Actions workflow commands (annotations on the manifest lines).
    Github,
}

#[derive(clap::Args)]
struct DecideArgs {
    /// The input document (JSON or YAML); `-` reads standard input.
    input: PathBuf,
    #[command(flatten)]
    policy: PolicyArgs,
    /// A data file whose top-level object is merged into `data`, or
    /// `NAME=FILE` for a file holding the one document `data.NAME` (repeatable).
    #[arg(long = "data", value_name = "[NAME=]FILE")]
    data: Vec<String>,
    /// The target to decide (default: request).
    #[arg(long)]
    target: Option<String>,
    /// Record the sub-expressions that decided each finding.
    #[arg(long)]
    explain: bool,
    /// The evaluation time, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// An error that ends the command with exit code 2, with its permanent code when it has one.
struct Failure {
    code: Option<warden::Code>,
    message: String,
}

#[allow(
    non_snake_case,
    reason = "reads like the tuple constructor it replaced"
)]
fn Failure(message: String) -> Failure {
    Failure {
        code: None,
        message,
    }
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile(args) => compile(args, false),
        Command::Lint(args) => compile(args, true),
        Command::Decide(args) => decide(args),
        Command::Check(args) => check(args),
        Command::Test(args) => test(args),
        Command::Explain(args) => explain_command(args),
        Command::Init(args) => init(args),
        Command::Fmt(args) => fmt(args),
        Command::Serve(args) => serve(*args),
        Command::Audit(AuditCommand::Verify { file, head }) => audit_verify(&file, head.as_deref()),
        Command::Lsp => lsp(),
        Command::Build(args) => bundle::build(args),
        Command::Bundle(bundle::BundleCommand::Verify {
            file,
            verify_key,
            format,
        }) => bundle::verify(&file, verify_key.as_deref(), format),
        Command::Bundle(bundle::BundleCommand::Push(args)) => bundle::push(args),
        Command::Keygen(args) => bundle::keygen(args),
        Command::Diff(args) => diff::diff(args),
        Command::Verify(command) => verify::verify(command),
        Command::Report(args) => dashboard::report(*args),
        Command::Fleet(fleet::FleetCommand::Status {
            urls,
            format,
            timeout_ms,
        }) => fleet::status(&urls, format, timeout_ms),
    };
    match result {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            match code {
                Some(code) => print_err(&format!("error[{code}]: {message}\n")),
                None => print_err(&format!("error: {message}\n")),
            }
            ExitCode::from(2)
        }
    }
}

/// `warden init`: what [`bundled::init`] wrote, and what to run next.
fn init(args: InitArgs) -> Result<ExitCode, Failure> {
    let written = bundled::init(&args.dir).map_err(Failure)?;
    let shown = args.dir.display();
    let cd = if args.dir == Path::new(".") {
        String::new()
    } else {
        format!("  cd {shown}\n")
    };
    print_out(&format!(
        "wrote {written} files in `{shown}`: the checklist in policies/ (with its tests), \
         an example manifest in apps/, and .github/workflows/warden.yml\n\n\
         next:\n{cd}  warden test --policy policies\n  warden check --policy policies apps/\n\n\
         before the first CI run: set the GitHub variable WARDEN_REPOSITORY to the git \
         repository the workflow installs warden from"
    ));
    Ok(ExitCode::SUCCESS)
}

/// `--policy` default: `./policies` if present, else the checklist built
/// into the binary ([`bundled`]), written out once however often a command
/// asks.
fn default_policy() -> Result<PathBuf, Failure> {
    let local = PathBuf::from("policies");
    if local.is_dir() {
        return Ok(local);
    }
    BUILT_IN
        .get_or_init(bundled::folder)
        .clone()
        .map_err(Failure)
}

/// The built-in checklist's folder, once [`default_policy`] chose it.
static BUILT_IN: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();

/// Whether `paths` is the built-in checklist alone.
fn is_built_in(paths: &[PathBuf]) -> bool {
    matches!((BUILT_IN.get(), paths), (Some(Ok(folder)), [only]) if only == folder)
}

/// Says the built-in checklist decides, so nobody mistakes it for a policy
/// folder of their own; `revision` is the one its decisions carry.
fn note_built_in(revision: &str) {
    print_err(&format!(
        "note: no --policy and no ./policies: the checklist built into warden {} (revision {revision})\n",
        env!("CARGO_PKG_VERSION")
    ));
}

/// Colour for standard error: a terminal, and `NO_COLOR` unset or empty.
fn color() -> bool {
    std::io::stderr().is_terminal() && no_color_unset()
}

/// Colour for standard output.
fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && no_color_unset()
}

fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The policy files at `paths`, as one set; a path without any is an error,
/// not an empty set (a mistyped folder must not pass unnoticed beside a good one).
fn read_policies(paths: &[PathBuf]) -> Result<PolicySources, Failure> {
    let sources = PolicySources::from_paths(paths).map_err(coded)?;
    warn_skipped(&sources.skipped);
    Ok(sources)
}

/// The policy set at `paths`, loaded into the compiler's workspace.
fn read_workspace(paths: &[PathBuf]) -> Result<Workspace, Failure> {
    let workspace = Workspace::from_sources(read_policies(paths)?);
    if is_built_in(paths) {
        note_built_in(&workspace.revision());
    }
    Ok(workspace)
}

/// A library error, with its permanent code when it has one.
fn coded(e: warden::EngineError) -> Failure {
    Failure {
        code: e.code(),
        message: e.to_string(),
    }
}

/// Files a folder walk left out: said once each, on standard error.
fn warn_skipped(skipped: &[warden::Skipped]) {
    for s in skipped {
        print_err(&format!("warning[{}]: {s}\n", warden::Code::W0006));
    }
}

/// The paths of a policy set, for messages: `a`, or `a + b`.
fn describe(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(" + ")
}

/// Compiles a policy set, printing its diagnostics; `None` when it has errors.
fn load_engine(workspace: &Workspace) -> Option<Engine> {
    let diagnostics = workspace.diagnostics();
    if !diagnostics.is_empty() {
        print_err(&render::human(diagnostics, &workspace.sources(), color()));
    }
    workspace.engine().ok()
}

fn compile(args: CompileArgs, lint: bool) -> Result<ExitCode, Failure> {
    let paths = PolicyArgs {
        paths: args.paths.into_iter().chain(args.policy).collect(),
    }
    .paths()?;
    let workspace = read_workspace(&paths)?;
    let diagnostics: Vec<warden::Diagnostic> = if lint {
        workspace.lint_at(parse_now(args.now.as_deref())?)
    } else {
        workspace.diagnostics().to_vec()
    };
    let diagnostics = diagnostics.as_slice();
    match args.format {
        DiagnosticFormat::Human => {
            if !diagnostics.is_empty() {
                print_err(&render::human(diagnostics, &workspace.sources(), color()));
            }
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = diagnostics.len() - errors;
            let files = workspace.paths().count();
            print_err(&format!(
                "{}: {} file{}, {errors} error{}, {warnings} warning{}\n",
                describe(&paths),
                files,
                plural(files),
                plural(errors),
                plural(warnings)
            ));
        }
        // With `--cost`, one JSON document holds both.
        DiagnosticFormat::Json if lint && args.cost => {}
        DiagnosticFormat::Json => print_out(&serde_json::to_string_pretty(
            &workspace.reports(diagnostics),
        )?),
    }
    let mut too_costly = false;
    let mut costs = Vec::new();
    if lint
        && (args.cost || args.max_cost.is_some())
        && let Ok(engine) = workspace.engine()
    {
        let mut bounds = engine.rule_costs();
        bounds.sort_by(|a, b| b.1.degree().cmp(&a.1.degree()).then(a.0.cmp(&b.0)));
        let json = matches!(args.format, DiagnosticFormat::Json);
        for (rule, bound) in &bounds {
            if json {
                let at_cap = bound.at(|_| args.size_cap);
                let over = args.max_cost.is_some_and(|max| at_cap > max);
                too_costly |= over;
                costs.push(serde_json::json!({
                    "rule": rule, "bound": bound.to_string(),
                    "at_size_cap": if bound.is_unbounded() { serde_json::Value::Null } else { at_cap.to_string().into() },
                    "over_max_cost": over,
                }));
                continue;
            }
            let at_cap = bound.at(|_| args.size_cap);
            let over = args.max_cost.is_some_and(|max| at_cap > max);
            too_costly |= over;
            if args.cost || over {
                let verdict = if over {
                    format!(
                        "  error: {at_cap} with collections of {} elements, over --max-cost {}",
                        args.size_cap,
                        args.max_cost.unwrap_or_default()
                    )
                } else {
                    String::new()
                };
                print_out(&format!("{rule}: {bound}{verdict}"));
            }
        }
    }
    if lint && args.cost && matches!(args.format, DiagnosticFormat::Json) {
        print_out(&serde_json::to_string_pretty(&serde_json::json!({
            "diagnostics": workspace.reports(diagnostics),
            "costs": costs,
            "size_cap": args.size_cap,
        }))?);
    }
    Ok(
        if too_costly || diagnostics.iter().any(warden::Diagnostic::is_error) {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// Writes to standard error; a reader that went away (`2>&1 | head`) is not an error.
fn print_err(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes a line to standard output; a reader that went away (`| head`) is not an error.
fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        print_err(&format!("error: cannot write the output: {e}\n"));
    }
}

/// The contract's exit code for a run: 2 when something could not be done,
/// else 1 when something failed, else 0.
fn exit_code(errors: usize, failed: usize) -> ExitCode {
    if errors > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn read_document(path: &Path, limits: &warden::InputLimits) -> Result<warden::Document, Failure> {
    let (name, text) = if path.as_os_str() == "-" {
        let text = warden::read_stdin_bounded(limits.max_bytes).map_err(coded)?;
        ("<stdin>".to_string(), text)
    } else {
        let text = warden::read_file_bounded(path, limits.max_bytes).map_err(coded)?;
        (path.display().to_string(), text)
    };
    warden::Document::parse_with(&name, &text, limits).map_err(coded)
}

fn parse_now(now: Option<&str>) -> Result<SystemTime, Failure> {
    match now {
        None => Ok(SystemTime::now()),
        Some(text) => warden::parse_now(text).ok_or_else(|| {
            Failure(format!(
                "`--now {text}` is not an RFC 3339 time with its offset (`2026-06-01T00:00:00Z`) or a date (`2026-06-01`)"
            ))
        }),
    }
}

/// Compiles the policy set and merges the data files: the engine a command
/// decides with, and the workspace (whose folders locate the policy files).
/// [`engine_with_data`] for a base a change is compared with: a `NAME=FILE`
/// argument for a document the base does not declare (the change adds it)
/// is left out of the base, said on standard error, instead of refused.
fn base_engine_with_data(
    policy: &PolicyArgs,
    data: &[String],
    limits: &warden::InputLimits,
) -> Result<(Engine, Workspace), Failure> {
    compiled_with_data(policy, data, limits, |engine, arg| {
        let (name, _) = warden::split_data_arg(arg, |p| Path::new(p).exists());
        match name {
            Some(name) if !engine.declares_data(name) => {
                eprintln!(
                    "warden: the base declares no data document `{name}`: `{arg}` is left out of it"
                );
                false
            }
            _ => true,
        }
    })
}

fn engine_with_data(
    policy: &PolicyArgs,
    data: &[String],
    limits: &warden::InputLimits,
) -> Result<(Engine, Workspace), Failure> {
    compiled_with_data(policy, data, limits, |_, _| true)
}

/// Compiles the set once, then merges each data argument `keep` accepts.
fn compiled_with_data(
    policy: &PolicyArgs,
    data: &[String],
    limits: &warden::InputLimits,
    keep: impl Fn(&Engine, &str) -> bool,
) -> Result<(Engine, Workspace), Failure> {
    let paths = policy.paths()?;
    let workspace = read_workspace(&paths)?;
    let Some(mut engine) = load_engine(&workspace) else {
        return Err(Failure(format!(
            "the policies in `{}` do not compile",
            describe(&paths)
        )));
    };
    for arg in data {
        if !keep(&engine, arg) {
            continue;
        }
        let failure = |e: warden::EngineError| Failure {
            code: e.code(),
            message: format!("{arg}: {e}"),
        };
        engine = engine.with_data_arg(arg, limits).map_err(failure)?;
    }
    Ok((engine, workspace))
}

fn check(args: CheckArgs) -> Result<ExitCode, Failure> {
    let now = parse_now(args.now.as_deref())?;
    let (files, skipped) = check::collect(&args.manifests)?;
    warn_skipped(&skipped);
    let (engine, workspace) = engine_with_data(&args.policy, &args.data, &args.limits.data())?;
    let policy = &workspace.folders().root;
    if !engine.has_target(check::TARGET) {
        return Err(Failure {
            code: Some(warden::Code::E0404),
            message: format!(
                "the policies in `{}` declare no `{}` target to check manifests against",
                describe(&args.policy.paths()?),
                check::TARGET
            ),
        });
    }
    // Only the JSON report prints traces: the others are decided plainly.
    let mut options = args
        .limits
        .decide(args.explain && matches!(args.format, CheckFormat::Json));
    if args.strict {
        options.undeclared_fields = Some(warden::UndeclaredFields::Deny);
    }
    let results = check::run(
        &engine,
        &files,
        now,
        &options,
        &args.limits.input(),
        args.progress,
    );
    let text = match args.format {
        CheckFormat::Human => report::human(&results, policy, color_stdout()),
        CheckFormat::Json => serde_json::to_string_pretty(&report::json(&results))?,
        CheckFormat::Sarif => {
            serde_json::to_string_pretty(&report::sarif(&results, &engine.rules(), policy))?
        }
        CheckFormat::Junit => report::junit(&results, &engine.rules()),
        CheckFormat::Github => report::github(&results),
    };
    print_out(text.trim_end());
    Ok(report::Summary::of(&results).exit_code())
}

fn fmt(args: FmtArgs) -> Result<ExitCode, Failure> {
    // The built-in checklist is not the user's to format.
    if args.paths.is_empty() && !Path::new("policies").is_dir() {
        return Err(Failure(
            "no `./policies` here: name the policy files or folders to format".into(),
        ));
    }
    let paths = PolicyArgs { paths: args.paths }.paths()?;
    let sources = read_policies(&paths)?;
    let files: Vec<(PathBuf, String)> = sources
        .files
        .into_iter()
        .map(|(relative, text)| (sources.root.join(relative), text))
        .collect();
    let (mut unformatted, mut broken) = (0, 0);
    for (path, text) in &files {
        let shown = path.display().to_string();
        match warden_syntax::format_source(text) {
            Err(diagnostics) => {
                broken += 1;
                print_err(&render::human(
                    &diagnostics,
                    &[(shown.clone(), text.clone())],
                    color(),
                ));
                print_err(&format!(
                    "error: `{shown}` has syntax errors; it was not formatted\n"
                ));
            }
            Ok(formatted) if &formatted == text => {}
            Ok(formatted) => {
                unformatted += 1;
                if args.check {
                    let line = text
                        .lines()
                        .zip(formatted.lines())
                        .position(|(a, b)| a != b)
                        .unwrap_or_else(|| text.lines().count().min(formatted.lines().count()))
                        + 1;
                    print_out(&format!(
                        "{shown}: not formatted (first difference on line {line})"
                    ));
                } else {
                    std::fs::write(path, &formatted)
                        .map_err(|e| Failure(format!("cannot write `{shown}`: {e}")))?;
                    print_out(&format!("formatted {shown}"));
                }
            }
        }
    }
    if broken > 0 {
        return Ok(ExitCode::from(2));
    }
    if args.check && unformatted > 0 {
        print_err(&format!(
            "{unformatted} of {} file{} not formatted; run `warden fmt` to fix\n",
            files.len(),
            plural(files.len())
        ));
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn explain_command(args: ExplainArgs) -> Result<ExitCode, Failure> {
    if explain::looks_like_code(&args.what) {
        return match explain::code(&args.what) {
            Some(text) => {
                print_out(text.trim_end());
                Ok(ExitCode::SUCCESS)
            }
            None => {
                let last = |prefix: char| {
                    warden::Code::ALL
                        .iter()
                        .rfind(|c| c.as_str().starts_with(prefix))
                        .map_or("", |c| c.as_str())
                };
                Err(Failure(format!(
                    "no diagnostic code `{}`; codes run E0001–{} and W0001–{}",
                    args.what,
                    last('E'),
                    last('W')
                )))
            }
        };
    }
    let (engine, workspace) = engine_with_data(&args.policy, &[], &warden::InputLimits::DATA)?;
    print_out(
        explain::rule(
            &engine,
            &args.what,
            &format!("`{}`", describe(&args.policy.paths()?)),
            &workspace.folders().root,
        )?
        .trim_end(),
    );
    Ok(ExitCode::SUCCESS)
}

fn test(mut args: TestArgs) -> Result<ExitCode, Failure> {
    // `warden test policies/`: a folder or a `.warden` file given where a
    // name filter goes, with no `--policy`, is the policy set to test.
    if args.policy.paths.is_empty()
        && let Some(filter) = args.filter.take_if(|f| {
            let path = Path::new(f.as_str());
            path.is_dir() || (path.is_file() && f.ends_with(".warden"))
        })
    {
        args.policy.paths.push(PathBuf::from(filter));
    }
    let (engine, workspace) = engine_with_data(&args.policy, &[], &args.limits.data())?;
    let root = &workspace.folders().root;
    let run = engine.run_tests_with(
        Some(workspace.folders()),
        args.filter.as_deref(),
        &args.limits.decide(false),
        &args.limits.input(),
    );
    if let Some(filter) = &args.filter
        && run.tests.is_empty()
    {
        // A mistyped filter must not pass CI by running nothing.
        return Err(Failure(format!("no test name contains `{filter}`")));
    }
    let text = match args.format {
        TestFormat::Human => test_report::human(&run, root, args.coverage, color_stdout()),
        TestFormat::Json => serde_json::to_string_pretty(&test_report::json(&run, args.coverage))?,
        TestFormat::Junit => test_report::junit(&run, root),
    };
    print_out(text.trim_end());
    Ok(exit_code(run.summary.errors, run.summary.failed))
}

fn decide(args: DecideArgs) -> Result<ExitCode, Failure> {
    let now = parse_now(args.now.as_deref())?;
    let (engine, _) = engine_with_data(&args.policy, &args.data, &args.limits.data())?;
    let document = read_document(&args.input, &args.limits.input())?;
    let input = &document.value;
    let options = args.limits.decide(args.explain);
    let target = args.target.as_deref().unwrap_or("request");
    let decision = engine
        .decide_with(target, input, now, &options)
        .map_err(|e| {
            let mut message = match &e {
                // Each bad path placed on its line, as `warden check` places it.
                warden::DecideError::InputMismatch { target, errors } => {
                    check::placed_mismatch(&document, target, errors.clone()).0
                }
                other => other.to_string(),
            };
            // Left to its default, the target may just be the wrong one:
            // name the ones the input fits.
            if args.target.is_none() {
                // Whether the input fits a target is settled by converting
                // it: each other target is tried with one step, no trace.
                let options = DecideOptions {
                    budget: 1,
                    explain: false,
                    ..options.clone()
                };
                let fits: Vec<String> = engine
                    .targets()
                    .into_iter()
                    .map(|t| t.name)
                    .filter(|name| name != target)
                    .filter(|name| {
                        !matches!(
                            engine.decide_with(name, input, now, &options),
                            Err(warden::DecideError::InputMismatch { .. })
                        )
                    })
                    .collect();
                if let Some(first) = fits.first() {
                    message.push_str(&format!(
                        "\nhelp: `--target` was left to `request`; the input fits `{}`: add `--target {first}`",
                        fits.join("`, `")
                    ));
                }
            }
            Failure {
                code: Some(e.code()),
                message,
            }
        })?;
    print_out(&serde_json::to_string_pretty(&decision)?);
    Ok(if decision.is_allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn serve(args: ServeArgs) -> Result<ExitCode, Failure> {
    let mut config = match &args.config {
        // Paths in the file are relative to it; those given as flags, to
        // the current folder.
        Some(path) => {
            warden_server::ServerConfig::from_file(path).map_err(|e| Failure(e.to_string()))?
        }
        None => warden_server::ServerConfig::default(),
    };
    if let Some(url) = args.bundle {
        config.bundle.get_or_insert_with(Default::default).url = url;
    }
    if let Some(bundle) = &mut config.bundle {
        if args.verify_key.is_some() {
            bundle.verify_key = args.verify_key;
        }
        if let Some(poll) = args.poll {
            bundle.poll = poll;
        }
        if args.bundle_cache.is_some() {
            bundle.cache_dir = args.bundle_cache;
        }
        bundle.allow_unsigned |= args.allow_unsigned_bundles;
        bundle.plain_http |= args.registry_plain_http;
    } else if args.verify_key.is_some() || args.poll.is_some() || args.bundle_cache.is_some() {
        return Err(Failure(
            "--verify-key, --poll and --bundle-cache go with --bundle URL".into(),
        ));
    }
    if let Some(url) = args.ship_http {
        config.ship.http.get_or_insert_with(Default::default).url = url;
    }
    if let Some(addr) = args.ship_syslog {
        config.ship.syslog.get_or_insert_with(Default::default).addr = addr;
    }
    if !args.policy.is_empty() {
        config.policy = args.policy;
    } else if config.policy.is_empty() && config.bundle.is_none() {
        config.policy = vec![default_policy()?];
        // The server logs the revision as it starts serving.
        note_built_in("in the server's log");
    }
    if !args.data.is_empty() {
        config.data = args.data;
    }
    if let Some(addr) = args.addr {
        config.addr = addr;
    }
    if args.grpc_addr.is_some() {
        config.grpc_addr = args.grpc_addr;
    }
    if args.decision_log.is_some() {
        config.decision_log = args.decision_log;
    }
    if args.admin_token.is_some() {
        config.admin_token = args.admin_token;
    }
    // A token nobody can send (empty: `--admin-token "$WARDEN_ADMIN_TOKEN"`
    // with the variable unset; a space, a control or a non-ASCII character)
    // would turn reload on with no way to use it.
    if let Some(token) = config.admin_token.as_deref() {
        if token.trim().is_empty() {
            return Err(Failure(
                "the admin token is empty (`--admin-token`, `WARDEN_ADMIN_TOKEN` or \
                 `admin_token`): give one, or leave it out to keep reload over HTTP off"
                    .into(),
            ));
        }
        if !warden_server::caller_auth::sendable(token) {
            return Err(Failure(
                "the admin token holds a space, a control or a non-ASCII character, which no \
                 `Authorization` header can carry: use visible ASCII only"
                    .into(),
            ));
        }
    }
    if args.no_watch {
        config.watch = false;
    }
    if args.authzen_target.is_some() {
        config.authzen.target = args.authzen_target;
    }
    if args.caller_tokens_file.is_some() {
        config.auth.tokens_file = args.caller_tokens_file;
    }
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        // Flags replace the files; a client CA from the config file stays
        // unless a flag names another: client checks never silently turn off.
        let client_ca = args
            .tls_client_ca
            .or_else(|| config.tls.as_ref().and_then(|t| t.client_ca.clone()));
        config.tls = Some(warden_server::config::TlsFiles {
            cert,
            key,
            client_ca,
        });
    }
    // The server's own events; the compiler's internals only when asked for.
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,warden_server=info"));
    // Colours only on a terminal (and never with NO_COLOR), as elsewhere.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let policy_paths = config.policy.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(warden_server::run(config, |scheme, addr| {
        // Scripts and tests read the address from this line (port 0 picks one).
        print_err(&format!("warden: listening on {scheme}://{addr}\n"));
    }));
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(warden_server::ServerError::Load(warden_server::LoadError::Compile(diagnostics))) => {
            for d in &diagnostics {
                print_err(&format!(
                    "error[{}]: {}\n  --> {}:{}:{}\n",
                    d.code, d.message, d.place.file, d.place.line, d.place.column
                ));
            }
            Err(Failure(format!(
                "the policies in `{}` do not compile",
                describe(&policy_paths)
            )))
        }
        Err(e) => Err(Failure(e.to_string())),
    }
}

fn audit_verify(file: &Path, expected_head: Option<&str>) -> Result<ExitCode, Failure> {
    match warden_server::decision_log::verify(file) {
        Ok(verified) if expected_head.is_some_and(|h| h != verified.head.hash) => {
            print_err(&format!(
                "error: {}: the chain is intact but ends at {} (line {}), not at the head \
                 recorded elsewhere: its last lines were changed or removed\n",
                file.display(),
                verified.head.hash,
                verified.head.seq
            ));
            Ok(ExitCode::from(1))
        }
        Ok(verified) => {
            let decisions = verified.head.seq - verified.events;
            let events = match verified.events {
                0 => String::new(),
                n => format!(" and {n} repair{}", plural(n)),
            };
            print_out(&format!(
                "{}: {} decision{}{events}, the hash chain is intact; head {}",
                file.display(),
                decisions,
                plural(decisions),
                verified.head.hash
            ));
            Ok(ExitCode::SUCCESS)
        }
        Err(
            e @ (warden_server::decision_log::VerifyError::Broken { .. }
            | warden_server::decision_log::VerifyError::Truncated { .. }),
        ) => {
            print_err(&format!("error: {}: {e}\n", file.display()));
            Ok(ExitCode::from(1))
        }
        Err(e @ warden_server::decision_log::VerifyError::NotAFile { .. }) => Err(Failure {
            code: Some(warden::Code::E0409),
            message: e.to_string(),
        }),
        Err(e) => Err(Failure(e.to_string())),
    }
}

fn lsp() -> Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let shut_down = runtime.block_on(warden_lsp::run_stdio(explain::EXPLANATIONS));
    // A client may keep stdin open after `exit`: the thread blocked reading
    // it is left behind rather than waited for.
    runtime.shutdown_background();
    Ok(if shut_down {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
