//! Candor's patch to nova-snark's IPA prover (vendor/nova-snark/
//! CANDOR-PATCHES.md), checked against the original: the prover carries
//! each folded key as `s * P` with `P` folded unscaled, which must be the
//! very key the original `fold` makes, round after round. (That the patched
//! prover's proofs verify with the untouched verifier is what every proof
//! test in this crate checks.)

use ff::Field;
use nova_snark::provider::pedersen::CommitmentKeyExtTrait;
use nova_snark::provider::PallasEngine;
use nova_snark::traits::commitment::{CommitmentEngineTrait, Len};
use nova_snark::traits::Engine;

type E = PallasEngine;
type Scalar = <E as Engine>::Scalar;

#[test]
fn unscaled_folds_times_the_carried_factor_are_the_original_folds() {
    let mut rng = rand::thread_rng();
    let mut original = <E as Engine>::CE::setup(b"candor ipa patch test", 64).unwrap();
    let (mut unscaled, mut s) = (original.clone(), Scalar::ONE);
    // fold down to one generator, as an IPA proof does
    while original.length() > 1 {
        let r = Scalar::random(&mut rng);
        let r_inv = r.invert().unwrap();
        original = original.fold(&r_inv, &r);
        unscaled = unscaled.fold_unscaled(&(r * r));
        s *= r_inv;
        assert_eq!(unscaled.scale(&s), original, "after folding to {} generators", original.length());
    }
}
