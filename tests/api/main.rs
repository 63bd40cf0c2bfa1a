//! Integration tests of privacy-engine through its public API only: the
//! taxonomy, consent qualities and the in-memory ledger, who must
//! re-consent after a revision, and loading and validating policy documents.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod calendar;
mod changes;
mod consent;
mod policy_docs;
mod rescan;
mod taxonomy;
