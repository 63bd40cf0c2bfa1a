//! The crate's one error type, for the fallible boundaries: loading and
//! validating a policy, appending to a ledger, parsing a request.
//!
//! Evaluation never fails: it always returns a [`Decision`](crate::Decision).

use std::fmt;

use crate::policy::Diagnostic;

/// What went wrong, in broad strokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not well-formed JSON; see [`Error::line`] and
    /// [`Error::column`].
    Syntax,
    /// The JSON does not fit the document format: an unknown field, a
    /// missing one, a value of the wrong type; see [`Error::path`].
    Format,
    /// The policy is well-formed but invalid; see [`Error::diagnostics`].
    Invalid,
    /// The consent ledger refused an event.
    Ledger,
    /// A request is malformed.
    Request,
    /// The audit log could not be read, written or replayed from.
    Audit,
    /// A consent receipt could not be issued, or it failed verification.
    Receipt,
    /// A key is malformed, too short or unknown.
    Key,
}

/// An error from loading a policy, appending to a ledger or reading a
/// request.
///
/// Messages name policy ids, keys and paths; they never echo a personal-data
/// value from a request.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    path: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    diagnostics: Vec<Diagnostic>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    fn new(kind: ErrorKind, message: String) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message,
                path: None,
                line: None,
                column: None,
                diagnostics: Vec::new(),
                source: None,
            }),
        }
    }

    pub(crate) fn syntax(e: serde_json::Error) -> Self {
        let mut err = Self::new(ErrorKind::Syntax, strip_position(&e.to_string()));
        err.inner.line = Some(e.line());
        err.inner.column = Some(e.column());
        err.inner.source = Some(Box::new(e));
        err
    }

    pub(crate) fn format(path: String, e: serde_json::Error) -> Self {
        // A field name from the document may hold control characters.
        let mut err = Self::new(ErrorKind::Format, one_line(&strip_position(&e.to_string())));
        err.inner.path = Some(one_line(&path));
        err.inner.line = Some(e.line());
        err.inner.column = Some(e.column());
        err.inner.source = Some(Box::new(e));
        err
    }

    pub(crate) fn invalid(diagnostics: Vec<Diagnostic>) -> Self {
        let message = match diagnostics.as_slice() {
            [one] => one.message.clone(),
            [first, ..] => format!("{} errors, the first: {}", diagnostics.len(), first.message),
            [] => "invalid policy".to_owned(),
        };
        let mut err = Self::new(ErrorKind::Invalid, message);
        err.inner.path = diagnostics.first().map(|d| d.path.clone());
        err.inner.diagnostics = diagnostics;
        err
    }

    pub(crate) fn ledger(message: String) -> Self {
        Self::new(ErrorKind::Ledger, message)
    }

    pub(crate) fn request(message: String) -> Self {
        Self::new(ErrorKind::Request, message)
    }

    pub(crate) fn audit(message: String) -> Self {
        Self::new(ErrorKind::Audit, message)
    }

    pub(crate) fn audit_io(message: String, e: std::io::Error) -> Self {
        let mut err = Self::new(ErrorKind::Audit, format!("{message}: {e}"));
        err.inner.source = Some(Box::new(e));
        err
    }

    pub(crate) fn receipt(message: String) -> Self {
        Self::new(ErrorKind::Receipt, message)
    }

    pub(crate) fn key(message: String) -> Self {
        Self::new(ErrorKind::Key, message)
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The path into the document (a JSON pointer such as
    /// `/purposes/3/categories/0`), where there is one. For an invalid policy,
    /// the path of the first problem.
    pub fn path(&self) -> Option<&str> {
        self.inner.path.as_deref()
    }

    /// The 1-based line of a syntax or format error.
    pub fn line(&self) -> Option<usize> {
        self.inner.line
    }

    /// The 1-based column of a syntax or format error.
    pub fn column(&self) -> Option<usize> {
        self.inner.column
    }

    /// Every error-level problem of an invalid policy, each with its path.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.inner.diagnostics
    }
}

/// serde_json appends " at line L column C"; the accessors carry those.
/// `s` with its control characters escaped (`\n` for a newline), so that
/// a message stays on one line whatever the document held.
fn one_line(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

fn strip_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s.get(..i).unwrap_or(s).to_owned(),
        None => s.to_owned(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.kind {
            ErrorKind::Syntax => write!(f, "policy is not valid JSON: {}", self.inner.message)?,
            ErrorKind::Format | ErrorKind::Invalid => write!(f, "{}", self.inner.message)?,
            ErrorKind::Ledger | ErrorKind::Request | ErrorKind::Audit | ErrorKind::Receipt | ErrorKind::Key => {
                f.write_str(&self.inner.message)?
            }
        }
        if let Some(p) = &self.inner.path {
            write!(f, ": at `{p}`")?;
        }
        if let (Some(l), Some(c)) = (self.inner.line, self.inner.column) {
            write!(f, ": line {l}, column {c}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("path", &self.inner.path)
            .field("line", &self.inner.line)
            .field("column", &self.inner.column)
            .field("diagnostics", &self.inner.diagnostics.len())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_ref().map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}
