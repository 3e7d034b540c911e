//! A daemon's heartbeat file, for container health checks and Kubernetes
//! probes. The event loop rewrites it every few seconds with what it is
//! doing; `health` (a subcommand of each daemon) reads its age. A file
//! rather than a port: a participant opens no port, an image built `FROM
//! scratch` has no HTTP client to probe one, and the file lives in the
//! state volume that the daemon must be able to write anyway.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the heartbeat is rewritten.
pub const BEAT_EVERY: Duration = Duration::from_secs(5);

/// Age past which `health` reports a daemon as stalled by default: long
/// enough for a busy machine to miss a few beats.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60);

/// Where a daemon whose state is at `state` keeps its heartbeat.
pub fn heartbeat_path(state: &Path) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".health");
    state.with_file_name(name)
}

/// Writes a heartbeat every [`BEAT_EVERY`], and when its status changes.
#[derive(Debug)]
pub struct Heartbeat {
    path: PathBuf,
    last: Option<(Instant, String)>,
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Heartbeat {
    /// A heartbeat written to `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path, last: None }
    }

    /// Rewrites the file with `status` (one line) if a beat is due or the
    /// status changed. Atomic: a reader sees the old beat or the new one.
    pub fn beat(&mut self, status: &str) -> io::Result<()> {
        let line: String = status.chars().filter(|c| *c != '\n').take(200).collect();
        if self.last.as_ref().is_some_and(|(t, said)| t.elapsed() < BEAT_EVERY && *said == line) {
            return Ok(());
        }
        // a failed write is retried (and reported) at the beat's rate, not
        // at every turn of the event loop
        self.last = Some((Instant::now(), line.clone()));
        let tmp = self.path.with_extension("health-tmp");
        std::fs::write(&tmp, format!("{} {line}\n", unix_ms()))?;
        std::fs::rename(&tmp, &self.path)
    }
}

/// What `health` reports for a daemon whose state is at `state`: [`check`]
/// of its heartbeat with `max_age_secs`.
pub fn check_beside(state: &Path, max_age_secs: u64) -> Result<String, String> {
    check(&heartbeat_path(state), Duration::from_secs(max_age_secs))
}

/// Reads the heartbeat at `path`: `Ok(status line)` if it is at most
/// `max_age` old, otherwise why not.
pub fn check(path: &Path, max_age: Duration) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("no heartbeat at {}: {e} (is the daemon running?)", path.display()))?;
    let (at, status) = text.trim_end().split_once(' ').unwrap_or((text.trim_end(), ""));
    let at: u64 = at.parse().map_err(|_| format!("{}: not a heartbeat", path.display()))?;
    let age = Duration::from_millis(unix_ms().saturating_sub(at));
    if age > max_age {
        return Err(format!("stalled: last heartbeat {:.0} s ago ({status}), more than {} s", age.as_secs_f64(), max_age.as_secs()));
    }
    Ok(format!("healthy: {status} ({:.0} s ago)", age.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_beat_is_healthy_and_an_old_or_missing_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = heartbeat_path(&dir.path().join("hospital.state"));
        assert_eq!(path, dir.path().join("hospital.state.health"));
        assert!(check(&path, DEFAULT_MAX_AGE).unwrap_err().contains("no heartbeat"));
        let mut h = Heartbeat::new(path.clone());
        h.beat("waiting for round 3").unwrap();
        let ok = check(&path, DEFAULT_MAX_AGE).unwrap();
        assert!(ok.starts_with("healthy: waiting for round 3"), "{ok}");
        // the same status again within BEAT_EVERY does not touch the file
        std::fs::write(&path, format!("{} proving\n", unix_ms() - 120_000)).unwrap();
        h.beat("waiting for round 3").unwrap();
        let stalled = check(&path, DEFAULT_MAX_AGE).unwrap_err();
        assert!(stalled.starts_with("stalled: last heartbeat 120 s ago (proving)"), "{stalled}");
        // a new status is written at once
        h.beat("proving round 3").unwrap();
        assert!(check(&path, DEFAULT_MAX_AGE).unwrap().starts_with("healthy: proving round 3"));
        std::fs::write(&path, "garbage").unwrap();
        assert!(check(&path, DEFAULT_MAX_AGE).unwrap_err().contains("not a heartbeat"));
    }
}
