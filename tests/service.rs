//! Running raqib as a service: `dist/raqib.service` passes `systemd-analyze verify` without a
//! warning, and raqib works as an ordinary user (as root, the test runs it as `nobody`): its
//! store and evidence in a data directory of its own, Chromium with its sandbox on, and
//! `raqib serve` healthy and stopped cleanly by SIGTERM.

mod peers;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

const UNIT: &str = "dist/raqib.service";
const INSTALLED_BIN: &str = "/usr/local/bin/raqib";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn unit_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(UNIT)).unwrap()
}

/// `KEY=value` lines of the unit (the last one wins, as systemd reads a plain assignment).
fn directive(unit: &str, key: &str) -> Option<String> {
    unit.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
        .map(|v| v.trim().to_string())
}

/// `systemd-analyze verify` on `unit` written as `raqib.service` in a scratch directory:
/// its exit code and the lines it printed about this unit. Lines naming another unit file
/// (the system's own units it loads for `After=`, `WantedBy=`) are printed, not returned.
fn verify(unit: &str) -> (Option<i32>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raqib.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        // Its own log lines (warnings among them) go to stderr; keep them in the C locale.
        .env("LC_ALL", "C")
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .expect("systemd-analyze runs");
    let mut ours = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
        .filter(|l| !l.trim().is_empty())
    {
        if names_another_unit(line) {
            eprintln!("systemd-analyze (not about raqib.service): {line}");
        } else {
            ours.push(line.to_string());
        }
    }
    (out.status.code(), ours)
}

/// Whether `line` starts by naming a unit (file) other than raqib.service: `foo.service: …`,
/// `/lib/systemd/system/foo.target:12: …`. A line naming no unit (e.g. "Accepting user/group
/// name …") counts as about ours.
fn names_another_unit(line: &str) -> bool {
    let Some(first) = line.split(':').next() else {
        return false;
    };
    let name = first.rsplit('/').next().unwrap_or(first);
    let is_unit = [
        ".service", ".target", ".socket", ".mount", ".slice", ".path", ".timer", ".device",
    ]
    .iter()
    .any(|s| name.ends_with(s))
        && !name.contains(' ');
    is_unit && name != "raqib.service"
}

/// The repository's unit, with ExecStart= on the binary just built: `verify` checks that the
/// program exists and is executable. User=raqib stays: `verify` does not look users up (a
/// missing user says nothing; checked with systemd 252).
fn unit_for_verify() -> String {
    let unit = unit_text();
    let exec = directive(&unit, "ExecStart").expect("the unit has ExecStart=");
    assert!(
        exec.starts_with(&format!("{INSTALLED_BIN} serve")),
        "ExecStart= runs {INSTALLED_BIN} serve: {exec}"
    );
    unit.replace(
        &format!("ExecStart={INSTALLED_BIN} "),
        &format!("ExecStart={} ", env!("CARGO_BIN_EXE_raqib")),
    )
}

/// Whether `systemd-analyze` is there: a skip when it is not, a failure in CI (scripts/setup
/// installs the package systemd).
fn have_systemd_analyze() -> bool {
    let found = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if in_ci() {
            panic!("systemd-analyze is missing in CI: scripts/setup must install systemd");
        }
        eprintln!("SKIP: systemd-analyze not installed (apt-get install systemd)");
    }
    found
}

#[test]
fn the_unit_passes_systemd_analyze_verify_without_a_warning() {
    if !have_systemd_analyze() {
        return;
    }
    let (code, lines) = verify(&unit_for_verify());
    assert_eq!(code, Some(0), "systemd-analyze verify failed: {lines:#?}");
    assert!(
        lines.is_empty(),
        "systemd-analyze verify warned about dist/raqib.service: {lines:#?}"
    );

    // The check itself catches what verify only warns about, with exit code 0.
    let unknown = unit_for_verify().replace("[Service]\n", "[Service]\nRestartSecs=5\n");
    let (code, lines) = verify(&unknown);
    assert_eq!(code, Some(0));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Unknown key 'RestartSecs'")),
        "{lines:#?}"
    );
    let missing = unit_text();
    let missing = missing.replace(INSTALLED_BIN, "/nonexistent/raqib");
    let (code, lines) = verify(&missing);
    assert_ne!(code, Some(0), "{lines:#?}");
}

