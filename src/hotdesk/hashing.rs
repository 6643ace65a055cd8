//! PIN and password hashing: argon2id with OWASP parameters (19 MiB, t=2, p=1; the crate's defaults), run
//! on threads of its own behind a semaphore. Each hash takes ~40 ms of a core and 19 MiB, so
//! unbounded, a login flood would take the memory and the threads that serve configs; the PIN
//! hasher's threads default to half the cores (`hotdesk.max_concurrent_hashes`).
//!
//! The hashing threads run in Linux's idle scheduling class (`SCHED_IDLE`) at nice 19: while
//! phones are fetching configs, a login waits a little longer instead of the configs
//! (BENCHMARKS.md, (d)). An idle-class thread is preempted by any thread that wakes, where a
//! nice-19 one only gets a smaller share. When the machine is otherwise idle, neither makes a
//! difference.

use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::{Semaphore, oneshot};

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
#[error("hashing failed: {0}")]
pub struct HashError(String);

type Job = Box<dyn FnOnce() + Send>;

pub struct Hasher {
    permits: Arc<Semaphore>,
    /// To the hashing threads; they end when this is dropped.
    jobs: mpsc::Sender<Job>,
}

impl Hasher {
    pub fn new(max_concurrent: usize) -> Hasher {
        let threads = max_concurrent.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("pin-hash-{n}"))
                .spawn(move || hashing_thread(&queue))
                .expect("spawning a PIN hashing thread");
        }
        Hasher {
            permits: Arc::new(Semaphore::new(threads)),
            jobs,
        }
    }

    /// The PHC string (algorithm, parameters, salt and hash) to store.
    pub async fn hash(&self, pin: &Pin) -> Result<Secret, HashError> {
        self.hash_secret(Secret::from_trusted(pin.expose().to_string()))
            .await
    }

    /// Whether `pin` matches `stored`; with no stored hash, checks a dummy and says no.
    pub async fn verify(&self, pin: &Pin, stored: Option<&Secret>) -> bool {
        self.verify_secret(Secret::from_trusted(pin.expose().to_string()), stored)
            .await
    }

    /// The PHC string of any secret (a console password).
    pub async fn hash_secret(&self, secret: Secret) -> Result<Secret, HashError> {
        self.run(move || {
            Argon2::default()
                .hash_password(secret.expose().as_bytes())
                .map(|h| Secret::from_trusted(h.to_string()))
                .map_err(|e| HashError(e.to_string()))
        })
        .await?
    }

    /// Whether `secret` matches `stored`; with no stored hash, checks a dummy and says no, in
    /// the same time.
    pub async fn verify_secret(&self, secret: Secret, stored: Option<&Secret>) -> bool {
        let (hash, real) = match stored {
            Some(hash) => (hash.expose().to_string(), true),
            None => (DUMMY_HASH.clone(), false),
        };
        let matched = self
            .run(move || {
                Argon2::default()
                    .verify_password(secret.expose().as_bytes(), hash.as_str())
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
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs
            .send(job)
            .map_err(|_| HashError("hashing threads gone".into()))?;
        result
            .await
            .map_err(|_| HashError("hashing thread failed".into()))
    }
}

fn hashing_thread(queue: &Mutex<mpsc::Receiver<Job>>) {
    lowest_cpu_priority();
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// The idle scheduling class and nice 19 for the calling thread (on Linux both are per thread).
#[cfg(target_os = "linux")]
fn lowest_cpu_priority() {
    let idle = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 is the calling thread; the call only changes its own scheduling class, and
    // lowering it needs no privilege. gettid has no preconditions; setpriority only changes this
    // thread's nice value.
    let (class, nice) = unsafe {
        let class = libc::sched_setscheduler(0, libc::SCHED_IDLE, &idle);
        let thread = libc::gettid() as libc::id_t;
        (class, libc::setpriority(libc::PRIO_PROCESS, thread, 19))
    };
    if class != 0 || nice != 0 {
        tracing::debug!("could not lower the PIN hashing thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lowest_cpu_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let hasher = Hasher::new(2);
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_the_hasher_was_given() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hasher = Arc::new(Hasher::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..6).map(|_| {
            let (hasher, running, most) = (hasher.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                hasher
                    .run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(30));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                    .unwrap()
            })
        });
        for job in jobs.collect::<Vec<_>>() {
            job.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_in_the_idle_scheduling_class() {
        let hasher = Hasher::new(1);
        // SAFETY: pid 0 asks about the calling thread (the hashing thread); no other effect.
        let class = hasher
            .run(|| unsafe { libc::sched_getscheduler(0) })
            .await
            .unwrap();
        assert_eq!(class, libc::SCHED_IDLE);
    }
}
