//! A live Redis server, read over the network: the only module that opens connections.
//!
//! `diagnose` and `from-info` given a `redis://` or `rediss://` URL take `INFO all` (and, if the
//! account may, `CONFIG GET *`) through [`Server`]; `watch` subscribes to keyspace
//! notifications with [`Server::watch`]. It never writes to the server except
//! `CONFIG SET notify-keyspace-events`, which `watch` makes only when told to and undoes itself.
//! Failures are sorted by what the user can do about them ([`LiveError`]): a URL that is not
//! one, a server that cannot be reached (or refuses the credentials), a command the server
//! refuses. It prints nothing and starts no thread; the binary owns the terminal and the clock
//! between snapshots.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::{Client, Connection, ErrorKind, RedisError};

/// How long connecting, and any one reply, may take before the server counts as unreachable.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How often a subscribed connection wakes to look at the deadline and at Ctrl-C.
const POLL: Duration = Duration::from_millis(100);

/// Why a live server could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{url}: not a Redis URL ({reason}); write redis://[user:password@]host:port[/db] or rediss://… for TLS")]
    BadUrl { url: String, reason: String },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} refused `{command}`: {reason}")]
    Refused {
        url: String,
        command: String,
        reason: String,
    },
}

/// The database a URL names (`redis://host:6379/3` → 3).
pub fn url_db(url: &str) -> Option<u32> {
    let (_, rest) = url.split_once("://")?;
    let (_, path) = rest
        .rsplit_once('@')
        .unwrap_or(("", rest))
        .1
        .split_once('/')?;
    path.parse().ok()
}

/// Whether `text` names a live server rather than a file.
pub fn is_url(text: &str) -> bool {
    text.starts_with("redis://") || text.starts_with("rediss://")
}

/// One connection to a live server.
pub struct Server {
    /// The URL as shown in messages: its password, if any, replaced by `***`.
    shown: String,
    client: Client,
    connection: Connection,
}

/// A removal the server announced (`__keyevent@<db>__:<event>`), `at_us` after the watch began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEvent {
    pub at_us: u64,
    pub db: u32,
    pub event: String,
    pub key: String,
}

impl Server {
    /// Connects and checks the server answers.
    pub fn connect(url: &str) -> Result<Server, LiveError> {
        let shown = hide_password(url);
        let client = Client::open(url).map_err(|error| LiveError::BadUrl {
            url: shown.clone(),
            reason: error.to_string(),
        })?;
        let connection = open(&client, &shown)?;
        Ok(Server {
            shown,
            client,
            connection,
        })
    }

