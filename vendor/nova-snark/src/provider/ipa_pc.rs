//! This module implements `EvaluationEngine` using an IPA-based polynomial commitment scheme
use crate::{
  errors::NovaError,
  provider::{pedersen::CommitmentKeyExtTrait, traits::DlogGroup},
  spartan::{batch_invert, polys::eq::EqPolynomial},
  traits::{
    commitment::{CommitmentEngineTrait, Len}, evaluation::EvaluationEngineTrait, Engine,
    TranscriptEngineTrait, TranscriptReprTrait,
  },
  Commitment, CommitmentKey, CE,
};
use core::iter;
use ff::Field;
use rand_core::OsRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};

/// Candor patch 1 (CANDOR-PATCHES.md): whether `prove` folds generators as
/// upstream does (`fold(r^-1, r)`) instead of `fold_unscaled(r^2)`. Off by
/// default; kept so that one benchmark run can time both. Proofs are
/// identical either way.
static UPSTREAM_FOLD: AtomicBool = AtomicBool::new(false);

/// Candor patch 4: rounds proven over the original generators before the
/// key is folded (4 was the fastest measured at 2^15 to 2^17).
const TENSOR_ROUNDS: usize = 4;

/// Makes the IPA prover fold generators as unpatched nova-snark 0.76 does
/// (`true`) or with the patched variable-time fold (`false`, the default).
/// For benchmarks comparing the two; the proofs are the same.
pub fn set_upstream_fold(upstream: bool) {
  UPSTREAM_FOLD.store(upstream, Ordering::Relaxed);
}

/// Provides an implementation of the prover key
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ProverKey<E: Engine> {
  ck_s: CommitmentKey<E>,
}

/// Provides an implementation of the verifier key
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct VerifierKey<E: Engine> {
  ck_v: CommitmentKey<E>,
  ck_s: CommitmentKey<E>,
}

/// Provides an implementation of a polynomial evaluation engine using IPA
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvaluationEngine<E: Engine> {
  _p: PhantomData<E>,
}

impl<E> EvaluationEngineTrait<E> for EvaluationEngine<E>
where
  E: Engine,
  E::GE: DlogGroup,
  CommitmentKey<E>: CommitmentKeyExtTrait<E>,
{
  type ProverKey = ProverKey<E>;
  type VerifierKey = VerifierKey<E>;
  type EvaluationArgument = InnerProductArgument<E>;

  fn setup(
    ck: &<<E as Engine>::CE as CommitmentEngineTrait<E>>::CommitmentKey,
  ) -> Result<(Self::ProverKey, Self::VerifierKey), NovaError> {
    // IPA only uses Pedersen commitments which always succeed
    let ck_c = E::CE::setup(b"ipa", 1)?;

    let pk = ProverKey { ck_s: ck_c.clone() };
    let vk = VerifierKey {
      ck_v: ck.clone(),
      ck_s: ck_c,
    };

    Ok((pk, vk))
  }

  fn prove(
    ck: &CommitmentKey<E>,
    pk: &Self::ProverKey,
    transcript: &mut E::TE,
    comm: &Commitment<E>,
    poly: &[E::Scalar],
    point: &[E::Scalar],
    eval: &E::Scalar,
  ) -> Result<Self::EvaluationArgument, NovaError> {
    let u = InnerProductInstance::new(comm, &EqPolynomial::new(point.to_vec()).evals(), eval);
    let w = InnerProductWitness::new(poly);

    InnerProductArgument::prove(ck, &pk.ck_s, &u, &w, transcript)
  }

  /// A method to verify purported evaluations of a batch of polynomials
  fn verify(
    vk: &Self::VerifierKey,
    transcript: &mut E::TE,
    comm: &Commitment<E>,
    point: &[E::Scalar],
    eval: &E::Scalar,
    arg: &Self::EvaluationArgument,
  ) -> Result<(), NovaError> {
    let u = InnerProductInstance::new(comm, &EqPolynomial::new(point.to_vec()).evals(), eval);

    arg.verify(
      &vk.ck_v,
      &vk.ck_s,
      (2_usize).pow(point.len() as u32),
      &u,
      transcript,
    )?;

    Ok(())
  }
}

/// Candor patch 3 (CANDOR-PATCHES.md): the last equation of an IPA
/// verification, `lhs == <scalars, G>` over the verifier key's generators
/// `G`, left for [`check_deferred`] to check together with others.
pub struct DeferredCheck<E: Engine> {
  lhs: Commitment<E>,
  scalars: Vec<E::Scalar>,
}

