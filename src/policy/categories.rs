//! The taxonomy a policy reads: the built-in one (or none, with
//! `settings.taxonomy: declared`) with the policy's own category
//! declarations applied.

use super::validate::{Diagnostic, DiagnosticCode, Severity};
use super::{CategoryDecl, Policy, TaxonomySource};
use std::collections::HashMap;

use crate::taxonomy::{CategoryKey, Taxonomy, Undeclarable};

/// The taxonomy of a policy, with the error-level diagnostics its
/// declarations raise.
pub(super) fn taxonomy_of(policy: &Policy) -> (Taxonomy, Vec<Diagnostic>) {
    let declared = policy.settings.taxonomy == TaxonomySource::Declared;
    let mut taxonomy = if declared { Taxonomy::empty() } else { Taxonomy::builtin() };
    let mut out = Vec::new();
    // Parents first, so that a policy may declare `a.b` before `a.b.c` in any order.
    let mut decls: Vec<(usize, &CategoryDecl)> = policy.categories.iter().enumerate().collect();
    decls.sort_by_key(|(_, d)| d.key.depth());
    let mut first: HashMap<&CategoryKey, usize> = HashMap::new();
    for (i, d) in decls {
        // The first declaration stands (the earlier of equal depth).
        if let Some(&f) = first.get(&d.key) {
            let message = format!("category `{}` is declared twice, first at `/categories/{f}`", d.key);
            let path = format!("/categories/{i}/key");
            let code = DiagnosticCode::DuplicateId;
            out.push(Diagnostic { severity: Severity::Error, code, path, message, acknowledged: false });
            continue;
        }
        first.insert(&d.key, i);
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
