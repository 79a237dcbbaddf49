//! EASE for `build-model`: the closed-form linear item-item model (Steck,
//! "Embarrassingly Shallow Autoencoders for Sparse Data", 2019), cut down to the
//! neighbour lists the model file carries.
//!
//! With `X` the person × product weights of [`Interactions`] and `G = XᵀX`, EASE's
//! weights are `B = I − P·diag(1/P_jj)` with `P = (G + λI)⁻¹` and the diagonal of
//! `B` zero: the least-squares item-item model that predicts each product's column
//! from the others, with an L2 penalty λ. A product's score is `Σ_i x_i · B_ij` over
//! what a person touched, the sum the plugin's scorer makes from neighbour lists.
//!
//! Only products that someone touched take part (the others' rows and columns of
//! `G` are zero, so their weights are too): the matrix is `m × m` for the `m`
//! products with signal, in `f32` (the weights end up as a byte each), inverted by
//! a Cholesky factorisation from `faer` on all cores. Time grows as `m³` and memory
//! as `m²` (at most three `m × m` matrices at once, `12m²` bytes), so
//! [`EASE_MAX_PRODUCTS`](super::EASE_MAX_PRODUCTS) bounds `m` when the algorithm is
//! `auto`.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};
use souk::core::model::Neighbour;

use super::Interactions;

/// Why EASE's inversion failed.
#[derive(Debug, thiserror::Error)]
#[error("the {products} × {products} matrix is not positive definite at λ = {lambda}; a larger --lambda would fix it")]
pub struct NotPositiveDefinite {
    /// The products with signal.
    pub products: usize,
    /// The penalty tried.
    pub lambda: f64,
}

/// The products with signal, and `G + λI` over them.
pub struct Gram {
    /// The catalogue index of each row and column.
    products: Vec<u32>,
    /// `XᵀX + λI`, dense.
    matrix: Mat<f32>,
    lambda: f64,
}

impl Gram {
    /// `G + λI` over the products someone touched.
    pub fn new(interactions: &Interactions, lambda: f64) -> Gram {
        let mut column = vec![u32::MAX; interactions.items()];
        let mut products = Vec::new();
        for person in 0..interactions.people() {
            for &(item, _) in interactions.row(person) {
                if column[item as usize] == u32::MAX {
                    column[item as usize] = 0;
                    products.push(item);
                }
            }
        }
        products.sort_unstable();
        for (at, &item) in products.iter().enumerate() {
            column[item as usize] = at as u32;
        }
        let m = products.len();
        let mut matrix = Mat::<f32>::zeros(m, m);
        for person in 0..interactions.people() {
            let row = interactions.row(person);
            for &(a, weight_a) in row {
                let a = column[a as usize] as usize;
                let col = matrix.col_as_slice_mut(a);
                for &(b, weight_b) in row {
                    col[column[b as usize] as usize] += weight_a * weight_b;
                }
            }
        }
        for i in 0..m {
            matrix[(i, i)] += lambda as f32;
        }
        Gram {
            products,
            matrix,
            lambda,
        }
    }

    /// How many products have signal: the matrix's size.
    pub fn products(&self) -> usize {
        self.products.len()
    }

    /// Inverts the matrix: `P = (G + λI)⁻¹`.
    pub fn invert(self) -> Result<Inverse, NotPositiveDefinite> {
        let failed = NotPositiveDefinite {
            products: self.products.len(),
            lambda: self.lambda,
        };
        let Gram {
            products, matrix, ..
        } = self;
        let factor = matrix.llt(Side::Lower).map_err(|_| failed)?;
        drop(matrix);
        let inverse = factor.inverse();
        Ok(Inverse { products, inverse })
    }
}

/// `P = (G + λI)⁻¹` over the products with signal.
pub struct Inverse {
    products: Vec<u32>,
    inverse: Mat<f32>,
}

