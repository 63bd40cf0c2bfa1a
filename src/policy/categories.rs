//! The taxonomy a policy reads: the built-in one (or none, with
//! `settings.taxonomy: declared`) with the policy's own category
//! declarations applied.

use super::validate::{Diagnostic, DiagnosticCode, Severity};
use super::{CategoryDecl, Policy, TaxonomySource};
use crate::taxonomy::{Taxonomy, Undeclarable};

/// The taxonomy of a policy, with the error-level diagnostics its
/// declarations raise.
pub(super) fn taxonomy_of(policy: &Policy) -> (Taxonomy, Vec<Diagnostic>) {
    let declared = policy.settings.taxonomy == TaxonomySource::Declared;
    let mut taxonomy = if declared { Taxonomy::empty() } else { Taxonomy::builtin() };
    let mut out = Vec::new();
    // Parents first, so that a policy may declare `a.b` before `a.b.c` in any order.
    let mut decls: Vec<(usize, &CategoryDecl)> = policy.categories.iter().enumerate().collect();
    decls.sort_by_key(|(_, d)| d.key.depth());
    for (i, d) in decls {
        // A declared taxonomy may start new roots.
        let (code, path, message) = match taxonomy.declare(&d.key, d.sensitivity, d.description.as_deref(), declared) {
            Ok(()) => continue,
            Err(Undeclarable::LowersSensitivity) => (
                DiagnosticCode::LoweredSensitivity,
                format!("/categories/{i}/sensitivity"),
                format!("category `{}` may not be made less sensitive than its default", d.key),
            ),
            Err(Undeclarable::UnknownParent) => (
                DiagnosticCode::UnknownParent,
                format!("/categories/{i}/key"),
                format!("category `{}` has no known parent", d.key),
            ),
        };
        out.push(Diagnostic { severity: Severity::Error, code, path, message, acknowledged: false });
    }
    (taxonomy, out)
}
