//! Deciding what an incident obliges the controller to do.

use chrono::{DateTime, FixedOffset};

use super::answer::{IncidentAnswer, IncidentDuty, NoticeTo, SkippedDuty};
use super::regime::IncidentRegime;
use super::request::Incident;
use crate::engine::Engine;
use crate::policy::Policy;

impl Engine {
    /// The duties `incident` brings under `regime` and the policy in force
    /// at `at`: remedy, notify the regulator and the people (by the
    /// policy's channels), a public announcement where the people cannot
    /// be reached one by one, a password reminder where credentials leaked;
    /// the notice's contents; the notices a condition of the regime lets
    /// the controller skip. Pure: it reads nothing but its arguments.
    ///
    /// ```
    /// use privacy_engine::{Engine, Incident, IncidentDuty, IncidentRegime, NoticeDeadline};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let engine = Engine::from_json(include_str!("../../examples/policies/seed-004.json"))?;
    /// let at = "2024-05-01T10:00:00+08:00".parse()?;
    /// let incident = Incident::new(vec!["user.contact.phone_number".parse()?], 1200, at);
    /// let answer = engine.incident(&incident, at, &IncidentRegime::pipl());
    /// assert_eq!(answer.duties[1], IncidentDuty::NotifyRegulator { deadline: NoticeDeadline::Promptly });
    /// # Ok(()) }
    /// ```
    pub fn incident(&self, incident: &Incident, at: DateTime<FixedOffset>, regime: &IncidentRegime) -> IncidentAnswer {
        decide(self.version_at(at.to_utc()).policy(), incident, regime)
    }
}

/// The answer to `incident` under `policy` and `regime`.
fn decide(policy: &Policy, incident: &Incident, regime: &IncidentRegime) -> IncidentAnswer {
    let notice = policy.incident_notice.as_ref();
    let mut duties = vec![IncidentDuty::Remedy];
    let mut skipped = Vec::new();
    match regime.regulator.skipped_because(incident) {
        None => duties.push(IncidentDuty::NotifyRegulator { deadline: regime.regulator.deadline }),
        Some(because) => skipped.push(SkippedDuty { duty: NoticeTo::Regulator, because }),
    }
    match regime.individuals.skipped_because(incident) {
        None => {
            let channels = notice.map(|n| n.channels.clone()).unwrap_or_default();
            duties.push(IncidentDuty::NotifyIndividuals { channels });
            if !incident.reachable {
                duties.push(IncidentDuty::PublicAnnouncement);
            }
        }
        Some(because) => skipped.push(SkippedDuty { duty: NoticeTo::Individuals, because }),
    }
    if incident.credentials {
        duties.push(IncidentDuty::PasswordReminder);
    }
    let mut contents = regime.contents.clone();
    contents.extend(notice.iter().flat_map(|n| n.contents.iter().copied()));
    contents.sort_unstable();
    contents.dedup();
    IncidentAnswer { duties, contents, skipped, cites: cites(policy, regime), policy_version: policy.version.clone() }
}

/// The clauses of an answer: the regime's, its rules' own, then the
/// policy's incident clause, once each.
fn cites(policy: &Policy, regime: &IncidentRegime) -> Vec<String> {
    let all = [Some(&regime.cites), regime.regulator.cites.as_ref(), regime.individuals.cites.as_ref()]
        .into_iter()
        .chain([policy.incident_notice.as_ref().and_then(|n| n.cites.as_ref())]);
    let mut out: Vec<String> = Vec::new();
    for c in all.flatten() {
        if !out.iter().any(|o| o == c.as_str()) {
            out.push(c.as_str().to_owned());
        }
    }
    out
}
