//! `client-output-buffer-limit` in `[server]`, as redis.conf writes it: a class, a hard limit,
//! a soft limit and the seconds the soft one may be exceeded, e.g. `"replica 256mb 64mb 60"`;
//! several classes may follow one another in one string, as `CONFIG SET` takes them. Sizes use
//! Redis's units (`mb` = 2^20), and `slave` is the old name of `replica`. Also
//! `maxmemory-clients`: a size, or a percentage of maxmemory (`"10%"`), as 7.0 takes it.

use super::check::{because, mismatch, size_bytes, Checked};
use super::raw::{Field, Scalar};
use super::units::parse_size_bytes;
use crate::sim::config::{MaxmemoryClients, OutputBufferLimit, ServerConfig};

const EXPECTED: &str =
    "groups of <class> <hard> <soft> <seconds> such as \"replica 256mb 64mb 60\"";

/// Reads the directive into `server`; a class not named keeps its default.
pub(super) fn read(field: &Field, path: &str, server: &mut ServerConfig) -> Checked<()> {
    let Scalar::String(text) = field.get_ref() else {
        return Err(mismatch(field, path, EXPECTED));
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err(mismatch(field, path, EXPECTED));
    }
    for group in words.chunks(4) {
        let limit = limit(&group[1..])
            .map_err(|reason| because(mismatch(field, path, EXPECTED), reason))?;
        match group[0].to_ascii_lowercase().as_str() {
            "replica" | "slave" => server.replica_output_buffer_limit = limit,
            "normal" => server.normal_output_buffer_limit = limit,
            "pubsub" => server.pubsub_output_buffer_limit = limit,
            _ => {
                return Err(because(
                    mismatch(field, path, EXPECTED),
                    format!(
                        "{:?} is not a client class (normal, replica, pubsub)",
                        group[0]
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// `<hard> <soft> <seconds>`.
fn limit(words: &[&str]) -> Result<OutputBufferLimit, String> {
    let size = |word: &str| {
        word.parse::<u64>()
            .or_else(|_| parse_size_bytes(word))
            .map_err(|_| format!("{word:?} is not a size"))
    };
    let soft_seconds = words[2]
        .parse::<u64>()
        .map_err(|_| format!("{:?} is not a number of seconds", words[2]))?;
    Ok(OutputBufferLimit {
        hard_bytes: size(words[0])?,
        soft_bytes: size(words[1])?,
        soft_seconds,
    })
}

/// `maxmemory-clients`: 0 (off), a size, or `"N%"` of maxmemory with N from 1 to 100.
pub(super) fn maxmemory_clients(field: &Field, path: &str) -> Checked<MaxmemoryClients> {
    if let Scalar::String(text) = field.get_ref() {
        if let Some(number) = text.trim().strip_suffix('%') {
            return number
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|percent| (1..=100).contains(percent))
                .map(MaxmemoryClients::PercentOfMaxmemory)
                .ok_or_else(|| {
                    mismatch(
                        field,
                        path,
                        "a size such as \"64mb\", or a percentage of maxmemory from 1% to 100%",
                    )
                });
        }
    }
    size_bytes(field, path).map(MaxmemoryClients::Bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Spanned;

    fn parse_into(text: &str) -> Result<ServerConfig, String> {
        let field = Spanned::new(0..text.len(), Scalar::String(text.to_string()));
        let mut server = ServerConfig::default();
        read(&field, "server.client-output-buffer-limit", &mut server)
            .map(|()| server)
            .map_err(|problem| format!("{problem:?}"))
    }

    fn parse(text: &str) -> Result<OutputBufferLimit, String> {
        parse_into(text).map(|server| server.replica_output_buffer_limit)
    }

    #[test]
    fn redis_conf_forms_read_with_redis_units() {
        assert_eq!(
            parse("replica 256mb 64mb 60"),
            Ok(OutputBufferLimit::REPLICA_DEFAULT)
        );
        assert_eq!(
            parse("SLAVE 1000000 1k 5"),
            Ok(OutputBufferLimit {
                hard_bytes: 1_000_000,
                soft_bytes: 1000,
                soft_seconds: 5,
            })
        );
        assert_eq!(
            parse("replica 0 0 0").map(|l| l.hard_bytes),
            Ok(0),
            "0 disables"
        );
    }

    #[test]
    fn each_class_goes_to_its_own_limit_and_the_others_keep_their_defaults() {
        let server = parse_into("normal 1mb 512kb 10 pubsub 0 0 0").unwrap();
        assert_eq!(
            server.normal_output_buffer_limit,
            OutputBufferLimit {
                hard_bytes: 1 << 20,
                soft_bytes: 512 << 10,
                soft_seconds: 10,
            }
        );
        assert_eq!(server.pubsub_output_buffer_limit.hard_bytes, 0);
        assert_eq!(
            server.replica_output_buffer_limit,
            OutputBufferLimit::REPLICA_DEFAULT
        );
    }

    #[test]
    fn malformed_groups_are_refused() {
        for bad in [
            "",
            "replica 1mb 1mb",
            "replica 1mb 1mb x",
            "replica 1q 1mb 60",
            "master 1 1 1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn maxmemory_clients_takes_a_size_or_a_percentage() {
        let read = |scalar: Scalar| {
            maxmemory_clients(&Spanned::new(0..1, scalar), "server.maxmemory-clients")
        };
        assert_eq!(
            read(Scalar::String("10%".into())),
            Ok(MaxmemoryClients::PercentOfMaxmemory(10))
        );
        assert_eq!(
            read(Scalar::String("1mb".into())),
            Ok(MaxmemoryClients::Bytes(1 << 20))
        );
        assert_eq!(read(Scalar::Integer(0)), Ok(MaxmemoryClients::Bytes(0)));
        for bad in ["0%", "101%", "x%", "-5%"] {
            assert!(read(Scalar::String(bad.into())).is_err(), "{bad} accepted");
        }
    }
}
