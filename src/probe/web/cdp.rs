//! A Chrome DevTools Protocol client over `--remote-debugging-pipe`.
//!
//! The pipe (fd 3: commands in, fd 4: replies and events out, NUL-separated JSON) opens no
//! debugging port that other local users could reach, needs no WebSocket stack, and ties the
//! browser's life to raqib's: when raqib dies, however it dies, the pipe closes and Chromium
//! exits. Only the few commands the audit uses are sent; replies are plain `serde_json::Value`.

use std::collections::HashMap;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::sync::{mpsc, oneshot};

/// Flags of ../shared/TESTING.md: without the background-networking ones Chromium keeps
/// calling hosts that a closed network refuses. `--no-sandbox` is added only as root (see
/// [`sandbox_off`]).
const FLAGS: &[&str] = &[
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--window-size=1366,768",
    "--remote-debugging-pipe",
];

/// Chromium features turned off, in one `--disable-features` (see [`with_disabled_features`]).
const DISABLED_FEATURES: &[&str] = &[
    // A finished page goes to about:blank before its context takes the site's next page:
    // kept in the back-forward cache, it would hold its renderer's memory for nothing.
    "BackForwardCache",
    // A renderer started ahead of a next navigation that, with a context per site, goes to
    // another context and never uses it.
    "SpareRendererForSitePerProcess",
    // Headless Chromium is the whole browser: each new context's window preloads the omnibox
    // popup, a WebUI page in a renderer of its own. Measured on Chromium 156: half of all
    // renderers and more than half of their CPU time in an audit.
    "WebUIOmniboxPopup",
    "WebUIOmniboxAimPopup",
    "WebUIOmniboxFullPopup",
];

/// `extra` with raqib's [`DISABLED_FEATURES`] folded into its own `--disable-features` lists:
/// Chromium honours only the last such flag, so a configured one would silently undo them.
pub fn with_disabled_features(extra: &[String]) -> Vec<String> {
    let mut features: Vec<String> = DISABLED_FEATURES.iter().map(|f| f.to_string()).collect();
    let mut out = Vec::new();
    for arg in extra {
        match arg.strip_prefix("--disable-features=") {
            Some(list) => features.extend(
                list.split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(String::from),
            ),
            None => out.push(arg.clone()),
        }
    }
    let mut seen = std::collections::HashSet::new();
    features.retain(|f| seen.insert(f.clone()));
    out.push(format!("--disable-features={}", features.join(",")));
    out
}

/// A message bigger than this is not a CDP reply raqib asked for (a full-page screenshot of
/// a very long page is the largest, and its height is capped).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CdpError {
    #[error("cannot start the browser {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the browser has gone (its pipe closed)")]
    Closed,
    #[error("{method}: the browser answered with an error: {message}")]
    Remote { method: String, message: String },
}

/// One event of one page session.
#[derive(Debug)]
pub struct Event {
    pub method: String,
    pub params: Value,
}

type Pending = HashMap<u64, oneshot::Sender<Result<Value, CdpError>>>;

struct Shared {
    pending: Mutex<Pending>,
    sessions: Mutex<HashMap<String, mpsc::UnboundedSender<Event>>>,
    alive: AtomicBool,
}

/// A running browser and its protocol connection. Dropping it kills the browser.
pub struct Browser {
    writer: tokio::sync::Mutex<pipe::Sender>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    child: Mutex<Option<tokio::process::Child>>,
    pid: Option<u32>,
    _profile: tempfile::TempDir,
    reader: tokio::task::JoinHandle<()>,
}

/// Whether Chromium must run without its sandbox: only as root, where it refuses to start with
/// it. As any other user the sandbox stays on: Debian's chromium (no setuid helper) puts each
/// renderer in its own user, PID and network namespaces under a seccomp-bpf filter, which
/// needs unprivileged user namespaces (see [`SANDBOX_HINT`]).
pub fn sandbox_off() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Said when Chromium reports that it cannot sandbox itself: it then exits at once, and every
/// page would end as `browser_error` with no other clue.
const SANDBOX_HINT: &str = "Chromium's sandbox needs unprivileged user namespaces: allow them \
    (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, Ubuntu's AppArmor \
    userns restriction, systemd's RestrictNamespaces=, a container's seccomp profile), or \
    install chromium-sandbox (a setuid helper: not under NoNewPrivileges=); or, knowingly, \
    turn the sandbox off with [browser] args = [\"--no-sandbox\"]";