impl<E> EvaluationEngine<E>
where
  E: Engine,
  E::GE: DlogGroup,
  CommitmentKey<E>: CommitmentKeyExtTrait<E>,
{
  /// Everything of [`EvaluationEngineTrait::verify`] but its last
  /// equation, which is returned.
  pub fn verify_deferred(
    vk: &VerifierKey<E>,
    transcript: &mut E::TE,
    comm: &Commitment<E>,
    point: &[E::Scalar],
    eval: &E::Scalar,
    arg: &InnerProductArgument<E>,
  ) -> Result<DeferredCheck<E>, NovaError> {
    let u = InnerProductInstance::new(comm, &EqPolynomial::new(point.to_vec()).evals(), eval);
    arg.verify_deferred(&vk.ck_s, (2_usize).pow(point.len() as u32), &u, transcript)
  }
}

/// Checks deferred IPA equations made under one verifier key with one
/// multi-scalar multiplication: `sum_j rho_j lhs_j == <sum_j rho_j
/// scalars_j, G>` for fresh random `rho_j`. If any single equation is false,
/// the combined one holds with probability at most 1/|F| over the `rho_j`.
pub fn check_deferred<E>(vk: &VerifierKey<E>, checks: &[DeferredCheck<E>]) -> Result<(), NovaError>
where
  E: Engine,
  E::GE: DlogGroup,
  CommitmentKey<E>: CommitmentKeyExtTrait<E>,
{
  let Some(n) = checks.first().map(|c| c.scalars.len()) else {
    return Ok(());
  };
  if checks.iter().any(|c| c.scalars.len() != n) || n > vk.ck_v.length() {
    return Err(NovaError::InvalidInputLength);
  }
  let rho: Vec<E::Scalar> = checks.iter().map(|_| E::Scalar::random(&mut OsRng)).collect();
  let scalars: Vec<E::Scalar> = (0..n)
    .into_par_iter()
    .map(|i| {
      checks
        .iter()
        .zip(&rho)
        .map(|(c, r)| c.scalars[i] * r)
        .sum()
    })
    .collect();
  let lhs = checks
    .iter()
    .zip(&rho)
    .fold(Commitment::<E>::default(), |acc, (c, r)| acc + c.lhs * *r);
  let (ck, _) = vk.ck_v.split_at(n);
  if lhs == CE::<E>::commit(&ck, &scalars, &E::Scalar::ZERO) {
    Ok(())
  } else {
    Err(NovaError::InvalidPCS)
  }
}

fn inner_product<T: Field + Send + Sync>(a: &[T], b: &[T]) -> T {
  assert_eq!(a.len(), b.len());
  (0..a.len())
    .into_par_iter()
    .map(|i| a[i] * b[i])
    .reduce(|| T::ZERO, |x, y| x + y)
}

/// An inner product instance consists of a commitment to a vector `a` and another vector `b`
/// and the claim that c = <a, b>.
pub struct InnerProductInstance<E: Engine> {
  comm_a_vec: Commitment<E>,
  b_vec: Vec<E::Scalar>,
  c: E::Scalar,
}

impl<E> InnerProductInstance<E>
where
  E: Engine,
  E::GE: DlogGroup,
{
  fn new(comm_a_vec: &Commitment<E>, b_vec: &[E::Scalar], c: &E::Scalar) -> Self {
    InnerProductInstance {
      comm_a_vec: *comm_a_vec,
      b_vec: b_vec.to_vec(),
      c: *c,
    }
  }
}

impl<E: Engine> TranscriptReprTrait<E::GE> for InnerProductInstance<E> {
  fn to_transcript_bytes(&self) -> Vec<u8> {
    // we do not need to include self.b_vec as in our context it is produced from the transcript
    [
      self.comm_a_vec.to_transcript_bytes(),
      self.c.to_transcript_bytes(),
    ]
    .concat()
  }
}

struct InnerProductWitness<E: Engine> {
  a_vec: Vec<E::Scalar>,
}

impl<E: Engine> InnerProductWitness<E> {
  fn new(a_vec: &[E::Scalar]) -> Self {
    InnerProductWitness {
      a_vec: a_vec.to_vec(),
    }
  }
}

/// An inner product argument
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct InnerProductArgument<E: Engine> {
  L_vec: Vec<Commitment<E>>,
  R_vec: Vec<Commitment<E>>,
  a_hat: E::Scalar,
}

