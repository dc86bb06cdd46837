//! Compiling a policy set and loading its data for the server: from the
//! configured folders, or from a bundle unpacked (`bundle.rs`).

use crate::config::ServerConfig;
use warden::{Engine, Workspace};

/// Why a policy set could not be served.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Engine(#[from] warden::EngineError),
    #[error("the policies do not compile ({} error(s))", .0.len())]
    Compile(Vec<warden::DiagnosticReport>),
    #[error("the compiling task failed: {0}")]
    Task(String),
    /// A bundle could not be fetched, or was refused.
    #[error("{0}")]
    Fetch(String),
    /// No bundle could be served (at start).
    #[error("{0}")]
    Bundle(String),
    #[error(
        "`{setting} = \"{target}\"` names a target the policy set does not declare; it declares {}",
        describe_targets(.available)
    )]
    MissingTarget {
        setting: &'static str,
        target: String,
        available: Vec<String>,
    },
}

fn describe_targets(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each target the configuration names is one the policy set declares: a
/// server that would answer every AuthZEN or gateway request with "no such
/// target" does not start (and such a reload is refused).
fn check_targets(config: &ServerConfig, engine: &Engine) -> Result<(), LoadError> {
    let named = [
        ("[authzen] target", config.authzen.target.as_deref()),
        ("[gateway] target", config.gateway.target.as_deref()),
    ];
    for (setting, target) in named {
        if let Some(target) = target.filter(|t| !engine.has_target(t)) {
            return Err(LoadError::MissingTarget {
                setting,
                target: target.to_string(),
                available: engine.targets().into_iter().map(|t| t.name).collect(),
            });
        }
    }
    Ok(())
}

impl LoadError {
    /// The compile errors, if that is what went wrong.
    pub fn diagnostics(&self) -> &[warden::DiagnosticReport] {
        match self {
            LoadError::Compile(d) => d,
            _ => &[],
        }
    }
}

/// Compiles the configured policy set and merges the data files.
/// A reload passes the engine serving now: a data file that has not changed
/// is shared with it rather than read into a second copy.
pub fn load(config: &ServerConfig, previous: Option<&Engine>) -> Result<Loaded, LoadError> {
    load_from(config, &config.policy, &config.data, previous)
}

/// [`load`] with the policy paths and data arguments given (a bundle's,
/// unpacked) rather than the configuration's.
pub fn load_from(
    config: &ServerConfig,
    policy: &[std::path::PathBuf],
    data: &[String],
    previous: Option<&Engine>,
) -> Result<Loaded, LoadError> {
    let workspace = Workspace::read(policy)?;
    // A file left out of the set (a link leaving the folder, a FIFO) is
    // said, as `warden check` says it: its rules are not enforced.
    let skipped: Vec<String> = workspace
        .skipped()
        .iter()
        .map(ToString::to_string)
        .collect();
    for why in &skipped {
        tracing::warn!(code = %warden::Code::W0006, "{why}");
    }
    let mut engine = match workspace.engine() {
        Ok(engine) => engine,
        Err(warden::EngineError::Compile { diagnostics }) => {
            let errors: Vec<_> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
            return Err(LoadError::Compile(workspace.reports(&errors)));
        }
        Err(other) => return Err(other.into()),
    };
    check_targets(config, &engine)?;
    let limits = warden::InputLimits {
        max_bytes: config.limits.max_data_bytes,
        max_depth: config.limits.max_json_depth,
    };
    for arg in data {
        engine = engine.with_data_arg_reusing(arg, &limits, previous)?;
    }
    Ok(Loaded { engine, skipped })
}

/// A policy set ready to serve, and the files its folders held that it left out.
pub struct Loaded {
    pub engine: Engine,
    /// Each file left out, and why (W0006).
    pub skipped: Vec<String>,
}
