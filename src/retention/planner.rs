//! The retention planner: which records are due for deletion or
//! anonymisation at a time.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::deadline::{Bounds, cancelled_by, end_action, hold_active, retained_until};
use crate::decision::Obligation;
use crate::engine::Engine;
use crate::ids::{PurposeId, RuleId, SubjectId};
use crate::policy::{EndAction, RetentionRule};
use crate::request::RecordEvents;
use crate::taxonomy::CategoryKey;

/// A record the retention planner looks at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetentionRecord {
    /// Whose data.
    pub subject: SubjectId,
    /// Which category.
    pub category: CategoryKey,
    /// For which purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<PurposeId>,
    /// The record's event times and legal hold.
    #[serde(default)]
    pub events: RecordEvents,
}

impl RetentionRecord {
    /// A record of `subject`'s data in `category`, for no stated purpose,
    /// with no event times.
    pub fn new(subject: impl Into<SubjectId>, category: CategoryKey) -> Self {
        Self { subject: subject.into(), category, purpose: None, events: RecordEvents::default() }
    }

    /// Sets the purpose.
    pub fn purpose(mut self, purpose: impl Into<PurposeId>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }
}

/// A record due for deletion or anonymisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Due {
    /// The record's index in the planner's input.
    pub index: usize,
    /// Delete, anonymise, or either.
    pub end: EndAction,
    /// Since when it is due.
    pub since: DateTime<FixedOffset>,
    /// The retention rules that made it due.
    pub rules: Vec<RuleId>,
    /// What comes with the deletion (backup purge, telling recipients).
    pub obligations: Vec<Obligation>,
}

/// Lists the records due for deletion or anonymisation at a time.
#[derive(Debug)]
pub struct RetentionPlanner<'e> {
    engine: &'e Engine,
}

impl<'e> RetentionPlanner<'e> {
    /// A planner for the engine's policy.
    pub fn new(engine: &'e Engine) -> Self {
        Self { engine }
    }

    /// The records due at `at`: a retention maximum has passed, no
    /// statutory minimum is still running, no legal hold is in force, and
    /// no `retain_until` deadline lies ahead.
    /// Records of unknown categories are skipped (they cannot be decided).
    pub fn due(&self, records: &[RetentionRecord], at: DateTime<FixedOffset>) -> Vec<Due> {
        let at = at.with_timezone(&Utc);
        records.iter().enumerate().filter_map(|(index, r)| self.due_one(index, r, at)).collect()
    }

    /// Where the periods of each retention rule that applies to `record`
    /// end, from its events as they stand at `at` (what a person's export
    /// shows as the record's deadlines); none for a category the policy
    /// does not declare.
    pub(crate) fn bounds_of<'r>(&'r self, record: &'r RetentionRecord, at: DateTime<Utc>) -> Vec<Bounds<'r>> {
        let Some((c, purpose)) = self.engine.record_ids(&record.category, record.purpose.as_ref()) else {
            return Vec::new();
        };
        self.engine.retention_bounds(c, purpose, &record.events, at).collect()
    }

    /// The record at `index`, if it is due at `at`.
    fn due_one(&self, index: usize, r: &RetentionRecord, at: DateTime<Utc>) -> Option<Due> {
        let (c, purpose) = self.engine.record_ids(&r.category, r.purpose.as_ref())?;
        if hold_active(&r.events, at) || retained_until(&r.events, at).is_some() {
            return None;
        }
        let bounds: Vec<Bounds<'_>> = self.engine.retention_bounds(c, purpose, &r.events, at).collect();
        let blocked = bounds.iter().any(|b| b.minimum_pending(at) || matches!(b.minimum_ends, Some(Err(()))));
        if blocked {
            return None;
        }
        let passed: Vec<(&RetentionRule, DateTime<FixedOffset>)> =
            bounds.iter().filter_map(|b| b.maximum_passed(at).map(|m| (b.rule, m))).collect();
        let since = match (passed.iter().map(|(_, m)| *m).min(), cancelled_by(&r.events, at)) {
            (Some(since), _) => since,
            (None, Some(c)) if !bounds.is_empty() && bounds.iter().all(|b| b.maximum_ends.is_none()) => {
                bounds.iter().filter_map(|b| b.minimum_ends.and_then(Result::ok)).fold(c, DateTime::max)
            }
            _ => return None,
        };
        let passed = if passed.is_empty() { bounds.iter().map(|b| (b.rule, since)).collect() } else { passed };
        let mut obligations = Vec::new();
        if passed.iter().any(|(rule, _)| rule.backups_at_next_cycle) {
            obligations.push(Obligation::PurgeBackupsAtNextCycle);
        }
        if passed.iter().any(|(rule, _)| rule.isolate_backups) {
            obligations.push(Obligation::IsolateBackups);
        }
        let mut rules: Vec<RuleId> = passed.iter().map(|(rule, _)| rule.id.clone()).collect();
        rules.sort();
        rules.dedup();
        Some(Due { index, end: end_action(passed.iter().map(|(rule, _)| *rule)), since, rules, obligations })
    }
}