impl<E> InnerProductArgument<E>
where
  E: Engine,
  E::GE: DlogGroup,
  CommitmentKey<E>: CommitmentKeyExtTrait<E>,
{
  const fn protocol_name() -> &'static [u8] {
    b"IPA"
  }

  fn prove(
    ck: &CommitmentKey<E>,
    ck_c: &CommitmentKey<E>,
    U: &InnerProductInstance<E>,
    W: &InnerProductWitness<E>,
    transcript: &mut E::TE,
  ) -> Result<Self, NovaError> {
    transcript.dom_sep(Self::protocol_name());

    let (ck, _) = ck.split_at(U.b_vec.len());

    if U.b_vec.len() != W.a_vec.len() {
      return Err(NovaError::InvalidInputLength);
    }

    // absorb the instance in the transcript
    transcript.absorb(b"U", U);

    // sample a random base for committing to the inner product
    let r = transcript.squeeze(b"r")?;
    let ck_c = ck_c.scale(&r);

    // a closure that executes a step of the recursive inner product argument.
    // Candor patch 1 (CANDOR-PATCHES.md): the folded generators are carried
    // as `s * P`, with `P` folded unscaled (`P_L + r^2 P_R`, one scalar
    // multiplication per generator instead of two) and the common factor
    // `s` moved onto the scalars committed to: `L` and `R` are the very
    // same group elements as with `ck.fold(r^-1, r)`.
    let prove_inner = |a_vec: &[E::Scalar],
                       b_vec: &[E::Scalar],
                       ck: &CommitmentKey<E>,
                       s: &E::Scalar,
                       transcript: &mut E::TE|
     -> Result<
      (
        Commitment<E>,
        Commitment<E>,
        Vec<E::Scalar>,
        Vec<E::Scalar>,
        CommitmentKey<E>,
        E::Scalar,
      ),
      NovaError,
    > {
      let n = a_vec.len();
      let (ck_L, ck_R) = ck.split_at(n / 2);

      let c_L = inner_product(&a_vec[0..n / 2], &b_vec[n / 2..n]);
      let c_R = inner_product(&a_vec[n / 2..n], &b_vec[0..n / 2]);

      let L = CE::<E>::commit(
        &ck_R.combine(&ck_c),
        &a_vec[0..n / 2]
          .iter()
          .map(|a| *a * s)
          .chain(iter::once(c_L))
          .collect::<Vec<E::Scalar>>(),
        &E::Scalar::ZERO,
      );
      let R = CE::<E>::commit(
        &ck_L.combine(&ck_c),
        &a_vec[n / 2..n]
          .iter()
          .map(|a| *a * s)
          .chain(iter::once(c_R))
          .collect::<Vec<E::Scalar>>(),
        &E::Scalar::ZERO,
      );

      transcript.absorb(b"L", &L);
      transcript.absorb(b"R", &R);

      let r = transcript.squeeze(b"r")?;
      let r_inverse = r.invert().unwrap();

      // fold the left half and the right half
      let a_vec_folded = a_vec[0..n / 2]
        .par_iter()
        .zip(a_vec[n / 2..n].par_iter())
        .map(|(a_L, a_R)| *a_L * r + r_inverse * *a_R)
        .collect::<Vec<E::Scalar>>();

      let b_vec_folded = b_vec[0..n / 2]
        .par_iter()
        .zip(b_vec[n / 2..n].par_iter())
        .map(|(b_L, b_R)| *b_L * r_inverse + r * *b_R)
        .collect::<Vec<E::Scalar>>();

      if UPSTREAM_FOLD.load(Ordering::Relaxed) {
        // s stays one: the key is folded scaled, as upstream does
        return Ok((L, R, a_vec_folded, b_vec_folded, ck.fold(&r_inverse, &r), *s));
      }
      // s (r^-1 P_L + r P_R) = (s r^-1) (P_L + r^2 P_R)
      let ck_folded = ck.fold_unscaled(&(r * r));

      Ok((L, R, a_vec_folded, b_vec_folded, ck_folded, *s * r_inverse))
    };

    // two vectors to hold the logarithmic number of group elements
    let mut L_vec: Vec<Commitment<E>> = Vec::new();
    let mut R_vec: Vec<Commitment<E>> = Vec::new();

    // we create mutable copies of vectors and generators
    let mut a_vec = W.a_vec.to_vec();
    let mut b_vec = U.b_vec.to_vec();
    let mut s = E::Scalar::ONE;
    let rounds = usize::try_from(U.b_vec.len().ilog2()).unwrap();

    // Candor patch 4 (CANDOR-PATCHES.md): in the first rounds the folded key
    // is `G^(j)_x = sum_b coef_b G_{x + b m}` over the original generators
    // (m = n / 2^j, coef the tensor of the challenges so far), so `L` and
    // `R` are single MSMs over the original generators with the scalars
    // weighted by coef, the very group elements upstream computes; the key
    // is then folded once, `fold_tensor`, instead of once per round.
    let tensor_rounds = if UPSTREAM_FOLD.load(Ordering::Relaxed) {
      0
    } else {
      TENSOR_ROUNDS.min(rounds)
    };
    let mut coef = vec![E::Scalar::ONE];
    let mut r_squares = Vec::with_capacity(tensor_rounds);
    for _ in 0..tensor_rounds {
      let m = a_vec.len();
      let c_L = inner_product(&a_vec[0..m / 2], &b_vec[m / 2..m]);
      let c_R = inner_product(&a_vec[m / 2..m], &b_vec[0..m / 2]);
      let (lower, upper) = ck.halves(coef.len());
      let weighted = |a: &[E::Scalar], c: E::Scalar| -> Vec<E::Scalar> {
        coef
          .iter()
          .flat_map(|w| a.iter().map(move |a| *a * w))
          .chain(iter::once(c))
          .collect()
      };
      let (L, R) = rayon::join(
        || CE::<E>::commit(&upper.combine(&ck_c), &weighted(&a_vec[0..m / 2], c_L), &E::Scalar::ZERO),
        || CE::<E>::commit(&lower.combine(&ck_c), &weighted(&a_vec[m / 2..m], c_R), &E::Scalar::ZERO),
      );
      transcript.absorb(b"L", &L);
      transcript.absorb(b"R", &R);
      let r = transcript.squeeze(b"r")?;
      let r_inverse = r.invert().unwrap();
      a_vec = a_vec[0..m / 2]
        .par_iter()
        .zip(a_vec[m / 2..m].par_iter())
        .map(|(a_L, a_R)| *a_L * r + r_inverse * *a_R)
        .collect();
      b_vec = b_vec[0..m / 2]
        .par_iter()
        .zip(b_vec[m / 2..m].par_iter())
        .map(|(b_L, b_R)| *b_L * r_inverse + r * *b_R)
        .collect();
      // G^(j+1)_x = r^-1 G^(j)_x + r G^(j)_{x + m/2}
      coef = coef.iter().flat_map(|w| [*w * r_inverse, *w * r]).collect();
      r_squares.push(r * r);
      s *= r_inverse;
      L_vec.push(L);
      R_vec.push(R);
    }
    // the key after those rounds, carried as s * P: upstream's coefficient
    // of each term is the product of r^-1 or r per round, that is
    // prod(r^-1) times the product of r^2 over the rounds taken "right"
    let mut ck = if tensor_rounds == 0 {
      ck
    } else {
      ck.fold_tensor(&r_squares)
    };

    for _i in tensor_rounds..rounds {
      let (L, R, a_vec_folded, b_vec_folded, ck_folded, s_folded) =
        prove_inner(&a_vec, &b_vec, &ck, &s, transcript)?;
      L_vec.push(L);
      R_vec.push(R);

      a_vec = a_vec_folded;
      b_vec = b_vec_folded;
      ck = ck_folded;
      s = s_folded;
    }

    Ok(InnerProductArgument {
      L_vec,
      R_vec,
      a_hat: a_vec[0],
    })
  }

  fn verify(
    &self,
    ck: &CommitmentKey<E>,
    ck_c: &CommitmentKey<E>,
    n: usize,
    U: &InnerProductInstance<E>,
    transcript: &mut E::TE,
  ) -> Result<(), NovaError> {
    let (ck, _) = ck.split_at(U.b_vec.len());
    let (ck_c, s, b_hat, P_hat) = self.reduce(ck_c, n, U, transcript)?;

    let ck_hat = {
      let c = CE::<E>::commit(&ck, &s, &E::Scalar::ZERO);
      CommitmentKey::<E>::reinterpret_commitments_as_ck(&[c])?
    };

    if P_hat
      == CE::<E>::commit(
        &ck_hat.combine(&ck_c),
        &[self.a_hat, self.a_hat * b_hat],
        &E::Scalar::ZERO,
      )
    {
      Ok(())
    } else {
      Err(NovaError::InvalidPCS)
    }
  }

  /// Candor patch 3 (CANDOR-PATCHES.md): `verify` up to its last equation,
  /// `P_hat == a_hat <s, G> + a_hat b_hat C`, returned as
  /// `P_hat - a_hat b_hat C == <a_hat s, G>`.
  fn verify_deferred(
    &self,
    ck_c: &CommitmentKey<E>,
    n: usize,
    U: &InnerProductInstance<E>,
    transcript: &mut E::TE,
  ) -> Result<DeferredCheck<E>, NovaError> {
    let (ck_c, s, b_hat, P_hat) = self.reduce(ck_c, n, U, transcript)?;
    let lhs = P_hat + CE::<E>::commit(&ck_c, &[-(self.a_hat * b_hat)], &E::Scalar::ZERO);
    let scalars = s.into_par_iter().map(|s_i| s_i * self.a_hat).collect();
    Ok(DeferredCheck { lhs, scalars })
  }

  /// The verifier's work before its last equation: the scaled key `C` of
  /// the inner product, the tensor `s` of the challenges, `b_hat` and
  /// `P_hat` (unchanged from upstream's `verify`).
  #[allow(clippy::type_complexity)]
  fn reduce(
    &self,
    ck_c: &CommitmentKey<E>,
    n: usize,
    U: &InnerProductInstance<E>,
    transcript: &mut E::TE,
  ) -> Result<(CommitmentKey<E>, Vec<E::Scalar>, E::Scalar, Commitment<E>), NovaError> {
    transcript.dom_sep(Self::protocol_name());
    if U.b_vec.len() != n
      || n != (1 << self.L_vec.len())
      || self.L_vec.len() != self.R_vec.len()
      || self.L_vec.len() >= 32
    {
      return Err(NovaError::InvalidInputLength);
    }

    // absorb the instance in the transcript
    transcript.absorb(b"U", U);

    // sample a random base for committing to the inner product
    let r = transcript.squeeze(b"r")?;
    let ck_c = ck_c.scale(&r);

    let P = U.comm_a_vec + CE::<E>::commit(&ck_c, &[U.c], &E::Scalar::ZERO);

    // compute a vector of public coins using self.L_vec and self.R_vec
    let r = (0..self.L_vec.len())
      .map(|i| {
        transcript.absorb(b"L", &self.L_vec[i]);
        transcript.absorb(b"R", &self.R_vec[i]);
        transcript.squeeze(b"r")
      })
      .collect::<Result<Vec<E::Scalar>, NovaError>>()?;

    // precompute scalars necessary for verification
    let r_square: Vec<E::Scalar> = (0..self.L_vec.len())
      .into_par_iter()
      .map(|i| r[i] * r[i])
      .collect();
    let r_inverse = batch_invert(&r)?;
    let r_inverse_square: Vec<E::Scalar> = (0..self.L_vec.len())
      .into_par_iter()
      .map(|i| r_inverse[i] * r_inverse[i])
      .collect();

    // compute the vector with the tensor structure
    let s = {
      let mut s = vec![E::Scalar::ZERO; n];
      s[0] = {
        let mut v = E::Scalar::ONE;
        for r_inverse_i in r_inverse {
          v *= r_inverse_i;
        }
        v
      };
      for i in 1..n {
        let pos_in_r = (31 - (i as u32).leading_zeros()) as usize;
        s[i] = s[i - (1 << pos_in_r)] * r_square[(self.L_vec.len() - 1) - pos_in_r];
      }
      s
    };

    let b_hat = inner_product(&U.b_vec, &s);

    let P_hat = {
      let ck_folded = {
        let ck_L = CommitmentKey::<E>::reinterpret_commitments_as_ck(&self.L_vec)?;
        let ck_R = CommitmentKey::<E>::reinterpret_commitments_as_ck(&self.R_vec)?;
        let ck_P = CommitmentKey::<E>::reinterpret_commitments_as_ck(&[P])?;
        ck_L.combine(&ck_R).combine(&ck_P)
      };

      CE::<E>::commit(
        &ck_folded,
        &r_square
          .iter()
          .chain(r_inverse_square.iter())
          .chain(iter::once(&E::Scalar::ONE))
          .copied()
          .collect::<Vec<E::Scalar>>(),
        &E::Scalar::ZERO,
      )
    };

    Ok((ck_c, s, b_hat, P_hat))
  }
}
