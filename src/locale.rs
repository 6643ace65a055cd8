//! Time zones and languages an admin can choose for phones.
//!
//! Admins name a time zone the way operating systems do (`Europe/Berlin`) and a language by its
//! ISO 639-1 code (`de`); each vendor turns them into its own codes in `template_values`. The
//! POSIX TZ string carries the daylight-saving rules for phones that take one (Grandstream,
//! Fanvil, Cisco); phones that only take an offset get the standard offset and switch DST by
//! their own built-in rules.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeZone {
    /// The IANA name: `Europe/Berlin`.
    pub name: &'static str,
    /// The POSIX TZ string with its daylight-saving rule: `CET-1CEST,M3.5.0,M10.5.0/3`.
    pub posix: &'static str,
    /// The standard (winter) offset from UTC in minutes, east positive.
    pub offset_minutes: i16,
}

impl TimeZone {
    /// `+01:00`, `-05:00`, `+05:30`.
    pub fn offset(&self) -> String {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let m = self.offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    }

    /// Whether the zone observes daylight-saving time.
    pub fn has_dst(&self) -> bool {
        self.posix.contains(',')
    }
}

const fn zone(name: &'static str, posix: &'static str, offset_minutes: i16) -> TimeZone {
    TimeZone {
        name,
        posix,
        offset_minutes,
    }
}

const CET: &str = "CET-1CEST,M3.5.0,M10.5.0/3";
const EET: &str = "EET-2EEST,M3.5.0/3,M10.5.0/4";
const US_EAST: &str = "EST5EDT,M3.2.0,M11.1.0";
const US_CENTRAL: &str = "CST6CDT,M3.2.0,M11.1.0";
const US_MOUNTAIN: &str = "MST7MDT,M3.2.0,M11.1.0";
const US_PACIFIC: &str = "PST8PDT,M3.2.0,M11.1.0";
const AU_EAST: &str = "AEST-10AEDT,M10.1.0,M4.1.0/3";

pub static TIME_ZONES: &[TimeZone] = &[
    zone("UTC", "UTC0", 0),
    zone("Europe/London", "GMT0BST,M3.5.0/1,M10.5.0", 0),
    zone("Europe/Dublin", "GMT0IST,M3.5.0/1,M10.5.0", 0),
    zone("Europe/Lisbon", "WET0WEST,M3.5.0/1,M10.5.0", 0),
    zone("Europe/Amsterdam", CET, 60),
    zone("Europe/Berlin", CET, 60),
    zone("Europe/Brussels", CET, 60),
    zone("Europe/Copenhagen", CET, 60),
    zone("Europe/Madrid", CET, 60),
    zone("Europe/Oslo", CET, 60),
    zone("Europe/Paris", CET, 60),
    zone("Europe/Prague", CET, 60),
    zone("Europe/Rome", CET, 60),
    zone("Europe/Stockholm", CET, 60),
    zone("Europe/Vienna", CET, 60),
    zone("Europe/Warsaw", CET, 60),
    zone("Europe/Zurich", CET, 60),
    zone("Europe/Athens", EET, 120),
    zone("Europe/Bucharest", EET, 120),
    zone("Europe/Helsinki", EET, 120),
    zone("Europe/Kyiv", EET, 120),
    zone("Europe/Istanbul", "<+03>-3", 180),
    zone("Europe/Moscow", "MSK-3", 180),
    zone("Africa/Lagos", "WAT-1", 60),
    zone("Africa/Johannesburg", "SAST-2", 120),
    zone("Africa/Nairobi", "EAT-3", 180),
    zone("Asia/Jerusalem", "IST-2IDT,M3.4.4/26,M10.5.0", 120),
    zone("Asia/Dubai", "<+04>-4", 240),
    zone("Asia/Kolkata", "IST-5:30", 330),
    zone("Asia/Singapore", "<+08>-8", 480),
    zone("Asia/Hong_Kong", "HKT-8", 480),
    zone("Asia/Shanghai", "CST-8", 480),
    zone("Asia/Tokyo", "JST-9", 540),
    zone("Asia/Seoul", "KST-9", 540),
    zone("Australia/Perth", "AWST-8", 480),
    zone("Australia/Adelaide", "ACST-9:30ACDT,M10.1.0,M4.1.0/3", 570),
    zone("Australia/Brisbane", "AEST-10", 600),
    zone("Australia/Melbourne", AU_EAST, 600),
    zone("Australia/Sydney", AU_EAST, 600),
    zone("Pacific/Auckland", "NZST-12NZDT,M9.5.0,M4.1.0/3", 720),
    zone("America/St_Johns", "NST3:30NDT,M3.2.0,M11.1.0", -210),
    zone("America/Halifax", "AST4ADT,M3.2.0,M11.1.0", -240),
    zone("America/New_York", US_EAST, -300),
    zone("America/Toronto", US_EAST, -300),
    zone("America/Chicago", US_CENTRAL, -360),
    zone("America/Mexico_City", "CST6", -360),
    zone("America/Denver", US_MOUNTAIN, -420),
    zone("America/Phoenix", "MST7", -420),
    zone("America/Los_Angeles", US_PACIFIC, -480),
    zone("America/Vancouver", US_PACIFIC, -480),
    zone("America/Anchorage", "AKST9AKDT,M3.2.0,M11.1.0", -540),
    zone("Pacific/Honolulu", "HST10", -600),
    zone("America/Sao_Paulo", "<-03>3", -180),
    zone("America/Argentina/Buenos_Aires", "<-03>3", -180),
    zone("America/Bogota", "<-05>5", -300),
];