#[test]
fn the_unit_keeps_state_and_lets_chromium_sandbox_itself() {
    let unit = unit_text();
    let has = |k: &str| directive(&unit, k);
    // A user made by the operator, whose data survives: not DynamicUser=.
    assert_eq!(has("User").as_deref(), Some("raqib"));
    assert_eq!(has("Group").as_deref(), Some("raqib"));
    assert_eq!(has("DynamicUser"), None);
    assert!(
        unit.contains("useradd --system"),
        "the unit says how to make the user"
    );
    assert_eq!(has("StateDirectory").as_deref(), Some("raqib"));
    assert_eq!(has("WorkingDirectory").as_deref(), Some("/var/lib/raqib"));
    let env: Vec<String> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .map(str::to_string)
        .collect();
    assert!(env.contains(&"RAQIB_DATA_DIR=/var/lib/raqib".to_string()));
    assert!(env.contains(&"RAQIB_CONFIG=/etc/raqib/raqib.toml".to_string()));
    assert_eq!(
        has("ExecReload").as_deref(),
        Some("/bin/kill -HUP $MAINPID")
    );
    assert_eq!(has("Restart").as_deref(), Some("on-failure"));
    // SIGTERM lets a call in progress end (ring 60 s, then up to 60 s listened to).
    let stop = has("TimeoutStopSec").unwrap();
    let secs: u64 = stop.trim_end_matches('s').parse().unwrap();
    assert!(secs >= 150, "TimeoutStopSec={stop}");
    assert_eq!(has("KillMode").as_deref(), Some("mixed"));
    for (k, v) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("CapabilityBoundingSet", ""),
        ("UMask", "0077"),
        ("SystemCallArchitectures", "native"),
    ] {
        assert_eq!(has(k).as_deref(), Some(v), "{k}=");
    }
    // V8 writes machine code: W^X would crash Chromium; its sandbox needs these namespaces.
    assert_eq!(has("MemoryDenyWriteExecute"), None);
    let ns = has("RestrictNamespaces").unwrap();
    for kind in ["user", "pid", "net"] {
        assert!(ns.split_whitespace().any(|w| w == kind), "{ns}");
    }
    assert_eq!(
        has("ProcSubset"),
        None,
        "Debian's chromium reads /proc/cpuinfo"
    );
}

// ---- raqib as an ordinary user ----

/// A copy of raqib that any user may run, in a scratch directory that any user may read:
/// target/ may sit where `nobody` cannot reach.
struct Sandbox {
    root: tempfile::TempDir,
    bin: PathBuf,
    data: PathBuf,
    as_root: bool,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = root.path().join("raqib");
        std::fs::copy(env!("CARGO_BIN_EXE_raqib"), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = root.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
        // SAFETY: geteuid has no preconditions.
        let as_root = unsafe { libc::geteuid() } == 0;
        if as_root {
            let status = Command::new("chown")
                .args(["nobody:nogroup"])
                .arg(&data)
                .status()
                .unwrap();
            assert!(status.success(), "chown nobody:nogroup {}", data.display());
        }
        Sandbox {
            root,
            bin,
            data,
            as_root,
        }
    }

    /// A file any user may read.
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.root.path().join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        p
    }

    /// raqib with `args`, as `nobody` when the test runs as root (else as the test's user), in
    /// the scratch directory, with the environment a unit gives: HOME is the data directory,
    /// no RAQIB_* variable (the PostgreSQL round's RAQIB_STORE included: this test is about
    /// the data directory's files as their owner sees them).
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = match self.as_root {
            true => {
                let mut c = Command::new("setpriv");
                c.args([
                    "--reuid=nobody",
                    "--regid=nogroup",
                    "--clear-groups",
                    "--inh-caps=-all",
                ])
                .arg(&self.bin);
                c
            }
            false => Command::new(&self.bin),
        };
        cmd.arg("--data-dir")
            .arg(&self.data)
            .args(args)
            .current_dir(self.root.path())
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &self.data)
            .env("LANG", "C.UTF-8");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// The user raqib runs as here.
    fn uid(&self) -> u32 {
        match self.as_root {
            true => 65534,
            // SAFETY: geteuid has no preconditions.
            false => unsafe { libc::geteuid() },
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Whether raqib refused the browser audit for want of axe-core (exit code 2): a skip, or a
/// failure in CI. A raqib that carries axe-core in its binary never is.
fn axe_missing(out: &Output) -> bool {
    let err = stderr(out);
    if out.status.code() != Some(2) || !err.contains("axe-core") {
        return false;
    }
    if in_ci() {
        panic!("axe-core missing in CI: scripts/setup must run npm ci in probes/web: {err}");
    }
    eprintln!("SKIP: the browser audit needs axe-core: {err}");
    true
}

/// A site on loopback: an Arabic home page with the centre's number; 404 for anything else
/// (robots.txt, sitemap.xml, favicon). Threads end with the process.
fn site() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&req).to_string();
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = match path.as_str() {
                    "/" => (
                        "200 OK",
                        "<!doctype html><html lang=\"ar\" dir=\"rtl\"><head><title>مكتب الأحوال \
                         المدنية</title></head><body><main><h1>مكتب الأحوال المدنية - عمّان</h1>\
                         <p>هاتف: +96265000101</p><p>ساعات العمل: الأحد - الخميس 08:00-15:00</p>\
                         </main></body></html>",
                    ),
                    _ => ("404 Not Found", "not here"),
                };
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    format!("http://{addr}/")
}

