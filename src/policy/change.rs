//! What a revision of a policy asks of the consents given under an earlier
//! version.
//!
//! This file holds the one type every part of the crate agrees on: a
//! [`FreshConsent`] says which grants given under an earlier version no
//! longer cover a later one. Classifying the changes between two versions
//! (`diff`) produces them; an engine built from a policy history reads them
//! to decide which grants still count; the re-consent scan lists the
//! subjects they concern.

use serde::Serialize;

use crate::consent::ConsentQualities;
use crate::ids::{PurposeId, RecipientId};
use crate::taxonomy::CategoryKey;

/// Grants given under an earlier version that stop counting from the
/// version that made this change: those for `purpose` that cover one of
/// `categories` (every category of the purpose when it is empty) and, when
/// `recipient` is set, only as far as that recipient is concerned.
///
/// A grant given under version `V` counts for a request decided under
/// version `W` of the same policy only if no version after the earlier of
/// the two, up to and including the later, makes a `FreshConsent` that
/// matches the grant's purpose, category and recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FreshConsent {
    /// The purpose whose grants lapse.
    pub purpose: PurposeId,
    /// The categories whose grants lapse; empty for all of the purpose's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryKey>,
    /// Only grants as far as this recipient is concerned lapse; `None` for
    /// every grant of the purpose and categories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientId>,
    /// The qualities the new consent must have.
    pub qualities: ConsentQualities,
}

impl FreshConsent {
    /// Every grant for `purpose` lapses; the new consent needs `qualities`.
    pub fn new(purpose: PurposeId, qualities: ConsentQualities) -> Self {
        Self { purpose, categories: Vec::new(), recipient: None, qualities }
    }

    /// Only grants covering one of `categories` lapse.
    #[must_use]
    pub fn for_categories(mut self, categories: Vec<CategoryKey>) -> Self {
        self.categories = categories;
        self
    }

    /// Only grants as far as `recipient` is concerned lapse.
    #[must_use]
    pub fn for_recipient(mut self, recipient: RecipientId) -> Self {
        self.recipient = Some(recipient);
        self
    }
}
