//! The durable record of a federation, in SQLite.
//!
//! Everything an auditor needs to re-check the whole history lives here: the
//! training spec and strategy, the federation's identifier, the registered
//! participants with their data commitments and commitment proofs, every
//! round's global model and aggregate, every accepted
//! update with its proof, every rejection with its reason. Writes are
//! synchronous (WAL, `synchronous=FULL`) and a round's closing is one
//! transaction, so a crash never leaves a round half-closed.
//!
//! A database is marked as Candor's (SQLite's `application_id`). Opening
//! creates one only where no file exists: an existing file that is empty or
//! not a Candor database is refused, so that a mistyped path or a truncated
//! file never silently starts a new federation. To start one, point `db` at a
//! path where no file exists (or remove the file). A coordinator holds an
//! exclusive lock on `<db>.lock` ([`Store::open_exclusive`]) for as long as it
//! runs, so that two coordinators never write one federation.

use crate::round::{Admitted, Participant, PeerKey};
use crate::strategy::StrategyConfig;
use crate::CoordinatorError;
use candor_circuits::verifier::{DataCommitment, Digest};
use candor_core::Model;
use candor_core::TrainSpec;
use candor_protocols::bounded_reason;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::Path;

/// SQLite `application_id` of a Candor database ("Cndr").
const APPLICATION_ID: i32 = 0x436E_6472;

/// SQLite `user_version`: the format of what the tables hold. 0: proofs
/// were MessagePack (wire version 2); 3: proofs are bincode
/// (`candor_circuits::encoding`, wire version 3).
const FORMAT: i32 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    peer BLOB PRIMARY KEY, name TEXT NOT NULL, root BLOB NOT NULL, rows INTEGER NOT NULL, batches INTEGER NOT NULL,
    proof BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS rounds (
    id INTEGER PRIMARY KEY, global BLOB NOT NULL, deadline_ms INTEGER NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0, result BLOB, metrics TEXT);
CREATE TABLE IF NOT EXISTS submissions (
    round INTEGER NOT NULL REFERENCES rounds(id), peer BLOB NOT NULL, samples INTEGER NOT NULL,
    model BLOB NOT NULL, proof BLOB NOT NULL, aggregated INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (round, peer));
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY AUTOINCREMENT, round INTEGER, peer BLOB NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rejections_by_round_peer ON rejections (round, peer);
CREATE TABLE IF NOT EXISTS rejections_over_cap (
    round INTEGER NOT NULL, peer BLOB NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (round, peer));
CREATE TABLE IF NOT EXISTS audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, report TEXT NOT NULL);
";

/// Refusals kept with their reasons per participant and round (and per
/// participant outside any round); the rest are counted. An admitted
/// hospital at its request rate could otherwise add ~65 kB a minute to the
/// database for as long as it kept at it.
pub const MAX_KEPT_REFUSALS: u64 = 16;

/// What became of a refusal given to [`Store::rejected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalRecord {
    /// Stored with its reason.
    Kept,
    /// Counted only: the first past [`MAX_KEPT_REFUSALS`] for its
    /// participant and round (worth one line in the log).
    FirstCounted,
    /// Counted only.
    Counted,
}

/// A recorded refusal: `(round, peer, code, reason)`.
pub type Rejection = (Option<u64>, PeerKey, String, String);

/// The last refusals of each round, and `(round, how many in all)`.
pub type RecentRejections = (Vec<Rejection>, Vec<(u64, u64)>);

/// A stored, accepted update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSubmission {
    /// Sender.
    pub peer: PeerKey,
    /// Proven sample count.
    pub samples: u64,
    /// Updated model.
    pub model: Model,
    /// Compressed proof.
    pub proof: Vec<u8>,
    /// Whether it went into the round's aggregate.
    pub aggregated: bool,
}

/// A stored round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRound {
    /// Round id.
    pub id: u64,
    /// Global model the round started from.
    pub global: Model,
    /// Deadline, ms since the Unix epoch.
    pub deadline_ms: u64,
    /// The next global model, once closed.
    pub result: Option<Model>,
}

