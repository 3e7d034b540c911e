//! Structure-aware mutation of proofs: decode a proof, write it as a
//! MessagePack tree, change one node (empty or shorten a vector, grow it,
//! swap two children, change an integer, replace a field element or point,
//! replace a node by another kind), and encode it again as a proof. Byte
//! flips rarely change a length; nova-snark's verifier indexes and asserts
//! on lengths, so these mutations are what reach its panics. Shared by the
//! proof tests, the coordinator's network test and the cargo-fuzz target
//! (`fuzz/`).
#![allow(dead_code)] // each user takes its part

use candor_circuits::encoding;
use rmpv::Value;
use serde::{de::DeserializeOwned, Serialize};

/// The tree of an honest proof of type `P` (e.g. `Compressed<TrainCircuit>`).
pub fn tree<P: Serialize + DeserializeOwned>(proof: &[u8]) -> Value {
    let typed: P = encoding::from_bytes(proof).expect("an honest proof decodes");
    let msgpack = rmp_serde::to_vec(&typed).expect("writing to a Vec");
    rmpv::decode::read_value(&mut &msgpack[..]).expect("rmp_serde writes MessagePack")
}

/// The proof a tree describes, encoded as proofs are; `None` where the tree
/// no longer has `P`'s shape (a struct with a field too few, a node of
/// another kind): bytes for such a tree could only fail decoding.
pub fn bytes<P: Serialize + DeserializeOwned>(v: &Value) -> Option<Vec<u8>> {
    let mut msgpack = Vec::new();
    rmpv::encode::write_value(&mut msgpack, v).expect("writing to a Vec");
    let typed: P = rmp_serde::from_slice(&msgpack).ok()?;
    Some(encoding::to_bytes(&typed).expect("encoding a proof"))
}

/// Nodes in pre-order.
pub fn count(v: &Value) -> usize {
    1 + children(v).iter().map(|c| count(c)).sum::<usize>()
}

fn children(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Map(m) => m.iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => vec![],
    }
}

fn node_mut(v: &mut Value, mut i: usize) -> Option<&mut Value> {
    if i == 0 {
        return Some(v);
    }
    i -= 1;
    let kids: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Map(m) => m.iter_mut().flat_map(|(k, v)| [k, v]).collect(),
        _ => return None,
    };
    for k in kids {
        let n = count(k);
        if i < n {
            return node_mut(k, i);
        }
        i -= n;
    }
    None
}

/// Whether a node is a field element or curve point as halo2curves
/// serializes them: an array of 32 small integers.
pub fn is_element(v: &Value) -> bool {
    matches!(v, Value::Array(a) if a.len() == 32 && a.iter().all(Value::is_u64))
}

/// Pre-order indices of the vectors that hold other vectors or maps: the
/// proof's structure, as opposed to the bytes of its elements.
pub fn structural_vectors(v: &Value) -> Vec<usize> {
    let mut out = vec![];
    let mut at = 0;
    walk(v, &mut at, &mut out);
    out
}

fn walk(v: &Value, at: &mut usize, out: &mut Vec<usize>) {
    if let Value::Array(a) = v {
        if !is_element(v) && a.iter().any(|c| matches!(c, Value::Array(_) | Value::Map(_))) {
            out.push(*at);
        }
    }
    *at += 1;
    for c in children(v) {
        walk(c, at, out);
    }
}

/// The tree with vector `index` (a pre-order index) emptied.
pub fn emptied(v: &Value, index: usize) -> Value {
    let mut v = v.clone();
    if let Some(Value::Array(a)) = node_mut(&mut v, index) {
        a.clear();
    }
    v
}

/// Applies one mutation chosen by `pick(n)`, which returns a number below
/// `n` (from a proptest strategy or from fuzzer bytes).
pub fn mutate(v: &mut Value, pick: &mut dyn FnMut(usize) -> usize) {
    let total = count(v);
    let Some(node) = node_mut(v, pick(total)) else { return };
    match (pick(8), node) {
        (0, Value::Array(a)) => a.clear(),
        (1, Value::Array(a)) if !a.is_empty() => {
            let keep = pick(a.len());
            a.truncate(keep);
        }
        (2, Value::Array(a)) if !a.is_empty() => {
            let dup = a[pick(a.len())].clone();
            a.push(dup);
        }
        (3, Value::Array(a)) if a.len() > 1 => {
            let (i, j) = (pick(a.len()), pick(a.len()));
            a.swap(i, j);
        }
        (4, n) if is_element(n) => {
            // a field element or point: all ones, zero, or one byte changed
            if let Value::Array(a) = n {
                match pick(3) {
                    0 => a.iter_mut().for_each(|b| *b = Value::from(255u8)),
                    1 => a.iter_mut().for_each(|b| *b = Value::from(0u8)),
                    _ => {
                        let i = pick(32);
                        let old = a[i].as_u64().unwrap_or(0);
                        a[i] = Value::from((old as u8) ^ (1 + pick(255) as u8));
                    }
                }
            }
        }
        (5, n) if n.is_u64() || n.is_i64() => {
            let old = n.as_u64().unwrap_or(0);
            *n = Value::from([0, 1, old.wrapping_add(1), old.saturating_sub(1), u64::MAX, u32::MAX as u64][pick(6)]);
        }
        (6, n) => *n = [Value::Nil, Value::from(0u8), Value::Array(vec![]), Value::Boolean(true)][pick(4)].clone(),
        (_, n) => {
            if let Value::Array(a) = n {
                if !a.is_empty() {
                    let i = pick(a.len());
                    a.remove(i);
                }
            }
        }
    }
}
