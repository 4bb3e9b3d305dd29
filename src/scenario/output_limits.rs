//! `client-output-buffer-limit` in `[server]`, as redis.conf writes it: a class, a hard limit,
//! a soft limit and the seconds the soft one may be exceeded, e.g. `"replica 256mb 64mb 60"`;
//! several classes may follow one another in one string, as `CONFIG SET` takes them. Sizes use
//! Redis's units (`mb` = 2^20), and `slave` is the old name of `replica`.

use super::check::{because, mismatch, Checked};
use super::raw::{Field, Scalar};
use super::units::parse_size_bytes;
use crate::sim::config::{OutputBufferLimit, ServerConfig};

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
            "normal" | "pubsub" => {
                return Err(because(
                    mismatch(field, path, EXPECTED),
                    format!("only the replica class is modelled, not {:?}", group[0]),
                ))
            }
            _ => {
                return Err(because(
                    mismatch(field, path, EXPECTED),
                    format!("{:?} is not a client class (replica)", group[0]),
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

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Spanned;

    fn parse(text: &str) -> Result<OutputBufferLimit, String> {
        let field = Spanned::new(0..text.len(), Scalar::String(text.to_string()));
        let mut server = ServerConfig::default();
        read(&field, "server.client-output-buffer-limit", &mut server)
            .map(|()| server.replica_output_buffer_limit)
            .map_err(|problem| format!("{problem:?}"))
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
}
