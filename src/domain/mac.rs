//! A phone's MAC address, parsed strictly.
//!
//! `mac_address::MacAddress::from_str` accepts `+0+4f2a1b2c3` and silently shifts misaligned input
//! (see ../shared/reference/rust-stack.md §4.4), so every MAC entering deskprov passes through
//! [`Mac::parse`] first: exactly 12 hex digits, either bare or with one separator used
//! consistently (`:` or `-` every two digits, `.` every four as Cisco prints it).

use std::fmt;
use std::str::FromStr;

use mac_address::MacAddress;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(MacAddress);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid MAC address: expected 12 hex digits, bare or separated consistently by ':' or '-' \
     (00:15:65:AA:BB:CC, 00-15-65-aa-bb-cc, 001565aabbcc)"
)]
pub struct InvalidMac;

impl Mac {
    pub fn parse(input: &str) -> Result<Mac, InvalidMac> {
        let bytes = input.as_bytes();
        // On the stack: the phone path tries many User-Agent tokens as MACs on each request.
        let mut digits = [0u8; 12];
        match bytes.len() {
            12 => digits.copy_from_slice(bytes),
            17 => split_every(bytes, 2, b":-", &mut digits)?,
            14 => split_every(bytes, 4, b".", &mut digits)?,
            _ => return Err(InvalidMac),
        };
        let mut octets = [0u8; 6];
        for (octet, pair) in octets.iter_mut().zip(digits.chunks_exact(2)) {
            *octet = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        Ok(Mac(MacAddress::new(octets)))
    }

    pub fn from_octets(octets: [u8; 6]) -> Mac {
        Mac(MacAddress::new(octets))
    }

    pub fn octets(&self) -> [u8; 6] {
        self.0.bytes()
    }

    /// Twelve lower-case hex digits: the form of file names, storage keys and the API.
    pub fn to_hex(self) -> String {
        self.hex_with(b"0123456789abcdef")
    }

    /// Twelve upper-case hex digits, as Snom and Cisco enterprise file names use them.
    pub fn to_hex_upper(self) -> String {
        self.hex_with(b"0123456789ABCDEF")
    }

    /// Without `format!` per byte: every stored device record and phone request spells a MAC.
    fn hex_with(self, digits: &[u8; 16]) -> String {
        let mut text = String::with_capacity(12);
        for byte in self.octets() {
            text.push(char::from(digits[usize::from(byte >> 4)]));
            text.push(char::from(digits[usize::from(byte & 0x0f)]));
        }
        text
    }

    /// The vendor prefix (OUI) as six upper-case hex digits.
    pub fn oui(self) -> String {
        self.to_hex_upper()[..6].to_string()
    }
}

/// The twelve digits of `bytes` into `digits`, without the separator after every `group` of
/// them (one of `allowed`, the same each time); mixed or misplaced separators are refused.
fn split_every(
    bytes: &[u8],
    group: usize,
    allowed: &[u8],
    digits: &mut [u8; 12],
) -> Result<(), InvalidMac> {
    let separator = bytes[group];
    if !allowed.contains(&separator) {
        return Err(InvalidMac);
    }
    let mut next = digits.iter_mut();
    for (i, &b) in bytes.iter().enumerate() {
        if (i + 1) % (group + 1) == 0 {
            if b != separator {
                return Err(InvalidMac);
            }
        } else {
            *next.next().ok_or(InvalidMac)? = b;
        }
    }
    Ok(())
}

fn hex_value(b: u8) -> Result<u8, InvalidMac> {
    match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        b'A'..=b'F' => Ok(b - b'A' + 10),
        _ => Err(InvalidMac),
    }
}

impl FromStr for Mac {
    type Err = InvalidMac;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mac::parse(s)
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({})", self.to_hex())
    }
}

impl serde::Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Mac::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_label_notations() {
        for input in [
            "00:15:65:AA:BB:CC",
            "00-15-65-aa-bb-cc",
            "001565aabbcc",
            "001565AABBCC",
            "0015.65aa.bbcc",
        ] {
            assert_eq!(
                Mac::parse(input).unwrap().to_hex(),
                "001565aabbcc",
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_malformed_input() {
        for input in [
            "",
            "00156aabbcc",       // 11 digits
            "001565aabbccd",     // 13 digits
            "00:15-65:aa-bb:cc", // mixed separators
            "+0+4f2a1b2c3",      // signs accepted by mac_address
            "00004:f2:a1:b2:c3", // misaligned, silently shifted by mac_address
            "00 15 65 aa bb cc", // spaces
            "0:15:65:aa:bb:cc",  // short group
            "00:15:65:aa:bb:cg", // not hex
            "001565aabbcc ",     // trailing space
            "00.15.65.aa.bb.cc", // dots every two
            "0015:65aa:bbcc",    // colons every four
            "００1565aabbcc",    // full-width digits
        ] {
            assert_eq!(Mac::parse(input), Err(InvalidMac), "{input:?}");
        }
    }

    #[test]
    fn formats() {
        let mac = Mac::parse("80:5E:0C:1D:65:4E").unwrap();
        assert_eq!(mac.to_string(), "805e0c1d654e");
        assert_eq!(mac.to_hex_upper(), "805E0C1D654E");
        assert_eq!(mac.oui(), "805E0C");
        assert_eq!(serde_json::to_string(&mac).unwrap(), "\"805e0c1d654e\"");
    }
}
