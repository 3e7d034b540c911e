//! Dealing training rows to participants: IID, or label-skewed with
//! Dirichlet(alpha) class shares (the usual non-IID benchmark of the
//! federated-learning literature). Seeded and reproducible.

use crate::config::PartitionConfig;
use crate::SimError;
use candor_core::data::Dataset;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Dirichlet, Distribution};
use std::collections::BTreeMap;

/// Row indices of `train` for each of `n` participants: disjoint, together
/// all rows, none empty (an empty share takes one row from the largest, since
/// a participant without data cannot commit).
pub fn partition(train: &Dataset, n: usize, how: PartitionConfig, seed: u64) -> Result<Vec<Vec<usize>>, SimError> {
    let rows = train.rows();
    if n == 0 || rows < n {
        return Err(SimError::Config(format!("{rows} training rows cannot be dealt to {n} participants")));
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut shares = vec![Vec::new(); n];
    match how {
        PartitionConfig::Iid => {
            let mut idx: Vec<usize> = (0..rows).collect();
            idx.shuffle(&mut rng);
            for (k, r) in idx.into_iter().enumerate() {
                shares[k % n].push(r);
            }
        }
        PartitionConfig::Dirichlet { alpha } => {
            let mut by_class: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
            for (r, &y) in train.y.iter().enumerate() {
                by_class.entry(y).or_default().push(r);
            }
            for (_, mut idx) in by_class {
                idx.shuffle(&mut rng);
                let p = shares_of(n, alpha, &mut rng)?;
                let m = idx.len();
                let mut cum = 0.0;
                let mut start = 0;
                for (k, pk) in p.iter().enumerate() {
                    cum += pk;
                    let end = if k + 1 == n { m } else { ((cum * m as f64).round() as usize).clamp(start, m) };
                    shares[k].extend_from_slice(&idx[start..end]);
                    start = end;
                }
            }
        }
    }
    while let Some(empty) = shares.iter().position(Vec::is_empty) {
        let largest = (0..n).max_by_key(|&k| shares[k].len()).expect("n > 0");
        let row = shares[largest].pop().expect("rows >= n, so the largest share has two rows");
        shares[empty].push(row);
    }
    for s in &mut shares {
        s.sort_unstable();
    }
    Ok(shares)
}

/// One draw of class shares from Dirichlet(alpha, ..., alpha).
fn shares_of(n: usize, alpha: f64, rng: &mut ChaCha20Rng) -> Result<Vec<f64>, SimError> {
    if n == 1 {
        return Ok(vec![1.0]);
    }
    let d = Dirichlet::new(&vec![alpha; n]).map_err(|e| SimError::Config(format!("dirichlet alpha {alpha}: {e}")))?;
    // a tiny alpha can underflow every gamma draw to zero; redraw then
    for _ in 0..100 {
        let p = d.sample(rng);
        if p.iter().all(|v| v.is_finite()) {
            return Ok(p);
        }
    }
    Err(SimError::Config(format!("dirichlet alpha {alpha} is too small to sample")))
}

/// Rows per class in each share: `[participant] -> {class: rows}`.
pub fn class_counts(train: &Dataset, shares: &[Vec<usize>]) -> Vec<BTreeMap<i64, usize>> {
    shares
        .iter()
        .map(|s| {
            let mut c = BTreeMap::new();
            for &r in s {
                *c.entry(train.y[r]).or_insert(0) += 1;
            }
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn data(labels: &[i64]) -> Dataset {
        Dataset { features: 1, x: vec![0; labels.len()], y: labels.to_vec() }
    }

    fn labels(rows: usize, seed: u64) -> Vec<i64> {
        (0..rows).map(|r| i64::from((r as u64).wrapping_mul(seed | 1) % 7 < 3)).collect()
    }

    fn is_cover(shares: &[Vec<usize>], rows: usize) -> bool {
        let mut all: Vec<usize> = shares.concat();
        all.sort_unstable();
        all == (0..rows).collect::<Vec<_>>()
    }

    proptest! {
        #[test]
        fn shares_are_a_disjoint_cover_and_none_is_empty(
            rows in 1usize..300, n in 1usize..20, seed: u64, alpha in 0.05f64..50.0, iid: bool,
        ) {
            prop_assume!(rows >= n);
            let how = if iid { PartitionConfig::Iid } else { PartitionConfig::Dirichlet { alpha } };
            let shares = partition(&data(&labels(rows, seed)), n, how, seed).unwrap();
            prop_assert_eq!(shares.len(), n);
            prop_assert!(is_cover(&shares, rows));
            prop_assert!(shares.iter().all(|s| !s.is_empty()));
        }
    }

    #[test]
    fn iid_is_balanced_and_reproducible() {
        let d = data(&labels(455, 3));
        let a = partition(&d, 3, PartitionConfig::Iid, 9).unwrap();
        assert_eq!(a.iter().map(Vec::len).collect::<Vec<_>>(), vec![152, 152, 151]);
        assert_eq!(a, partition(&d, 3, PartitionConfig::Iid, 9).unwrap());
        assert_ne!(a, partition(&d, 3, PartitionConfig::Iid, 10).unwrap());
    }

    /// Mean over participants of the largest class's share of their rows:
    /// 1.0 means every participant holds a single class.
    fn skew(d: &Dataset, shares: &[Vec<usize>]) -> f64 {
        let c = class_counts(d, shares);
        c.iter().map(|m| *m.values().max().unwrap() as f64 / m.values().sum::<usize>() as f64).sum::<f64>() / c.len() as f64
    }

    #[test]
    fn small_alpha_skews_labels_and_large_alpha_does_not() {
        let d = data(&(0..1000).map(|r| i64::from(r % 2 == 0)).collect::<Vec<_>>());
        let skewed = partition(&d, 10, PartitionConfig::Dirichlet { alpha: 0.1 }, 1).unwrap();
        let even = partition(&d, 10, PartitionConfig::Dirichlet { alpha: 1000.0 }, 1).unwrap();
        let iid = partition(&d, 10, PartitionConfig::Iid, 1).unwrap();
        assert!(skew(&d, &skewed) > 0.85, "alpha 0.1: {}", skew(&d, &skewed));
        assert!(skew(&d, &even) < 0.6, "alpha 1000: {}", skew(&d, &even));
        assert!(skew(&d, &iid) < 0.6);
        assert_eq!(skewed, partition(&d, 10, PartitionConfig::Dirichlet { alpha: 0.1 }, 1).unwrap());
    }

    #[test]
    fn too_few_rows_is_an_error() {
        assert!(partition(&data(&[0, 1]), 3, PartitionConfig::Iid, 0).is_err());
    }
}
