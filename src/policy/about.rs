//! What a policy says about itself: who the controller is, who answers for
//! personal information, how to reach them and complain, which rights the
//! person has and how to exercise them, and the latest impact assessment.
//!
//! PIPL art. 17 asks a notice to name the controller and how to exercise
//! the person's rights; four of the six major-change kinds of seed 003 §9 /
//! 004 §7 turn on these statements. Every one is optional in the document;
//! validation warns of each that is missing (`missing-disclosure`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validate::DiagnosticCode;
use super::{Policy, is_false};
use crate::ids::Cites;
use crate::rights::DeletionGround;

/// The controller the policy is from: the personal-information handler of
/// PIPL art. 17(1) (named `Handler` to keep it apart from a receipt's
/// [`Controller`](crate::Controller)), and who owns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Handler {
    /// Its name, as the published text gives it.
    pub name: String,
    /// The company or group that owns it, where the text says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// The department or person responsible for personal information (PIPL
/// art. 52; 003 §9 / 004 §7 item 5 "responsible department").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Responsible {
    /// The department's or person's name or title.
    pub name: String,
    /// How to reach them directly, where the text says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// How a channel is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChannelKind {
    /// The online customer-service system.
    OnlineService,
    /// A page or setting in the app or site itself.
    InApp,
    /// A telephone line.
    Phone,
    /// E-mail.
    Email,
    /// Letters to a postal address.
    Post,
    /// An official account on a messaging platform.
    ServiceAccount,
    /// A supervising authority (a complaint channel outside the controller).
    Regulator,
    /// A court.
    Court,
    /// A push notification or the app's own message to all its users.
    Push,
    /// A text message.
    Sms,
    /// A public announcement on the controller's public platforms (003
    /// §4.3 "publicity on public operating platforms").
    PublicPlatform,
}

impl ChannelKind {
    /// The kind's name as in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnlineService => "online_service",
            Self::InApp => "in_app",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Post => "post",
            Self::ServiceAccount => "service_account",
            Self::Regulator => "regulator",
            Self::Court => "court",
            Self::Push => "push",
            Self::Sms => "sms",
            Self::PublicPlatform => "public_platform",
        }
    }
}

/// How long the controller takes to answer through a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimeLimit {
    /// Within so many calendar days.
    Days(u16),
    /// Within so many working days.
    WorkingDays(u16),
}

impl TimeLimit {
    /// The limit in calendar days at most: a working day counts as 7/5 of
    /// a day, rounded up, so that limits of either unit compare.
    pub fn calendar_days(self) -> u32 {
        match self {
            Self::Days(d) => u32::from(d),
            Self::WorkingDays(d) => (u32::from(d) * 7).div_ceil(5),
        }
    }

    /// The limit as a [`Deadline`](crate::Deadline): so many working days
    /// on the calendar of the policy's home region, or so many calendar
    /// days (not moved off a non-working day: the policy's text says
    /// nothing of it).
    pub fn deadline(self) -> crate::calendar::Deadline {
        use crate::calendar::{Deadline, Span};
        match self {
            Self::Days(d) => Deadline::new(Span::CalendarDays(d.into())),
            Self::WorkingDays(d) => Deadline::new(Span::WorkingDays(d.into())),
        }
    }
}

/// A way to reach the controller: for questions, complaints or a right.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Channel {
    /// How it is reached.
    pub kind: ChannelKind,
    /// Where: an address, a number, or the path through the app's menus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// How long an answer takes, where the text says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<TimeLimit>,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// A right of the person over their personal information (PIPL art.
