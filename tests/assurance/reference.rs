//! The reference evaluator: the executable specification of
//! `Engine::evaluate`, written for clarity rather than speed.
//!
//! It reads the `Policy` directly (its pub fields), tests categories by their
//! dotted keys, and replays the consent events itself instead of asking a
//! `ConsentStore`. It follows the README ("The evaluate interface"),
//! DESIGN.md and the rustdoc of the public types; where those are silent it
//! follows the engine's reading, and each such place says so ("Engine
//! reading"). Where the engine disagrees with the documents, this model
//! follows the documents and `main.rs` lists the disagreement.
//!
//! Messages are left empty: the differential test compares everything but
//! `Reason::message`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, Utc};
use privacy_engine::{
    Action, ActionRule, CategoryKey, CategoryOutcome, Cites, ConsentChange, ConsentEvent, ConsentFrom,
    ConsentQualities, DataState, Decision, Duty, Effect, EndAction, Exception, MAX_AGE, MinorEffect, MinorRule,
    NoticeField, Obligation, Permission, Policy, Purpose, PurposeBasis, PurposeId, Reason, Recipient, RecipientId,
    RecipientKind, RecipientRequirement, RetentionRule, RuleId, Sensitivity, SubjectId, Taxonomy, UnknownAge, Unmet,
    Verdict,
};

/// Below this age a child's personal data is sensitive (PIPL art. 28), and
/// without a minors section the guardian's consent is needed (PIPL art. 31).
const PIPL_CHILD_AGE: u8 = 14;

fn builtin(name: &str) -> RuleId {
    RuleId::new(format!("builtin.{name}"))
}

fn reason(rule: RuleId, effect: Effect, cites: Option<&Cites>) -> Reason {
    Reason { rule, effect, cites: cites.cloned(), message: "".into() }
}

/// The consent history, replayed from the raw events on every question.
pub(crate) struct Events<'a>(pub &'a [ConsentEvent]);

impl Events<'_> {
    /// The subject's events at or before `at`, in time order, ties in the
    /// order given.
    fn as_of(&self, subject: &SubjectId, at: DateTime<Utc>) -> Vec<&ConsentEvent> {
        let mut evs: Vec<&ConsentEvent> =
            self.0.iter().filter(|e| &e.subject == subject && e.at.with_timezone(&Utc) <= at).collect();
        evs.sort_by_key(|e| e.at.with_timezone(&Utc)); // stable
        evs
    }

    /// Whether the device permission is on: the latest switch at or before
    /// `at` says so (off when never switched).
    pub(crate) fn permission_on(&self, subject: &SubjectId, permission: Permission, at: DateTime<Utc>) -> bool {
        let mut on = false;
        for e in self.as_of(subject, at) {
            match &e.change {
                ConsentChange::PermissionOn { permission: p } if *p == permission => on = true,
                ConsentChange::PermissionOff { permission: p } if *p == permission => on = false,
                _ => {}
            }
        }
        on
    }

    /// Whether a single grant with all of `required` is in force at `at` for
    /// `purpose` × `category` (and the recipient). A grant on `category` or
    /// on an ancestor in `covering` counts; a grant to one recipient counts
    /// only for that recipient; an ending event (refuse, withdraw, expire,
    /// revoke) on the category, an ancestor or a descendant ends the grants
    /// before it (for the query's recipient only, when it names one); a grant's own
    /// expiry ends it from that instant.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn has_consent(
        &self,
        subject: &SubjectId,
        purpose: &PurposeId,
        category: &CategoryKey,
        covering: &[CategoryKey],
        recipient: Option<&RecipientId>,
        required: ConsentQualities,
        at: DateTime<Utc>,
    ) -> bool {
        struct Live {
            qualities: ConsentQualities,
            expires: Option<DateTime<Utc>>,
        }
        let mut live: Vec<Live> = Vec::new();
        for e in self.as_of(subject, at) {
            let Some(scope) = e.change.scope() else { continue };
            if !scope.purposes.contains(purpose) {
                continue;
            }
            if let ConsentChange::Grant { qualities, expires, .. } = &e.change {
                let covers = scope.categories.iter().any(|c| c == category || covering.contains(c));
                let to_recipient = match (&scope.recipient, recipient) {
                    (None, _) => true,
                    (Some(r), Some(want)) => r == want,
                    (Some(_), None) => false,
                };
                if covers && to_recipient {
                    live.push(Live { qualities: *qualities, expires: expires.map(|x| x.with_timezone(&Utc)) });
                }
            } else if scope.recipient.as_ref().is_none_or(|r| recipient == Some(r))
                && scope.categories.iter().any(|c| category.is_within(c) || c.is_within(category))
            {
                // An ending event for one recipient ends every grant as far
                // as that recipient is concerned.
                live.clear();
            }
        }
        live.iter().any(|g| g.qualities.contains(required) && g.expires.is_none_or(|x| at < x))
    }
}

/// One category's outcome while it is being decided.
struct Draft {
    key: CategoryKey,
    permit: bool,
    reasons: Vec<Reason>,
    obligations: Vec<Obligation>,
    unmet: Vec<Unmet>,
    /// The ground of the exception that permitted the category, if one did.
    by_exception: Option<privacy_engine::Ground>,
}

impl Draft {
    fn permit(&mut self, r: Reason) {
        self.permit = true;
        self.reasons.push(r);
    }
    fn deny(&mut self, r: Reason) {
        self.permit = false;
        self.reasons.push(r);
    }
    fn note(&mut self, rule: RuleId, cites: Option<&Cites>) {
        self.reasons.push(reason(rule, Effect::Note, cites));
    }
    fn has_deny(&self) -> bool {
        self.reasons.iter().any(|r| r.effect == Effect::Deny)
    }
}

