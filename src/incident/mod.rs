//! Incidents: what a leak of personal information obliges the controller
//! to do (PIPL art. 57; the seeds' incident clauses), under a regime's
//! thresholds and deadlines, and which subjects it affects. The rules are
//! written out in `docs/lifecycle.md` ("Incidents").
//!
//! The incident and its request (`request.rs`), the answer and its duties
//! (`answer.rs`), the notice's contents and the policy's own incident
//! section (`notice.rs`), a regime's rules (`regime.rs`), deciding the
//! duties (`decide.rs`: `Engine::incident`) and listing the affected
//! subjects (`affected.rs`).

mod affected;
mod answer;
mod decide;
mod notice;
mod regime;
mod request;

pub use affected::{HoldingsIndex, affected};
pub use answer::{IncidentAnswer, IncidentDuty, NoticeDeadline, NoticeTo, SkippedDuty};
pub use notice::{IncidentNotice, NoticeContent};
pub use regime::{IncidentCondition, IncidentRegime, NoticeRule};
pub use request::{Incident, IncidentRequest, IncidentRisk};
