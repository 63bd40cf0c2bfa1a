//! The shared durable store (feature `postgres`): the consent log
//! ([`PgLog`]), the audit chain ([`PgAuditStore`]) and the notifications
//! that carry one instance's appends to the others ([`PgListener`]), in one
//! PostgreSQL schema that many instances of a service use at once.
//!
//! The client is the synchronous `postgres` crate, which a caller connects
//! (TLS, pools and credentials are the caller's); a tokio service calls
//! the store through `spawn_blocking`, as the writes are short
//! transactions.

mod audit;
mod cases;
mod codec;
mod lifecycle;
mod listen;
mod log;
mod schema;

pub use audit::PgAuditStore;
pub use listen::PgListener;
pub use log::PgLog;

use postgres::{Client, NoTls};

use crate::error::Error;

/// Connects with `config` (a libpq-style string, e.g.
/// `host=/run/postgresql dbname=app`) without TLS, for a server on a local
/// socket or loopback.
pub(crate) fn connect(config: &str) -> Result<Client, Error> {
    Client::connect(config, NoTls).map_err(|e| schema::db("cannot connect to the store", e))
}