impl Inverse {
    /// Each catalogue product's neighbours, strongest first: the `k` largest
    /// positive weights of its row of `B`, quantised by [`Neighbour::new`] (so a
    /// weight above 1 counts as 1), those that quantise to 0 dropped. Products
    /// without signal have none. `items` is the catalogue's size.
    ///
    /// The weights go in as they are: EASE predicts a person's damped weight for a
    /// product as the sum of its weights from what they touched, which is the sum
    /// the plugin's scorer makes, and on its own scale (a product always bought
    /// with one other tends to 1) the way cosine similarities are.
    pub fn neighbours(&self, items: usize, k: usize) -> Vec<Vec<Neighbour>> {
        let mut neighbours = vec![Vec::new(); items];
        let m = self.products.len();
        let diagonal: Vec<f32> = (0..m).map(|j| self.inverse[(j, j)]).collect();
        let mut scored: Vec<(f32, u32)> = Vec::with_capacity(m);
        let strongest = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        for (i, &product) in self.products.iter().enumerate() {
            scored.clear();
            // B_ij = −P_ij / P_jj; P is symmetric, so row i is column i, contiguous.
            let column = self.inverse.col_as_slice(i);
            for (j, (&p, &d)) in column.iter().zip(&diagonal).enumerate() {
                let weight = -p / d;
                if j != i && weight > 0.0 {
                    scored.push((weight, self.products[j]));
                }
            }
            if scored.len() > k && k > 0 {
                scored.select_nth_unstable_by(k - 1, strongest);
            }
            scored.truncate(k);
            scored.sort_unstable_by(strongest);
            neighbours[product as usize] = scored
                .iter()
                .map(|&(weight, j)| Neighbour::new(j, weight))
                .filter(|neighbour| neighbour.weight > 0)
                .collect();
        }
        neighbours
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `people` people each touching `items` with weight 1 (damped to ln 2).
    fn touching(triples: &mut Vec<(u32, u32, f32)>, people: u32, items: &[u32]) {
        let first = triples.iter().map(|t| t.0 + 1).max().unwrap_or(0);
        for person in first..first + people {
            triples.extend(items.iter().map(|&item| (person, item, 1.0)));
        }
    }

    fn neighbours(items: usize, triples: Vec<(u32, u32, f32)>, k: usize) -> Vec<Vec<Neighbour>> {
        let interactions = Interactions::new(items, triples);
        let gram = Gram::new(&interactions, 1.0);
        gram.invert().unwrap().neighbours(items, k)
    }

    fn products(list: &[Neighbour]) -> Vec<u32> {
        list.iter().map(|n| n.product).collect()
    }

    #[test]
    fn products_bought_together_are_neighbours_and_the_rest_are_not() {
        // {0, 1} and {2, 3} go together; nobody buys across; 4 has no signal.
        let mut triples = Vec::new();
        touching(&mut triples, 10, &[0, 1]);
        touching(&mut triples, 10, &[2, 3]);
        let lists = neighbours(5, triples, 20);
        assert_eq!(products(&lists[0]), [1]);
        assert_eq!(products(&lists[1]), [0]);
        assert_eq!(products(&lists[2]), [3]);
        assert_eq!(products(&lists[3]), [2]);
        assert!(lists[4].is_empty());
        // Ten shoppers at λ = 1: the weight is near 1, well above weak ties.
        assert!(lists[0][0].similarity() > 0.8, "{:?}", lists[0]);
    }

    #[test]
    fn negative_weights_are_dropped() {
        // 1 and 2 each go with 0 but never with each other: given 0, either one
        // predicts the other's absence, so EASE weighs them against each other.
        let mut triples = Vec::new();
        touching(&mut triples, 10, &[0, 1]);
        touching(&mut triples, 10, &[0, 2]);
        let interactions = Interactions::new(3, triples.clone());
        let inverse = Gram::new(&interactions, 1.0).invert().unwrap();
        let weight =
            |from: usize, to: usize| -inverse.inverse[(from, to)] / inverse.inverse[(to, to)];
        assert!(weight(1, 2) < 0.0 && weight(2, 1) < 0.0);
        assert!(weight(1, 0) > 0.0 && weight(0, 1) > 0.0);
        let lists = neighbours(3, triples, 20);
        assert_eq!(products(&lists[1]), [0]);
        assert_eq!(products(&lists[2]), [0]);
        assert_eq!(products(&lists[0]), [1, 2]);
    }

    #[test]
    fn k_bounds_the_lists_strongest_first() {
        // 0 is bought with 1 by 9 people, with 2 by 8, ..., with 9 by 1.
        let mut triples = Vec::new();
        for other in 1..10u32 {
            touching(&mut triples, 10 - other, &[0, other]);
        }
        let lists = neighbours(10, triples.clone(), 3);
        assert_eq!(products(&lists[0]), [1, 2, 3]);
        assert!(lists.iter().all(|list| list.len() <= 3));
        let all = neighbours(10, triples, 20);
        assert_eq!(products(&all[0]), (1..10).collect::<Vec<_>>());
        assert!(
            all[0].windows(2).all(|w| w[0].weight >= w[1].weight),
            "{:?}",
            all[0]
        );
        assert_eq!(neighbours(10, Vec::new(), 3), vec![Vec::new(); 10]);
    }

    #[test]
    fn products_without_signal_stay_out_of_the_matrix() {
        // A 1,000-product catalogue where 3 products have signal: a 3 × 3 matrix.
        let mut triples = Vec::new();
        touching(&mut triples, 5, &[10, 500, 999]);
        let interactions = Interactions::new(1000, triples);
        assert_eq!(interactions.products_with_signal(), 3);
        let gram = Gram::new(&interactions, 1.0);
        assert_eq!(gram.products(), 3);
        let lists = gram.invert().unwrap().neighbours(1000, 20);
        assert_eq!(lists.len(), 1000);
        assert_eq!(products(&lists[500]), [10, 999]);
        assert_eq!(lists.iter().filter(|l| !l.is_empty()).count(), 3);
    }
}
