//! [`PgListener`]: news of other instances' appends, by LISTEN/NOTIFY.

use std::time::Duration;

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;

use super::schema::{CHANNEL, db};
use crate::error::Error;

/// A connection of its own that listens for the appends every
/// [`PgLog`](super::PgLog) writer notifies when it commits, so that an
/// instance catches its replica up as soon as another instance appends.
///
/// A notification only says "the log grew": the replica still reads the
/// log in order, so a lost or late notification delays a replica but
/// never skips a record. Wait with a timeout and catch up when it expires
/// too (polling as the fallback), e.g. in a thread of its own:
///
/// ```no_run
/// use std::time::Duration;
/// use privacy_engine::{PgListener, PgLog, Replica};
/// let config = "host=/run/postgresql dbname=app";
/// let mut replica = Replica::open(PgLog::connect(config)?)?;
/// let mut listener = PgListener::connect(config)?;
/// loop {
///     listener.wait(Duration::from_secs(1))?;
///     replica.catch_up()?;
/// #   break;
/// }
/// # Ok::<(), privacy_engine::Error>(())
/// ```
pub struct PgListener {
    client: Client,
    /// `<schema>:` — the prefix of this log's notifications: the channel is
    /// the database's, shared by the logs of every schema in it.
    prefix: String,
}

impl std::fmt::Debug for PgListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgListener").finish_non_exhaustive()
    }
}

impl PgListener {
    /// Listens on `client`, a connection used for nothing else.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the server
    /// refuses to listen.
    pub fn new(mut client: Client) -> Result<Self, Error> {
        let fail = |e| db("cannot listen for appends", e);
        client.batch_execute(&format!("LISTEN {CHANNEL}")).map_err(fail)?;
        let schema: String =
            client.query_one("SELECT current_schema()", &[]).and_then(|r| r.try_get(0)).map_err(fail)?;
        Ok(Self { client, prefix: format!("{schema}:") })
    }

    /// Connects with `config` without TLS and listens, as
    /// [`new`](Self::new) does.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), and if the connection fails.
    pub fn connect(config: &str) -> Result<Self, Error> {
        Self::new(super::connect(config)?)
    }

    /// Waits at most `timeout` for an append to the log in this
    /// connection's schema, and returns the highest seq the notifications
    /// received name (`None` if none came in time); takes
    /// every notification already pending, so one catch-up answers many
    /// appends.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the
    /// connection fails (reconnect, and catch up: appends may have been
    /// missed).
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<u64>, Error> {
        let fail = |e: postgres::Error| db("cannot wait for appends", e);
        let deadline = std::time::Instant::now() + timeout;
        let mut notifications = self.client.notifications();
        let mut last = None;
        while last.is_none() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Some(n) = notifications.timeout_iter(left).next().map_err(fail)? else { return Ok(None) };
            last = seq_of(n.payload(), &self.prefix);
        }
        let mut pending = notifications.iter();
        while let Some(n) = pending.next().map_err(fail)? {
            last = last.max(seq_of(n.payload(), &self.prefix));
        }
        Ok(last)
    }
}

/// The seq a notification's payload names for this log's schema.
fn seq_of(payload: &str, prefix: &str) -> Option<u64> {
    payload.strip_prefix(prefix).and_then(|seq| seq.parse().ok())
}
