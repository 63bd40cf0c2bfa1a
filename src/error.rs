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
    /// A data category key is malformed.
    Category,
    /// A retention period is malformed or out of range.
    Period,
    /// A durable store could not be opened, read or written, or refused an
    /// append (a conflicting event id, an erased one, a newer schema).
    Store,
    /// A date could not be computed on a calendar: it falls outside the
    /// calendar's data, or a calendar table is malformed.
    Calendar,
    /// A rights request is malformed or cannot be answered from the
    /// sources given.
    Rights,
}

/// The longest field name, key or path segment an error message repeats, in
/// characters; a longer one is cut and marked with `…`.
pub(crate) const MAX_SHOWN_NAME: usize = 64;

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
        let message = serde_detail(&e).unwrap_or_else(|| one_line(&strip_position(&e.to_string())));
        Self::new(ErrorKind::Format, message).at(path, e)
    }

    /// A request (or a line of the JSON-lines interface) that is not JSON or
    /// does not fit the format, at `path`. The message names fields only: a
    /// value of the request is never repeated.
    pub(crate) fn request_format(what: &str, path: String, e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let message = match e.classify() {
            Category::Syntax | Category::Eof => format!("{what} is not valid JSON"),
            Category::Io => format!("{what} could not be read"),
            Category::Data => match serde_detail(&e).filter(|d| !d.starts_with("unknown variant")) {
                Some(detail) => format!("{what} does not fit the format: {detail}"),
                None => format!("{what} does not fit the format"),
            },
        };
        Self::new(ErrorKind::Request, message).at(path, e)
    }

    /// Sets the path (unless it is the whole document), line and column of
    /// `e`, and chains it. serde reports an unknown or duplicate field at the
    /// object that holds it; the path given is the field's own.
    fn at(mut self, mut path: String, e: serde_json::Error) -> Self {
        if let Some(field) = misplaced_field(&e) {
            let own = field.replace('~', "~0").replace('/', "~1");
            if path.rsplit('/').next() != Some(own.as_str()) {
                path = format!("{}/{own}", path.trim_end_matches('/'));
            }
        }
        let whole_document = path.is_empty() || path == "." || path == "/";
        if !whole_document || self.inner.kind == ErrorKind::Format {
            self.inner.path = Some(shown_path(&path));
        }
        self.inner.line = Some(e.line());
        self.inner.column = Some(e.column());
        self.inner.source = Some(Box::new(e));
        self
    }

    /// An input over one of the [limits](crate::limits), at `path` (none
    /// for the whole document of a request).
    pub(crate) fn over_limit(kind: ErrorKind, path: String, message: String) -> Self {
        let mut err = Self::new(kind, message);
        err.inner.path = (!path.is_empty()).then_some(path);
        err
    }

    pub(crate) fn category(message: String) -> Self {
        Self::new(ErrorKind::Category, message)
    }

    pub(crate) fn period(message: String) -> Self {
        Self::new(ErrorKind::Period, message)
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

    /// The same error for a document nested at `prefix` (a JSON pointer)
    /// in a larger one: its path and its diagnostics' paths under the
    /// prefix. The line and column, which counted in the nested document,
    /// are dropped.
    pub(crate) fn under(mut self, prefix: &str) -> Self {
        let nest = |path: &str| format!("{prefix}{}", if path == "/" { "" } else { path });
        self.inner.path = Some(self.inner.path.as_deref().map_or_else(|| prefix.to_owned(), nest));
        for d in &mut self.inner.diagnostics {
            d.path = nest(&d.path);
        }
        self.inner.line = None;
        self.inner.column = None;
        self
    }

    pub(crate) fn ledger(message: String) -> Self {
        Self::new(ErrorKind::Ledger, message)
    }

    pub(crate) fn audit(message: String) -> Self {
        Self::new(ErrorKind::Audit, message)
    }

    pub(crate) fn audit_io(message: String, e: std::io::Error) -> Self {
        let mut err = Self::new(ErrorKind::Audit, format!("{message}: {e}"));
        err.inner.source = Some(Box::new(e));
        err
    }

    pub(crate) fn store(message: String) -> Self {
        Self::new(ErrorKind::Store, message)
    }

    pub(crate) fn calendar(message: String) -> Self {
        Self::new(ErrorKind::Calendar, message)
    }

    /// A calendar table that breaks a rule, at `path`.
    pub(crate) fn calendar_at(path: &str, message: String) -> Self {
        let mut err = Self::new(ErrorKind::Calendar, message);
        err.inner.path = Some(path.to_owned());
        err
    }

    /// A calendar table that is not JSON or does not fit its format, at
    /// `path`.
    pub(crate) fn calendar_format(path: String, e: serde_json::Error) -> Self {
        let detail = serde_detail(&e).unwrap_or_else(|| one_line(&strip_position(&e.to_string())));
        Self::new(ErrorKind::Calendar, format!("calendar table does not fit the format: {detail}")).at(path, e)
    }

    #[allow(dead_code, reason = "groundwork: the rights module's first user lands next")]
    pub(crate) fn rights(message: String) -> Self {
        Self::new(ErrorKind::Rights, message)
    }

    /// A store error caused by `source` (an I/O or database error), which
    /// [`std::error::Error::source`] gives back.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn store_caused(message: String, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        let mut err = Self::new(ErrorKind::Store, format!("{message}: {source}"));
        err.inner.source = Some(Box::new(source));
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

/// A name from a document (a field name, a key, a path segment) as a
/// message shows it: at most [`MAX_SHOWN_NAME`] characters, cut with `…`,
/// with control characters and backticks escaped, so that a message stays
/// short, on one line, and its backticks still delimit the name. The one
/// place every message that repeats a name goes through.
pub(crate) fn shown_name(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i == MAX_SHOWN_NAME {
            out.push('…');
            break;
        }
        if c == '`' {
            out.push_str("\\`");
        } else if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A path with each segment shown as [`shown_name`] shows a name.
fn shown_path(path: &str) -> String {
    path.split('/').map(shown_name).collect::<Vec<_>>().join("/")
}

/// serde's message for an unknown, duplicate or missing field or an unknown
/// variant, with the name shown as [`shown_name`] shows it; `None` for any
/// other message (which may hold a value).
fn serde_detail(e: &serde_json::Error) -> Option<String> {
    let text = strip_position(&e.to_string());
    for lead in ["unknown field `", "duplicate field `", "missing field `", "unknown variant `"] {
        if let Some(rest) = text.strip_prefix(lead) {
            let end = name_end(rest);
            let (name, tail) = (rest.get(..end).unwrap_or(rest), rest.get(end..).unwrap_or("`"));
            return Some(format!("{lead}{}{tail}", shown_name(name)));
        }
    }
    None
}

/// The name of an unknown or duplicate field that `e` reports.
fn misplaced_field(e: &serde_json::Error) -> Option<String> {
    let text = strip_position(&e.to_string());
    let rest = text.strip_prefix("unknown field `").or_else(|| text.strip_prefix("duplicate field `"))?;
    Some(rest.get(..name_end(rest)).unwrap_or(rest).to_owned())
}

/// Where the name ends in the rest of serde's message after its opening
/// backtick.
fn name_end(rest: &str) -> usize {
    ["`, expected ", "`, there are no "]
        .iter()
        .filter_map(|tail| rest.find(tail))
        .min()
        .unwrap_or_else(|| rest.len().saturating_sub(1))
}

/// `s` with its control characters escaped (`\n` for a newline), so that
/// a message stays on one line whatever the document held.
fn one_line(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// serde_json appends " at line L column C"; the accessors carry those.
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
            ErrorKind::Ledger
            | ErrorKind::Request
            | ErrorKind::Audit
            | ErrorKind::Receipt
            | ErrorKind::Key
            | ErrorKind::Category
            | ErrorKind::Period
            | ErrorKind::Store
            | ErrorKind::Calendar
            | ErrorKind::Rights => f.write_str(&self.inner.message)?,
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
