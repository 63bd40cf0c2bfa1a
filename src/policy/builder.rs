//! A builder for policies written in Rust.

use chrono::{DateTime, FixedOffset};

use super::{
    ActionRule, CategoryDecl, ConsentRequirement, Minors, Policy, Purpose, Recipient, RetentionRule, Settings,
};
use crate::error::Error;
use crate::ids::PolicyId;

/// Builds a [`Policy`] in Rust, with the same validation as
/// [`Policy::from_json`].
///
/// # Example
///
/// ```
/// use privacy_engine::{Policy, Purpose, PurposeBasis, CategoryKey};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let policy = Policy::builder("shop", "1")
///     .purpose(Purpose::new("delivery", PurposeBasis::Core, vec![CategoryKey::new("user.contact.address")?]))
///     .build()?;
/// assert_eq!(policy.purposes.len(), 1);
///
/// let err = Policy::builder("shop", "1")
///     .purpose(Purpose::new("delivery", PurposeBasis::Core, vec![CategoryKey::new("user.contact.fax")?]))
///     .build()
///     .unwrap_err();
/// assert_eq!(err.path(), Some("/purposes/0/categories/0"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PolicyBuilder {
    policy: Policy,
}

impl PolicyBuilder {
    pub(super) fn new(id: PolicyId, version: String) -> Self {
        Self { policy: Policy::new(id, version) }
    }

    /// When the policy takes effect.
    pub fn effective(mut self, at: DateTime<FixedOffset>) -> Self {
        self.policy.effective = at;
        self
    }

    /// The settings.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.policy.settings = settings;
        self
    }

    /// Adds a category declaration.
    pub fn category(mut self, decl: CategoryDecl) -> Self {
        self.policy.categories.push(decl);
        self
    }

    /// Adds a purpose.
    pub fn purpose(mut self, purpose: Purpose) -> Self {
        self.policy.purposes.push(purpose);
        self
    }

    /// Adds a consent requirement.
    pub fn requirement(mut self, requirement: ConsentRequirement) -> Self {
        self.policy.consent_requirements.push(requirement);
        self
    }

    /// Adds a recipient.
    pub fn recipient(mut self, recipient: Recipient) -> Self {
        self.policy.recipients.push(recipient);
        self
    }

    /// Adds an action rule.
    pub fn action(mut self, rule: ActionRule) -> Self {
        self.policy.actions.push(rule);
        self
    }

    /// Sets the minors rules.
    pub fn minors(mut self, minors: Minors) -> Self {
        self.policy.minors = Some(minors);
        self
    }

    /// Adds a retention rule.
    pub fn retention(mut self, rule: RetentionRule) -> Self {
        self.policy.retention.push(rule);
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.policy.notes.push(note.into());
        self
    }

    /// Validates and returns the policy.
    ///
    /// # Errors
    ///
    /// The same diagnostics as [`Policy::from_json`], with the paths the
    /// items would have in the JSON form.
    pub fn build(self) -> Result<Policy, Error> {
        self.policy.validate()?;
        Ok(self.policy)
    }
}