/// The zone by its IANA name, case-insensitively.
pub fn time_zone(name: &str) -> Option<&'static TimeZone> {
    TIME_ZONES
        .iter()
        .find(|z| z.name.eq_ignore_ascii_case(name))
}

/// One end of a POSIX daylight-saving rule `Mm.w.d[/h]`: month 1-12, week 1-5 (5 = the last),
/// weekday 0 (Sunday) to 6, and the local hour of the change, which POSIX lets run past 23
/// (Israel's `M3.4.4/26`) or below 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DstChange {
    pub month: u8,
    pub week: u8,
    pub weekday: u8,
    pub hour: i16,
}

/// The start and end of daylight-saving time in a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`),
/// or `None` for a zone without DST or a rule not in the `Mm.w.d` form. Every zone in
/// `locale::TIME_ZONES` saves one hour, POSIX's default. For the vendors that take DST as a
/// rule of their own (Yealink, Poly, Cisco, Snom, Fanvil).
pub fn dst_changes(posix: &str) -> Option<(DstChange, DstChange)> {
    let mut rules = posix.split(',').skip(1).map(dst_change);
    let changes = (rules.next()??, rules.next()??);
    rules.next().is_none().then_some(changes)
}

fn dst_change(rule: &str) -> Option<DstChange> {
    let (date, time) = rule.split_once('/').unwrap_or((rule, "2"));
    let mut fields = date
        .strip_prefix('M')?
        .split('.')
        .map(|f| f.parse::<u8>().ok());
    let (month, week, weekday) = (fields.next()??, fields.next()??, fields.next()??);
    let (hour, minutes) = time.split_once(':').unwrap_or((time, "0"));
    let valid = fields.next().is_none()
        && (1..=12).contains(&month)
        && (1..=5).contains(&week)
        && weekday <= 6
        && minutes.parse::<u8>().ok() == Some(0);
    valid
        .then(|| hour.parse().ok())
        .flatten()
        .map(|hour| DstChange {
            month,
            week,
            weekday,
            hour,
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Language {
    /// ISO 639-1: `de`.
    pub code: &'static str,
    /// In English: `German`.
    pub english: &'static str,
    /// In the language itself: `Deutsch`.
    pub native: &'static str,
}

const fn language_row(code: &'static str, english: &'static str, native: &'static str) -> Language {
    Language {
        code,
        english,
        native,
    }
}

pub static LANGUAGES: &[Language] = &[
    language_row("en", "English", "English"),
    language_row("de", "German", "Deutsch"),
    language_row("fr", "French", "Français"),
    language_row("es", "Spanish", "Español"),
    language_row("it", "Italian", "Italiano"),
    language_row("nl", "Dutch", "Nederlands"),
    language_row("pt", "Portuguese", "Português"),
    language_row("pl", "Polish", "Polski"),
    language_row("sv", "Swedish", "Svenska"),
    language_row("da", "Danish", "Dansk"),
    language_row("nb", "Norwegian", "Norsk"),
    language_row("fi", "Finnish", "Suomi"),
    language_row("cs", "Czech", "Čeština"),
    language_row("tr", "Turkish", "Türkçe"),
    language_row("ru", "Russian", "Русский"),
];

/// The language by its ISO 639-1 code, case-insensitively.
pub fn language(code: &str) -> Option<&'static Language> {
    LANGUAGES.iter().find(|l| l.code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_offsets_agree_with_the_posix_strings() {
        for (i, z) in TIME_ZONES.iter().enumerate() {
            assert!(
                TIME_ZONES[..i].iter().all(|o| o.name != z.name),
                "{}",
                z.name
            );
            // POSIX offsets are west-positive: "CET-1" is UTC+1.
            let after_name = match z.posix.split_once('>') {
                Some((_, rest)) => rest,
                None => z
                    .posix
                    .trim_start_matches(|c: char| c.is_ascii_alphabetic()),
            };
            let std_part: String = after_name
                .chars()
                .take_while(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ':'))
                .collect();
            let (sign, rest) = match std_part.strip_prefix('-') {
                Some(rest) => (1, rest),
                None => (-1, std_part.trim_start_matches('+')),
            };
            let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
            let minutes = sign * (h.parse::<i16>().unwrap() * 60 + m.parse::<i16>().unwrap());
            assert_eq!(minutes, z.offset_minutes, "{}", z.name);
        }
        assert_eq!(time_zone("europe/berlin").unwrap().offset(), "+01:00");
        assert_eq!(time_zone("America/St_Johns").unwrap().offset(), "-03:30");
        assert!(time_zone("Mars/Olympus").is_none());
        assert_eq!(language("DE").unwrap().english, "German");
    }
}