/// Everything a category decision needs.
struct Ctx<'a> {
    policy: &'a Policy,
    tax: &'a Taxonomy,
    events: &'a Events<'a>,
    req: &'a privacy_engine::Request,
    at: DateTime<Utc>,
    rule: &'a ActionRule,
    purpose: Option<&'a Purpose>,
    recipient: Option<&'a Recipient>,
    age: Option<u8>,
}

/// Decides `req` under `policy` with the consent history `events` (the
/// events a ledger accepted, in append order).
pub(crate) fn decide(policy: &Policy, events: &[ConsentEvent], req: &privacy_engine::Request) -> Decision {
    let tax = policy.taxonomy();
    let events = Events(events);
    let mut top: Vec<Reason> = Vec::new();
    let deny = |top: &mut Vec<Reason>, name: &str| top.push(reason(builtin(name), Effect::Deny, None));

    if req.categories.is_empty() {
        deny(&mut top, "no_category");
    }
    for key in &req.categories {
        if !tax.contains(key) {
            deny(&mut top, "undeclared_category");
        }
    }
    let rule = policy.actions.iter().find(|r| r.action == req.action);
    if rule.is_none() {
        deny(&mut top, "undeclared_action");
    }
    let retention_action = matches!(req.action, Action::Retain | Action::Delete | Action::Anonymise);
    let purpose = match &req.purpose {
        Some(id) => {
            let p = policy.purposes.iter().find(|p| &p.id == id);
            if p.is_none() {
                deny(&mut top, "undeclared_purpose");
            }
            p
        }
        None => {
            if !retention_action {
                deny(&mut top, "missing_purpose");
            }
            None
        }
    };
    let recipient = match &req.recipient {
        Some(id) => {
            let r = policy.recipients.iter().find(|r| &r.id == id);
            if r.is_none() {
                deny(&mut top, "undeclared_recipient");
            }
            r
        }
        None => {
            // Disclosure may go to the public at large without a named party.
            if matches!(req.action, Action::Share | Action::Entrust | Action::Transfer | Action::CrossBorder) {
                deny(&mut top, "missing_recipient");
            }
            None
        }
    };
    if let (Some(rule), Some(r)) = (rule, recipient) {
        // The rule's kinds, widened by an exception of the claimed ground
        // that lists the kind.
        let by_rule = rule.recipient_kinds.is_empty() || rule.recipient_kinds.contains(&r.kind);
        let by_exception = req.exception.as_ref().is_some_and(|claim| {
            rule.exceptions.iter().any(|e| e.ground == claim.ground && e.recipient_kinds.contains(&r.kind))
        });
        if !by_rule && !by_exception {
            top.push(reason(rule.id.clone(), Effect::Deny, rule.cites.as_ref()));
        }
    }
    let age = resolve_age(policy, req, &mut top);

    let top_denied = top.iter().any(|r| r.effect == Effect::Deny);
    let mut drafts = Vec::new();
    for key in &req.categories {
        let mut d = Draft {
            key: key.clone(),
            permit: false,
            reasons: vec![],
            obligations: vec![],
            unmet: vec![],
            by_exception: None,
        };
        if let (false, Some(rule), true) = (top_denied, rule, tax.contains(key)) {
            let ctx = Ctx {
                policy,
                tax: &tax,
                events: &events,
                req,
                at: req.at.with_timezone(&Utc),
                rule,
                purpose,
                recipient,
                age,
            };
            decide_category(&ctx, &mut d);
        }
        drafts.push(d);
    }
    finish(req.action, top, drafts)
}

/// The age the decision uses: from the birth date (which overrides the
/// stated age) on the calendar day of the request in the policy's time
/// zone, the stated age, or what the policy assumes for an unknown age
/// (0 for a minor, 150 for an adult), noted.
fn resolve_age(policy: &Policy, req: &privacy_engine::Request, top: &mut Vec<Reason>) -> Option<u8> {
    if let Some(birth) = req.subject.birth_date {
        let tz = FixedOffset::east_opt(policy.settings.utc_offset_seconds).unwrap();
        let today: NaiveDate = req.at.with_timezone(&tz).date_naive();
        if birth > today {
            top.push(reason(builtin("invalid_birth_date"), Effect::Deny, None));
            return None;
        }
        let mut years = today.year() - birth.year();
        if (today.month(), today.day()) < (birth.month(), birth.day()) {
            years -= 1;
        }
        if years > i32::from(MAX_AGE) {
            top.push(reason(builtin("invalid_age"), Effect::Deny, None));
            return None;
        }
        return Some(u8::try_from(years).unwrap());
    }
    match req.subject.age {
        Some(a) if a > MAX_AGE => {
            top.push(reason(builtin("invalid_age"), Effect::Deny, None));
            None
        }
        Some(a) => Some(a),
        None => match policy.settings.unknown_age {
            UnknownAge::Adult => {
                top.push(reason(builtin("unknown_age_assumed_adult"), Effect::Note, None));
                Some(MAX_AGE)
            }
            UnknownAge::Minor => {
                top.push(reason(builtin("unknown_age_assumed_minor"), Effect::Note, None));
                Some(0)
            }
        },
    }
}

fn within_any(key: &CategoryKey, keys: &[CategoryKey]) -> bool {
    keys.iter().any(|k| key.is_within(k))
}

