//! PIN hashing: argon2id with OWASP parameters (19 MiB, t=2, p=1; the crate's defaults), run
//! on the blocking pool behind a semaphore. Each hash takes ~40 ms of a core and 19 MiB, so
//! unbounded, a login flood would take the memory and the threads that serve configs.

use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::domain::{Pin, Secret};

/// Verified when a user has no PIN (or does not exist), so that a refusal takes as long as a
/// real check and the timing does not tell which extensions exist.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = crate::domain::Secret::generate(16);
    Argon2::default()
        .hash_password(random.expose().as_bytes())
        .expect("argon2 hashes any input")
        .to_string()
});

#[derive(Debug, thiserror::Error)]
#[error("PIN hashing failed: {0}")]
pub struct HashError(String);

pub struct PinHasher {
    permits: Arc<Semaphore>,
}

impl PinHasher {
    pub fn new(max_concurrent: usize) -> PinHasher {
        PinHasher {
            permits: Arc::new(Semaphore::new(max_concurrent)),
        }
    }

    /// The PHC string (algorithm, parameters, salt and hash) to store.
    pub async fn hash(&self, pin: &Pin) -> Result<Secret, HashError> {
        let pin = pin.clone();
        self.run(move || {
            Argon2::default()
                .hash_password(pin.expose().as_bytes())
                .map(|h| Secret::from_trusted(h.to_string()))
                .map_err(|e| HashError(e.to_string()))
        })
        .await?
    }

    /// Whether `pin` matches `stored`; with no stored hash, checks a dummy and says no.
    pub async fn verify(&self, pin: &Pin, stored: Option<&Secret>) -> bool {
        let pin = pin.clone();
        let (hash, real) = match stored {
            Some(hash) => (hash.expose().to_string(), true),
            None => (DUMMY_HASH.clone(), false),
        };
        let matched = self
            .run(move || {
                Argon2::default()
                    .verify_password(pin.expose().as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await
            .unwrap_or(false);
        matched && real
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| HashError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let hasher = PinHasher::new(2);
        let pin = Pin::parse("739164").unwrap();
        let a = hasher.hash(&pin).await.unwrap();
        let b = hasher.hash(&pin).await.unwrap();
        assert!(
            a.expose().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{:?}",
            a.expose()
        );
        assert_ne!(a, b, "salted");
        assert!(!a.expose().contains("739164"));
        assert!(hasher.verify(&pin, Some(&a)).await);
        assert!(
            !hasher
                .verify(&Pin::parse("739165").unwrap(), Some(&a))
                .await
        );
        assert!(!hasher.verify(&pin, None).await);
    }
}
