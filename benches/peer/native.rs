//! The peer benchmark's 21 rules hand-written in Rust, copied from
//! the peer-bench project's `src/native.rs` (`allow` and what it calls) with the
//! tables it reads from `src/model.rs` there (`CORE_PURPOSES`, `DECLARED`,
//! `LEGAL_EXCEPTIONS`, `declared_scopes`, `within`, `is_declared`).
//!
//! It is the in-process anchor of `benches/peer.rs`: the rules compiled into
//! the binary, with no policy language, no loading and no explanations, timed
//! beside our engine in the same process and the same chunks. Only the input
//! type changed, to the `Scenario` of `scenarios.rs` (the peer's field
//! names); the logic is the peer's, verbatim, including the `String` key it
//! builds and the `Vec<String>`s it scans, since that is what the peer times.

use super::scenarios::Scenario;

const CORE_PURPOSES: [&str; 4] = ["registration", "security", "payment", "delivery"];

/// Declared-purpose table: purpose -> declared scopes (a scope covers itself and
/// every category below it in the dotted hierarchy).
const DECLARED: [(&str, &[&str]); 9] = [
    ("registration", &["user.contact.phone"]),
    ("identity_verification", &["user.id.national_id", "user.biometric.face", "user.name.real_name"]),
    ("security", &["user.device", "user.network.ip", "user.log"]),
    ("payment", &["user.financial", "user.order"]),
    ("delivery", &["user.order", "user.contact.address", "user.contact.phone"]),
    ("personalization", &["user.browsing.history", "user.contacts.address_book"]),
    ("advertising", &["user.browsing.history"]),
    ("analytics", &["user.browsing", "user.log"]),
    ("research", &["user.location", "user.order"]),
];

const LEGAL_EXCEPTIONS: [&str; 11] = [
    "national_security",
    "public_health",
    "criminal_investigation",
    "vital_interest",
    "self_published",
    "public_record",
    "contract_necessity",
    "service_security",
    "news_reporting",
    "academic_research",
    "law",
];

fn declared_scopes(purpose: &str) -> &'static [&'static str] {
    DECLARED.iter().find(|(p, _)| *p == purpose).map(|(_, s)| *s).unwrap_or(&[])
}

/// Is `category` equal to `scope` or below it in the dotted hierarchy?
fn within(category: &str, scope: &str) -> bool {
    category == scope
        || (category.len() > scope.len() && category.starts_with(scope) && category.as_bytes()[scope.len()] == b'.')
}

fn is_declared(purpose: &str, category: &str) -> bool {
    declared_scopes(purpose).iter().any(|s| within(category, s))
}

fn has(list: &[String], key: &str) -> bool {
    list.iter().any(|k| k == key)
}

/// Allow flag only (what the benchmark times).
pub(crate) fn allow(inp: &Scenario) -> bool {
    let mut permit: Vec<&'static str> = Vec::with_capacity(4);
    let mut deny: Vec<&'static str> = Vec::with_capacity(4);
    eval(inp, &mut permit, &mut deny);
    deny.is_empty() && !permit.is_empty()
}

fn eval(inp: &Scenario, permit: &mut Vec<&'static str>, deny: &mut Vec<&'static str>) {
    let s = &inp.subject;
    let item = &inp.item;
    let r = &inp.recipient;
    let ctx = &inp.context;
    let action = inp.action.as_str();
    let kind = r.kind.as_str();

    let mut key = String::with_capacity(ctx.purpose.len() + 1 + item.category.len());
    key.push_str(&ctx.purpose);
    key.push('/');
    key.push_str(&item.category);

    let withdrawn = has(&s.withdrawn, &key);
    let consent_ok = has(&s.consents, &key) && !withdrawn;
    let separate_ok = has(&s.separate_consents, &key) && !withdrawn;
    let exception = ctx.exception.as_deref();
    let legal_exception = exception.is_some_and(|e| LEGAL_EXCEPTIONS.contains(&e));
    let core = CORE_PURPOSES.contains(&ctx.purpose.as_str());
    let collect_use = action == "collect" || action == "use";
    let share = action == "share";
    let waived = legal_exception
        && (collect_use || (share && matches!(kind, "self" | "affiliate" | "processor" | "merchant" | "authority")));

    // ---- legal bases ----
    if collect_use {
        if core {
            permit.push("collect_use_core_purpose");
        }
        if consent_ok {
            permit.push("collect_use_consent");
        }
        if legal_exception {
            permit.push("collect_use_legal_exception");
        }
    }
    if share {
        if matches!(kind, "self" | "affiliate" | "processor" | "merchant" | "acquirer") && core {
            permit.push("share_core_purpose");
        }
        if matches!(kind, "self" | "affiliate" | "processor" | "merchant" | "acquirer" | "advertiser" | "sdk")
            && consent_ok
        {
            permit.push("share_consent");
        }
        if matches!(kind, "self" | "affiliate" | "processor" | "merchant") && legal_exception {
            permit.push("share_legal_exception");
        }
        if kind == "authority"
            && exception
                .is_some_and(|e| matches!(e, "national_security" | "public_health" | "criminal_investigation" | "law"))
        {
            permit.push("share_to_authority");
        }
    }
    match action {
        "transfer_cross_border" => permit.push("transfer_cross_border_default"),
        "disclose_public" => permit.push("disclose_public_default"),
        "delete" => permit.push("delete_default"),
        _ => {}
    }

    // ---- constraints ----
    if collect_use || share {
        if !is_declared(&ctx.purpose, &item.category) {
            deny.push("purpose_not_declared");
        }
        if item.sensitive && !separate_ok && !waived {
            deny.push("sensitive_requires_separate_consent");
        }
        if s.age < 14 && !s.guardian_consent && !waived {
            deny.push("minor_requires_guardian_consent");
        }
    }
    if share {
        if kind == "advertiser" && !item.deidentified {
            deny.push("advertiser_requires_deidentified");
        }
        if ctx.purpose == "advertising" && !item.deidentified {
            deny.push("advertising_share_requires_deidentified");
        }
        if kind == "sdk" && !consent_ok {
            deny.push("sdk_requires_consent");
        }
        if kind == "processor" && !r.has_confidentiality_agreement {
            deny.push("processor_requires_confidentiality_agreement");
        }
    }
    if action == "transfer_cross_border"
        && s.region == "CN"
        && r.region != "CN"
        && !separate_ok
        && !exception.is_some_and(|e| e == "contract_necessity" || e == "law")
    {
        deny.push("cross_border_requires_separate_consent");
    }
    if action == "disclose_public" && !separate_ok && !(exception == Some("law") && ctx.legal_documents) {
        deny.push("disclosure_requires_separate_consent");
    }
    if action == "delete" {
        if item.legal_hold {
            deny.push("delete_blocked_by_legal_hold");
        }
        if ctx.now < item.retain_until {
            deny.push("delete_blocked_by_retention");
        }
    }
}