impl Ctx<'_> {
    fn base_sensitivity(&self, key: &CategoryKey) -> Sensitivity {
        self.tax.get(key).unwrap().sensitivity
    }

    /// The category's sensitivity, personal data of a child under 14 raised
    /// to sensitive (PIPL art. 28).
    fn sensitivity(&self, key: &CategoryKey) -> Sensitivity {
        let base = self.base_sensitivity(key);
        if base == Sensitivity::Personal && self.age.is_some_and(|a| a < PIPL_CHILD_AGE) {
            Sensitivity::Sensitive
        } else {
            base
        }
    }

    fn below(&self, age: u8) -> bool {
        self.age.is_some_and(|a| a < age)
    }

    /// The ancestors whose grants cover `key`: those of the same or higher
    /// sensitivity (`Scope::categories`).
    fn covering(&self, key: &CategoryKey) -> Vec<CategoryKey> {
        let own = self.base_sensitivity(key);
        let mut out = Vec::new();
        let mut p = key.parent();
        while let Some(a) = p {
            if self.tax.get(&a).is_some_and(|i| i.sensitivity >= own) {
                out.push(a.clone());
            }
            p = a.parent();
        }
        out
    }

    fn consent(&self, key: &CategoryKey, required: ConsentQualities, with_recipient: bool) -> bool {
        let Some(p) = self.purpose else { return false };
        self.events.has_consent(
            &self.req.subject.id,
            &p.id,
            key,
            &self.covering(key),
            if with_recipient { self.recipient.map(|r| &r.id) } else { None },
            required,
            self.at,
        )
    }

    fn in_purpose(&self, key: &CategoryKey) -> bool {
        self.purpose.is_some_and(|p| within_any(key, &p.categories))
    }

    fn minor_rule_applies(&self, r: &MinorRule) -> bool {
        self.below(r.below_age)
            && (!r.requires_real_name || self.req.subject.real_name_verified)
            && (r.actions.is_empty() || r.actions.contains(&self.req.action))
            && (r.purposes.is_empty() || self.purpose.is_some_and(|p| r.purposes.contains(&p.id)))
    }

    /// Deny rules for minors: denied whatever the consent, until the age.
    fn minors_deny(&self, d: &mut Draft) -> bool {
        let Some(m) = &self.policy.minors else { return false };
        let mut denied = false;
        for r in m.rules.iter().filter(|r| r.effect == MinorEffect::Deny && self.minor_rule_applies(r)) {
            d.deny(reason(r.id.clone(), Effect::Deny, r.cites.as_ref()));
            d.unmet.push(Unmet::AgeAtLeast { age: r.below_age });
            denied = true;
        }
        denied
    }

    /// The guardian's share: below the threshold the guardian's separate
    /// consent (with the policy's guardian qualities); minors rules may ask
    /// a guardian's consent above it, or guidance.
    fn guardian_needs(&self, d: &mut Draft, q: &mut ConsentQualities, rules: &mut Vec<RuleId>) {
        match &self.policy.minors {
            Some(m) => {
                if self.below(m.guardian_consent_below) {
                    *q |= m.guardian_qualities | ConsentQualities::GUARDIAN | ConsentQualities::separate();
                    rules.push(m.id.clone());
                }
                for r in m.rules.iter().filter(|r| self.minor_rule_applies(r)) {
                    match r.effect {
                        MinorEffect::GuardianConsent => {
                            *q |= m.guardian_qualities | ConsentQualities::GUARDIAN | ConsentQualities::AFFIRMATIVE;
                            rules.push(r.id.clone());
                        }
                        MinorEffect::Guidance => {
                            d.obligations.push(Obligation::GuardianGuidance);
                            d.note(r.id.clone(), r.cites.as_ref());
                        }
                        MinorEffect::Deny => {}
                    }
                }
            }
            None => {
                if self.below(PIPL_CHILD_AGE) {
                    *q |= ConsentQualities::GUARDIAN | ConsentQualities::separate();
                    rules.push(builtin("pipl_guardian_consent"));
                }
            }
        }
    }

    /// The policy's consent requirements on this action, purpose and
    /// category.
    fn policy_requirements(&self, key: &CategoryKey) -> (ConsentQualities, Vec<RuleId>) {
        let mut q = ConsentQualities::empty();
        let mut rules = Vec::new();
        for r in &self.policy.consent_requirements {
            let applies = r.actions.contains(&self.req.action)
                && (r.purposes.is_empty() || self.purpose.is_some_and(|p| r.purposes.contains(&p.id)))
                && (r.categories.is_empty() || within_any(key, &r.categories));
            if applies {
                q |= r.qualities;
                rules.push(r.id.clone());
            }
        }
        (q, rules)
    }

    fn cites_of(&self, id: &RuleId) -> Option<Cites> {
        let p = self.policy;
        if let Some(r) = p.consent_requirements.iter().find(|r| &r.id == id) {
            return r.cites.clone();
        }
        if let Some(m) = &p.minors {
            if &m.id == id {
                return m.cites.clone();
            }
            if let Some(r) = m.rules.iter().find(|r| &r.id == id) {
                return r.cites.clone();
            }
        }
        p.actions.iter().find(|r| &r.id == id).and_then(|r| r.cites.clone())
    }

    fn require_consent(&self, d: &mut Draft, q: ConsentQualities, rules: Vec<RuleId>, with_recipient: bool) {
        let key = d.key.clone();
        let effect = if self.consent(&key, q, with_recipient) { Effect::Permit } else { Effect::Deny };
        for r in &rules {
            let cites = self.cites_of(r);
            let rs = reason(r.clone(), effect, cites.as_ref());
            if effect == Effect::Permit { d.permit(rs) } else { d.deny(rs) }
        }
        if effect == Effect::Deny {
            let p = self.purpose.unwrap();
            d.unmet.push(Unmet::Consent {
                purpose: p.id.clone(),
                categories: vec![key],
                qualities: q,
                from: if q.contains(ConsentQualities::GUARDIAN) { ConsentFrom::Guardian } else { ConsentFrom::Subject },
                recipient: if with_recipient { self.recipient.map(|r| r.id.clone()) } else { None },
                rules,
            });
        }
    }

    /// The claimed exception, if the action rule lists its ground (for the
    /// recipient's kind) and the request carries the evidence the ground
    /// and the exception need.
    fn exception(&self, d: &mut Draft) -> Option<&Exception> {
        let claim = self.req.exception.as_ref()?;
        let mut listed = false;
        for e in self.rule.exceptions.iter().filter(|e| e.ground == claim.ground) {
            if let Some(r) = self.recipient {
                let kinds = if e.recipient_kinds.is_empty() { &self.rule.recipient_kinds } else { &e.recipient_kinds };
                if !kinds.is_empty() && !kinds.contains(&r.kind) {
                    continue;
                }
            }
            listed = true;
            let missing: Vec<_> =
                claim.ground.evidence().iter().chain(&e.requires).filter(|ev| !claim.evidence.contains(ev)).collect();
            if missing.is_empty() {
                return Some(e);
            }
            d.note(e.id.clone(), e.cites.as_ref());
            for ev in missing {
                d.unmet.push(Unmet::Evidence { ground: claim.ground, evidence: *ev });
            }
        }
        if !listed {
            d.note(builtin("exception_not_available"), None);
        }
        None
    }

    fn permit_by_exception(&self, d: &mut Draft, e: &Exception) {
        d.by_exception = Some(e.ground);
        d.permit(reason(e.id.clone(), Effect::Permit, e.cites.as_ref()));
        for duty in e.ground.duties().iter().chain(&e.duties) {
            self.duty(d, *duty);
        }
    }

    fn request_categories(&self) -> Vec<CategoryKey> {
        let set: BTreeSet<CategoryKey> = self.req.categories.iter().cloned().collect();
        set.into_iter().collect()
    }

    /// The recipients that may have received a category (not the public),
    /// sorted (every list of a decision is sorted).
    fn recipients_of(&self, key: &CategoryKey) -> Vec<RecipientId> {
        let set: BTreeSet<RecipientId> = self
            .policy
            .recipients
            .iter()
            .filter(|r| r.kind != RecipientKind::Public && within_any(key, &r.categories))
            .map(|r| r.id.clone())
            .collect();
        set.into_iter().collect()
    }

    fn notice_fields(&self) -> Vec<NoticeField> {
        use NoticeField as F;
        match self.req.action {
            Action::Share | Action::CrossBorder => {
                vec![F::RecipientName, F::RecipientContact, F::Purpose, F::Method, F::Categories, F::RightsExercise]
            }
            Action::Transfer => vec![F::RecipientName, F::RecipientContact],
            _ => vec![F::Purpose, F::Method, F::Categories, F::Retention],
        }
    }

    /// A duty as a typed obligation; duties about a recipient or a purpose
    /// the request lacks fall away.
    fn duty(&self, d: &mut Draft, duty: Duty) {
        let rid = self.recipient.map(|r| r.id.clone());
        let o = match duty {
            Duty::DeIdentifyFirst if self.req.data_state == DataState::Identifiable => Obligation::DeIdentifyFirst,
            Duty::DeIdentifyFirst => return,
            Duty::AnonymiseFirst => Obligation::AnonymiseFirst,
            Duty::Minimise => Obligation::Minimise { categories: self.request_categories() },
            Duty::Encrypt => Obligation::Encrypt,
            Duty::NotifySubject => Obligation::NotifySubject { fields: self.notice_fields() },
            Duty::BindRecipientToPurpose => match (rid, self.purpose) {
                (Some(recipient), Some(p)) => Obligation::BindRecipientToPurpose { recipient, purpose: p.id.clone() },
                _ => return,
            },
            Duty::ConfidentialityAgreement => match rid {
                Some(recipient) => Obligation::ConfidentialityAgreement { recipient },
                None => return,
            },
            Duty::TransferMechanism => match rid {
                Some(recipient) => Obligation::TransferMechanism { recipient },
                None => return,
            },
            Duty::ImpactAssessment => Obligation::ImpactAssessment,
            Duty::LegalDocuments => Obligation::LegalDocuments,
            Duty::EncryptDisclosure => Obligation::EncryptDisclosure,
            Duty::DeIdentifyResults => Obligation::DeIdentifyResults,
            Duty::NotForProfit => Obligation::NotForProfit,
            Duty::NewHolderBound => Obligation::NewHolderBound,
            Duty::AdvanceNotice => Obligation::AdvanceNotice,
            Duty::NotifyRecipients => Obligation::NotifyRecipients { recipients: self.recipients_of(&d.key) },
            Duty::NoReidentification => Obligation::NoReidentification,
        };
        d.obligations.push(o);
    }
}

