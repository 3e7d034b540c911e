//! Where a step circuit's constraints go: a constraint system that only
//! counts, filing each constraint under what its namespace says it is for.
//! Used by the benchmarks to explain the cost of a proven SGD step, and by
//! the cost model (`crate::cost`), which also reads the matrices' non-zero
//! entries it counts.

use crate::CircuitField;
use nova_snark::frontend::{ConstraintSystem, Index, LinearCombination, SynthesisError, Variable};
use std::collections::BTreeMap;
use std::marker::PhantomData;

/// What a constraint is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// Products of weights and packed values, and the equalities of packed slots.
    Multiplication,
    /// Decompositions that prove floor rescalings (pre-activations, hidden
    /// errors, parameter updates) and the new parameters.
    Rescaling,
    /// ReLU, hard sigmoid, masks and the hidden-error gate.
    Activation,
    /// `softmax2`: exponentials and the constrained division.
    Softmax,
    /// Data binding: the hash chain over the batch, its metadata bits, the
    /// epoch counter and the commitment check.
    DataBinding,
    /// The IVC state: opening and closing the digest, range checks of the
    /// input parameters.
    State,
}

impl Category {
    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            Category::Multiplication => "multiplications",
            Category::Rescaling => "rescaling",
            Category::Activation => "activations",
            Category::Softmax => "softmax",
            Category::DataBinding => "data binding",
            Category::State => "state digest",
        }
    }

    /// The category of a constraint from its namespace path (outermost first).
    fn of(path: &[String]) -> Category {
        let starts = |s: &str, p: &str| s.starts_with(p) && s[p.len()..].chars().next().is_none_or(|c| c.is_ascii_digit() || c == '_');
        let any = |p: &str| path.iter().any(|s| starts(s, p));
        if any("digest") || any("param") || any("open_digest") {
            Category::State
        } else if any("chain")
            || any("meta")
            || any("last")
            || any("counter")
            || any("epoch end hits commitment")
            || any("chain reset")
            || any("new_chain")
        {
            Category::DataBinding
        } else if any("exp") || any("div") || (any("err") && path.iter().any(|s| starts(s, "e"))) {
            Category::Softmax
        } else if any("relu") || any("err") || any("delta") {
            Category::Activation
        } else if any("wx") || any("wa") || any("we") || any("dr") || any("ae") || any("er") || any("slots") || any("fwd") || any("bwd") {
            Category::Multiplication
        } else {
            Category::Rescaling
        }
    }
}

/// A constraint system that counts constraints per [`Category`].
pub struct Profile<F: CircuitField> {
    stack: Vec<String>,
    aux: usize,
    /// Constraints per category.
    pub counts: BTreeMap<Category, usize>,
    /// Non-zero entries of the A, B and C matrices (what Nova's keys hold).
    pub nonzeros: usize,
    _f: PhantomData<F>,
}

impl<F: CircuitField> Default for Profile<F> {
    fn default() -> Self {
        Self { stack: vec![], aux: 0, counts: BTreeMap::new(), nonzeros: 0, _f: PhantomData }
    }
}

impl<F: CircuitField> Profile<F> {
    /// All constraints counted.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// Variables allocated (inputs included).
    pub fn variables(&self) -> usize {
        self.aux
    }
}

impl<F: CircuitField> ConstraintSystem<F> for Profile<F> {
    type Root = Self;

    fn alloc<V, A, AR>(&mut self, _annotation: A, _f: V) -> Result<Variable, SynthesisError>
    where
        V: FnOnce() -> Result<F, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.aux += 1;
        Ok(Variable::new_unchecked(Index::Aux(self.aux - 1)))
    }

    fn alloc_input<V, A, AR>(&mut self, annotation: A, f: V) -> Result<Variable, SynthesisError>
    where
        V: FnOnce() -> Result<F, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.alloc(annotation, f)
    }

    fn enforce<A, AR, LA, LB, LC>(&mut self, annotation: A, a: LA, b: LB, c: LC)
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
        LA: FnOnce(LinearCombination<F>) -> LinearCombination<F>,
        LB: FnOnce(LinearCombination<F>) -> LinearCombination<F>,
        LC: FnOnce(LinearCombination<F>) -> LinearCombination<F>,
    {
        self.stack.push(annotation().into());
        *self.counts.entry(Category::of(&self.stack)).or_insert(0) += 1;
        self.stack.pop();
        self.nonzeros += [a(LinearCombination::zero()), b(LinearCombination::zero()), c(LinearCombination::zero())]
            .iter()
            .map(|lc| lc.iter().count())
            .sum::<usize>();
    }

    fn push_namespace<NR, N>(&mut self, name_fn: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
        self.stack.push(name_fn().into());
    }

    fn pop_namespace(&mut self) {
        self.stack.pop();
    }

    fn get_root(&mut self) -> &mut Self::Root {
        self
    }
}
