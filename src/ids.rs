//! Newtype identifiers, so that a purpose can never be passed where a
//! recipient or a rule is expected.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps an identifier.
            pub fn new(id: impl Into<String>) -> Self {
                Self(Arc::from(id.into()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(Arc::from(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(Arc::from(s))
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// Identifies a purpose of processing declared in a policy, e.g. `registration`.
    PurposeId
);
string_id!(
    /// Identifies a recipient declared in a policy: an affiliate, processor,
    /// partner, SDK, authority, acquirer.
    RecipientId
);
string_id!(
    /// Identifies a rule. Policy rules carry the ids their authors gave them;
    /// the engine's own default rules are named `builtin.*`.
    RuleId
);
string_id!(
    /// The clause of a published policy that a rule enforces, e.g.
    /// `004 §3.1 item 1`. Shared, not copied: a decision that cites a clause
    /// holds the policy's own text.
    Cites
);
impl std::ops::Deref for Cites {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

string_id!(
    /// Identifies a data subject. The caller chooses it (an opaque account id,
    /// never a phone number or e-mail): it appears in decisions and errors.
    SubjectId
);
string_id!(
    /// Identifies a policy document, e.g. `seed-004`.
    PolicyId
);

impl RuleId {
    /// A rule id of the engine's own, `builtin.<name>`. The engine makes
    /// them through its `builtin!` macro only, once per call site.
    pub(crate) fn builtin(name: &str) -> Self {
        Self(Arc::from(format!("builtin.{name}")))
    }
}
