//! This module provides an implementation of a commitment engine
use crate::provider::msm::batch_add;
#[cfg(feature = "io")]
use crate::provider::ptau::{read_points, write_points, PtauFileError};
use crate::traits::evm_serde::EvmCompatSerde;
use crate::{
  errors::NovaError,
  gadgets::utils::to_bignat_repr,
  provider::traits::{DlogGroup, DlogGroupExt},
  traits::{
    commitment::{CommitmentEngineTrait, CommitmentTrait, Len},
    AbsorbInRO2Trait, AbsorbInROTrait, Engine, ROTrait, TranscriptReprTrait,
  },
};
use core::{
  fmt::Debug,
  marker::PhantomData,
  ops::{Add, Mul, MulAssign, Range},
};
use ff::{Field, PrimeField};
use group::{cofactor::CofactorCurveAffine, Curve, WnafBase, WnafScalar};
use num_integer::Integer;
use num_traits::ToPrimitive;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_with::serde_as;

#[cfg(feature = "io")]
const KEY_FILE_HEAD: [u8; 12] = *b"PEDERSEN_KEY";

/// A type that holds commitment generators
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentKey<E: Engine>
where
  E::GE: DlogGroup,
{
  ck: Vec<<E::GE as DlogGroup>::AffineGroupElement>,
  h: <E::GE as DlogGroup>::AffineGroupElement,
}

impl<E: Engine> CommitmentKey<E>
where
  E::GE: DlogGroup,
{
  /// Returns a reference to the generator points (affine form).
  pub fn generators(&self) -> &[<E::GE as DlogGroup>::AffineGroupElement] {
    &self.ck
  }
}

impl<E: Engine> Len for CommitmentKey<E>
where
  E::GE: DlogGroup,
{
  fn length(&self) -> usize {
    self.ck.len()
  }
}

/// A type that holds blinding generator
#[serde_as]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct DerandKey<E: Engine>
where
  E::GE: DlogGroup,
{
  #[serde_as(as = "EvmCompatSerde")]
  h: <E::GE as DlogGroup>::AffineGroupElement,
}

/// A type that holds a commitment
#[serde_as]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Commitment<E: Engine>
where
  E::GE: DlogGroup,
{
  #[serde_as(as = "EvmCompatSerde")]
  pub(crate) comm: E::GE,
}

impl<E: Engine> CommitmentTrait<E> for Commitment<E>
where
  E::GE: DlogGroup,
{
  fn to_coordinates(&self) -> (E::Base, E::Base, bool) {
    self.comm.to_coordinates()
  }
}

impl<E: Engine> Default for Commitment<E>
where
  E::GE: DlogGroup,
{
  fn default() -> Self {
    Commitment {
      comm: E::GE::zero(),
    }
  }
}

impl<E: Engine> TranscriptReprTrait<E::GE> for Commitment<E>
where
  E::GE: DlogGroup,
{
  fn to_transcript_bytes(&self) -> Vec<u8> {
    let (x, y, is_infinity) = self.comm.to_coordinates();
    // Encode the infinity flag as 1 = infinity, matching the RO and in-circuit conventions.
    let is_infinity_byte = is_infinity.into();
    [
      x.to_transcript_bytes(),
      y.to_transcript_bytes(),
      [is_infinity_byte].to_vec(),
    ]
    .concat()
  }
}

impl<E: Engine> AbsorbInROTrait<E> for Commitment<E>
where
  E::GE: DlogGroup,
{
  fn absorb_in_ro(&self, ro: &mut E::RO) {
    let (x, y, is_infinity) = self.comm.to_coordinates();
    // Absorb the affine coordinates and the infinity flag.
    ro.absorb(x);
    ro.absorb(y);
    ro.absorb(if is_infinity {
      E::Base::ONE
    } else {
      E::Base::ZERO
    });
  }
}