    /// The URL as messages show it.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `host:port`, naming the node in a ledger.
    pub fn node_name(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    /// `INFO all`, as `redis-cli INFO all` prints it.
    pub fn info_all(&mut self) -> Result<String, LiveError> {
        self.query(redis::cmd("INFO").arg("all"), "INFO all")
    }

    /// `CONFIG GET *` as `redis-cli` prints it (name and value on alternate lines), or `None`
    /// when the account may not run it: it is optional.
    pub fn config_all(&mut self) -> Result<Option<String>, LiveError> {
        let pairs: Result<Vec<String>, RedisError> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("*")
            .query(&mut self.connection);
        match pairs {
            Ok(pairs) => Ok(Some(pairs.iter().map(|line| format!("{line}\n")).collect())),
            Err(error) if is_server_error(&error) => Ok(None),
            Err(error) => Err(self.failure("CONFIG GET *", error)),
        }
    }

    /// The current `notify-keyspace-events` flags.
    pub fn notify_flags(&mut self) -> Result<String, LiveError> {
        let pair: Vec<String> = self.query(
            redis::cmd("CONFIG")
                .arg("GET")
                .arg("notify-keyspace-events"),
            "CONFIG GET notify-keyspace-events",
        )?;
        pair.get(1).cloned().ok_or_else(|| LiveError::Refused {
            url: self.shown.clone(),
            command: "CONFIG GET notify-keyspace-events".to_string(),
            reason: "the server returned no value for it".to_string(),
        })
    }

    /// `CONFIG SET notify-keyspace-events flags`.
    pub fn set_notify_flags(&mut self, flags: &str) -> Result<(), LiveError> {
        let command = format!("CONFIG SET notify-keyspace-events {flags:?}");
        let _: String = self.query(
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("notify-keyspace-events")
                .arg(flags),
            &command,
        )?;
        Ok(())
    }

    /// Collects every key event for `duration`, or until `stop` is set, on a connection of
    /// its own (this one stays free to restore the flags), with the whole seconds it watched.
    /// `tick` is told the seconds elapsed.
    pub fn watch(
        &mut self,
        duration: Duration,
        stop: &AtomicBool,
        tick: &mut dyn FnMut(u64),
    ) -> Result<(Vec<KeyEvent>, u64), LiveError> {
        let mut connection = open(&self.client, &self.shown)?;
        let mut pubsub = connection.as_pubsub();
        let pattern = "__keyevent@*__:*";
        pubsub
            .psubscribe(pattern)
            .and_then(|()| pubsub.set_read_timeout(Some(POLL)))
            .map_err(|error| self.failure(&format!("PSUBSCRIBE {pattern}"), error))?;
        let start = Instant::now();
        let mut events = Vec::new();
        while start.elapsed() < duration && !stop.load(Ordering::SeqCst) {
            tick(start.elapsed().as_secs());
            match pubsub.get_message() {
                Ok(message) => {
                    let at_us = start.elapsed().as_micros() as u64;
                    let key: Vec<u8> = message
                        .get_payload()
                        .map_err(|error| self.failure("reading a notification's key", error))?;
                    if let Some((db, event)) = parse_channel(message.get_channel_name()) {
                        events.push(KeyEvent {
                            at_us,
                            db,
                            event,
                            key: String::from_utf8_lossy(&key).into_owned(),
                        });
                    }
                }
                Err(error) if error.is_timeout() => {}
                Err(error) => return Err(self.failure("reading notifications", error)),
            }
        }
        Ok((events, start.elapsed().as_secs()))
    }

    fn query<T: redis::FromRedisValue>(
        &mut self,
        command: &redis::Cmd,
        shown: &str,
    ) -> Result<T, LiveError> {
        command
            .query(&mut self.connection)
            .map_err(|error| self.failure(shown, error))
    }

    fn failure(&self, command: &str, error: RedisError) -> LiveError {
        if is_server_error(&error) {
            LiveError::Refused {
                url: self.shown.clone(),
                command: command.to_string(),
                reason: error.to_string(),
            }
        } else {
            LiveError::Unreachable {
                url: self.shown.clone(),
                reason: format!("{command}: {error}"),
            }
        }
    }
}

fn open(client: &Client, shown: &str) -> Result<Connection, LiveError> {
    let unreachable = |error: RedisError| LiveError::Unreachable {
        url: shown.to_string(),
        reason: error.to_string(),
    };
    let connection = client
        .get_connection_with_timeout(TIMEOUT)
        .map_err(unreachable)?;
    connection
        .set_read_timeout(Some(TIMEOUT))
        .map_err(unreachable)?;
    Ok(connection)
}

/// An error reply from the server (NOPERM, ERR unknown command…), as opposed to the network.
fn is_server_error(error: &RedisError) -> bool {
    matches!(error.kind(), ErrorKind::Server(_) | ErrorKind::Extension)
}

/// `__keyevent@3__:expired` → (3, "expired").
fn parse_channel(channel: &str) -> Option<(u32, String)> {
    let rest = channel.strip_prefix("__keyevent@")?;
    let (db, event) = rest.split_once("__:")?;
    Some((db.parse().ok()?, event.to_string()))
}

/// The URL with its password, if any, replaced by `***`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => format!("{scheme}://***@{host}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_name_their_database_and_event() {
        assert_eq!(
            parse_channel("__keyevent@3__:expired"),
            Some((3, "expired".to_string()))
        );
        assert_eq!(parse_channel("__keyspace@0__:k"), None);
        assert_eq!(parse_channel("__keyevent@x__:del"), None);
    }

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            hide_password("redis://u:secret@h:1/0"),
            "redis://u:***@h:1/0"
        );
        assert_eq!(hide_password("rediss://secret@h:1"), "rediss://***@h:1");
        assert_eq!(hide_password("redis://h:1"), "redis://h:1");
    }

    #[test]
    fn a_bad_url_and_a_closed_port_are_told_apart() {
        assert!(matches!(
            Server::connect("redis://host:notaport"),
            Err(LiveError::BadUrl { .. })
        ));
        // Port 1 on loopback: nothing listens there.
        assert!(matches!(
            Server::connect("redis://127.0.0.1:1"),
            Err(LiveError::Unreachable { .. })
        ));
    }
}
