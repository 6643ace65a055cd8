//! Times of day (`HH:MM`) and the site's offset from UTC (`+HH:MM`), stored as text.

use serde::{Deserialize, Serialize};

use super::InvalidInput;

/// A time of day, `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay {
    minutes: u16,
}

impl TimeOfDay {
    pub fn parse(field: &'static str, value: &str) -> Result<TimeOfDay, InvalidInput> {
        let invalid = || InvalidInput::new(field, "must be a time of day HH:MM, like 03:00");
        let (h, m) = value.split_once(':').ok_or_else(invalid)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(invalid());
        }
        let hours: u16 = h.parse().map_err(|_| invalid())?;
        let minutes: u16 = m.parse().map_err(|_| invalid())?;
        if hours > 23 || minutes > 59 {
            return Err(invalid());
        }
        Ok(TimeOfDay {
            minutes: hours * 60 + minutes,
        })
    }

    pub fn seconds_after_midnight(self) -> i64 {
        i64::from(self.minutes) * 60
    }
}

impl std::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

/// The site's offset from UTC, `+HH:MM` or `-HH:MM`, for times of day such as the daily logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UtcOffset {
    minutes: i16,
}

impl UtcOffset {
    pub fn parse(field: &'static str, value: &str) -> Result<UtcOffset, InvalidInput> {
        let invalid = || InvalidInput::new(field, "must be +HH:MM or -HH:MM, like +01:00");
        let (sign, rest) = match value.as_bytes().first() {
            Some(b'+') => (1, &value[1..]),
            Some(b'-') => (-1, &value[1..]),
            _ => return Err(invalid()),
        };
        let time = TimeOfDay::parse(field, rest).map_err(|_| invalid())?;
        if time.minutes > 14 * 60 {
            return Err(invalid());
        }
        Ok(UtcOffset {
            minutes: sign * time.minutes as i16,
        })
    }

    pub fn seconds(self) -> i64 {
        i64::from(self.minutes) * 60
    }
}

impl std::fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.minutes < 0 { '-' } else { '+' };
        let m = self.minutes.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

macro_rules! serde_as_text {
    ($name:ident, $parse:expr) => {
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_text!(TimeOfDay, |t: &str| TimeOfDay::parse("time", t));
serde_as_text!(UtcOffset, |t: &str| UtcOffset::parse("utc_offset", t));