fn os_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors that nothing else owns yet.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned here only.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

impl Browser {
    /// Starts `path` headless with a fresh profile and `extra` flags, and connects to it.
    pub async fn launch(path: &Path, extra: &[String]) -> Result<Browser, CdpError> {
        let spawn_err = |source| CdpError::Spawn {
            path: path.to_path_buf(),
            source,
        };
        let profile = tempfile::Builder::new()
            .prefix("raqib-chromium-")
            .tempdir()
            .map_err(spawn_err)?;
        let (to_browser_r, to_browser_w) = os_pipe().map_err(spawn_err)?;
        let (from_browser_r, from_browser_w) = os_pipe().map_err(spawn_err)?;
        let mut cmd = tokio::process::Command::new(path);
        cmd.args(FLAGS)
            .args(sandbox_off().then_some("--no-sandbox"))
            .args(with_disabled_features(extra))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Read only for what it says about its sandbox (see `watch_stderr`).
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own process group, so that a hung browser is killed with its renderers.
            .process_group(0);
        {
            use std::os::fd::AsRawFd;
            let (r, w) = (to_browser_r.as_raw_fd(), from_browser_w.as_raw_fd());
            // SAFETY: only async-signal-safe fcntl, dup2 and close between fork and exec; dup2
            // clears O_CLOEXEC on the copies, so exactly fds 3 and 4 reach the browser. Each
            // end is first copied above 4: when one of them is itself fd 3 or 4 (descriptors
            // are reused when tests launch browsers at once), `dup2(r, 3)` would overwrite it.
            unsafe {
                cmd.pre_exec(move || {
                    let (r2, w2) = (
                        libc::fcntl(r, libc::F_DUPFD, 10),
                        libc::fcntl(w, libc::F_DUPFD, 10),
                    );
                    if r2 < 0 || w2 < 0 || libc::dup2(r2, 3) < 0 || libc::dup2(w2, 4) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(r2);
                    libc::close(w2);
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().map_err(spawn_err)?;
        drop((to_browser_r, from_browser_w));
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(watch_stderr(stderr, path.to_path_buf()));
        }
        let writer = pipe::Sender::from_owned_fd(to_browser_w).map_err(spawn_err)?;
        let reader = pipe::Receiver::from_owned_fd(from_browser_r).map_err(spawn_err)?;
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            alive: AtomicBool::new(true),
        });
        let pid = child.id();
        let browser = Browser {
            writer: tokio::sync::Mutex::new(writer),
            next_id: AtomicU64::new(1),
            reader: tokio::spawn(read_loop(reader, shared.clone())),
            shared,
            child: Mutex::new(Some(child)),
            pid,
            _profile: profile,
        };
        Ok(browser)
    }

    pub fn is_alive(&self) -> bool {
        self.shared.alive.load(Ordering::SeqCst)
    }

    /// The browser's main process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Sends one command (to a page session when `session` is set) and waits for its reply.
    /// The caller bounds the wait: a hung page never answers.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, CdpError> {
        if !self.is_alive() {
            return Err(CdpError::Closed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.pending).insert(id, tx);
        let mut bytes = serde_json::to_vec(&msg).unwrap_or_default();
        bytes.push(0);
        let sent = {
            let mut w = self.writer.lock().await;
            w.write_all(&bytes).await
        };
        if sent.is_err() {
            lock(&self.shared.pending).remove(&id);
            self.shared.alive.store(false, Ordering::SeqCst);
            return Err(CdpError::Closed);
        }
        let reply = rx.await.unwrap_or(Err(CdpError::Closed));
        reply.map_err(|e| match e {
            CdpError::Remote { message, .. } => CdpError::Remote {
                method: method.to_string(),
                message,
            },
            e => e,
        })
    }

    /// Opens a blank page (in browser context `context` when given) and attaches to it with a
    /// flat session: the session id.
    pub async fn new_page(&self, context: Option<&str>) -> Result<String, CdpError> {
        let mut params = json!({"url": "about:blank"});
        if let Some(c) = context {
            params["browserContextId"] = json!(c);
        }
        let target = self.call("Target.createTarget", params, None).await?;
        let attached = self
            .call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
                None,
            )
            .await?;
        Ok(attached["sessionId"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Routes the events of `session` to the returned receiver until [`detach`](Self::detach).
    pub fn subscribe(&self, session: &str) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.shared.sessions).insert(session.to_string(), tx);
        rx
    }

    pub fn detach(&self, session: &str) {
        lock(&self.shared.sessions).remove(session);
    }

    /// Kills the browser and every process of its group, at once.
    pub fn kill(&self) {
        self.shared.alive.store(false, Ordering::SeqCst);
        if let Some(pid) = self.pid {
            // SAFETY: signals the process group this browser leads; no memory is touched.
            unsafe {
                libc::killpg(pid as libc::pid_t, libc::SIGKILL);
            }
        }
        if let Some(child) = lock(&self.child).as_mut() {
            let _ = child.start_kill();
        }
    }

    /// Asks the browser to close, then kills what is left after `grace` and reaps it.
    pub async fn close(self, grace: Duration) {
        let _ = tokio::time::timeout(grace, self.call("Browser.close", json!({}), None)).await;
        self.kill();
        let child = lock(&self.child).take();
        if let Some(mut child) = child {
            let _ = tokio::time::timeout(grace, child.wait()).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.reader.abort();
        self.kill();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Drains the browser's stderr (so that it never blocks on a full pipe) and logs the lines
/// about its sandbox, with what to do when it has none. Ends when every process of the browser
/// has closed it.
async fn watch_stderr(stderr: tokio::process::ChildStderr, path: PathBuf) {
    use tokio::io::AsyncBufReadExt;
    let mut reader = tokio::io::BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        // Bytes, not `lines()`: a line that is not UTF-8 must not stop the draining.
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        if !text.to_ascii_lowercase().contains("sandbox") {
            continue;
        }
        let said: String = text.trim().chars().take(400).collect();
        tracing::warn!(browser = %path.display(), "{said}");
        if text.contains("No usable sandbox") {
            tracing::error!("{SANDBOX_HINT}");
        }
    }
}

async fn read_loop(mut reader: pipe::Receiver, shared: Arc<Shared>) {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut chunk = vec![0u8; 1 << 16];
    'read: loop {
        let n = match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        while let Some(end) = buf[start..].iter().position(|&b| b == 0) {
            dispatch(&buf[start..start + end], &shared);
            start += end + 1;
        }
        buf.drain(..start);
        if buf.len() > MAX_MESSAGE {
            break 'read;
        }
    }
    shared.alive.store(false, Ordering::SeqCst);
    for (_, tx) in lock(&shared.pending).drain() {
        let _ = tx.send(Err(CdpError::Closed));
    }
    lock(&shared.sessions).clear();
}

fn dispatch(raw: &[u8], shared: &Shared) {
    let Ok(mut msg) = serde_json::from_slice::<Value>(raw) else {
        return;
    };
    if let Some(id) = msg.get("id").and_then(Value::as_u64) {
        if let Some(tx) = lock(&shared.pending).remove(&id) {
            let reply = match msg.get_mut("error") {
                Some(e) => Err(CdpError::Remote {
                    method: String::new(),
                    message: e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                        .to_string(),
                }),
                None => Ok(msg
                    .get_mut("result")
                    .map(Value::take)
                    .unwrap_or(Value::Null)),
            };
            let _ = tx.send(reply);
        }
        return;
    }
    let (Some(method), Some(session)) = (
        msg.get("method").and_then(Value::as_str),
        msg.get("sessionId").and_then(Value::as_str),
    ) else {
        return;
    };
    let sessions = lock(&shared.sessions);
    if let Some(tx) = sessions.get(session) {
        let _ = tx.send(Event {
            method: method.to_string(),
            params: msg
                .get_mut("params")
                .map(Value::take)
                .unwrap_or(Value::Null),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_disable_features_joins_raqibs() {
        let extra = vec![
            "--lang=ar".to_string(),
            "--disable-features=Translate, BackForwardCache".to_string(),
        ];
        let flags = with_disabled_features(&extra);
        assert_eq!(flags[0], "--lang=ar");
        let disabled: Vec<_> = flags
            .iter()
            .filter(|f| f.starts_with("--disable-features="))
            .collect();
        assert_eq!(disabled.len(), 1, "{flags:?}");
        let list = disabled[0].trim_start_matches("--disable-features=");
        let names: Vec<&str> = list.split(',').collect();
        for f in DISABLED_FEATURES.iter().chain(&["Translate"]) {
            assert_eq!(names.iter().filter(|n| *n == f).count(), 1, "{list}");
        }
        assert_eq!(
            with_disabled_features(&[]),
            vec![format!(
                "--disable-features={}",
                DISABLED_FEATURES.join(",")
            )]
        );
    }
}
