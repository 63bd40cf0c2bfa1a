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
//! The settings and rule fields for rule sets beyond the PIPL defaults
//! (`child_data_sensitive`, `taxonomy`, `consent_grants`,
//! `cross_border_origin`, requirements' `recipient_kinds`, action rules'
//! `data_states`, `recipient_requires_kinds`, `within_purpose`, `domestic`,
//! `allow_abroad`, the `controller` kind and `events.retain_until`) follow
//! `docs/policy-format.md`, which specifies them.
//!
//! Messages are left empty: the differential test compares everything but
//! `Reason::message`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, Utc};
use privacy_engine::{
    Action, ActionRule, CategoryKey, CategoryOutcome, Cites, ConsentChange, ConsentEvent, ConsentFrom, ConsentGrants,
    ConsentQualities, CrossBorderOrigin, DataState, Decision, Domestic, Duty, Effect, EndAction, Exception, MAX_AGE,
    MinorEffect, MinorRule, NoticeField, Obligation, Permission, Policy, Purpose, PurposeBasis, PurposeId, Reason,
    Recipient, RecipientId, RecipientKind, RecipientRequirement, RetentionRule, RuleId, Sensitivity, SubjectId,
    Taxonomy, TaxonomySource, UnknownAge, Unmet, Verdict,
};

/// Below this age a child's personal data is sensitive (PIPL art. 28), and
/// without a minors section the guardian's consent is needed (PIPL art. 31).
const PIPL_CHILD_AGE: u8 = 14;

fn builtin(name: &str) -> RuleId {
    RuleId::new(format!("builtin.{name}"))
}

