//! EASE (Steck, "Embarrassingly Shallow Autoencoders", 2019), the closed-form linear
//! item-item model, as a yardstick for souk's item-kNN: `B = I − P·diag(1/P_jj)`
//! with `P = (XᵀX + λI)⁻¹` over who bought what, and the diagonal of `B` zero.
//!
//! It is dense: a products² matrix and a products³ inversion (by `faer`, 1.2 s for
//! 3,900 products on 2 cores). This one scores with every weight, on invoice
//! counts; `build-model` ships EASE too, cut to each product's top K on the model's
//! decayed weights ([`model::ease`](crate::model::ease)).

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

/// The item-item weights, dense, row `i` the weights from product `i`.
pub struct Ease {
    n: usize,
    weights: Vec<f32>,
}

impl Ease {
    /// Fits the weights on `items` (each customer's products, as indices below `n`)
    /// with L2 penalty `lambda`.
    pub fn fit(n: usize, items: &[Vec<(u32, u32)>], lambda: f64) -> Ease {
        let mut gram = vec![0f64; n * n];
        for row in items {
            for &(a, _) in row {
                for &(b, _) in row {
                    gram[a as usize * n + b as usize] += 1.0;
                }
            }
        }
        for i in 0..n {
            gram[i * n + i] += lambda;
        }
        let p = invert_spd(n, gram);
        let mut weights = vec![0f32; n * n];
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    weights[i * n + j] = (-p[i * n + j] / p[j * n + j]) as f32;
                }
            }
        }
        Ease { n, weights }
    }

    /// Each product's score given the products `from`.
    pub fn scores(&self, from: impl Iterator<Item = u32>) -> Vec<f32> {
        let mut scores = vec![0f32; self.n];
        for a in from {
            let row = &self.weights[a as usize * self.n..(a as usize + 1) * self.n];
            for (score, &w) in scores.iter_mut().zip(row) {
                *score += w;
            }
        }
        scores
    }
}

/// The inverse of the symmetric positive definite `n`×`n` matrix `a` (row-major),
/// by `faer`'s Cholesky factorisation on all cores.
fn invert_spd(n: usize, a: Vec<f64>) -> Vec<f64> {
    let matrix = Mat::from_fn(n, n, |i, j| a[i * n + j]);
    drop(a);
    let inverse = matrix
        .llt(Side::Lower)
        .expect("XᵀX + λI with λ > 0 is positive definite")
        .inverse();
    drop(matrix);
    let mut out = vec![0f64; n * n];
    for i in 0..n {
        out[i * n..(i + 1) * n].copy_from_slice(inverse.col_as_slice(i));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverse_times_the_matrix_is_the_identity() {
        let a = vec![4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let inv = invert_spd(3, a.clone());
        for i in 0..3 {
            for j in 0..3 {
                let dot: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!(
                    (dot - f64::from(u8::from(i == j))).abs() < 1e-12,
                    "({i},{j}) = {dot}"
                );
            }
        }
    }

    #[test]
    fn products_bought_together_score_each_other() {
        // Customers buy {0, 1} or {2, 3}; nobody buys across.
        let items: Vec<Vec<(u32, u32)>> = (0..10)
            .map(|c| {
                if c % 2 == 0 {
                    vec![(0, 1), (1, 1)]
                } else {
                    vec![(2, 1), (3, 1)]
                }
            })
            .collect();
        let ease = Ease::fit(4, &items, 1.0);
        let scores = ease.scores([0].into_iter());
        assert!(scores[1] > 0.5, "{scores:?}");
        assert!(
            scores[2].abs() < 1e-6 && scores[3].abs() < 1e-6,
            "{scores:?}"
        );
        assert_eq!(scores[0], 0.0, "a product never recommends itself");
    }
}
