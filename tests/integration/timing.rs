//! Timing-oracle verdicts: two kinds of request (a known name and an unknown one, a registered
//! MAC and a fresh one) must take the same time, judged by the ratio of their medians.
//!
//! The tests run in parallel on two cores, and the password hashers run in the idle scheduling
//! class: another test taking both cores for a second stretches whatever is timed then. The
//! samples alternate A B B A, so a machine slowing down or speeding up within a round weighs on
//! both kinds alike. When the ratio is outside the bound, another round is measured and the
//! verdict taken again over every sample so far, up to `ROUNDS` rounds: a burst of load that
//! skewed one round is outweighed by the calm ones, while a real difference stays in the pooled
//! samples, and more samples only measure it more tightly (a skipped hash, 7 times slower, fails
//! every verdict). The failure names each verdict's ratio.

use deskprov::store::Store;

/// Which of the two kinds of request a sample is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

const ROUNDS: usize = 3;

/// Asserts that the median time of side A over that of side B lies within `within` of 1 (both
/// ways), over the samples of up to three rounds of `pairs` pairs each. `timed(side, pair)`
/// makes one request and returns the seconds it took; `pair` counts on across rounds (0, 1,
/// ...), so a caller that needs a fresh name or source for each pair can derive it.
pub async fn assert_alike_in_time(
    what: &str,
    within: f64,
    pairs: usize,
    mut timed: impl AsyncFnMut(Side, usize) -> f64,
) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut ratios = Vec::new();
    for round in 0..ROUNDS {
        for n in 0..pairs {
            let pair = round * pairs + n;
            let order = if pair.is_multiple_of(2) {
                [Side::A, Side::B]
            } else {
                [Side::B, Side::A]
            };
            for side in order {
                let took = timed(side, pair).await;
                match side {
                    Side::A => a.push(took),
                    Side::B => b.push(took),
                }
            }
        }
        let ratio = median(a.clone()) / median(b.clone());
        eprintln!(
            "{what}: rounds 1 to {}, ratio of medians {ratio:.3}",
            round + 1
        );
        ratios.push(ratio);
        if (1.0 / within..=within).contains(&ratio) {
            return;
        }
    }
    panic!(
        "{what}: the ratio of medians is outside 1/{within}..{within} after each round: {ratios:.3?}"
    );
}

pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The store writers handed out while each request ran, by side. A writer taken on the request
/// path for one side alone, on more than half of its requests, moves that side's median (a
/// one-off write does not); the batches written off the path overlap few requests of either.
#[derive(Default)]
pub struct WritesBySide([Vec<u64>; 2]);

impl WritesBySide {
    pub async fn count<T>(
        &mut self,
        side: Side,
        store: &Store,
        request: impl Future<Output = T>,
    ) -> T {
        let before = store.writers_handed_out();
        let outcome = request.await;
        self.0[side as usize].push(store.writers_handed_out() - before);
        outcome
    }

    pub fn assert_alike(self, what: &str) {
        let [a, b] = self.0.map(|mut counts| {
            counts.sort_unstable();
            counts[counts.len() / 2]
        });
        assert_eq!(a, b, "{what}: median store writers during one request");
    }
}
