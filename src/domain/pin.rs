//! Hot-desk PINs and the policy that refuses guessable ones.
//!
//! The rules follow Cisco's credential policy for Extension Mobility PINs (security.md §2):
//! PINs are keyed in on a phone keypad, so the easy ones to type are also the easy ones to
//! guess. A PIN exists in memory only while it is checked or hashed; it is never stored,
//! logged or returned.

use std::fmt;

use rand::Rng;

use super::{Extension, InvalidInput};

/// The longest PIN accepted: long enough for any policy, short enough to type on a keypad.
pub const MAX_PIN_DIGITS: usize = 12;
/// No configuration may allow PINs shorter than this.
pub const MIN_PIN_DIGITS_ALLOWED: usize = 4;

/// A PIN as typed: digits only, bounded. Whether it is good enough is [`PinPolicy`]'s call.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    pub fn parse(value: &str) -> Result<Pin, InvalidInput> {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidInput::new("pin", "must be digits only"));
        }
        if value.len() > MAX_PIN_DIGITS {
            return Err(InvalidInput::new(
                "pin",
                format!("at most {MAX_PIN_DIGITS} digits"),
            ));
        }
        Ok(Pin(value.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin([redacted])")
    }
}

/// What makes a PIN acceptable when an admin or a user sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinPolicy {
    pub min_digits: usize,
}

impl PinPolicy {
    /// Refuses a PIN that is short or trivial, saying why.
    pub fn check(&self, pin: &Pin, extension: &Extension) -> Result<(), InvalidInput> {
        let digits = pin.expose().as_bytes();
        if digits.len() < self.min_digits {
            return Err(refused(format!("at least {} digits", self.min_digits)));
        }
        if distinct_digits(digits) < 3 {
            return Err(refused(
                "needs at least 3 different digits (1111 or 121212 are guessed first)",
            ));
        }
        if is_run(digits) {
            return Err(refused(
                "an ascending or descending run (123456, 987654) is guessed first",
            ));
        }
        if repeats_a_group(digits) {
            return Err(refused(
                "a repeated group of digits (408408) is guessed first",
            ));
        }
        if is_keypad_pattern(digits) {
            return Err(refused(
                "a straight line on the keypad (2580, 147258) is guessed first",
            ));
        }
        if contains_extension(pin.expose(), extension.as_str()) {
            return Err(refused("must not contain the extension or its reverse"));
        }
        Ok(())
    }

    /// A random PIN this policy accepts: at least 6 digits, the shortest NIST allows for a
    /// numeric secret chosen by the server.
    pub fn generate(&self, extension: &Extension) -> Pin {
        let length = self.min_digits.max(6);
        let mut rng = rand::rng();
        loop {
            let candidate: String = (0..length)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect();
            let pin = Pin(candidate);
            if self.check(&pin, extension).is_ok() {
                return pin;
            }
        }
    }
}

fn refused(reason: impl Into<String>) -> InvalidInput {
    InvalidInput::new("pin", reason)
}

fn distinct_digits(digits: &[u8]) -> usize {
    let mut seen = [false; 10];
    for d in digits {
        seen[usize::from(d - b'0')] = true;
    }
    seen.iter().filter(|s| **s).count()
}

/// Every step +1 or every step −1, wrapping 9→0 (7890123 is as easy to type as 1234567).
fn is_run(digits: &[u8]) -> bool {
    let steps: Vec<u8> = digits.windows(2).map(|w| (10 + w[1] - w[0]) % 10).collect();
    steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == 9)
}

/// The PIN is one shorter group written two or more times.
fn repeats_a_group(digits: &[u8]) -> bool {
    (1..=digits.len() / 2)
        .filter(|size| digits.len().is_multiple_of(*size))
        .any(|size| digits.chunks(size).all(|chunk| chunk == &digits[..size]))
}

/// Rows, columns and diagonals of a phone keypad (with 0 under 8), both ways.
const KEYPAD_LINES: &[&[u8]] = &[
    b"123", b"456", b"789", b"147", b"258", b"369", b"159", b"357", b"2580",
];

/// The PIN is made of whole keypad lines, each typed in either direction (2580, 147258, 159753).
fn is_keypad_pattern(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return true;
    }
    KEYPAD_LINES.iter().any(|line| {
        let reversed: Vec<u8> = line.iter().rev().copied().collect();
        [line.to_vec(), reversed]
            .iter()
            .any(|l| digits.starts_with(l) && is_keypad_pattern(&digits[l.len()..]))
    })
}

/// Containment for extensions of 3 digits or more; an exact match for shorter ones, which
/// would otherwise forbid most PINs.
fn contains_extension(pin: &str, extension: &str) -> bool {
    let reversed: String = extension.chars().rev().collect();
    if extension.len() >= 3 {
        pin.contains(extension) || pin.contains(&reversed)
    } else {
        pin == extension || pin == reversed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pin: &str, ext: &str) -> Result<(), InvalidInput> {
        PinPolicy { min_digits: 6 }
            .check(&Pin::parse(pin).unwrap(), &Extension::parse(ext).unwrap())
    }

    #[test]
    fn trivial_pins_are_refused_with_the_reason() {
        for (pin, why) in [
            ("1234", "at least 6"),
            ("111111", "3 different"),
            ("121212", "3 different"),
            ("123456", "run"),
            ("654321", "run"),
            ("789012", "run"),
            ("408408", "repeated group"),
            ("147258", "keypad"),
            ("225522", "3 different"),
            ("852963", "keypad"),
            ("159753", "keypad"),
            ("901001", "extension"),
            ("910019", "extension"),
        ] {
            let err = check(pin, "1001").expect_err(pin);
            assert!(err.reason.contains(why), "{pin}: {err}");
        }
        let four = PinPolicy { min_digits: 4 };
        let ext = Extension::parse("1001").unwrap();
        assert!(four.check(&Pin::parse("2580").unwrap(), &ext).is_err());
        assert!(four.check(&Pin::parse("1357").unwrap(), &ext).is_ok());
    }

    #[test]
    fn ordinary_pins_pass() {
        for pin in ["739164", "580392", "20481357", "918273"] {
            assert!(check(pin, "1001").is_ok(), "{pin}");
        }
    }

    #[test]
    fn pins_are_digits_only_and_bounded() {
        for bad in ["", "12a456", " 123456", "１２３４５６", "1234567890123"] {
            assert!(Pin::parse(bad).is_err(), "{bad:?}");
        }
        assert!(!format!("{:?}", Pin::parse("739164").unwrap()).contains("739164"));
    }

    #[test]
    fn generated_pins_pass_the_policy() {
        let policy = PinPolicy { min_digits: 6 };
        let ext = Extension::parse("1001").unwrap();
        for _ in 0..200 {
            let pin = policy.generate(&ext);
            assert_eq!(pin.expose().len(), 6);
            assert!(policy.check(&pin, &ext).is_ok());
        }
    }
}