fn decide_category(ctx: &Ctx<'_>, d: &mut Draft) {
    let req = ctx.req;
    let key = d.key.clone();
    if !req.data_state.is_personal() {
        d.permit(reason(builtin("anonymised_out_of_scope"), Effect::Permit, None));
        d.obligations.push(Obligation::NoReidentification);
        return;
    }
    let sensitivity = ctx.sensitivity(&key);
    if sensitivity == Sensitivity::NonPersonal {
        if !req.linked_to_identity {
            d.permit(reason(builtin("non_personal"), Effect::Permit, None));
            return;
        }
        d.note(builtin("linked_to_identity"), None);
    }
    if req.data_state == DataState::DeIdentified {
        d.note(builtin("de_identified_is_personal"), None);
    }
    match req.action {
        Action::Collect | Action::Use => collect_use(ctx, sensitivity, d),
        Action::Share | Action::Entrust | Action::Transfer | Action::CrossBorder | Action::Disclose => {
            provide(ctx, sensitivity, d)
        }
        Action::Retain | Action::Delete | Action::Anonymise => retention(ctx, d),
    }
    // Engine reading (undocumented): cancelling the account withdraws every
    // authorisation; only storage, security, deletion and the exception
    // grounds remain.
    let retention_action = matches!(req.action, Action::Retain | Action::Delete | Action::Anonymise);
    let cancelled = req.events.account_cancelled.is_some_and(|t| t.with_timezone(&Utc) <= ctx.at);
    if cancelled && !retention_action && d.by_exception.is_none() {
        d.deny(reason(builtin("account_cancelled"), Effect::Deny, None));
    }
    if d.permit && !d.has_deny() {
        // The action's duties; an authority's request may have to stay
        // confidential, so it carries no notice to the person.
        let confidential = matches!(
            d.by_exception,
            Some(privacy_engine::Ground::AuthorityRequest)
                | Some(privacy_engine::Ground::CriminalProceedings)
                | Some(privacy_engine::Ground::NationalSecurity)
        );
        // The rule is noted whenever it has a duty that applies.
        let mut any = false;
        for duty in ctx.rule.duties.iter().filter(|duty| !(confidential && **duty == Duty::NotifySubject)) {
            ctx.duty(d, *duty);
            any = true;
        }
        if any {
            d.note(ctx.rule.id.clone(), ctx.rule.cites.as_ref());
        }
    } else {
        d.permit = false;
        // Obligations are the conditions of a permit; a denial keeps only
        // what it leaves the app to do (guidance for a minor).
        if !retention_action {
            d.obligations.retain(|o| matches!(o, Obligation::GuardianGuidance));
        }
    }
}

