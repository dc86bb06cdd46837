//! The library's error types.

use warden_diagnostics::Diagnostic;

/// One place where a document does not match its declared type.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PathError {
    /// A JSON path such as `$.spec.auth.sso`.
    pub path: String,
    /// What the type allows there.
    pub expected: String,
    /// What the document holds there.
    pub found: String,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.path, self.expected, self.found
        )
    }
}

fn list(errors: &[PathError]) -> String {
    errors.iter().map(|e| format!("\n  {e}")).collect()
}

/// Why a policy set could not be loaded or its data not accepted.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A file or folder could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A path given as a policy folder holds no `*.warden` file.
    #[error("no `.warden` files in `{path}`")]
    NoPolicies {
        /// The path as given.
        path: String,
    },
    /// The policy set has errors; nothing can be decided with it.
    #[error("the policy set does not compile ({} error{})", .diagnostics.iter().filter(|d| d.is_error()).count(), if .diagnostics.iter().filter(|d| d.is_error()).count() == 1 { "" } else { "s" })]
    Compile {
        /// Every diagnostic, errors and warnings.
        diagnostics: Vec<Diagnostic>,
    },
    /// A document (JSON or YAML) does not parse.
    #[error("`{name}` is not valid {format}: {message}")]
    Syntax {
        /// The document's name.
        name: String,
        /// JSON or YAML.
        format: &'static str,
        /// What went wrong, with line and column.
        message: String,
    },
    /// A data document does not match its declaration.
    #[error("data document `{name}` does not match its declared type:{}", list(.errors))]
    DataMismatch {
        /// The document's name.
        name: String,
        /// Every bad path.
        errors: Vec<PathError>,
    },
    /// Supplied data names a document the policy set does not declare.
    #[error("the policy set declares no data document `{name}`{}", .known.as_ref().map(|k| format!(" (declared: {k})")).unwrap_or_default())]
    UnknownData {
        /// The unknown name.
        name: String,
        /// The declared names, if any.
        known: Option<String>,
    },
    /// Two data files supply the same document.
    #[error("data document `{name}` is supplied twice; merge the files or pass only one")]
    DuplicateData {
        /// The document.
        name: String,
    },
    /// A document is larger than its limit.
    #[error("`{name}` is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// The document's name (its path, `<stdin>`, `body`).
        name: String,
        /// Its size, or the limit plus one when it was cut off while read.
        size: u64,
        /// The limit.
        limit: usize,
    },
    /// A document holds more values than its size limit allows for.
    #[error(
        "`{name}` holds more than {limit} values (one per 16 bytes of the size limit: \
         many small values cost far more memory than their text)"
    )]
    TooManyValues {
        /// The document's name.
        name: String,
        /// The most values allowed.
        limit: usize,
    },
    /// A document nests lists and objects deeper than its limit.
    #[error("`{name}` nests lists and objects deeper than the limit of {limit} levels")]
    TooDeep {
        /// The document's name.
        name: String,
        /// The limit.
        limit: usize,
    },
    /// A path names a FIFO, a device or a socket: only regular files are read.
    #[error(
        "`{path}` is not a regular file (a FIFO, a device or a socket); only regular files are read"
    )]
    NotAFile {
        /// The path.
        path: String,
    },
    /// A file reference leads out of the folder it must stay in.
    #[error("`{path}` is outside the folder `{folder}`: {why}")]
    OutsideFolder {
        /// The path as written.
        path: String,
        /// The folder it must stay in.
        folder: String,
        /// How it leaves it.
        why: String,
    },
    /// A waiver in the data is malformed.
    #[error("waiver {index} in `data.waivers`: {message}")]
    BadWaiver {
        /// Its position in the list.
        index: usize,
        /// What is wrong.
        message: String,
    },
}

impl EngineError {
    /// The permanent diagnostic code of this error, when it has one.
    pub fn code(&self) -> Option<warden_diagnostics::Code> {
        use warden_diagnostics::Code;
        match self {
            EngineError::Io { .. }
            | EngineError::NoPolicies { .. }
            | EngineError::Compile { .. } => None,
            EngineError::Syntax { .. } => Some(Code::E0403),
            EngineError::DataMismatch { .. }
            | EngineError::DuplicateData { .. }
            | EngineError::BadWaiver { .. } => Some(Code::E0402),
            EngineError::UnknownData { .. } => Some(Code::E0406),
            EngineError::TooLarge { .. } | EngineError::TooManyValues { .. } => Some(Code::E0407),
            EngineError::TooDeep { .. } => Some(Code::E0408),
            EngineError::NotAFile { .. } => Some(Code::E0409),
            EngineError::OutsideFolder { .. } => Some(Code::E0410),
        }
    }
}

/// Why a decision could not be made. An input that cannot be decided is an
/// error, never a silent allow or deny.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// The policy set declares no such target.
    #[error("no target `{target}` in the policy set{}", if .known.is_empty() { String::new() } else { format!(" (targets: {})", .known.join(", ")) })]
    UnknownTarget {
        /// The target asked for.
        target: String,
        /// The targets that exist.
        known: Vec<String>,
    },
    /// The input does not match the target's type.
    #[error("the input does not match the type of target `{target}`:{}", list(.errors))]
    InputMismatch {
        /// The target.
        target: String,
        /// Every bad path.
        errors: Vec<PathError>,
    },
    /// The input text could not be read: not JSON, too large, nested too deeply.
    #[error("the input could not be read: {0}")]
    Unreadable(EngineError),
    /// A data document the rules of this target read was not supplied and has no default.
    #[error("data document `{name}` is needed by target `{target}` but was not supplied")]
    MissingData {
        /// The data document.
        name: String,
        /// The target.
        target: String,
    },
}

impl DecideError {
    /// The permanent diagnostic code of this error.
    pub fn code(&self) -> warden_diagnostics::Code {
        use warden_diagnostics::Code;
        match self {
            DecideError::UnknownTarget { .. } => Code::E0404,
            DecideError::InputMismatch { .. } => Code::E0401,
            DecideError::MissingData { .. } => Code::E0405,
            DecideError::Unreadable(e) => e.code().unwrap_or(Code::E0403),
        }
    }
}