impl<E: Engine> AbsorbInRO2Trait<E> for Commitment<E>
where
  E::GE: DlogGroup,
{
  fn absorb_in_ro2(&self, ro: &mut E::RO2) {
    let (x, y, is_infinity) = self.comm.to_coordinates();

    // we have to absorb x and y in big num format
    let limbs_x = to_bignat_repr(&x);
    let limbs_y = to_bignat_repr(&y);

    for limb in limbs_x.iter().chain(limbs_y.iter()) {
      ro.absorb(*limb);
    }
    ro.absorb(if is_infinity {
      E::Scalar::ONE
    } else {
      E::Scalar::ZERO
    });
  }
}

impl<E: Engine> MulAssign<E::Scalar> for Commitment<E>
where
  E::GE: DlogGroup,
{
  fn mul_assign(&mut self, scalar: E::Scalar) {
    *self = Commitment {
      comm: self.comm * scalar,
    };
  }
}

impl<'b, E: Engine> Mul<&'b E::Scalar> for &'_ Commitment<E>
where
  E::GE: DlogGroup,
{
  type Output = Commitment<E>;
  fn mul(self, scalar: &'b E::Scalar) -> Commitment<E> {
    Commitment {
      comm: self.comm * scalar,
    }
  }
}

impl<E: Engine> Mul<E::Scalar> for Commitment<E>
where
  E::GE: DlogGroup,
{
  type Output = Commitment<E>;

  fn mul(self, scalar: E::Scalar) -> Commitment<E> {
    Commitment {
      comm: self.comm * scalar,
    }
  }
}

impl<E: Engine> Add for Commitment<E>
where
  E::GE: DlogGroup,
{
  type Output = Commitment<E>;

  fn add(self, other: Commitment<E>) -> Commitment<E> {
    Commitment {
      comm: self.comm + other.comm,
    }
  }
}

/// Provides a commitment engine
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentEngine<E: Engine> {
  _p: PhantomData<E>,
}

impl<E: Engine> CommitmentKey<E>
where
  E::GE: DlogGroup,
{
  /// Returns the coordinates of the generator points.
  ///
  /// This method extracts the (x, y) coordinates of each generator point
  /// in the commitment key. This is useful for operations that need direct
  /// access to the underlying elliptic curve points.
  ///
  /// # Panics
  ///
  /// Panics if any generator point is the point at infinity.
  pub fn to_coordinates(&self) -> Vec<(E::Base, E::Base)> {
    self
      .ck
      .par_iter()
      .map(|c| {
        let (x, y, is_infinity) = <E::GE as DlogGroup>::group(c).to_coordinates();
        assert!(!is_infinity);
        (x, y)
      })
      .collect()
  }
}

