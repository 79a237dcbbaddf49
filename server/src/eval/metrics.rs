//! Top-N metrics: hit rate, NDCG and MRR at N, and catalogue coverage.
//!
//! For one case with the ranked list `top` (the first N count) and the set of
//! `targets` (what the shopper did pick):
//!
//! - hit: 1 if any target is in the top N, else 0;
//! - NDCG: `Σ_{r: top[r] ∈ targets} 1 / log2(r + 2)` over the top N, divided by
//!   the same sum for a perfect list, `Σ_{r < min(|targets|, N)} 1 / log2(r + 2)`;
//! - reciprocal rank: `1 / (r + 1)` for the first target at rank `r` (from 0) in
//!   the top N, else 0.
//!
//! Each is averaged over the cases. Coverage is the share of the catalogue that
//! appears in at least one case's top N.

use std::collections::HashSet;

/// The scores of one case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judged {
    /// 1 for a hit, else 0.
    pub hit: f64,
    /// Normalised discounted cumulative gain.
    pub ndcg: f64,
    /// Reciprocal rank of the first hit, 0 without one.
    pub rr: f64,
}

/// Scores the ranked `top` (its first `n`) against `targets`.
pub fn judge(top: &[u32], targets: &[u32], n: usize) -> Judged {
    let gain = |r: usize| 1.0 / ((r + 2) as f64).log2();
    let mut dcg = 0.0;
    let mut rr = 0.0;
    for (r, item) in top.iter().take(n).enumerate() {
        if targets.contains(item) {
            dcg += gain(r);
            if rr == 0.0 {
                rr = 1.0 / (r + 1) as f64;
            }
        }
    }
    let mut distinct = targets.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let ideal: f64 = (0..distinct.len().min(n)).map(gain).sum();
    Judged {
        hit: if rr > 0.0 { 1.0 } else { 0.0 },
        ndcg: if ideal > 0.0 { dcg / ideal } else { 0.0 },
        rr,
    }
}

/// Running means over cases, and the products shown.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    cases: usize,
    hit: f64,
    ndcg: f64,
    rr: f64,
    shown: HashSet<u32>,
}

impl Tally {
    /// Adds a case: its ranked list and its targets, at `n`.
    pub fn add(&mut self, top: &[u32], targets: &[u32], n: usize) {
        let judged = judge(top, targets, n);
        self.cases += 1;
        self.hit += judged.hit;
        self.ndcg += judged.ndcg;
        self.rr += judged.rr;
        self.shown.extend(top.iter().take(n));
    }

    /// Cases added.
    pub fn cases(&self) -> usize {
        self.cases
    }

    /// Mean hit rate.
    pub fn hit_rate(&self) -> f64 {
        self.hit / self.cases.max(1) as f64
    }

    /// Mean NDCG.
    pub fn ndcg(&self) -> f64 {
        self.ndcg / self.cases.max(1) as f64
    }

    /// Mean reciprocal rank.
    pub fn mrr(&self) -> f64 {
        self.rr / self.cases.max(1) as f64
    }

    /// The share of `catalogue` products shown at least once.
    pub fn coverage(&self, catalogue: usize) -> f64 {
        self.shown.len() as f64 / catalogue.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_first_place_hit_with_one_target_is_perfect() {
        let j = judge(&[7, 1, 2], &[7], 10);
        assert_eq!(
            j,
            Judged {
                hit: 1.0,
                ndcg: 1.0,
                rr: 1.0
            }
        );
    }

    #[test]
    fn hand_computed_ndcg_and_mrr() {
        // Targets {5, 9}; ranked [1, 5, 2, 9]: hits at ranks 1 and 3 (from 0).
        // DCG = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616064
        // IDCG = 1/log2(2) + 1/log2(3) = 1.6309298; NDCG = 0.6509209.
        let j = judge(&[1, 5, 2, 9], &[5, 9], 10);
        assert_eq!(j.hit, 1.0);
        assert!(close(j.rr, 0.5));
        assert!((j.ndcg - 0.650_920_9).abs() < 1e-6, "{}", j.ndcg);
    }

    #[test]
    fn only_the_first_n_count() {
        let j = judge(&[1, 2, 3], &[3], 2);
        assert_eq!(
            j,
            Judged {
                hit: 0.0,
                ndcg: 0.0,
                rr: 0.0
            }
        );
        // The ideal is capped at n too: three targets, n = 1, one hit is perfect.
        assert!(close(judge(&[4], &[4, 5, 6], 1).ndcg, 1.0));
    }

    #[test]
    fn tallies_average_and_count_coverage() {
        let mut tally = Tally::default();
        tally.add(&[1, 2], &[1], 10);
        tally.add(&[2, 3], &[9], 10);
        assert!(close(tally.hit_rate(), 0.5));
        assert!(close(tally.mrr(), 0.5));
        assert!(close(tally.coverage(6), 0.5));
        assert_eq!(tally.cases(), 2);
    }
}