/// 44–48).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Right {
    /// To know and see the information held (art. 44, 45).
    Access,
    /// To receive a copy (art. 45).
    Copy,
    /// To have it transferred to another handler (art. 45).
    Portability,
    /// To correct or complete it (art. 46).
    Correct,
    /// To have it deleted (art. 47).
    Delete,
    /// To withdraw consent (art. 15).
    WithdrawConsent,
    /// To cancel the account.
    CancelAccount,
    /// To have the processing rules explained (art. 48).
    Explanation,
    /// To restrict or refuse processing (art. 44).
    Restrict,
    /// To refuse personalised or programmatic advertising (art. 24).
    RefuseAds,
    /// To refuse cookies and similar technologies.
    RefuseCookies,
}

impl Right {
    /// The right's name as in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Copy => "copy",
            Self::Portability => "portability",
            Self::Correct => "correct",
            Self::Delete => "delete",
            Self::WithdrawConsent => "withdraw_consent",
            Self::CancelAccount => "cancel_account",
            Self::Explanation => "explanation",
            Self::Restrict => "restrict",
            Self::RefuseAds => "refuse_ads",
            Self::RefuseCookies => "refuse_cookies",
        }
    }
}

/// A right the policy offers, and how to exercise it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RightOffer {
    /// The right.
    pub right: Right,
    /// Where to exercise it; empty when the text names no channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Whether the controller checks the person's identity first.
    #[serde(default, skip_serializing_if = "is_false")]
    pub verify_identity: bool,
    /// Conditions the text puts on the right, as free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
    /// For the right to delete: the grounds the text lists (001 §4(2)
    /// lists five). A ground holds under PIPL art. 47 whether or not it is
    /// listed; a listed one is answered with this offer's clause.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounds: Vec<DeletionGround>,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// The result of the latest personal-information protection impact
/// assessment (PIPL art. 55, 56).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ImpactAssessment {
    /// When the report was completed.
    pub date: NaiveDate,
    /// Its conclusion, as free text.
    pub outcome: String,
    /// Whether it found a high risk (003 §9 / 004 §7 item 6).
    pub high_risk: bool,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

impl Handler {
    /// The controller called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), owner: None, cites: None }
    }
}

impl Responsible {
    /// The department or person called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), contact: None, cites: None }
    }
}

impl Channel {
    /// A channel of this kind, with no detail or time limit.
    pub fn new(kind: ChannelKind) -> Self {
        Self { kind, detail: None, time_limit: None, cites: None }
    }
}

impl RightOffer {
    /// The right, with no channel named.
    pub fn new(right: Right) -> Self {
        Self { right, channels: Vec::new(), verify_identity: false, conditions: None, grounds: Vec::new(), cites: None }
    }
}

impl ImpactAssessment {
    /// An assessment completed on `date`.
    pub fn new(date: NaiveDate, outcome: impl Into<String>, high_risk: bool) -> Self {
        Self { date, outcome: outcome.into(), high_risk, cites: None }
    }
}

/// The `missing-disclosure` warnings of a policy: each statement about
/// itself it leaves out, with its path and message.
pub(super) fn missing(policy: &Policy) -> Vec<(DiagnosticCode, String, String)> {
    let absent = [
        (policy.controller.is_none(), "/controller", "the policy does not name its controller (PIPL art. 17)"),
        (
            policy.responsible.is_none(),
            "/responsible",
            "the policy names no department or person responsible for personal information (PIPL art. 52)",
        ),
        (policy.contacts.is_empty(), "/contacts", "the policy gives no contact channel (PIPL art. 17)"),
        (policy.complaints.is_empty(), "/complaints", "the policy gives no complaint channel (PIPL art. 50)"),
        (policy.rights.is_empty(), "/rights", "the policy states no right and how to exercise it (PIPL art. 17)"),
        (
            policy.impact_assessment.is_none(),
            "/impact_assessment",
            "the policy records no personal-information impact assessment (PIPL art. 55)",
        ),
    ];
    absent
        .into_iter()
        .filter(|(missing, ..)| *missing)
        .map(|(_, path, message)| (DiagnosticCode::MissingDisclosure, path.to_owned(), message.to_owned()))
        .collect()
}
