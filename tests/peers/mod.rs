//! Real peers for the integration tests: the raqib lab as a process, Python UAS scripts,
//! baresip, kamailio. Each is started on loopback, waited for with a deadline (never a fixed
//! sleep) and killed when its guard drops, also when the test fails.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_raqib");

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `cmd` and waits up to `within` for a stdout line starting with `prefix`.
pub fn spawn_ready(mut cmd: Command, prefix: &str, within: Duration) -> (Proc, String) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with(prefix) => return (proc, line),
            Ok(_) => continue,
            Err(_) => panic!("{cmd:?} printed no line starting with {prefix:?} within {within:?}"),
        }
    }
}

/// Whether an external peer is installed. In CI every peer must be: a missing one fails.
pub fn have(program: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{program} is missing in CI: scripts/setup must install {package}");
        }
        eprintln!("SKIP: {program} not installed (install the Debian/PyPI package {package})");
    }
    found
}

pub fn python_module(module: &str, package: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "python module {module} is missing in CI: scripts/setup must pip install {package}"
            );
        }
        eprintln!("SKIP: python3 module {module} missing (pip install {package})");
    }
    ok
}

pub struct Lab {
    pub proc: Proc,
    pub http: String,
    pub https: String,
    pub expired: String,
    pub sip: String,
}

/// Starts `raqib lab` with `config` and parses its ready line.
pub fn start_lab(config: &Path, data: &Path) -> Lab {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .arg("lab");
    let (proc, line) = spawn_ready(cmd, "lab ready:", Duration::from_secs(20));
    let addr = |prefix: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {line:?}"))
            .to_string()
    };
    Lab {
        http: addr("http://"),
        https: addr("https://"),
        expired: addr("expired-https://"),
        sip: addr("sip://"),
        proc,
    }
}

/// A lab config on free ports, with extra TOML appended.
pub const LAB_PORTS: &str = "[lab]\nhttp_listen = \"127.0.0.1:0\"\nhttps_listen = \"127.0.0.1:0\"\nexpired_https_listen = \"127.0.0.1:0\"\nsip_listen = \"127.0.0.1:0\"\n";

pub fn raqib(config: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Runs `raqib probe call ... --json` and returns its one result.
pub fn call(config: &Path, data: &Path, args: &[&str]) -> Value {
    let mut all = vec!["probe", "call", "--json"];
    all.extend_from_slice(args);
    let out = raqib(config, data, &all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "raqib {all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v = json_lines(&out);
    assert_eq!(v.len(), 1, "{v:?}");
    v.remove(0)
}
