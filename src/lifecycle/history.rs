//! The one rule of which lifecycle event may follow which, every
//! [`LifecycleStore`](super::LifecycleStore) applies before it writes.

use crate::error::Error;
use crate::rights::Step;

use super::{LifecycleChange, LifecycleEvent};

/// Where a subject's account stands after its events (`inactive` is a flag
/// on an active account, not a state: docs/lifecycle.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Account {
    Active,
    Cancelled,
    Terminated,
}

/// The one rule of a subject's lifecycle events: `history` is what the
/// store holds for `event`'s subject, and the event it holds under
/// `event`'s id if another subject's (any order), `event` the event to
/// record.
///
/// An id the store already holds is [`Step::Repeated`] with the same
/// content and refused with other content. Otherwise the events, in time
/// order with `event` after any of its own time, must each be allowed by
/// the state the ones before them leave: on an active account anything
/// but a reactivation; after a cancellation a reactivation or the service's
/// termination (the controller ends the service for every subject, cancelled
/// accounts whose data is still kept included: 004 §10; 003 §7), no second
/// cancellation; after the service's termination nothing. Only a
/// termination carries a notice, given no later than it takes effect.
///
/// # Errors
///
/// An error of kind [`Rights`](crate::ErrorKind::Rights) naming the event's
/// id (never the subject) for an event the rule refuses.
pub(crate) fn check_event(history: &[LifecycleEvent], event: &LifecycleEvent) -> Result<Step, Error> {
    let refuse = |why: &str| Err(Error::rights(format!("lifecycle event `{}`: {why}", event.id)));
    if let Some(held) = history.iter().find(|h| h.id == event.id) {
        return if held == event { Ok(Step::Repeated) } else { refuse("this id is already held with other content") };
    }
    match event.notice {
        Some(_) if event.change != LifecycleChange::ServiceTerminated => {
            return refuse("only a termination carries a notice");
        }
        Some(notice) if notice > event.at => return refuse("the notice is dated after the termination"),
        _ => {}
    }
    let mut events: Vec<&LifecycleEvent> = history.iter().filter(|h| h.subject == event.subject).collect();
    events.sort_by_key(|h| h.at);
    let place = events.partition_point(|h| h.at <= event.at);
    events.insert(place, event);
    let mut account = Account::Active;
    for step in events {
        account = match (account, step.change) {
            (Account::Terminated, _) => return refuse("the service was terminated: no event comes after it"),
            (Account::Active, LifecycleChange::Reactivated) => {
                return refuse("only a cancelled account can be reactivated");
            }
            (Account::Cancelled, LifecycleChange::Cancelled) => return refuse("the account is already cancelled"),
            (Account::Cancelled, LifecycleChange::Reactivated) => Account::Active,
            (_, LifecycleChange::ServiceTerminated) => Account::Terminated,
            (Account::Cancelled, _) => {
                return refuse("after a cancellation only a reactivation or the service's termination may come");
            }
            (Account::Active, LifecycleChange::Cancelled) => Account::Cancelled,
            (Account::Active, _) => Account::Active,
        };
    }
    Ok(Step::Fresh)
}