impl<E: Engine> CommitmentEngineTrait<E> for CommitmentEngine<E>
where
  E::GE: DlogGroupExt,
{
  type CommitmentKey = CommitmentKey<E>;
  type Commitment = Commitment<E>;
  type DerandKey = DerandKey<E>;

  fn setup(label: &'static [u8], n: usize) -> Result<Self::CommitmentKey, NovaError> {
    let gens = E::GE::from_label(label, n.next_power_of_two() + 1);

    let (h, ck) = gens.split_first().unwrap();

    Ok(Self::CommitmentKey {
      ck: ck.to_vec(),
      h: *h,
    })
  }

  fn derand_key(ck: &Self::CommitmentKey) -> Self::DerandKey {
    Self::DerandKey { h: ck.h }
  }

  fn commit(ck: &Self::CommitmentKey, v: &[E::Scalar], r: &E::Scalar) -> Self::Commitment {
    assert!(ck.ck.len() >= v.len());

    Commitment {
      comm: E::GE::vartime_multiscalar_mul(v, &ck.ck[..v.len()])
        + <E::GE as DlogGroup>::group(&ck.h) * r,
    }
  }

  fn commit_small<T: Integer + Into<u64> + Copy + Sync + ToPrimitive>(
    ck: &Self::CommitmentKey,
    v: &[T],
    r: &E::Scalar,
  ) -> Self::Commitment {
    assert!(ck.ck.len() >= v.len());

    Commitment {
      comm: E::GE::vartime_multiscalar_mul_small(v, &ck.ck[..v.len()])
        + <E::GE as DlogGroup>::group(&ck.h) * r,
    }
  }

  fn commit_small_range<T: Integer + Into<u64> + Copy + Sync + ToPrimitive>(
    ck: &Self::CommitmentKey,
    v: &[T],
    r: &<E as Engine>::Scalar,
    range: Range<usize>,
    max_num_bits: usize,
  ) -> Self::Commitment {
    let bases = &ck.ck[range.clone()];
    let scalars = &v[range];

    assert!(bases.len() == scalars.len());

    let mut res =
      E::GE::vartime_multiscalar_mul_small_with_max_num_bits(scalars, bases, max_num_bits);

    if r != &E::Scalar::ZERO {
      res += <E::GE as DlogGroup>::group(&ck.h) * r;
    }

    Commitment { comm: res }
  }

  fn derandomize(
    dk: &Self::DerandKey,
    commit: &Self::Commitment,
    r: &E::Scalar,
  ) -> Self::Commitment {
    Commitment {
      comm: commit.comm - <E::GE as DlogGroup>::group(&dk.h) * r,
    }
  }

  #[cfg(feature = "io")]
  fn load_setup(
    reader: &mut (impl std::io::Read + std::io::Seek),
    _label: &'static [u8],
    n: usize,
  ) -> Result<Self::CommitmentKey, PtauFileError> {
    let num = n.next_power_of_two();
    {
      let mut head = [0u8; 12];
      reader.read_exact(&mut head)?;
      if head != KEY_FILE_HEAD {
        return Err(PtauFileError::InvalidHead);
      }
    }

    let points = read_points(reader, num + 1)?;

    let (first, second) = points.split_at(1);

    Ok(Self::CommitmentKey {
      ck: second.to_vec(),
      h: first[0],
    })
  }

  fn ck_to_coordinates(ck: &Self::CommitmentKey) -> Vec<(E::Base, E::Base)> {
    ck.to_coordinates()
  }

  fn ck_to_group_elements(ck: &Self::CommitmentKey) -> Vec<E::GE> {
    ck.ck
      .par_iter()
      .map(|g| {
        let ge = E::GE::group(g);
        assert!(
          ge != E::GE::zero(),
          "CommitmentKey contains a generator at infinity"
        );
        ge
      })
      .collect()
  }

  fn ck_derive_by_address(
    ck: &Self::CommitmentKey,
    addresses: &[usize],
    table_size: usize,
  ) -> Result<Self::CommitmentKey, NovaError> {
    let bases = Self::ck_to_group_elements(ck);
    if addresses.len() > bases.len() {
      return Err(NovaError::InvalidCommitmentKeyLength);
    }
    if addresses.iter().any(|&j| j >= table_size) {
      return Err(NovaError::InvalidIndex);
    }
    let mut acc = vec![E::GE::zero(); table_size];
    for (i, &j) in addresses.iter().enumerate() {
      acc[j] += bases[i];
    }
    let ck_affine = acc.par_iter().map(|g| g.affine()).collect();
    Ok(CommitmentKey {
      ck: ck_affine,
      h: ck.h,
    })
  }

  #[cfg(feature = "io")]
  fn save_setup(
    ck: &Self::CommitmentKey,
    writer: &mut impl std::io::Write,
  ) -> Result<(), PtauFileError> {
    writer.write_all(&KEY_FILE_HEAD)?;
    let mut points = Vec::with_capacity(ck.ck.len() + 1);
    points.push(ck.h);
    points.extend(ck.ck.iter().cloned());
    write_points(writer, points)
  }

  fn commit_sparse_binary(
    ck: &Self::CommitmentKey,
    non_zero_indices: &[usize],
    r: &<E as Engine>::Scalar,
  ) -> Self::Commitment {
    let comm = batch_add(&ck.ck, non_zero_indices);
    let mut comm = <E::GE as DlogGroup>::group(&comm.into());

    if r != &E::Scalar::ZERO {
      comm += <E::GE as DlogGroup>::group(&ck.h) * r;
    }

    Commitment { comm }
  }

  fn commit_sparse(
    ck: &Self::CommitmentKey,
    indices: &[usize],
    scalars: &[E::Scalar],
    r: &E::Scalar,
  ) -> Self::Commitment {
    assert_eq!(indices.len(), scalars.len());

    let bases: Vec<_> = indices.par_iter().map(|&i| ck.ck[i]).collect();

    let mut comm = E::GE::vartime_multiscalar_mul(scalars, &bases);

    if r != &E::Scalar::ZERO {
      comm += <E::GE as DlogGroup>::group(&ck.h) * r;
    }

    Commitment { comm }
  }
}

