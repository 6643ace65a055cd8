//! A backup encrypted with a passphrase: ChaCha20-Poly1305 (ring's AEAD, already our TLS
//! library's) under a key derived from the passphrase with argon2id (already our PIN hasher),
//! so encryption adds no crate.
//!
//! ```text
//! "DPBSEAL1" | m_cost u32 LE (KiB) | t_cost u32 LE | lanes u32 LE | salt 16 | nonce 12 | ciphertext+tag
//! ```
//!
//! Everything before the ciphertext is its associated data: a changed parameter fails the
//! tag like a changed byte of the ciphertext or a wrong passphrase.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

pub const MAGIC: &[u8; 8] = b"DPBSEAL1";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const HEAD_LEN: usize = MAGIC.len() + 12 + SALT_LEN + NONCE_LEN;
/// The shortest passphrase taken: it is all that protects every secret of the site.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// argon2id costs: 64 MiB, 3 passes (stronger than the PIN hashes: it runs once a backup).
const M_COST_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;
const LANES: u32 = 1;
/// Costs a file may ask for at most, so a crafted header cannot exhaust memory or time.
const MAX_M_COST_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_LANES: u32 = 16;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")]
    ShortPassphrase,
    #[error("the backup is encrypted: give its passphrase with --passphrase-file")]
    NeedsPassphrase,
    #[error(
        "the backup cannot be decrypted: the passphrase is wrong, or the file was altered; \
         nothing was restored from it"
    )]
    WrongPassphraseOrAltered,
    #[error("the encrypted backup is truncated or damaged: {0}; nothing was restored from it")]
    Damaged(&'static str),
}

pub fn is_sealed(file: &[u8]) -> bool {
    file.starts_with(MAGIC)
}

pub fn check_passphrase(passphrase: &str) -> Result<(), SealError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(SealError::ShortPassphrase);
    }
    Ok(())
}

pub fn seal(plain: &[u8], passphrase: &str) -> Result<Vec<u8>, SealError> {
    check_passphrase(passphrase)?;
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut salt);
    rand::fill(&mut nonce);
    let mut out = Vec::with_capacity(HEAD_LEN + plain.len() + 16);
    out.extend_from_slice(MAGIC);
    for cost in [M_COST_KIB, T_COST, LANES] {
        out.extend_from_slice(&cost.to_le_bytes());
    }
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let key = derive(passphrase, &salt, [M_COST_KIB, T_COST, LANES])?;
    let mut body = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(&out[..HEAD_LEN]),
        &mut body,
    )
    .map_err(|_| SealError::Damaged("encryption failed"))?;
    out.extend_from_slice(&body);
    Ok(out)
}

pub fn open(file: &[u8], passphrase: &str) -> Result<Vec<u8>, SealError> {
    if file.len() < HEAD_LEN + CHACHA20_POLY1305.tag_len() {
        return Err(SealError::Damaged("it is shorter than its header"));
    }
    let (head, body) = file.split_at(HEAD_LEN);
    let cost = |i: usize| {
        let at = MAGIC.len() + i * 4;
        u32::from_le_bytes(head[at..at + 4].try_into().expect("4 bytes"))
    };
    let costs = [cost(0), cost(1), cost(2)];
    if costs[0] > MAX_M_COST_KIB || costs[1] > MAX_T_COST || costs[2] > MAX_LANES {
        return Err(SealError::Damaged(
            "its key derivation costs are out of range",
        ));
    }
    let salt = &head[MAGIC.len() + 12..MAGIC.len() + 12 + SALT_LEN];
    let nonce: [u8; NONCE_LEN] = head[HEAD_LEN - NONCE_LEN..].try_into().expect("12 bytes");
    let key = derive(passphrase, salt, costs)?;
    let mut body = body.to_vec();
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(head),
            &mut body,
        )
        .map_err(|_| SealError::WrongPassphraseOrAltered)?;
    Ok(plain.to_vec())
}

fn derive(passphrase: &str, salt: &[u8], [m, t, p]: [u32; 3]) -> Result<LessSafeKey, SealError> {
    let params = argon2::Params::new(m, t, p, Some(32))
        .map_err(|_| SealError::Damaged("its key derivation costs are out of range"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    argon
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|_| SealError::Damaged("its key cannot be derived"))?;
    let key = UnboundKey::new(&CHACHA20_POLY1305, &key).expect("a 32-byte key");
    Ok(LessSafeKey::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSPHRASE: &str = "correct horse battery";

    #[test]
    fn sealed_opens_with_its_passphrase_only() {
        let sealed = seal(b"records", PASSPHRASE).unwrap();
        assert!(is_sealed(&sealed));
        assert_eq!(open(&sealed, PASSPHRASE).unwrap(), b"records");
        assert!(matches!(
            open(&sealed, "another passphrase"),
            Err(SealError::WrongPassphraseOrAltered)
        ));
        for at in [9, HEAD_LEN, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[at] ^= 1;
            assert!(open(&altered, PASSPHRASE).is_err(), "byte {at} altered");
        }
        assert!(open(&sealed[..sealed.len() - 1], PASSPHRASE).is_err());
    }

    #[test]
    fn a_short_passphrase_is_refused() {
        assert!(matches!(
            seal(b"x", "short"),
            Err(SealError::ShortPassphrase)
        ));
    }
}
