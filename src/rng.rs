//! A small seeded generator shared by the bootstrap and the call planner: the same seed
//! gives the same intervals and the same call times, which tests and audits rely on.

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64: a tiny, well-tested generator; a fixed seed makes every bootstrap repeatable.
#[derive(Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The generator `draws` draws on: its state only counts, so any position is one step
    /// away (a bootstrap cut in parts starts each part where it would have been).
    pub fn skip(&mut self, draws: u64) {
        self.0 = self.0.wrapping_add(GAMMA.wrapping_mul(draws));
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by multiply-shift: unbiased enough for n ≪ 2³².
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipping_lands_where_drawing_would() {
        for n in [0u64, 1, 7, 1000] {
            let (mut a, mut b) = (SplitMix64::new(42), SplitMix64::new(42));
            for _ in 0..n {
                a.next_u64();
            }
            b.skip(n);
            assert_eq!(a.next_u64(), b.next_u64(), "after {n}");
        }
    }
}