/// The federation's database.
pub struct Store {
    conn: Connection,
    /// Held for the store's life by [`Store::open_exclusive`]; the OS
    /// releases it when the process ends, however it ends.
    _lock: Option<File>,
}

fn enc(m: &Model) -> Vec<u8> {
    rmp_serde::to_vec(m).expect("a model always serializes")
}

/// Refuses an existing database that is not Candor's: another application's,
/// or not SQLite at all. Databases from before the application id are known
/// by their recorded spec.
fn check_candor(conn: &Connection, path: &Path) -> Result<(), CoordinatorError> {
    let not_candor = |why: String| {
        CoordinatorError::NotCandor(format!("{} is not a Candor federation's database ({why}); check the db path", path.display()))
    };
    let id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(|e| not_candor(e.to_string()))?;
    if id == APPLICATION_ID {
        return Ok(());
    }
    let has_spec =
        conn.query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'", [], |_| Ok(())).optional()?.is_some()
            && conn.query_row("SELECT 1 FROM meta WHERE key = 'spec'", [], |_| Ok(())).optional()?.is_some();
    if id == 0 && has_spec {
        Ok(())
    } else {
        Err(not_candor(format!("SQLite application_id {id:#x}")))
    }
}

/// Refuses a damaged database file (truncated, overwritten) at once, with
/// its path, instead of at whichever later read meets the damage. SQLite's
/// `quick_check` reads every page once, without checking indexes against
/// tables: milliseconds for a federation's few megabytes.
fn check_intact(conn: &Connection, path: &Path) -> Result<(), CoordinatorError> {
    let found: Result<Vec<String>, _> = conn.prepare("PRAGMA quick_check(5)").and_then(|mut q| q.query_map([], |r| r.get(0))?.collect());
    let why = match found {
        Ok(rows) if rows == ["ok"] => return Ok(()),
        Ok(rows) => rows.join("; "),
        Err(e) => e.to_string(),
    };
    Err(CoordinatorError::Corrupt(format!(
        "{} is damaged ({why}); restore it from a backup, then check it with `candor-coordinator audit`",
        path.display()
    )))
}

/// Refuses a database whose proofs are in an older encoding (they would read
/// as corrupt in `audit`); marks an empty one as the current format.
fn check_format(conn: &Connection, path: &Path) -> Result<(), CoordinatorError> {
    let format: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if format == FORMAT {
        return Ok(());
    }
    let holds_proofs = conn.query_row("SELECT 1 FROM participants LIMIT 1", [], |_| Ok(())).optional()?.is_some();
    if holds_proofs || format > FORMAT {
        return Err(CoordinatorError::NotCandor(format!(
            "{} holds a federation in storage format {format}, this coordinator reads format {FORMAT} \
             (format 0 stored proofs as MessagePack); finish or audit it with the Candor that wrote it",
            path.display()
        )));
    }
    conn.pragma_update(None, "user_version", FORMAT)?;
    Ok(())
}

fn dec(b: &[u8]) -> Result<Model, CoordinatorError> {
    rmp_serde::from_slice(b).map_err(|e| CoordinatorError::Corrupt(format!("model: {e}")))
}

impl Store {
    /// Opens a Candor database, or creates one where no file exists. An
    /// existing file that is empty or foreign is refused
    /// ([`CoordinatorError::NotCandor`]).
    pub fn open(path: &Path) -> Result<Self, CoordinatorError> {
        let existed = match std::fs::metadata(path) {
            Ok(m) if m.len() == 0 => {
                return Err(CoordinatorError::NotCandor(format!(
                    "{} is an empty file, not a federation's database; to start a new federation there, remove it",
                    path.display()
                )))
            }
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(CoordinatorError::NotCandor(format!("{}: {e}", path.display()))),
        };
        let conn = Connection::open(path)?;
        // an audit may write while the coordinator runs; each waits its turn
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        if existed {
            check_candor(&conn, path)?;
            check_intact(&conn, path)?;
        }
        // marked first: a crash before the schema leaves a Candor file
        // without tables, which the next open completes
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        check_format(&conn, path)?;
        Ok(Self { conn, _lock: None })
    }