fn reason(rule: RuleId, effect: Effect, cites: Option<&Cites>) -> Reason {
    {
        let mut part = Reason::new(rule, effect, "");
        part.cites = cites.cloned();
        part
    }
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

    /// Whether a single grant with all of `required` and none of `excluded`
    /// is in force at `at` for `purpose` × `category` (and the recipient).
    /// A grant on `category` or on an ancestor in `covering` counts; a
    /// grant to one recipient counts only for that recipient; an ending
    /// event (refuse, withdraw, expire, revoke) on the category, an ancestor
    /// or a descendant ends the grants before it (for the query's recipient
    /// only, when it names one); a grant's own expiry ends it from that
    /// instant.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn has_consent(
        &self,
        subject: &SubjectId,
        purpose: &PurposeId,
        category: &CategoryKey,
        covering: &[CategoryKey],
        recipient: Option<&RecipientId>,
        required: ConsentQualities,
        excluded: ConsentQualities,
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
        live.iter().any(|g| {
            g.qualities.contains(required) && !g.qualities.intersects(excluded) && g.expires.is_none_or(|x| at < x)
        })
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

/// The consent requirements that apply to a category: each rule that asks
/// and the qualities it names.
type Needs = Vec<(RuleId, ConsentQualities)>;

fn union(needs: &Needs) -> ConsentQualities {
    needs.iter().fold(ConsentQualities::empty(), |u, (_, q)| u | *q)
}

/// The categories that exist and their sensitivity.
type Categories = BTreeMap<CategoryKey, Sensitivity>;

/// The policy's categories (`categories`, `settings.taxonomy`): the built-in
/// table with the policy's keys added or raised, or with `declared` the
/// policy's keys alone. A key declared without a sensitivity keeps its
/// built-in one, or else takes its parent's (after the parent's own raise),
/// or is `personal` at a root.
fn categories(policy: &Policy) -> Categories {
    let builtin: Categories = match policy.settings.taxonomy {
        TaxonomySource::Declared => Categories::new(),
        _ => Taxonomy::builtin().iter().map(|(k, i)| (k.clone(), i.sensitivity)).collect(),
    };
    fn level(policy: &Policy, builtin: &Categories, key: &CategoryKey) -> Sensitivity {
        let declared = policy.categories.iter().find(|d| &d.key == key).and_then(|d| d.sensitivity);
        match (declared, builtin.get(key), key.parent()) {
            (Some(s), _, _) => s,
            (None, Some(s), _) => *s,
            (None, None, Some(parent)) => level(policy, builtin, &parent),
            (None, None, None) => Sensitivity::Personal,
        }
    }
    let mut out = builtin.clone();
    for d in &policy.categories {
        out.insert(d.key.clone(), level(policy, &builtin, &d.key));
    }
    out
}

/// Everything a category decision needs.
struct Ctx<'a> {
    policy: &'a Policy,
    tax: &'a Categories,
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
    let tax = categories(policy);
    let events = Events(events);
    let mut top: Vec<Reason> = Vec::new();
    let deny = |top: &mut Vec<Reason>, name: &str| top.push(reason(builtin(name), Effect::Deny, None));

    if req.categories.is_empty() {
        deny(&mut top, "no_category");
    }
    for key in &req.categories {
        if !tax.contains_key(key) {
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
        if let (false, Some(rule), true) = (top_denied, rule, tax.contains_key(key)) {
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
        self.tax[key]
    }

    /// The category's sensitivity, personal data of a child under 14 raised
    /// to sensitive (PIPL art. 28) unless the policy says otherwise
    /// (`child_data_sensitive: false`).
    fn sensitivity(&self, key: &CategoryKey) -> Sensitivity {
        let base = self.base_sensitivity(key);
        let child = self.age.is_some_and(|a| a < PIPL_CHILD_AGE);
        if base == Sensitivity::Personal && child && self.policy.settings.child_data_sensitive {
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
            if self.tax.get(&a).is_some_and(|s| *s >= own) {
                out.push(a.clone());
            }
            p = a.parent();
        }
        out
    }

    fn consent(
        &self,
        key: &CategoryKey,
        required: ConsentQualities,
        excluded: ConsentQualities,
        with_recipient: bool,
    ) -> bool {
        let Some(p) = self.purpose else { return false };
        self.events.has_consent(
            &self.req.subject.id,
            &p.id,
            key,
            &self.covering(key),
            if with_recipient { self.recipient.map(|r| &r.id) } else { None },
            required,
            excluded,
            self.at,
        )
    }

    /// The purpose's categories limit the action unless its rule says
    /// `within_purpose: false`: a category outside them is denied.
    fn within_purpose(&self, d: &mut Draft) -> bool {
        let Some(p) = self.purpose else { return false };
        if self.rule.within_purpose && !within_any(&d.key, &p.categories) {
            d.deny(reason(builtin("category_not_in_purpose"), Effect::Deny, p.cites.as_ref()));
            return false;
        }
        true
    }

    /// The rule's `data_states`: each entry whose purposes and recipient
    /// kinds match (empty lists match anything, but listed kinds never match
    /// a request without a recipient) denies data less protected than its
    /// `at_least`, with the rule's id and the entry's cites (the rule's
    /// when the entry has none).
    fn data_states(&self, d: &mut Draft) {
        for ds in &self.rule.data_states {
            let purpose = ds.purposes.is_empty() || self.purpose.is_some_and(|p| ds.purposes.contains(&p.id));
            let kind =
                ds.recipient_kinds.is_empty() || self.recipient.is_some_and(|r| ds.recipient_kinds.contains(&r.kind));
            if purpose && kind && self.req.data_state.protection() < ds.at_least.protection() {
                d.deny(reason(self.rule.id.clone(), Effect::Deny, ds.cites.as_ref().or(self.rule.cites.as_ref())));
                d.unmet.push(Unmet::DataState { at_least: ds.at_least });
            }
        }
    }

    /// Whether the rule's `recipient_requires` is asked of `r`: of the kinds
    /// in `recipient_requires_kinds`, or when that is empty of every kind but
    /// an authority, the public and the controller itself.
    fn signs_agreements(&self, r: &Recipient) -> bool {
        let kinds = &self.rule.recipient_requires_kinds;
        if kinds.is_empty() {
            !matches!(r.kind, RecipientKind::Authority | RecipientKind::Public | RecipientKind::Controller)
        } else {
            kinds.contains(&r.kind)
        }
    }

    /// Whether providing to `r` is cross-border: the data comes from the home
    /// region (with `cross_border_origin: "subject_region"`, from the
    /// subject's region, or home when the request states none) and goes
    /// elsewhere (the request's `destination_region`, or the recipient's).
    fn abroad(&self, r: &Recipient) -> bool {
        let s = &self.policy.settings;
        let home = &s.home_region;
        let origin = match s.cross_border_origin {
            CrossBorderOrigin::SubjectRegion => self.req.subject.region.as_ref().unwrap_or(home),
            _ => home,
        };
        let destination = self.req.destination_region.as_ref().unwrap_or(&r.region);
        origin == home && destination != home
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
    fn guardian_needs(&self, d: &mut Draft, needs: &mut Needs) {
        match &self.policy.minors {
            Some(m) => {
                if self.below(m.guardian_consent_below) {
                    let q = m.guardian_qualities | ConsentQualities::GUARDIAN | ConsentQualities::separate();
                    needs.push((m.id.clone(), q));
                }
                for r in m.rules.iter().filter(|r| self.minor_rule_applies(r)) {
                    match r.effect {
                        MinorEffect::GuardianConsent => {
                            let q = m.guardian_qualities | ConsentQualities::GUARDIAN | ConsentQualities::AFFIRMATIVE;
                            needs.push((r.id.clone(), q));
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
                    needs.push((
                        builtin("pipl_guardian_consent"),
                        ConsentQualities::GUARDIAN | ConsentQualities::separate(),
                    ));
                }
            }
        }
    }

    /// The policy's consent requirements on this action, purpose, category
    /// and recipient kind (a requirement that names kinds never applies to
    /// a request without a recipient).
    fn policy_requirements(&self, key: &CategoryKey) -> Needs {
        let mut needs = Needs::new();
        for r in &self.policy.consent_requirements {
            let applies = r.actions.contains(&self.req.action)
                && (r.purposes.is_empty() || self.purpose.is_some_and(|p| r.purposes.contains(&p.id)))
                && (r.categories.is_empty() || within_any(key, &r.categories))
                && (r.recipient_kinds.is_empty()
                    || self.recipient.is_some_and(|x| r.recipient_kinds.contains(&x.kind)));
            if applies {
                needs.push((r.id.clone(), r.qualities));
            }
        }
        needs
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

    /// Checks the consent the requirements ask for (`settings.consent_grants`):
    /// one grant with the union of their qualities, or for each requirement
    /// a grant of its own that has its qualities and no `separate` or
    /// `guardian` it does not name. Requirements with the same qualities are
    /// met by the same grants, so they are checked (and listed unmet)
    /// together.
    fn require_consent(&self, d: &mut Draft, needs: Needs, with_recipient: bool) {
        match self.policy.settings.consent_grants {
            ConsentGrants::PerRequirement => {
                let answers_only = ConsentQualities::SEPARATE | ConsentQualities::GUARDIAN;
                let mut by_qualities: BTreeMap<ConsentQualities, Vec<RuleId>> = BTreeMap::new();
                for (rule, q) in needs {
                    by_qualities.entry(q).or_default().push(rule);
                }
                for (q, rules) in by_qualities {
                    self.require_grant(d, q, answers_only.difference(q), rules, with_recipient);
                }
            }
            _ => {
                let q = union(&needs);
                let rules = needs.into_iter().map(|(rule, _)| rule).collect();
                self.require_grant(d, q, ConsentQualities::empty(), rules, with_recipient);
            }
        }
    }

    /// Permits the category if a grant with `q` (and none of `excluded`) is
    /// in force, or denies it on behalf of `rules`.
    fn require_grant(
        &self,
        d: &mut Draft,
        q: ConsentQualities,
        excluded: ConsentQualities,
        rules: Vec<RuleId>,
        with_recipient: bool,
    ) {
        let key = d.key.clone();
        let effect = if self.consent(&key, q, excluded, with_recipient) { Effect::Permit } else { Effect::Deny };
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

    /// The recipients that may have received a category (not the public,
    /// not the controller itself), sorted (every list of a decision is
    /// sorted).
    fn recipients_of(&self, key: &CategoryKey) -> Vec<RecipientId> {
        let set: BTreeSet<RecipientId> = self
            .policy
            .recipients
            .iter()
            .filter(|r| {
                !matches!(r.kind, RecipientKind::Public | RecipientKind::Controller) && within_any(key, &r.categories)
            })
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
    if !ctx.within_purpose(d) {
        return;
    }
    ctx.data_states(d);
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
    let mut needs = ctx.policy_requirements(&d.key);
    match p.basis {
        PurposeBasis::Optional => {
            if needs.is_empty() {
                needs.push((builtin("optional_purpose_consent"), ConsentQualities::AFFIRMATIVE));
            }
            if sensitivity == Sensitivity::Sensitive && !union(&needs).contains(ConsentQualities::SEPARATE) {
                needs.push((builtin("sensitive_separate_consent"), ConsentQualities::separate()));
            }
        }
        PurposeBasis::Core => {
            d.permit(reason(RuleId::new(p.id.as_str()), Effect::Permit, p.cites.as_ref()));
        }
    }
    ctx.guardian_needs(d, &mut needs);
    if !needs.is_empty() {
        ctx.require_consent(d, needs, false);
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
    ctx.within_purpose(d);
    // A cross-border request that stays at home, which the rule permits
    // (`domestic: "permit"`).
    let mut domestic = false;
    if let Some(r) = ctx.recipient {
        let abroad = ctx.abroad(r);
        domestic = action == Action::CrossBorder && !abroad && rule.domestic == Domestic::Permit;
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
        if ctx.signs_agreements(r) {
            for rr in &rule.recipient_requires {
                // A transfer mechanism is for exports only.
                if domestic && *rr == RecipientRequirement::TransferMechanism {
                    continue;
                }
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
        if action == Action::CrossBorder && !abroad && !domestic {
            d.deny(reason(builtin("not_cross_border"), Effect::Deny, None));
        }
        if abroad && action != Action::CrossBorder && !rule.allow_abroad {
            d.deny(reason(builtin("cross_border_required"), Effect::Deny, None));
        }
    } else if action != Action::Disclose {
        return;
    }
    ctx.data_states(d);
    if domestic {
        // Permitted by the rule after the checks above and the minors deny
        // rules: no exception, no consent, no cross-border obligations.
        ctx.minors_deny(d);
        if !d.has_deny() {
            d.permit(reason(rule.id.clone(), Effect::Permit, rule.cites.as_ref()));
            provide_obligations(ctx, d, false, false);
        }
        return;
    }
    if let Some(e) = ctx.exception(d) {
        if !d.has_deny() {
            ctx.permit_by_exception(d, e);
            provide_obligations(ctx, d, false, true);
        }
        return;
    }
    if ctx.minors_deny(d) {
        return;
    }
    let mut needs = Needs::new();
    let mut by_consent = false;
    // Entrustment rests on the processing contract (PIPL art. 21); core
    // purposes may rest on the contract when the rule says so.
    if (action == Action::Entrust && rule.consent.is_none()) || (rule.core_purposes && p.basis == PurposeBasis::Core) {
        d.permit(reason(rule.id.clone(), Effect::Permit, rule.cites.as_ref()));
    } else if let Some(needed) = rule.consent {
        needs.push((rule.id.clone(), needed));
        by_consent = true;
    } else {
        d.deny(reason(builtin("no_basis"), Effect::Deny, rule.cites.as_ref()));
        return;
    }
    needs.extend(ctx.policy_requirements(&key));
    // Sensitive data provided on consent needs separate consent (PIPL art.
    // 29), unless the requirements already ask it.
    if by_consent && sensitivity == Sensitivity::Sensitive && !union(&needs).contains(ConsentQualities::SEPARATE) {
        needs.push((builtin("sensitive_separate_consent"), ConsentQualities::separate()));
    }
    ctx.guardian_needs(d, &mut needs);
    if !needs.is_empty() {
        ctx.require_consent(d, needs, true);
    }
    if d.permit && !d.has_deny() {
        provide_obligations(ctx, d, true, true);
    }
}

/// The obligations of a providing permit: the action's own duties (not for
/// a cross-border rule's domestic permit), a confidentiality agreement with
/// a recipient asked to have one, no re-identification of de-identified
/// data.
fn provide_obligations(ctx: &Ctx<'_>, d: &mut Draft, by_consent: bool, action_duties: bool) {
    let action = ctx.req.action;
    let duties: &[Duty] = match action {
        _ if !action_duties => &[],
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
    if ctx.recipient.is_some_and(|r| ctx.signs_agreements(r))
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
            // A deadline set outside the policy, compared to the second;
            // checked together with the hold.
            if let Some(until) = req.events.retain_until.filter(|u| at < u.with_timezone(&Utc)) {
                d.deny(reason(builtin("retain_until"), Effect::Deny, None));
                d.unmet.push(Unmet::NotBefore { at: until });
            }
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
        categories.insert(CategoryOutcome::new(d.key.clone(), verdict, rules.into_iter().collect()));
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
    {
        let mut part = Decision::new(if permit { Verdict::Permit } else { Verdict::Deny }, action);
        part.categories = categories.into_iter().collect();
        part.reasons = reasons.into_iter().collect();
        part.obligations = obligations.into_iter().collect();
        part.unmet = unmet;
        part
    }
}