/// `events` in the order a store lists them: by time, events of one time
/// in the order they were recorded.
pub(crate) fn in_time_order(mut events: Vec<LifecycleEvent>) -> Vec<LifecycleEvent> {
    events.sort_by_key(|e| e.at);
    events
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, FixedOffset, TimeDelta};
    use uuid::Uuid;

    use super::*;

    fn at(hours: i64) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2024-05-01T10:00:00+08:00").unwrap() + TimeDelta::hours(hours)
    }

    fn ev(n: u128, change: LifecycleChange, hours: i64) -> LifecycleEvent {
        LifecycleEvent::new(Uuid::from_u128(n), "alice", change, at(hours))
    }

    fn check(history: &[LifecycleEvent], event: &LifecycleEvent) -> Result<Step, String> {
        check_event(history, event).map_err(|e| e.to_string())
    }

    #[test]
    fn an_account_is_cancelled_once_and_reactivated_only_after() {
        use LifecycleChange::*;
        let cancel = ev(1, Cancelled, 0);
        assert_eq!(check(&[], &cancel), Ok(Step::Fresh));
        assert_eq!(check(std::slice::from_ref(&cancel), &cancel), Ok(Step::Repeated));
        let other = ev(1, Cancelled, 1);
        assert!(check(std::slice::from_ref(&cancel), &other).unwrap_err().contains("other content"));
        let history = [cancel];
        assert!(check(&history, &ev(2, Cancelled, 1)).unwrap_err().contains("already cancelled"));
        assert!(check(&history, &ev(2, Inactive, 1)).unwrap_err().contains("only a reactivation or"));
        assert!(check(&[], &ev(2, Reactivated, 1)).unwrap_err().contains("only a cancelled account"));
        // Dated before the cancellation, an inactivity is allowed; a
        // reactivation is not.
        assert_eq!(check(&history, &ev(2, Inactive, -1)), Ok(Step::Fresh));
        assert!(check(&history, &ev(2, Reactivated, -1)).is_err());
        let history = [history[0].clone(), ev(2, Reactivated, 1)];
        assert_eq!(check(&history, &ev(3, Cancelled, 2)), Ok(Step::Fresh));
        // A second cancellation between the first and the reactivation is
        // refused: the order is the events' time, not their arrival.
        assert!(check(&history, &ev(3, Cancelled, 0)).is_err());
    }

    #[test]
    fn nothing_follows_a_termination_and_only_it_has_a_notice() {
        use LifecycleChange::*;
        let mut end = ev(1, ServiceTerminated, 0);
        end.notice = Some(at(-24 * 30));
        assert_eq!(check(&[], &end), Ok(Step::Fresh));
        let history = [end.clone()];
        assert!(check(&history, &ev(2, Cancelled, 1)).unwrap_err().contains("terminated"));
        assert_eq!(check(&history, &ev(2, Inactive, -1)), Ok(Step::Fresh));
        let mut noticed = ev(3, Cancelled, 0);
        noticed.notice = Some(at(-1));
        assert!(check(&[], &noticed).unwrap_err().contains("only a termination"));
        end.notice = Some(at(1));
        assert!(check(&[], &end).unwrap_err().contains("after the termination"));
    }

    /// The controller ends the service for every subject: a cancelled
    /// account whose data is still kept is terminated too, and nothing
    /// comes after (004 §10; 003 §7).
    #[test]
    fn a_cancelled_account_can_be_terminated_and_then_nothing_follows() {
        use LifecycleChange::*;
        let mut end = ev(2, ServiceTerminated, 24 * 40);
        end.notice = Some(at(24 * 5));
        let cancel = ev(1, Cancelled, 0);
        assert_eq!(check(std::slice::from_ref(&cancel), &end), Ok(Step::Fresh));
        // Recorded in either order, the events' time decides.
        assert_eq!(check(std::slice::from_ref(&end), &cancel), Ok(Step::Fresh));
        let history = [cancel, end];
        for change in [Reactivated, Cancelled, Inactive] {
            assert!(check(&history, &ev(3, change, 24 * 41)).unwrap_err().contains("terminated"));
        }
        let mut again = ev(3, ServiceTerminated, 24 * 41);
        again.notice = Some(at(24 * 5));
        assert!(check(&history, &again).unwrap_err().contains("terminated"));
        // A reactivation before the termination still is allowed.
        assert_eq!(check(&history, &ev(3, Reactivated, 24)), Ok(Step::Fresh));
    }

    #[test]
    fn an_id_held_for_another_subject_is_refused() {
        let mut bob = ev(1, LifecycleChange::Cancelled, 0);
        bob.subject = "bob".into();
        let err = check(&[bob], &ev(1, LifecycleChange::Cancelled, 0)).unwrap_err();
        assert!(err.contains("other content") && !err.contains("alice"), "{err}");
    }
}
