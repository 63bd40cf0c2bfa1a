//! Constructors of the policy's parts, for code that builds a policy
//! without JSON. Each takes the fields a part cannot do without; the others
//! start empty (or at their documented default) and are public to set.

use chrono::{DateTime, FixedOffset};

use super::ground::Ground;
use super::{
    AccountLifecycle, AcknowledgedWarning, Action, ActionRule, CategoryDecl, ConsentRequirement, DataState,
    DataStateRule, DiagnosticCode, Domestic, EndAction, Exception, MinorEffect, MinorRule, Minors, Policy, Purpose,
    PurposeBasis, Recipient, RecipientKind, RetentionRule, SCHEMA_VERSION, Settings, Trigger,
};
use crate::consent::ConsentQualities;
use crate::ids::{PolicyId, PurposeId, RecipientId, RuleId};
use crate::taxonomy::{CategoryKey, Sensitivity};

impl Policy {
    /// An empty policy (no purpose, no rule: every request is denied), in
    /// effect since the earliest time, in English, with default settings.
    /// Unvalidated: [`Policy::validate`] checks it.
    pub fn new(id: impl Into<PolicyId>, version: impl Into<String>) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            id: id.into(),
            version: version.into(),
            effective: DateTime::<FixedOffset>::MIN_UTC.fixed_offset(),
            language: "en".to_owned(),
            source: None,
            notes: Vec::new(),
            controller: None,
            responsible: None,
            contacts: Vec::new(),
            complaints: Vec::new(),
            rights: Vec::new(),
            impact_assessment: None,
            incident_notice: None,
            acknowledged_warnings: Vec::new(),
            settings: Settings::default(),
            categories: Vec::new(),
            purposes: Vec::new(),
            consent_requirements: Vec::new(),
            recipients: Vec::new(),
            named_in_consent: Vec::new(),
            actions: Vec::new(),
            minors: None,
            retention: Vec::new(),
            lifecycle: AccountLifecycle::default(),
        }
    }
}

impl AcknowledgedWarning {
    /// Accepts the warning `code` at `path` for `reason`.
    pub fn new(code: DiagnosticCode, path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { code, path: path.into(), reason: reason.into() }
    }
}

impl CategoryDecl {
    /// Declares `key` with the sensitivity it inherits.
    pub fn new(key: CategoryKey) -> Self {
        Self { key, sensitivity: None, description: None, cites: None }
    }

    /// Sets the sensitivity.
    pub fn sensitivity(mut self, sensitivity: Sensitivity) -> Self {
        self.sensitivity = Some(sensitivity);
        self
    }
}

impl Purpose {
    /// A purpose with its basis and the categories it needs.
    pub fn new(id: impl Into<PurposeId>, basis: PurposeBasis, categories: Vec<CategoryKey>) -> Self {
        Self {
            id: id.into(),
            description: None,
            basis,
            categories,
            permission: None,
            processing: Vec::new(),
            cites: None,
        }
    }
}

impl ConsentRequirement {
    /// Consent of `qualities` for `actions`, on every purpose and category.
    pub fn new(id: impl Into<RuleId>, actions: Vec<Action>, qualities: ConsentQualities) -> Self {
        Self {
            id: id.into(),
            actions,
            purposes: Vec::new(),
            categories: Vec::new(),
            qualities,
            recipient_kinds: Vec::new(),
            cites: None,
        }
    }
}

impl Recipient {
    /// A recipient of `kind` in `region` that may receive nothing yet (no
    /// category, no purpose), identifiable data once it may.
    pub fn new(id: impl Into<RecipientId>, kind: RecipientKind, region: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind,
            name: None,
            contact: None,
            region: region.into(),
            agreements: Vec::new(),
            categories: Vec::new(),
            purposes: Vec::new(),
            data_state: DataState::Identifiable,
            cites: None,
        }
    }
}

impl ActionRule {
    /// The rule for `action` with no way to permit it yet: no consent, no
    /// core purposes, no exception.
    pub fn new(id: impl Into<RuleId>, action: Action) -> Self {
        Self {
            id: id.into(),
            action,
            consent: None,
            core_purposes: false,
            recipient_kinds: Vec::new(),
            recipient_requires: Vec::new(),
            recipient_requires_kinds: Vec::new(),
            data_states: Vec::new(),
            exceptions: Vec::new(),
            duties: Vec::new(),
            within_purpose: true,
            domestic: Domestic::default(),
            allow_abroad: false,
            cites: None,
        }
    }
}

impl DataStateRule {
    /// Data less protected than `at_least` is denied, for every purpose and
    /// recipient kind.
    pub fn new(at_least: DataState) -> Self {
        Self { purposes: Vec::new(), recipient_kinds: Vec::new(), at_least, cites: None }
    }
}

impl Exception {
    /// An exception on `ground`, with no evidence or duty beyond the
    /// ground's own.
    pub fn new(id: impl Into<RuleId>, ground: Ground) -> Self {
        Self {
            id: id.into(),
            ground,
            requires: Vec::new(),
            recipient_kinds: Vec::new(),
            duties: Vec::new(),
            cites: None,
        }
    }
}

impl Minors {
    /// A guardian's consent of `guardian_qualities` below
    /// `guardian_consent_below`, and no further rule.
    pub fn new(id: impl Into<RuleId>, guardian_consent_below: u8, guardian_qualities: ConsentQualities) -> Self {
        Self { id: id.into(), guardian_consent_below, guardian_qualities, rules: Vec::new(), cites: None }
    }
}

impl MinorRule {
    /// A rule with `effect` below `below_age`, for every action and purpose.
    pub fn new(id: impl Into<RuleId>, below_age: u8, effect: MinorEffect) -> Self {
        Self {
            id: id.into(),
            below_age,
            effect,
            actions: Vec::new(),
            purposes: Vec::new(),
            requires_real_name: false,
            cites: None,
        }
    }
}

impl RetentionRule {
    /// A rule from `trigger` ending in `end_action`, for every category and
    /// purpose, with no minimum or maximum yet.
    pub fn new(id: impl Into<RuleId>, trigger: Trigger, end_action: EndAction) -> Self {
        Self {
            id: id.into(),
            categories: Vec::new(),
            purposes: Vec::new(),
            trigger,
            minimum: None,
            maximum: None,
            end_action,
            backups_at_next_cycle: false,
            isolate_backups: false,
            notify_recipients: false,
            cites: None,
        }
    }
}
