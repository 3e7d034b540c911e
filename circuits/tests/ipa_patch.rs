//! Candor's patches to nova-snark's IPA prover (vendor/nova-snark/
//! CANDOR-PATCHES.md), checked against the original on both curves:
//! - patch 1 carries each folded key as `s * P` with `P` folded unscaled,
//!   which must be the very key the original `fold` makes, round after round;
//! - patch 4 folds the key once for several rounds (`fold_tensor`), which
//!   must equal folding it round by round, and proves those rounds over the
//!   original generators: the whole argument (every `L`, `R` and `a_hat`)
//!   must be byte for byte the one the unpatched prover makes, and verify.
//!
//! (That the patched prover's proofs verify with the untouched verifier is
//! also what every proof test in this crate checks.)

use candor_circuits::encoding;
use ff::Field;
use nova_snark::provider::ipa_pc::{set_upstream_fold, EvaluationEngine};
use nova_snark::provider::pedersen::CommitmentKeyExtTrait;
use nova_snark::provider::{PallasEngine, VestaEngine};
use nova_snark::spartan::polys::eq::EqPolynomial;
use nova_snark::traits::commitment::{CommitmentEngineTrait, Len};
use nova_snark::traits::evaluation::EvaluationEngineTrait;
use nova_snark::traits::{Engine, TranscriptEngineTrait};

/// A commitment key of engine `E`.
type CommitmentKey<E> = <<E as Engine>::CE as CommitmentEngineTrait<E>>::CommitmentKey;
use std::sync::Mutex;

/// The upstream switch is process-wide: tests that flip it take turns.
static SWITCH: Mutex<()> = Mutex::new(());

fn unscaled_folds<E: Engine>()
where
    CommitmentKey<E>: CommitmentKeyExtTrait<E> + Len + PartialEq + std::fmt::Debug + Clone,
    E::GE: nova_snark::provider::traits::DlogGroup,
{
    let mut rng = rand::thread_rng();
    let mut original = E::CE::setup(b"candor ipa patch test", 64).unwrap();
    let (mut unscaled, mut s) = (original.clone(), E::Scalar::ONE);
    // fold down to one generator, as an IPA proof does
    while original.length() > 1 {
        let r = E::Scalar::random(&mut rng);
        let r_inv = r.invert().unwrap();
        original = original.fold(&r_inv, &r);
        unscaled = unscaled.fold_unscaled(&(r * r));
        s *= r_inv;
        assert_eq!(unscaled.scale(&s), original, "after folding to {} generators", original.length());
    }
}

#[test]
fn unscaled_folds_times_the_carried_factor_are_the_original_folds() {
    unscaled_folds::<PallasEngine>();
    unscaled_folds::<VestaEngine>();
}

fn tensor_folds<E: Engine>()
where
    CommitmentKey<E>: CommitmentKeyExtTrait<E> + Len + PartialEq + std::fmt::Debug + Clone,
    E::GE: nova_snark::provider::traits::DlogGroup,
{
    let mut rng = rand::thread_rng();
    let key = E::CE::setup(b"candor tensor fold test", 64).unwrap();
    for k in 1..=6 {
        let c: Vec<E::Scalar> = (0..k).map(|_| E::Scalar::random(&mut rng)).collect();
        let one_by_one = c.iter().fold(key.clone(), |ck, c| ck.fold_unscaled(c));
        assert_eq!(key.fold_tensor(&c), one_by_one, "{k} folds at once");
    }
    // small and signed scalars exercise the wNAF digits' edges
    for c in [[E::Scalar::ONE, -E::Scalar::ONE], [E::Scalar::from(7), E::Scalar::from(8)], [-E::Scalar::from(9), E::Scalar::ZERO]] {
        let one_by_one = c.iter().fold(key.clone(), |ck, c| ck.fold_unscaled(c));
        assert_eq!(key.fold_tensor(&c), one_by_one);
    }
}

#[test]
fn a_tensor_fold_equals_folding_round_by_round() {
    tensor_folds::<PallasEngine>();
    tensor_folds::<VestaEngine>();
}

/// An IPA opening of a random polynomial at a random point, by the patched
/// or the upstream prover; it must verify.
fn opening<E: Engine>(log_n: usize, upstream: bool, seed: u64) -> Vec<u8>
where
    CommitmentKey<E>: CommitmentKeyExtTrait<E> + Len + PartialEq + std::fmt::Debug + Clone,
    E::GE: nova_snark::provider::traits::DlogGroup,
{
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let ck = E::CE::setup(b"candor ipa opening test", 1 << log_n).unwrap();
    let (pk, vk) = EvaluationEngine::<E>::setup(&ck).unwrap();
    let poly: Vec<E::Scalar> = (0..1 << log_n).map(|_| E::Scalar::random(&mut rng)).collect();
    let point: Vec<E::Scalar> = (0..log_n).map(|_| E::Scalar::random(&mut rng)).collect();
    let eq = EqPolynomial::new(point.clone()).evals();
    let eval: E::Scalar = poly.iter().zip(&eq).map(|(p, e)| *p * e).sum();
    let comm = E::CE::commit(&ck, &poly, &E::Scalar::ZERO);
    set_upstream_fold(upstream);
    let arg = EvaluationEngine::<E>::prove(&ck, &pk, &mut E::TE::new(b"test"), &comm, &poly, &point, &eval);
    set_upstream_fold(false);
    let arg = arg.unwrap();
    EvaluationEngine::<E>::verify(&vk, &mut E::TE::new(b"test"), &comm, &point, &eval, &arg).unwrap();
    encoding::to_bytes(&arg).unwrap()
}

#[test]
fn the_patched_ipa_prover_makes_the_upstream_argument() {
    let _turn = SWITCH.lock().unwrap_or_else(|e| e.into_inner());
    // one round, fewer than the tensor rounds, as many, and more
    for (log_n, seed) in [(1, 4), (2, 1), (4, 2), (9, 3)] {
        assert_eq!(opening::<PallasEngine>(log_n, false, seed), opening::<PallasEngine>(log_n, true, seed), "Pallas 2^{log_n}");
        assert_eq!(opening::<VestaEngine>(log_n, false, seed), opening::<VestaEngine>(log_n, true, seed), "Vesta 2^{log_n}");
    }
}
