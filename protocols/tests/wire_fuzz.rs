//! Structure-aware fuzzing of the wire codec: valid MessagePack of the wrong
//! shape, not just random bytes. Each case takes a real message (every
//! request, every response), decodes its MessagePack into a value tree,
//! replaces one subtree with an arbitrary value (or drops or repeats an
//! element), and feeds the result to the codec. Properties: nothing panics;
//! a request is either refused with a code or is a message that re-encodes
//! to itself; a response is an error or a message.

use candor_core::{FixedFormat, Model, ModelSpec, Task, TrainSpec};
use candor_protocols::{
    Codec, Limits, RejectCode, Request, Response, RoundAnnouncement, StatusReport, Submission, PROTOCOL_NAME, WIRE_VERSION,
};
use futures::executor::block_on;
use futures::io::Cursor;
use libp2p::request_response::Codec as _;
use proptest::prelude::*;
use rmpv::Value;

fn spec(model: ModelSpec) -> TrainSpec {
    TrainSpec { model, format: FixedFormat::default(), learning_rate: 0.5, batch_size: 4, epochs: 1, steps_per_fold: 2 }
}

fn models() -> Vec<Model> {
    vec![Model::initial(&spec(ModelSpec::linear(3, Task::Logistic))), Model::initial(&spec(ModelSpec::mlp(3, 2, Task::Softmax, 3)))]
}

fn requests() -> Vec<Request> {
    let mut r = vec![Request::Poll { after: None }, Request::Poll { after: Some(7) }, Request::Status];
    r.extend(models().into_iter().map(|model| Request::Submit(Submission { round: 3, model, samples: 40, proof: vec![0xab; 64] })));
    r
}

fn responses() -> Vec<Response> {
    let mut r = vec![
        Response::NoRound,
        Response::Accepted { round: 2 },
        Response::Rejected { code: RejectCode::InvalidProof, reason: "no".into() },
        Response::Status(StatusReport { round: Some(1), accepted: 2, completed_rounds: 0 }),
    ];
    for (model, global) in [ModelSpec::linear(3, Task::Logistic), ModelSpec::mlp(3, 2, Task::Softmax, 3)].into_iter().zip(models()) {
        let spec = spec(model);
        r.push(Response::Round(Box::new(RoundAnnouncement {
            round: 1,
            spec,
            global,
            global_digest: [9; 32],
            deadline_unix_ms: 1 << 40,
            quorum: 3,
        })));
    }
    r
}

/// The MessagePack value tree of `(WIRE_VERSION, msg)`, as the codec frames it.
fn tree<M: serde::Serialize>(msg: &M) -> Value {
    let bytes = rmp_serde::to_vec(&(WIRE_VERSION, msg)).unwrap();
    rmpv::decode::read_value(&mut &bytes[..]).unwrap()
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(0u64), Just(1), Just(u64::from(WIRE_VERSION)), Just(u64::MAX)].prop_map(Value::from),
        any::<f64>().prop_map(Value::F64),
        "[a-zA-Z]{0,12}".prop_map(Value::from),
        prop_oneof![Just("Linear"), Just("Mlp"), Just("Submit"), Just("Poll"), Just("Round"), Just("Logistic")].prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Binary),
        (any::<i8>(), proptest::collection::vec(any::<u8>(), 0..8)).prop_map(|(t, b)| Value::Ext(t, b)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Value::Map),
        ]
    })
}

/// What to do where the walk stops.
#[derive(Clone, Debug)]
enum Edit {
    Replace(Value),
    /// Drop an element of the array or map there (or replace a leaf by nil).
    Drop,
    /// Repeat an element of the array or map there.
    Repeat,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![4 => value().prop_map(Edit::Replace), 1 => Just(Edit::Drop), 1 => Just(Edit::Repeat)]
}

fn children(v: &mut Value) -> Vec<&mut Value> {
    match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Map(m) => m.iter_mut().flat_map(|(k, v)| [k, v]).collect(),
        _ => vec![],
    }
}

