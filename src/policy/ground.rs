//! Legal grounds on which an action is permitted without consent, with the
//! duties and evidence each carries and its basis in PIPL art. 13.

use serde::{Deserialize, Serialize};

use super::Duty;

/// A ground for processing without consent, as the seed policies list them.
///
/// Each ground knows its PIPL basis (or that it has none: several grounds
/// were copied from GB/T 35273 §5.6, a recommended standard, and have no
/// PIPL art. 13 counterpart), the duties it carries, and the evidence a
/// request claiming it must bring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ground {
    /// National security or national defence.
    NationalSecurity,
    /// Public security or a (major) public interest.
    PublicInterest,
    /// Public health: responding to a public-health emergency (PIPL art.
    /// 13(4); seed 004 §1.2 item 11(2) names it apart from the public
    /// interest).
    PublicHealth,
    /// Criminal investigation, prosecution, trial, enforcement of judgments.
    CriminalProceedings,
    /// Life, property or other major interests when consent is hard to get.
    VitalInterests,
    /// Information the person made public.
    SelfPublished,
    /// Information from lawfully public sources (news, government
    /// disclosure).
    LawfullyPublicSource,
    /// Necessary to conclude or perform a contract the person is party to,
    /// or asked for.
    Contract,
    /// Necessary for the secure and stable operation of the service.
    ServiceSecurity,
    /// Lawful news reporting.
    NewsReporting,
    /// Statistical or academic research in the public interest.
    AcademicResearch,
    /// Required by law or regulation ("other cases provided by law").
    Law,
    /// A mandatory administrative or judicial request by an authority.
    AuthorityRequest,
    /// Protecting the rights, property or safety of the company, users or
    /// the public: fraud prevention, credit risk.
    ProtectRights,
    /// Providing the service the person uses (sharing with payment,
    /// logistics, merchants).
    ServiceProvision,
    /// Necessary sharing with affiliates for a unified account system.
    AffiliateNecessity,
    /// An agreement signed with the person, platform rules, or other legal
    /// documents.
    Agreement,
    /// At the person's lawful request.
    SubjectRequest,
    /// At the guardian's lawful request.
    GuardianRequest,
    /// Handling disputes between the person and others at their request.
    DisputeHandling,
    /// The company sues or arbitrates against the user.
    Litigation,
    /// A merger, acquisition, division or asset transfer.
    Merger,
    /// The person shares or discloses it themselves.
    SubjectShared,
}

/// Evidence a request brings for the ground it claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Evidence {
    /// Legal documents such as a subpoena or investigation letter are in hand.
    LegalDocuments,
    /// The processing is not for profit.
    NotForProfit,
    /// Published results will be de-identified.
    ResultsDeIdentified,
    /// The person's consent cannot be obtained in time.
    ConsentHardToObtain,
    /// The public interest is a major one.
    MajorPublicInterest,
    /// The person asked for it.
    SubjectRequested,
    /// The guardian asked for it.
    GuardianRequested,
    /// The new holder agreed to stay bound by the policy.
    NewHolderBound,
}

impl Ground {
    /// Every ground.
    pub const ALL: [Ground; 23] = [
        Self::NationalSecurity,
        Self::PublicInterest,
        Self::PublicHealth,
        Self::CriminalProceedings,
        Self::VitalInterests,
        Self::SelfPublished,
        Self::LawfullyPublicSource,
        Self::Contract,
        Self::ServiceSecurity,
        Self::NewsReporting,
        Self::AcademicResearch,
        Self::Law,
        Self::AuthorityRequest,
        Self::ProtectRights,
        Self::ServiceProvision,
        Self::AffiliateNecessity,
        Self::Agreement,
        Self::SubjectRequest,
        Self::GuardianRequest,
        Self::DisputeHandling,
        Self::Litigation,
        Self::Merger,
        Self::SubjectShared,
    ];

    /// The ground's name as in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NationalSecurity => "national_security",
            Self::PublicInterest => "public_interest",
            Self::PublicHealth => "public_health",
            Self::CriminalProceedings => "criminal_proceedings",
            Self::VitalInterests => "vital_interests",
            Self::SelfPublished => "self_published",
            Self::LawfullyPublicSource => "lawfully_public_source",
            Self::Contract => "contract",
            Self::ServiceSecurity => "service_security",
            Self::NewsReporting => "news_reporting",
            Self::AcademicResearch => "academic_research",
            Self::Law => "law",
            Self::AuthorityRequest => "authority_request",
            Self::ProtectRights => "protect_rights",
            Self::ServiceProvision => "service_provision",
            Self::AffiliateNecessity => "affiliate_necessity",
            Self::Agreement => "agreement",
            Self::SubjectRequest => "subject_request",
            Self::GuardianRequest => "guardian_request",
            Self::DisputeHandling => "dispute_handling",
            Self::Litigation => "litigation",
            Self::Merger => "merger",
            Self::SubjectShared => "subject_shared",
        }
    }

    /// The PIPL provision that supports the ground, or `None` where PIPL
    /// art. 13 has no counterpart (the ground comes from GB/T 35273 §5.6 or
    /// from the seed alone); such grounds load with a warning.
    pub fn pipl_basis(self) -> Option<&'static str> {
        match self {
            Self::NationalSecurity | Self::CriminalProceedings | Self::Law => Some("PIPL art. 13(3) and (7)"),
            Self::AuthorityRequest => Some("PIPL art. 13(3)"),
            Self::PublicInterest | Self::PublicHealth | Self::VitalInterests => Some("PIPL art. 13(4)"),
            Self::NewsReporting => Some("PIPL art. 13(5)"),
            Self::SelfPublished | Self::LawfullyPublicSource => Some("PIPL art. 13(6), 27"),
            Self::Contract | Self::ServiceProvision | Self::Agreement => Some("PIPL art. 13(2)"),
            Self::Merger => Some("PIPL art. 22"),
            Self::SubjectRequest | Self::SubjectShared => Some("PIPL art. 13(1), 44"),
            Self::GuardianRequest => Some("PIPL art. 31"),
            Self::ServiceSecurity
            | Self::AcademicResearch
            | Self::ProtectRights
            | Self::AffiliateNecessity
            | Self::DisputeHandling
            | Self::Litigation => None,
        }
    }

    /// The duties that come with the ground wherever it is used.
    pub fn duties(self) -> &'static [Duty] {
        match self {
            Self::AcademicResearch => &[Duty::DeIdentifyResults],
            Self::AuthorityRequest => &[Duty::LegalDocuments, Duty::EncryptDisclosure, Duty::Minimise],
            Self::ProtectRights => &[Duty::NotForProfit],
            Self::Merger => &[Duty::NewHolderBound, Duty::NotifySubject],
            Self::ServiceProvision | Self::AffiliateNecessity => &[Duty::Minimise, Duty::BindRecipientToPurpose],
            _ => &[],
        }
    }

    /// The evidence a request claiming the ground must bring, wherever it is
    /// used.
    pub fn evidence(self) -> &'static [Evidence] {
        match self {
            Self::AuthorityRequest => &[Evidence::LegalDocuments],
            Self::VitalInterests => &[Evidence::ConsentHardToObtain],
            Self::SubjectRequest => &[Evidence::SubjectRequested],
            Self::GuardianRequest => &[Evidence::GuardianRequested],
            _ => &[],
        }
    }
}