    /// [`open`](Self::open), holding an exclusive lock on `<db>.lock` until
    /// the store is dropped; refused ([`CoordinatorError::InUse`]) while
    /// another holds it. The coordinator opens its database this way.
    pub fn open_exclusive(path: &Path) -> Result<Self, CoordinatorError> {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = std::path::PathBuf::from(lock_path);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| CoordinatorError::InUse(format!("{}: {e}", lock_path.display())))?;
        lock.try_lock().map_err(|e| {
            CoordinatorError::InUse(format!(
                "{} is in use by another coordinator ({}: {e}); stop it first",
                path.display(),
                lock_path.display()
            ))
        })?;
        Ok(Self { _lock: Some(lock), ..Self::open(path)? })
    }

    /// Records the federation (its identifier: the coordinator's PeerId
    /// bytes), spec, strategy, initial model and participants with their
    /// commitment proofs on first use; on later uses checks they are
    /// unchanged (new participants may be added, a registered commitment
    /// never changes).
    pub fn init(
        &mut self,
        spec: &TrainSpec,
        strategy: StrategyConfig,
        initial: &Model,
        participants: &BTreeMap<PeerKey, Admitted>,
        federation: &[u8],
    ) -> Result<(), CoordinatorError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (key, value) in [
            ("federation", hex::encode(federation)),
            ("spec", serde_json::to_string(spec).map_err(|e| CoordinatorError::Config(e.to_string()))?),
            ("strategy", serde_json::to_string(&strategy).map_err(|e| CoordinatorError::Config(e.to_string()))?),
            ("initial_model", serde_json::to_string(initial).map_err(|e| CoordinatorError::Config(e.to_string()))?),
        ] {
            let stored: Option<String> = tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?;
            match stored {
                None => {
                    tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![key, value])?;
                }
                Some(s) if s == value => {}
                Some(s) => {
                    return Err(CoordinatorError::Config(format!(
                        "the database was created with another {key} ({s}); use a new database for a new federation"
                    )))
                }
            }
        }
        for (peer, p) in participants {
            let c = *p.commitment.commitment();
            let stored: Option<(Vec<u8>, u64, u64)> = tx
                .query_row("SELECT root, rows, batches FROM participants WHERE peer = ?1", [peer], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            match stored {
                None => {
                    tx.execute(
                        "INSERT INTO participants (peer, name, root, rows, batches, proof) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![peer, p.name, c.root.0.to_vec(), c.rows, c.batches, p.proof],
                    )?;
                }
                Some((root, rows, batches)) if root == c.root.0 && rows == c.rows && batches == c.batches => {}
                Some(_) => {
                    return Err(CoordinatorError::Config(format!("participant {} is registered with another data commitment", p.name)))
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The stored spec, strategy and initial model.
    pub fn federation(&self) -> Result<(TrainSpec, StrategyConfig, Model), CoordinatorError> {
        let get = |k: &str| -> Result<String, CoordinatorError> {
            self.conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()?
                .ok_or_else(|| CoordinatorError::Corrupt(format!("no {k} recorded")))
        };
        let bad = |e: serde_json::Error| CoordinatorError::Corrupt(e.to_string());
        Ok((
            serde_json::from_str(&get("spec")?).map_err(bad)?,
            serde_json::from_str(&get("strategy")?).map_err(bad)?,
            serde_json::from_str(&get("initial_model")?).map_err(bad)?,
        ))
    }

    /// The federation's identifier (the coordinator's PeerId bytes).
    pub fn federation_id(&self) -> Result<Vec<u8>, CoordinatorError> {
        let hex: String = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'federation'", [], |r| r.get(0))
            .optional()?
            .ok_or_else(|| CoordinatorError::Corrupt("no federation recorded".into()))?;
        hex::decode(hex).map_err(|e| CoordinatorError::Corrupt(format!("federation: {e}")))
    }

    /// Registered participants with their commitment proofs (unverified:
    /// the audit checks them).
    pub fn participants(&self) -> Result<BTreeMap<PeerKey, (Participant, Vec<u8>)>, CoordinatorError> {
        let mut st = self.conn.prepare("SELECT peer, name, root, rows, batches, proof FROM participants")?;
        let rows = st.query_map([], |r| {
            let root: Vec<u8> = r.get(2)?;
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, root, r.get::<_, u64>(3)?, r.get::<_, u64>(4)?, r.get::<_, Vec<u8>>(5)?))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (peer, name, root, rows, batches, proof) = row?;
            let root: [u8; 32] = root.try_into().map_err(|_| CoordinatorError::Corrupt("commitment root".into()))?;
            out.insert(peer, (Participant { name, commitment: DataCommitment { root: Digest(root), rows, batches } }, proof));
        }
        Ok(out)
    }

    /// Records an opened round.
    pub fn opened(&self, round: u64, global: &Model, deadline_ms: u64) -> Result<(), CoordinatorError> {
        self.conn.execute("INSERT INTO rounds (id, global, deadline_ms) VALUES (?1, ?2, ?3)", params![round, enc(global), deadline_ms])?;
        Ok(())
    }

    /// Records an accepted update. Fails if one is already stored for this
    /// participant and round: nothing is ever accepted twice.
    pub fn accepted(&self, round: u64, peer: &[u8], samples: u64, model: &Model, proof: &[u8]) -> Result<(), CoordinatorError> {
        self.conn.execute(
            "INSERT INTO submissions (round, peer, samples, model, proof) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![round, peer, samples, enc(model), proof],
        )?;
        Ok(())
    }

    /// Records a rejection: the first [`MAX_KEPT_REFUSALS`] of a participant
    /// in a round with their reasons (cut to
    /// [`candor_protocols::MAX_REASON_BYTES`]), the rest as a count.
    pub fn rejected(&mut self, round: Option<u64>, peer: &[u8], code: &str, reason: &str) -> Result<RefusalRecord, CoordinatorError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let kept: u64 =
            tx.query_row("SELECT COUNT(*) FROM rejections WHERE round IS ?1 AND peer = ?2", params![round, peer], |r| r.get(0))?;
        let record = if kept < MAX_KEPT_REFUSALS {
            tx.execute(
                "INSERT INTO rejections (round, peer, code, reason) VALUES (?1, ?2, ?3, ?4)",
                params![round, peer, code, bounded_reason(reason)],
            )?;
            RefusalRecord::Kept
        } else {
            // rounds start at 1: 0 stands for "outside any round"
            let count: u64 = tx.query_row(
                "INSERT INTO rejections_over_cap (round, peer, count) VALUES (?1, ?2, 1) \
                 ON CONFLICT (round, peer) DO UPDATE SET count = count + 1 RETURNING count",
                params![round.unwrap_or(0), peer],
                |r| r.get(0),
            )?;
            if count == 1 {
                RefusalRecord::FirstCounted
            } else {
                RefusalRecord::Counted
            }
        };
        tx.commit()?;
        Ok(record)
    }

    /// Closes a round in one transaction: its result (the aggregate, or the
    /// unchanged global model), which submissions went into it, and its
    /// metrics (JSON: held-out evaluation, verification seconds). Closing a
    /// closed round is an error.
    pub fn closed(&mut self, round: u64, aggregated: &[PeerKey], model: Option<&Model>, metrics: &str) -> Result<(), CoordinatorError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let global: Vec<u8> = tx.query_row("SELECT global FROM rounds WHERE id = ?1 AND closed = 0", [round], |r| r.get(0))?;
        let result = model.map_or(global, enc);
        tx.execute("UPDATE rounds SET closed = 1, result = ?2, metrics = ?3 WHERE id = ?1", params![round, result, metrics])?;
        for peer in aggregated {
            tx.execute("UPDATE submissions SET aggregated = 1 WHERE round = ?1 AND peer = ?2", params![round, peer])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// All rounds in order.
    pub fn rounds(&self) -> Result<Vec<StoredRound>, CoordinatorError> {
        let mut st = self.conn.prepare("SELECT id, global, deadline_ms, result FROM rounds ORDER BY id")?;
        let rows =
            st.query_map([], |r| Ok((r.get::<_, u64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, u64>(2)?, r.get::<_, Option<Vec<u8>>>(3)?)))?;
        rows.map(|row| {
            let (id, g, deadline_ms, res) = row?;
            Ok(StoredRound { id, global: dec(&g)?, deadline_ms, result: res.as_deref().map(dec).transpose()? })
        })
        .collect()
    }

    /// Accepted submissions of a round, by participant.
    pub fn submissions(&self, round: u64) -> Result<Vec<StoredSubmission>, CoordinatorError> {
        let mut st = self.conn.prepare("SELECT peer, samples, model, proof, aggregated FROM submissions WHERE round = ?1 ORDER BY peer")?;
        let rows = st.query_map([round], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, u64>(1)?, r.get::<_, Vec<u8>>(2)?, r.get::<_, Vec<u8>>(3)?, r.get::<_, bool>(4)?))
        })?;
        rows.map(|row| {
            let (peer, samples, m, proof, aggregated) = row?;
            Ok(StoredSubmission { peer, samples, model: dec(&m)?, proof, aggregated })
        })
        .collect()
    }

    /// A round's accepted updates without their models and proofs:
    /// `(peer, samples, aggregated)`.
    pub fn accepted_summary(&self, round: u64) -> Result<Vec<(PeerKey, u64, bool)>, CoordinatorError> {
        let mut st = self.conn.prepare("SELECT peer, samples, aggregated FROM submissions WHERE round = ?1 ORDER BY peer")?;
        let rows = st.query_map([round], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The last `per_round` rejections of each round (and of none), oldest
    /// first, and how many each round has in all.
    pub fn recent_rejections(&self, per_round: usize) -> Result<RecentRejections, CoordinatorError> {
        let mut st = self.conn.prepare(
            "SELECT round, peer, code, reason FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY round ORDER BY id DESC) AS k \
             FROM rejections) WHERE k <= ?1 ORDER BY id",
        )?;
        let recent = st.query_map([per_round as u64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
        let mut st = self.conn.prepare(
            "SELECT round, SUM(n) FROM (SELECT round, COUNT(*) AS n FROM rejections WHERE round IS NOT NULL GROUP BY round \
             UNION ALL SELECT round, SUM(count) FROM rejections_over_cap WHERE round > 0 GROUP BY round) GROUP BY round",
        )?;
        let counts = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        Ok((recent, counts))
    }

    /// Rejections counted past [`MAX_KEPT_REFUSALS`]: `(round, peer, count)`,
    /// round 0 for refusals outside any round.
    pub fn rejections_over_cap(&self) -> Result<Vec<(u64, PeerKey, u64)>, CoordinatorError> {
        let mut st = self.conn.prepare("SELECT round, peer, count FROM rejections_over_cap ORDER BY round, peer")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stored rejections (the first [`MAX_KEPT_REFUSALS`] of each
    /// participant and round) as `(round, peer, code, reason)`.
    pub fn rejections(&self) -> Result<Vec<Rejection>, CoordinatorError> {
        let mut st = self.conn.prepare("SELECT round, peer, code, reason FROM rejections ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Each round's stored metrics (JSON), by round.
    pub fn round_metrics(&self) -> Result<BTreeMap<u64, String>, CoordinatorError> {
        let mut st = self.conn.prepare("SELECT id, metrics FROM rounds WHERE metrics IS NOT NULL")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records an audit's report (JSON) as of `at_ms`.
    pub fn record_audit(&self, at_ms: u64, report_json: &str) -> Result<(), CoordinatorError> {
        self.conn.execute("INSERT INTO audits (at_ms, report) VALUES (?1, ?2)", params![at_ms, report_json])?;
        Ok(())
    }

    /// The last recorded audit, `(at_ms, report JSON)`, read through a
    /// read-only connection of its own (a running coordinator's status
    /// server reads it while the coordinator writes).
    pub fn last_audit(path: &Path) -> Result<Option<(u64, String)>, CoordinatorError> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        let has_table =
            conn.query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audits'", [], |_| Ok(())).optional()?.is_some();
        if !has_table {
            return Ok(None);
        }
        Ok(conn.query_row("SELECT at_ms, report FROM audits ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
    }

    /// Direct access for tests that tamper with a copy of the database.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}
