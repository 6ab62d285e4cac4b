//! Running raqib as a service: `dist/raqib.service` passes `systemd-analyze verify` without a
//! warning.

use std::path::Path;
use std::process::Command;

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