fn collect_use(ctx: &Ctx<'_>, sensitivity: Sensitivity, d: &mut Draft) {
    let Some(p) = ctx.purpose else { return };
    if !ctx.in_purpose(&d.key) {
        d.deny(reason(builtin("category_not_in_purpose"), Effect::Deny, p.cites.as_ref()));
        return;
    }
    // A permission gates collection; the policy may say it gates use too.
    if ctx.req.action == Action::Collect || ctx.policy.settings.permission_off_stops_use {
        if let Some(perm) = p.permission {
            if !ctx.events.permission_on(&ctx.req.subject.id, perm, ctx.at) {
                d.deny(reason(builtin("permission_off"), Effect::Deny, p.cites.as_ref()));
                d.unmet.push(Unmet::Permission { permission: perm });
            }
        }
    }
    if let Some(e) = ctx.exception(d) {
        if !d.has_deny() {
            ctx.permit_by_exception(d, e);
            if sensitivity == Sensitivity::Sensitive {
                d.obligations.push(Obligation::Encrypt);
            }
            d.obligations.push(Obligation::Minimise { categories: ctx.request_categories() });
        }
        return;
    }
    if ctx.minors_deny(d) {
        return;
    }
    let (mut q, mut rules) = ctx.policy_requirements(&d.key);
    match p.basis {
        PurposeBasis::Optional => {
            if q.is_empty() {
                q = ConsentQualities::AFFIRMATIVE;
                rules.push(builtin("optional_purpose_consent"));
            }
            if sensitivity == Sensitivity::Sensitive && !q.contains(ConsentQualities::SEPARATE) {
                q |= ConsentQualities::separate();
                rules.push(builtin("sensitive_separate_consent"));
            }
        }
        PurposeBasis::Core => {
            d.permit(reason(RuleId::new(p.id.as_str()), Effect::Permit, p.cites.as_ref()));
        }
    }
    ctx.guardian_needs(d, &mut q, &mut rules);
    if !q.is_empty() {
        ctx.require_consent(d, q, rules, false);
    }
    if d.permit && !d.has_deny() {
        if sensitivity == Sensitivity::Sensitive {
            d.obligations.push(Obligation::Encrypt);
            d.obligations.push(Obligation::NotifySubject {
                fields: vec![NoticeField::Purpose, NoticeField::Necessity, NoticeField::Impact],
            });
        }
        d.obligations.push(Obligation::Minimise { categories: ctx.request_categories() });
    }
}