/// Walks down `v` by `path` (each step picks a child, or stops there) and
/// applies `edit` where it stops.
fn mutate(v: &mut Value, path: &[usize], edit: Edit) {
    let n = children(v).len();
    if let Some((&step, rest)) = path.split_first() {
        if n > 0 && step % (n + 1) != n {
            let child = children(v).into_iter().nth(step % (n + 1)).expect("in range");
            return mutate(child, rest, edit);
        }
    }
    let at = path.first().copied().unwrap_or(0);
    match (edit, v) {
        (Edit::Replace(new), v) => *v = new,
        (Edit::Drop, Value::Array(a)) if !a.is_empty() => drop(a.remove(at % a.len())),
        (Edit::Drop, Value::Map(m)) if !m.is_empty() => drop(m.remove(at % m.len())),
        (Edit::Repeat, Value::Array(a)) if !a.is_empty() => a.insert(0, a[at % a.len()].clone()),
        (Edit::Repeat, Value::Map(m)) if !m.is_empty() => m.insert(0, m[at % m.len()].clone()),
        (_, v) => *v = Value::Nil,
    }
}

fn encode(v: &Value) -> Vec<u8> {
    let mut bytes = vec![];
    rmpv::encode::write_value(&mut bytes, v).unwrap();
    bytes
}

/// `req` written and read back by `codec`.
fn reencoded(codec: &mut Codec, req: Request) -> Request {
    let mut wire = Cursor::new(vec![]);
    block_on(codec.write_request(&PROTOCOL_NAME, &mut wire, req)).unwrap();
    block_on(codec.read_request(&PROTOCOL_NAME, &mut Cursor::new(wire.into_inner()))).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn misshapen_requests_are_refused_or_exact(
        which in 0..requests().len(),
        path in proptest::collection::vec(any::<usize>(), 0..8),
        edit in edit(),
    ) {
        let mut v = tree(&requests()[which]);
        mutate(&mut v, &path, edit);
        let mut codec = Codec::new(Limits::default());
        let got = block_on(codec.read_request(&PROTOCOL_NAME, &mut Cursor::new(encode(&v)))).unwrap();
        match got {
            Request::Invalid { code, reason } => {
                prop_assert!(matches!(code, RejectCode::Malformed | RejectCode::UnsupportedVersion), "{code:?}");
                prop_assert!(reason.len() <= candor_protocols::MAX_REASON_BYTES);
            }
            req => {
                // whatever decodes is a message that means exactly itself
                prop_assert_eq!(reencoded(&mut codec, req.clone()), req);
            }
        }
    }

    #[test]
    fn misshapen_responses_are_errors_or_messages(
        which in 0..responses().len(),
        path in proptest::collection::vec(any::<usize>(), 0..8),
        edit in edit(),
    ) {
        let mut v = tree(&responses()[which]);
        mutate(&mut v, &path, edit);
        let mut codec = Codec::new(Limits::default());
        if let Ok(res) = block_on(codec.read_response(&PROTOCOL_NAME, &mut Cursor::new(encode(&v)))) {
            let mut wire = Cursor::new(vec![]);
            block_on(codec.write_response(&PROTOCOL_NAME, &mut wire, res.clone())).unwrap();
            let again = block_on(codec.read_response(&PROTOCOL_NAME, &mut Cursor::new(wire.into_inner()))).unwrap();
            prop_assert_eq!(again, res);
        }
    }

    #[test]
    fn arbitrary_message_pack_is_refused_or_exact(v in value()) {
        let mut codec = Codec::new(Limits::default());
        let framed = Value::Array(vec![Value::from(WIRE_VERSION), v]);
        let got = block_on(codec.read_request(&PROTOCOL_NAME, &mut Cursor::new(encode(&framed)))).unwrap();
        if !matches!(got, Request::Invalid { .. }) {
            prop_assert_eq!(reencoded(&mut codec, got.clone()), got);
        }
    }
}

#[test]
fn every_template_roundtrips_unmutated() {
    let mut codec = Codec::new(Limits::default());
    for req in requests() {
        let got = block_on(codec.read_request(&PROTOCOL_NAME, &mut Cursor::new(encode(&tree(&req))))).unwrap();
        assert_eq!(got, req);
    }
    for res in responses() {
        let got = block_on(codec.read_response(&PROTOCOL_NAME, &mut Cursor::new(encode(&tree(&res))))).unwrap();
        assert_eq!(got, res);
    }
}
