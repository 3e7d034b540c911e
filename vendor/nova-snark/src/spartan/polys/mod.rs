//! This module contains the definitions of polynomial types used in the Spartan SNARK.

/// Module providing the equality polynomial.
pub mod eq;

/// Module providing identity polynomial
pub mod identity;

/// Module providing masked eq polynomial
pub mod masked_eq;

/// Module providing multilinear polynomial types.
pub mod multilinear;

/// Module providing power polynomial.
pub mod power;

/// Module providing univariate polynomial
pub mod univariate;