/// The width-4 non-adjacent form of a little-endian integer: digits in
/// {0, +-1, +-3, +-5, +-7}, least significant first, with at least three
/// zeros after each non-zero digit (Candor patch 4).
fn wnaf4(le_bytes: &[u8]) -> Vec<i8> {
  // the integer, as little-endian 64-bit limbs with one limb of headroom
  let mut k = vec![0u64; le_bytes.len().div_ceil(8) + 1];
  for (i, b) in le_bytes.iter().enumerate() {
    k[i / 8] |= u64::from(*b) << (8 * (i % 8));
  }
  let mut digits = Vec::with_capacity(64 * k.len());
  while k.iter().any(|&l| l != 0) {
    let mut d = 0i8;
    if k[0] & 1 == 1 {
      // k mod 16, centred: k - d is then divisible by 16
      d = (k[0] & 0xf) as i8;
      if d >= 8 {
        d -= 16;
      }
      // k -= d, with borrow or carry through the limbs
      if d > 0 {
        let mut borrow = d as u64;
        for l in k.iter_mut() {
          let (v, b) = l.overflowing_sub(borrow);
          *l = v;
          borrow = u64::from(b);
          if borrow == 0 {
            break;
          }
        }
      } else {
        let mut carry = (-d) as u64;
        for l in k.iter_mut() {
          let (v, c) = l.overflowing_add(carry);
          *l = v;
          carry = u64::from(c);
          if carry == 0 {
            break;
          }
        }
      }
    }
    digits.push(d);
    // k >>= 1
    for i in 0..k.len() {
      k[i] = (k[i] >> 1) | k.get(i + 1).map_or(0, |h| h << 63);
    }
  }
  digits
}

/// A trait listing properties of a commitment key that can be managed in a divide-and-conquer fashion
pub trait CommitmentKeyExtTrait<E: Engine>
where
  E::GE: DlogGroup,
{
  /// Splits the commitment key into two pieces at a specified point
  fn split_at(&self, n: usize) -> (Self, Self)
  where
    Self: Sized;

  /// Combines two commitment keys into one
  fn combine(&self, other: &Self) -> Self;

  /// Folds the two commitment keys into one using the provided weights
  fn fold(&self, w1: &E::Scalar, w2: &E::Scalar) -> Self;

  /// Folds the two halves into `L_i + c * R_i` (Candor patch 1, see
  /// CANDOR-PATCHES.md): `fold(w1, w2)` equals this with `c = w2 / w1`,
  /// scaled by `w1`. The scalar and the points are public, so the
  /// multiplication is variable time, and the affine form comes from one
  /// batch inversion.
  fn fold_unscaled(&self, c: &E::Scalar) -> Self;

  /// The lower and the upper halves of each of `blocks` equal blocks of
  /// the key, each concatenated in block order (Candor patch 4).
  fn halves(&self, blocks: usize) -> (Self, Self)
  where
    Self: Sized;

  /// `fold_unscaled(c[0])`, then `fold_unscaled(c[1])`, and so on, in one
  /// pass (Candor patch 4): each result `P_i = sum_b d_b G_{i + b n/2^k}`,
  /// with `d_b` the product of the `c[l]` for the set bits of `b` (the most
  /// significant for `c[0]`), is one multi-scalar multiplication whose
  /// scalars are shared by every `i`, computed by interleaving (Straus) with
  /// the scalars' wNAF digits computed once.
  fn fold_tensor(&self, c: &[E::Scalar]) -> Self;

  /// Scales the commitment key using the provided scalar
  fn scale(&self, r: &E::Scalar) -> Self;

  /// Reinterprets commitments as commitment keys
  fn reinterpret_commitments_as_ck(
    c: &[<E::CE as CommitmentEngineTrait<E>>::Commitment],
  ) -> Result<Self, NovaError>
  where
    Self: Sized;
}

