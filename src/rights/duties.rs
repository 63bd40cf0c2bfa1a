//! The duties of an answer, gathered as its items are decided and listed
//! in the order docs/rights.md states.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::answer::RightsDuty;
use crate::ids::{PurposeId, RecipientId};

/// Duties gathered so far: one of each kind, purposes and recipients
/// merged, dates kept once each.
#[derive(Debug, Default)]
pub(crate) struct Duties {
    verify_identity: bool,
    restrict: bool,
    stop: BTreeSet<PurposeId>,
    withdraw: BTreeSet<PurposeId>,
    notify: BTreeSet<RecipientId>,
    delete_by: BTreeSet<NaiveDate>,
    purge_backups: bool,
    give_reasons: bool,
}

impl Duties {
    /// Adds a duty; purposes, recipients and dates merge with those of the
    /// same kind already there.
    pub(crate) fn push(&mut self, duty: RightsDuty) {
        match duty {
            RightsDuty::VerifyIdentity => self.verify_identity = true,
            RightsDuty::RestrictToStorage => self.restrict = true,
            RightsDuty::StopProcessing { purposes } => self.stop.extend(purposes),
            RightsDuty::RecordWithdrawal { purposes } => self.withdraw.extend(purposes),
            RightsDuty::NotifyRecipients { recipients } => self.notify.extend(recipients),
            RightsDuty::DeleteBy { date } => {
                self.delete_by.insert(date);
            }
            RightsDuty::PurgeBackups => self.purge_backups = true,
            RightsDuty::GiveReasons => self.give_reasons = true,
        }
    }

    /// Stops processing for `purposes` (none: no duty).
    pub(crate) fn stop(&mut self, purposes: Vec<PurposeId>) {
        self.stop.extend(purposes);
    }

    /// The duties in order: `verify_identity`, `restrict_to_storage`,
    /// `stop_processing`, `record_withdrawal`, `notify_recipients`,
    /// `delete_by` (earliest first), `purge_backups`, `give_reasons`.
    pub(crate) fn into_ordered(self) -> Vec<RightsDuty> {
        let mut out = Vec::new();
        let flag = |on: bool, d: RightsDuty| on.then_some(d);
        out.extend(flag(self.verify_identity, RightsDuty::VerifyIdentity));
        out.extend(flag(self.restrict, RightsDuty::RestrictToStorage));
        if !self.stop.is_empty() {
            out.push(RightsDuty::StopProcessing { purposes: self.stop.into_iter().collect() });
        }
        if !self.withdraw.is_empty() {
            out.push(RightsDuty::RecordWithdrawal { purposes: self.withdraw.into_iter().collect() });
        }
        if !self.notify.is_empty() {
            out.push(RightsDuty::NotifyRecipients { recipients: self.notify.into_iter().collect() });
        }
        out.extend(self.delete_by.into_iter().map(|date| RightsDuty::DeleteBy { date }));
        out.extend(flag(self.purge_backups, RightsDuty::PurgeBackups));
        out.extend(flag(self.give_reasons, RightsDuty::GiveReasons));
        out
    }
}