/// What the test saw of Chromium's processes of `uid` while raqib ran.
#[derive(Debug, Default)]
struct Seen {
    /// A renderer in a user namespace of its own under a seccomp-bpf filter: sandboxed.
    sandboxed_renderer: bool,
    /// Command lines with `--no-sandbox`.
    unsandboxed: Vec<String>,
}

/// Looks at every process of `uid` every 20 ms until `stop` is set.
fn watch_chromium(uid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Seen> {
    std::thread::spawn(move || {
        let own_userns = std::fs::read_link("/proc/self/ns/user").ok();
        let mut seen = Seen::default();
        while !stop.load(Ordering::SeqCst) {
            for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let Ok(meta) = entry.metadata() else { continue };
                if meta.uid() != uid || entry.file_name().to_string_lossy().parse::<u32>().is_err()
                {
                    continue;
                }
                let p = entry.path();
                let cmdline = std::fs::read(p.join("cmdline"))
                    .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                    .unwrap_or_default();
                if !cmdline.contains("chromium") {
                    continue;
                }
                if cmdline.contains("--no-sandbox") && !seen.unsandboxed.contains(&cmdline) {
                    seen.unsandboxed.push(cmdline.clone());
                }
                if cmdline.contains("--type=renderer") {
                    let seccomp = std::fs::read_to_string(p.join("status"))
                        .unwrap_or_default()
                        .lines()
                        .any(|l| l.starts_with("Seccomp:") && l.trim_end().ends_with('2'));
                    let userns = std::fs::read_link(p.join("ns/user")).ok();
                    if seccomp && userns.is_some() && userns != own_userns {
                        seen.sandboxed_renderer = true;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        seen
    })
}

#[test]
fn raqib_runs_as_a_normal_user_with_chromium_sandboxed() {
    if !peers::have("chromium", "chromium") || !peers::have("setpriv", "util-linux") {
        return;
    }
    let sb = Sandbox::new();
    let url = site();
    let csv = sb.write(
        "centres.csv",
        &format!(
            "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
             t-amman,مكتب الأحوال المدنية - عمّان,Amman Civil Status Office,Civil Status,Amman,\
             Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,{url}\n"
        ),
    );
    let out = sb.run(&["centres", "import", csv.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "import: {}", stderr(&out));

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_chromium(sb.uid(), stop.clone());
    let out = sb.run(&["probe", "web", "t-amman", "--pages", "0", "--json"]);
    stop.store(true, Ordering::SeqCst);
    let seen = watcher.join().unwrap();
    let err = stderr(&out);
    if axe_missing(&out) {
        return;
    }
    assert_eq!(out.status.code(), Some(0), "probe web: {err}");
    assert!(
        !err.contains("No usable sandbox"),
        "this machine gives a normal user no user namespaces, which Chromium's sandbox needs \
         (see the unit's RestrictNamespaces= comment): {err}"
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    });
    assert_eq!(r["outcome"], "up", "{r:#}");
    assert_eq!(r["browser"]["outcome"], "ok", "{r:#}\n{err}");
    assert!(r["a11y"]["score"].is_number(), "{r:#}");
    assert_eq!(r["arabic"]["lang_ok"], true, "{r:#}");
    assert!(
        !err.contains("sandbox"),
        "raqib relayed a sandbox complaint of Chromium: {err}"
    );

    // Chromium ran with its sandbox: never --no-sandbox, and a renderer was seen confined.
    assert!(
        seen.unsandboxed.is_empty(),
        "Chromium ran without its sandbox as a normal user ({} processes), e.g. {}",
        seen.unsandboxed.len(),
        seen.unsandboxed[0]
            .get(..300)
            .unwrap_or(&seen.unsandboxed[0])
    );
    assert!(
        seen.sandboxed_renderer,
        "no sandboxed Chromium renderer seen (own user namespace, seccomp mode 2): {seen:?}"
    );

    // The store and the screenshot belong to the user raqib ran as.
    let shot = PathBuf::from(r["browser"]["screenshot"].as_str().unwrap());
    let shot = match shot.is_absolute() {
        true => shot,
        false => sb.root.path().join(shot),
    };
    for f in [sb.data.join("raqib.sqlite"), shot] {
        let meta = std::fs::metadata(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(
            meta.uid(),
            sb.uid(),
            "{} owned by uid {}",
            f.display(),
            meta.uid()
        );
    }

    let out = sb.run(&["results", "--json"]);
    assert_eq!(out.status.code(), Some(0), "results: {}", stderr(&out));
    let listed = peers::json_lines(&out);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["centre"], "t-amman");
}

#[test]
fn serve_as_a_normal_user_is_healthy_and_stops_on_sigterm() {
    let sb = Sandbox::new();
    let port = peers::free_port();
    let log = Arc::new(Mutex::new(String::new()));
    let mut child = sb
        .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = {
        let log = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let guard = peers::Proc(child);
    let healthy = peers::eventually(Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && peers::http(port, "GET", "/healthz", &[], "").0 == 200
    });
    assert!(healthy, "serve as a normal user: {}", log.lock().unwrap());
    let (_, _, body) = peers::http(port, "GET", "/healthz", &[], "");
    assert_eq!(peers::json_of(&body)["status"], "ok", "{body}");

    // As systemd stops it: SIGTERM, then a clean exit well within TimeoutStopSec.
    let mut child = guard;
    // SAFETY: a signal to the child this test started; setpriv execs raqib in its place.
    unsafe {
        libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM);
    }
    let exited = peers::eventually(Duration::from_secs(30), || {
        matches!(child.0.try_wait(), Ok(Some(_)))
    });
    assert!(
        exited,
        "serve did not stop on SIGTERM: {}",
        log.lock().unwrap()
    );
    let status = child.0.wait().unwrap();
    reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{}", log.lock().unwrap());
    let meta = std::fs::metadata(sb.data.join("raqib.sqlite")).unwrap();
    assert_eq!(meta.uid(), sb.uid());
}

/// `unshare ARGS true` succeeds here.
fn can_unshare(args: &[&str]) -> bool {
    Command::new("unshare")
        .args(args)
        .arg("true")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Where a normal user may make no user namespace (a sysctl, Ubuntu's AppArmor rule, a
/// container's seccomp profile, RestrictNamespaces=), Chromium exits with "No usable
/// sandbox!": raqib passes that on with what to do, and the pages end as browser_error
/// (which never counts against a centre). Staged with two nested user namespaces: the outer
/// one allows a single namespace below it (user.max_user_namespaces = 1), which the inner
/// one, where raqib runs as uid 65534, uses up.
#[test]
fn chromium_without_user_namespaces_is_explained() {
    if !peers::have("chromium", "chromium") {
        return;
    }
    if !can_unshare(&["--user", "--map-root-user"])
        || !can_unshare(&["--user", "--map-user=65534", "--map-group=65534"])
    {
        // Not a missing package: this machine (or util-linux before 2.38) cannot stage it.
        eprintln!("SKIP: cannot make user namespaces here to stage a Chromium without them");
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let url = site();
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "sh", "-c"])
        .arg(
            "echo 1 > /proc/sys/user/max_user_namespaces && \
             exec unshare --user --map-user=65534 --map-group=65534 \"$0\" \"$@\"",
        )
        .arg(env!("CARGO_BIN_EXE_raqib"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["probe", "web", &url, "--pages", "0", "--json"])
        .env_remove("RAQIB_STORE")
        .env_remove("RAQIB_CONFIG")
        .output()
        .unwrap();
    if axe_missing(&out) {
        return;
    }
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["outcome"], "up", "{r:#}");
    assert_eq!(r["browser"]["outcome"], "browser_error", "{r:#}\n{err}");
    assert!(err.contains("No usable sandbox"), "{err}");
    assert!(
        err.contains("needs unprivileged user namespaces")
            && err.contains("[browser] args = [\"--no-sandbox\"]"),
        "{err}"
    );
}