impl<E: Engine<CE = CommitmentEngine<E>>> CommitmentKeyExtTrait<E> for CommitmentKey<E>
where
  E::GE: DlogGroupExt,
{
  fn split_at(&self, n: usize) -> (CommitmentKey<E>, CommitmentKey<E>) {
    (
      CommitmentKey {
        ck: self.ck[0..n].to_vec(),
        h: self.h,
      },
      CommitmentKey {
        ck: self.ck[n..].to_vec(),
        h: self.h,
      },
    )
  }

  fn combine(&self, other: &CommitmentKey<E>) -> CommitmentKey<E> {
    let ck = {
      let mut c = self.ck.clone();
      c.extend(other.ck.clone());
      c
    };
    CommitmentKey { ck, h: self.h }
  }

  // combines the left and right halves of `self` using `w1` and `w2` as the weights
  fn fold(&self, w1: &E::Scalar, w2: &E::Scalar) -> CommitmentKey<E> {
    let w = vec![*w1, *w2];
    let (L, R) = self.split_at(self.ck.len() / 2);

    let ck = (0..self.ck.len() / 2)
      .into_par_iter()
      .map(|i| {
        let bases = [L.ck[i], R.ck[i]].to_vec();
        E::GE::vartime_multiscalar_mul(&w, &bases).affine()
      })
      .collect();

    CommitmentKey { ck, h: self.h }
  }

  // Candor patch 1 (CANDOR-PATCHES.md): one variable-time wNAF
  // multiplication per folded generator, through the curve's own projective
  // and scalar types, and one batch normalization instead of an inversion
  // per point.
  fn fold_unscaled(&self, c: &E::Scalar) -> CommitmentKey<E> {
    type Affine<E> = <<E as Engine>::GE as DlogGroup>::AffineGroupElement;
    type Scalar<E> = <Affine<E> as CofactorCurveAffine>::Scalar;
    const WINDOW: usize = 4;
    let n = self.ck.len() / 2;
    let (left, right) = self.ck.split_at(n);
    // the same field, named by the curve's scalar type
    let mut repr = <Scalar<E> as PrimeField>::Repr::default();
    repr.as_mut().copy_from_slice(c.to_repr().as_ref());
    let c = Option::<Scalar<E>>::from(Scalar::<E>::from_repr(repr)).expect("the engine's scalar field is the curve's");
    let c = WnafScalar::<Scalar<E>, WINDOW>::new(&c);
    let folded: Vec<<Affine<E> as CofactorCurveAffine>::Curve> = left
      .par_iter()
      .zip(right.par_iter())
      .map(|(l, r)| &WnafBase::<_, WINDOW>::new(r.to_curve()) * &c + l.to_curve())
      .collect();
    let mut ck = vec![<Affine<E> as CofactorCurveAffine>::identity(); n];
    Curve::batch_normalize(&folded, &mut ck);
    CommitmentKey { ck, h: self.h }
  }

  fn halves(&self, blocks: usize) -> (CommitmentKey<E>, CommitmentKey<E>) {
    let m = self.ck.len() / blocks;
    let (mut lower, mut upper) = (Vec::with_capacity(m / 2 * blocks), Vec::with_capacity(m / 2 * blocks));
    for block in self.ck.chunks_exact(m) {
      lower.extend_from_slice(&block[..m / 2]);
      upper.extend_from_slice(&block[m / 2..]);
    }
    (
      CommitmentKey { ck: lower, h: self.h },
      CommitmentKey { ck: upper, h: self.h },
    )
  }

  // Candor patch 4 (CANDOR-PATCHES.md)
  fn fold_tensor(&self, c: &[E::Scalar]) -> CommitmentKey<E> {
    use group::Group;
    type Affine<E> = <<E as Engine>::GE as DlogGroup>::AffineGroupElement;
    type Projective<E> = <Affine<E> as CofactorCurveAffine>::Curve;
    let k = c.len();
    let terms = 1usize << k;
    let out = self.ck.len() >> k;
    // d_b for b >= 1, as wNAF digits (window 4: odd multiples 1, 3, 5, 7)
    let digits: Vec<Vec<i8>> = (1..terms)
      .map(|b| {
        let d = (0..k)
          .filter(|l| b >> (k - 1 - l) & 1 == 1)
          .fold(E::Scalar::ONE, |d, l| d * c[l]);
        // `to_repr` is little-endian for the curves Candor uses (Pallas and
        // Vesta, halo2curves); circuits/tests/ipa_patch.rs checks this
        // against `fold_unscaled` on both. Another engine must check it too.
        wnaf4(d.to_repr().as_ref())
      })
      .collect();
    let len = digits.iter().map(Vec::len).max().unwrap_or(0);
    let folded: Vec<Projective<E>> = (0..out)
      .into_par_iter()
      .map(|i| {
        // odd multiples of each term's generator
        let tables: Vec<[Projective<E>; 4]> = (1..terms)
          .map(|b| {
            let p = self.ck[i + b * out].to_curve();
            let p2 = p.double();
            let p3 = p + p2;
            let p5 = p3 + p2;
            [p, p3, p5, p5 + p2]
          })
          .collect();
        let mut acc = Projective::<E>::identity();
        for bit in (0..len).rev() {
          acc = acc.double();
          for (table, digits) in tables.iter().zip(&digits) {
            match digits.get(bit).copied().unwrap_or(0) {
              0 => {}
              d if d > 0 => acc += table[(d as usize - 1) / 2],
              d => acc -= table[((-d) as usize - 1) / 2],
            }
          }
        }
        acc + self.ck[i].to_curve()
      })
      .collect();
    let mut ck = vec![<Affine<E> as CofactorCurveAffine>::identity(); out];
    Curve::batch_normalize(&folded, &mut ck);
    CommitmentKey { ck, h: self.h }
  }

  /// Scales each element in `self` by `r`
  fn scale(&self, r: &E::Scalar) -> Self {
    let ck_scaled = self
      .ck
      .clone()
      .into_par_iter()
      .map(|g| E::GE::vartime_multiscalar_mul(&[*r], &[g]).affine())
      .collect();

    CommitmentKey {
      ck: ck_scaled,
      h: self.h,
    }
  }

  /// reinterprets a vector of commitments as a set of generators
  fn reinterpret_commitments_as_ck(c: &[Commitment<E>]) -> Result<Self, NovaError> {
    let ck = (0..c.len())
      .into_par_iter()
      .map(|i| c[i].comm.affine())
      .collect();

    // cmt is derandomized by the point that this is called
    Ok(CommitmentKey {
      ck,
      h: E::GE::zero().affine(), // this is okay, since this method is used in IPA only,
                                 // and we only use non-blinding commits afterwards
                                 // bc we don't use ZK IPA
    })
  }
}

#[cfg(feature = "io")]
#[cfg(test)]
mod tests {
  use super::*;

  use crate::{provider::GrumpkinEngine, CommitmentKey};
  use std::{fs::File, io::BufWriter};

  type E = GrumpkinEngine;

  #[test]
  fn test_key_save_load() {
    let path = "/tmp/pedersen_test.keys";

    const LABEL: &[u8; 4] = b"test";

    let keys = CommitmentEngine::<E>::setup(LABEL, 100).unwrap();

    CommitmentEngine::save_setup(&keys, &mut BufWriter::new(File::create(path).unwrap())).unwrap();

    let keys_read = CommitmentEngine::load_setup(&mut File::open(path).unwrap(), LABEL, 100);

    assert!(keys_read.is_ok());
    let keys_read: CommitmentKey<E> = keys_read.unwrap();
    assert_eq!(keys_read.ck.len(), keys.ck.len());
    assert_eq!(keys_read.h, keys.h);
    assert_eq!(keys_read.ck, keys.ck);
  }
}
