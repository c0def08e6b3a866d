//! Relative times of a scenario ([`Ago`]), resolved against the moment the simulator loads it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A time relative to the moment the scenario is loaded.
///
/// Written as `"3d 10:00"` (3 UTC calendar days before today, at 10:00 UTC; seconds optional, time
/// defaults to 12:00), `"0d 08:30"` (today), `"90m"` / `"5h"` / `"30s"` (that long ago) or `"now"`.
/// A time of today that lies in the future at load time is moved to two minutes ago (but stays today).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ago {
    /// A UTC calendar day and a time of day.
    Days {
        /// Days before today.
        days: u32,
        /// Seconds since midnight.
        secs: u32,
    },
    /// A duration before now, in seconds.
    Secs(u64),
}

impl Ago {
    /// Resolves to epoch milliseconds given "now".
    pub fn resolve(self, now_ms: i64) -> i64 {
        match self {
            Ago::Secs(s) => now_ms - s as i64 * 1000,
            Ago::Days { days, secs } => {
                let day0 = crate::format::start_of_day(now_ms);
                let t = day0 - days as i64 * 86_400_000 + secs as i64 * 1000;
                if t > now_ms - 120_000 {
                    (now_ms - 120_000).max(day0 - days as i64 * 86_400_000)
                } else {
                    t
                }
            }
        }
    }
}

impl fmt::Display for Ago {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ago::Secs(0) => write!(f, "now"),
            Ago::Secs(s) => write!(f, "{s}s"),
            Ago::Days { days, secs } => {
                let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
                if s == 0 {
                    write!(f, "{days}d {h:02}:{m:02}")
                } else {
                    write!(f, "{days}d {h:02}:{m:02}:{s:02}")
                }
            }
        }
    }
}

impl FromStr for Ago {
    type Err = String;

    fn from_str(text: &str) -> Result<Ago, String> {
        let t = text.trim();
        let bad =
            || format!("invalid time '{text}': expected '<N>d [HH:MM[:SS]]', '<N>s|m|h' or 'now'");
        if t == "now" {
            return Ok(Ago::Secs(0));
        }
        let (head, rest) = match t.split_once(char::is_whitespace) {
            Some((h, r)) => (h, Some(r.trim())),
            None => (t, None),
        };
        let unit = head.chars().last().ok_or_else(bad)?;
        let n: u64 = head[..head.len() - unit.len_utf8()]
            .parse()
            .map_err(|_| bad())?;
        match (unit, rest) {
            ('d', rest) => {
                let secs = match rest {
                    None => 12 * 3600,
                    Some(clock) => {
                        let parts: Vec<u32> = clock
                            .split(':')
                            .map(|p| p.parse::<u32>())
                            .collect::<Result<_, _>>()
                            .map_err(|_| bad())?;
                        match parts[..] {
                            [h, m] if h < 24 && m < 60 => h * 3600 + m * 60,
                            [h, m, s] if h < 24 && m < 60 && s < 60 => h * 3600 + m * 60 + s,
                            _ => return Err(bad()),
                        }
                    }
                };
                Ok(Ago::Days {
                    days: u32::try_from(n).map_err(|_| bad())?,
                    secs,
                })
            }
            ('s', None) => Ok(Ago::Secs(n)),
            ('m', None) => n.checked_mul(60).map(Ago::Secs).ok_or_else(bad),
            ('h', None) => n.checked_mul(3600).map(Ago::Secs).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Ago {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ago {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ago, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_round_trips() {
        for text in ["now", "30s", "3d 10:00", "0d 08:30:15"] {
            let a: Ago = text.parse().unwrap();
            assert_eq!(a.to_string(), text);
        }
        assert_eq!("5m".parse::<Ago>().unwrap(), Ago::Secs(300));
        assert_eq!(
            "2d".parse::<Ago>().unwrap(),
            Ago::Days {
                days: 2,
                secs: 43200
            }
        );
        assert!("3x".parse::<Ago>().is_err());
        assert!("3d 25:00".parse::<Ago>().is_err());
    }

    #[test]
    fn ago_resolves_relative_to_now() {
        let now = 1_795_773_600_000; // 2026-11-27T10:00:00Z
        let a: Ago = "3d 09:15".parse().unwrap();
        assert_eq!(
            crate::format::jira_date(a.resolve(now)),
            "2026-11-24T09:15:00.000+0000"
        );
        let future: Ago = "0d 23:00".parse().unwrap();
        assert_eq!(future.resolve(now), now - 120_000);
    }
}