fn provide(ctx: &Ctx<'_>, sensitivity: Sensitivity, d: &mut Draft) {
    let Some(p) = ctx.purpose else { return };
    let rule = ctx.rule;
    let action = ctx.req.action;
    let key = d.key.clone();
    if !ctx.in_purpose(&key) {
        d.deny(reason(builtin("category_not_in_purpose"), Effect::Deny, p.cites.as_ref()));
    }
    let home = &ctx.policy.settings.home_region;
    if let Some(r) = ctx.recipient {
        let rid = RuleId::new(r.id.as_str());
        if !within_any(&key, &r.categories) {
            d.deny(reason(rid.clone(), Effect::Deny, r.cites.as_ref()));
        }
        if !r.purposes.contains(&p.id) {
            d.deny(reason(rid.clone(), Effect::Deny, r.cites.as_ref()));
        }
        if ctx.req.data_state.protection() < r.data_state.protection() {
            d.deny(reason(rid, Effect::Deny, r.cites.as_ref()));
            d.unmet.push(Unmet::DataState { at_least: r.data_state });
        }
        // Authorities and the public sign no agreements.
        if !matches!(r.kind, RecipientKind::Authority | RecipientKind::Public) {
            for rr in &rule.recipient_requires {
                let has = r.agreements.iter().any(|a| match rr {
                    RecipientRequirement::Confidentiality => *a == privacy_engine::Agreement::Confidentiality,
                    RecipientRequirement::ProcessingContract => *a == privacy_engine::Agreement::ProcessingContract,
                    RecipientRequirement::TransferMechanism => a.is_transfer_mechanism(),
                    RecipientRequirement::AdvertisingRules => *a == privacy_engine::Agreement::AdvertisingRules,
                });
                if !has {
                    d.deny(reason(rule.id.clone(), Effect::Deny, rule.cites.as_ref()));
                    d.unmet.push(Unmet::Agreement { recipient: r.id.clone(), requirement: *rr });
                }
            }
        }
        let destination = ctx.req.destination_region.as_ref().unwrap_or(&r.region);
        let abroad = destination != home;
        if action == Action::CrossBorder && !abroad {
            d.deny(reason(builtin("not_cross_border"), Effect::Deny, None));
        }
        if abroad && action != Action::CrossBorder {
            d.deny(reason(builtin("cross_border_required"), Effect::Deny, None));
        }
    } else if action != Action::Disclose {
        return;
    }
    if let Some(e) = ctx.exception(d) {
        if !d.has_deny() {
            ctx.permit_by_exception(d, e);
            provide_obligations(ctx, d, false);
        }
        return;
    }
    if ctx.minors_deny(d) {
        return;
    }
    let mut q = ConsentQualities::empty();
    let mut rules = Vec::new();
    let mut by_consent = false;
    // Entrustment rests on the processing contract (PIPL art. 21); core
    // purposes may rest on the contract when the rule says so.
    if (action == Action::Entrust && rule.consent.is_none()) || (rule.core_purposes && p.basis == PurposeBasis::Core) {
        d.permit(reason(rule.id.clone(), Effect::Permit, rule.cites.as_ref()));
    } else if let Some(needed) = rule.consent {
        q = needed;
        rules.push(rule.id.clone());
        by_consent = true;
    } else {
        d.deny(reason(builtin("no_basis"), Effect::Deny, rule.cites.as_ref()));
        return;
    }
    let (pq, prules) = ctx.policy_requirements(&key);
    q |= pq;
    rules.extend(prules);
    // Sensitive data provided on consent needs separate consent (PIPL art.
    // 29), unless the requirements already ask it.
    if by_consent && sensitivity == Sensitivity::Sensitive && !q.contains(ConsentQualities::SEPARATE) {
        q |= ConsentQualities::separate();
        rules.push(builtin("sensitive_separate_consent"));
    }
    ctx.guardian_needs(d, &mut q, &mut rules);
    if !q.is_empty() {
        ctx.require_consent(d, q, rules, true);
    }
    if d.permit && !d.has_deny() {
        provide_obligations(ctx, d, true);
    }
}

fn provide_obligations(ctx: &Ctx<'_>, d: &mut Draft, by_consent: bool) {
    let action = ctx.req.action;
    let duties: &[Duty] = match action {
        Action::Share => &[Duty::BindRecipientToPurpose, Duty::NotifySubject],
        Action::Entrust => &[Duty::BindRecipientToPurpose, Duty::ImpactAssessment],
        Action::Transfer => &[Duty::NotifySubject, Duty::NewHolderBound],
        Action::CrossBorder => &[Duty::TransferMechanism, Duty::ImpactAssessment, Duty::NotifySubject],
        Action::Disclose => &[Duty::ImpactAssessment],
        _ => &[],
    };
    for duty in duties {
        // Engine reading: a permit on an exception ground needs no notice,
        // but a transfer's notice to the person is always owed (art. 22).
        if *duty == Duty::NotifySubject && !by_consent && action != Action::Transfer {
            continue;
        }
        ctx.duty(d, *duty);
    }
    if ctx.recipient.is_some_and(|r| !matches!(r.kind, RecipientKind::Authority | RecipientKind::Public))
        && ctx.rule.recipient_requires.contains(&RecipientRequirement::Confidentiality)
    {
        ctx.duty(d, Duty::ConfidentialityAgreement);
    }
    if ctx.req.data_state == DataState::DeIdentified {
        d.obligations.push(Obligation::NoReidentification);
    }
}

/// The instant from which a period starting at `from` has run out: on the
/// policy's calendar, with its month-end convention, the day after the last
/// day when the last day is inside the period.
fn period_end(policy: &Policy, from: DateTime<FixedOffset>, period: privacy_engine::Period) -> DateTime<FixedOffset> {
    let s = &policy.settings;
    let tz = FixedOffset::east_opt(s.utc_offset_seconds).unwrap();
    let start = from.with_timezone(&tz).date_naive();
    let mut last = period.after(start, s.month_end).unwrap();
    if s.last_day_included {
        last = last.checked_add_days(Days::new(1)).unwrap();
    }
    last.and_time(NaiveTime::MIN).and_local_timezone(tz).single().unwrap()
}

fn retention(ctx: &Ctx<'_>, d: &mut Draft) {
    let req = ctx.req;
    let at = ctx.at;
    let key = d.key.clone();
    // The rules that govern this category (and purpose, when the request
    // names one).
    let rules: Vec<&RetentionRule> = ctx
        .policy
        .retention
        .iter()
        .filter(|r| {
            (r.categories.is_empty() || within_any(&key, &r.categories))
                && (r.purposes.is_empty() || ctx.purpose.is_none_or(|p| r.purposes.contains(&p.id)))
        })
        .collect();
    // Engine reading (undocumented): cancelling the account ends every
    // purpose, so it counts as the purpose being fulfilled if that came no
    // earlier.
    let start = |r: &RetentionRule| {
        let t = req.events.time_of(r.trigger);
        match (r.trigger, req.events.account_cancelled.filter(|c| c.with_timezone(&Utc) <= at)) {
            (privacy_engine::Trigger::PurposeFulfilled, Some(c)) => Some(t.map_or(c, |t| t.min(c))),
            _ => t,
        }
    };
    // Minimum end per rule: None (no minimum), Some(None) (trigger unknown).
    let min_end = |r: &RetentionRule| r.minimum.map(|m| start(r).map(|t| period_end(ctx.policy, t, m)));
    let max_end = |r: &RetentionRule| r.maximum.and_then(|m| start(r).map(|t| period_end(ctx.policy, t, m)));
    let pending: Vec<(&RetentionRule, DateTime<FixedOffset>)> = rules
        .iter()
        .filter_map(|r| match min_end(r) {
            Some(Some(end)) if at < end.with_timezone(&Utc) => Some((*r, end)),
            _ => None,
        })
        .collect();
    let pending_minimum = pending.iter().map(|(_, e)| *e).max();
    let unknown_minimum: Vec<&RetentionRule> =
        rules.iter().copied().filter(|r| matches!(min_end(r), Some(None))).collect();
    let passed_max: Vec<(&RetentionRule, DateTime<FixedOffset>)> =
        rules.iter().filter_map(|r| max_end(r).filter(|m| at >= m.with_timezone(&Utc)).map(|m| (*r, m))).collect();
    let held = req
        .events
        .legal_hold
        .as_ref()
        .is_some_and(|h| h.since.with_timezone(&Utc) <= at && h.until.is_none_or(|u| at < u.with_timezone(&Utc)));
    let rr = |r: &RetentionRule, effect| reason(r.id.clone(), effect, r.cites.as_ref());

    match req.action {
        Action::Delete | Action::Anonymise => {
            if held {
                d.deny(reason(builtin("legal_hold"), Effect::Deny, None));
                d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                if let Some(until) = req.events.legal_hold.as_ref().and_then(|h| h.until) {
                    d.unmet.push(Unmet::NotBefore { at: until });
                }
                return;
            }
            for r in &unknown_minimum {
                d.deny(rr(r, Effect::Deny));
                d.unmet.push(Unmet::EventTime { trigger: r.trigger });
            }
            if let Some(end) = pending_minimum {
                for (r, _) in &pending {
                    d.deny(rr(r, Effect::Deny));
                }
                d.unmet.push(Unmet::NotBefore { at: end });
                if !passed_max.is_empty() {
                    d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                }
            }
            if !d.has_deny() {
                d.permit(reason(ctx.rule.id.clone(), Effect::Permit, ctx.rule.cites.as_ref()));
                for r in &rules {
                    d.permit(rr(r, Effect::Permit));
                    if r.backups_at_next_cycle {
                        d.obligations.push(Obligation::PurgeBackupsAtNextCycle);
                    }
                    if r.isolate_backups {
                        d.obligations.push(Obligation::IsolateBackups);
                    }
                    if r.notify_recipients {
                        d.obligations.push(Obligation::NotifyRecipients { recipients: ctx.recipients_of(&key) });
                    }
                    if req.action == Action::Delete && r.end_action == EndAction::Anonymise {
                        d.note(r.id.clone(), r.cites.as_ref());
                    }
                }
            }
        }
        Action::Retain => {
            // A legal hold keeps the data, for storage and security only,
            // whatever the retention rules say.
            if held {
                d.permit(reason(builtin("legal_hold"), Effect::Permit, None));
                d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                return;
            }
            if rules.is_empty() {
                d.deny(reason(builtin("no_retention_rule"), Effect::Deny, None));
                return;
            }
            let cancelled = req.events.account_cancelled.filter(|c| c.with_timezone(&Utc) <= at);
            let account_closed = cancelled.is_some();
            // The minimums whose end is known, passed or not.
            let minimum_rules: Vec<(&RetentionRule, DateTime<FixedOffset>)> =
                rules.iter().filter_map(|r| min_end(r).flatten().map(|e| (*r, e))).collect();
            // A maximum still running gives the data until then, cancelled or
            // not.
            let maximum_pending = rules.iter().any(|r| max_end(r).is_some_and(|m| at < m.with_timezone(&Utc)));
            let cancelled = cancelled.filter(|_| !maximum_pending);
            let end_action_of = |rs: &[(&RetentionRule, DateTime<FixedOffset>)]| {
                let mut ends = rs.iter().map(|(r, _)| r.end_action);
                match ends.next() {
                    Some(first) if ends.all(|a| a == first) => first,
                    _ => EndAction::DeleteOrAnonymise,
                }
            };
            match (pending_minimum, passed_max.is_empty(), cancelled) {
                // PIPL art. 47: the purpose is over but a statutory period
                // still runs: storage and security only.
                (Some(end), false, _) | (Some(end), true, Some(_)) => {
                    for (r, _) in &pending {
                        d.permit(rr(r, Effect::Permit));
                    }
                    for (r, _) in &passed_max {
                        d.note(r.id.clone(), r.cites.as_ref());
                    }
                    if cancelled.is_some() {
                        d.note(builtin("account_cancelled"), None);
                    }
                    let ending = if passed_max.is_empty() { &minimum_rules } else { &passed_max };
                    d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                    d.obligations.push(Obligation::DeleteBy { by: end, end: end_action_of(ending) });
                }
                (None, false, _) => {
                    for (r, by) in &passed_max {
                        d.deny(rr(r, Effect::Deny));
                        d.obligations.push(Obligation::DeleteBy { by: *by, end: r.end_action });
                        if r.backups_at_next_cycle {
                            d.obligations.push(Obligation::PurgeBackupsAtNextCycle);
                        }
                    }
                }
                (None, true, Some(cancelled_at)) => {
                    let by = minimum_rules.iter().map(|(_, e)| *e).fold(cancelled_at, DateTime::max);
                    d.deny(reason(builtin("account_cancelled"), Effect::Deny, None));
                    for (r, _) in &minimum_rules {
                        d.deny(rr(r, Effect::Deny));
                    }
                    let ending: Vec<_> = rules.iter().map(|r| (*r, by)).collect();
                    d.obligations.push(Obligation::DeleteBy { by, end: end_action_of(&ending) });
                    if rules.iter().any(|r| r.backups_at_next_cycle) {
                        d.obligations.push(Obligation::PurgeBackupsAtNextCycle);
                    }
                }
                (pending, true, None) => {
                    for r in &rules {
                        d.permit(rr(r, Effect::Permit));
                        if let Some(by) = max_end(r) {
                            d.obligations.push(Obligation::DeleteBy { by, end: r.end_action });
                        }
                    }
                    if let Some(until) = pending {
                        d.obligations.push(Obligation::RetainUntil { until });
                    }
                    // Every purpose ended with the account: storage and
                    // security only until the data goes (PIPL art. 47).
                    if account_closed {
                        d.note(builtin("account_cancelled"), None);
                        d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The key on which consent requirements that differ only in their
/// categories are merged.
type ConsentKey = (PurposeId, ConsentQualities, ConsentFrom, Option<RecipientId>);

/// The decision from the drafts: a permit needs every category permitted
/// and no request-level denial; a permit reports every reason and
/// obligation, a denial what denied (and the notes), the obligations and
/// unmet requirements of the denied categories, consent requirements merged
/// across categories. Every list sorted and free of duplicates.
fn finish(action: Action, top: Vec<Reason>, drafts: Vec<Draft>) -> Decision {
    let top_denied = top.iter().any(|r| r.effect == Effect::Deny);
    let permit = !top_denied && !drafts.is_empty() && drafts.iter().all(|d| d.permit);
    let top_rules: BTreeSet<RuleId> = top.iter().filter(|r| r.effect == Effect::Deny).map(|r| r.rule.clone()).collect();
    let mut reasons: BTreeSet<Reason> = top.into_iter().collect();
    let mut obligations: BTreeSet<Obligation> = BTreeSet::new();
    let mut consents: BTreeMap<ConsentKey, (BTreeSet<CategoryKey>, BTreeSet<RuleId>)> = BTreeMap::new();
    let mut other_unmet: BTreeSet<Unmet> = BTreeSet::new();
    let mut categories: BTreeSet<CategoryOutcome> = BTreeSet::new();
    for d in drafts {
        let rules: BTreeSet<RuleId> = if top_denied {
            top_rules.clone()
        } else {
            // The rules that gave the category its verdict.
            let effect = if d.permit { Effect::Permit } else { Effect::Deny };
            d.reasons.iter().filter(|r| r.effect == effect).map(|r| r.rule.clone()).collect()
        };
        let verdict = if d.permit && !top_denied { Verdict::Permit } else { Verdict::Deny };
        categories.insert(CategoryOutcome { category: d.key.clone(), verdict, rules: rules.into_iter().collect() });
        if permit || !d.permit {
            reasons.extend(d.reasons);
            obligations.extend(d.obligations);
        }
        if !permit && !d.permit {
            for u in d.unmet {
                match u {
                    Unmet::Consent { purpose, categories, qualities, from, recipient, rules } => {
                        let e = consents.entry((purpose, qualities, from, recipient)).or_default();
                        e.0.extend(categories);
                        e.1.extend(rules);
                    }
                    other => {
                        other_unmet.insert(other);
                    }
                }
            }
        }
    }
    if !permit {
        reasons.retain(|r| r.effect != Effect::Permit);
        if reasons.is_empty() {
            reasons.insert(reason(builtin("default_deny"), Effect::Deny, None));
        }
    }
    let mut unmet: Vec<Unmet> = other_unmet.into_iter().collect();
    for ((purpose, qualities, from, recipient), (cats, rules)) in consents {
        unmet.push(Unmet::Consent {
            purpose,
            categories: cats.into_iter().collect(),
            qualities,
            from,
            recipient,
            rules: rules.into_iter().collect(),
        });
    }
    unmet.sort();
    Decision {
        verdict: if permit { Verdict::Permit } else { Verdict::Deny },
        action,
        categories: categories.into_iter().collect(),
        reasons: reasons.into_iter().collect(),
        obligations: obligations.into_iter().collect(),
        unmet,
    }
}
