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

/// raqib's axe-core, as `scripts/setup` installs it.
pub const AXE: &str = "probes/web/node_modules/axe-core/axe.min.js";

/// Chromium and axe-core must both be there; in CI a missing one fails the test.
pub fn browser_ready() -> bool {
    if !have("chromium", "chromium") {
        return false;
    }
    if !Path::new(AXE).is_file() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{AXE} is missing in CI: scripts/setup must run npm ci in probes/web");
        }
        eprintln!("SKIP: {AXE} missing (run ./scripts/setup)");
        return false;
    }
    true
}

impl Drop for Proc {
    /// SIGTERM first: a peer that forks (kamailio) stops its children only then; killed
    /// outright, its children outlive the test. SIGKILL after 3 s.
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let until = std::time::Instant::now() + Duration::from_secs(3);
            while std::time::Instant::now() < until {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
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

/// Asks `ready` every 100 ms until it holds (true) or `within` has passed (false). How tests
/// wait for an event (a row in the store, a line in a log, a port that listens), never for a
/// fixed time.
pub fn eventually(within: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if ready() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `eventually`, or a panic naming `what`.
pub fn wait_until(what: &str, within: Duration, ready: impl FnMut() -> bool) {
    assert!(
        eventually(within, ready),
        "timed out after {within:?} waiting for {what}"
    );
}

/// Waits until every alert delivery the store keeps for another try is due (its `next_at`
/// passed), as `raqib alerts --json` reads them: the next `alerts run` tries them all.
pub fn wait_for_due_retries(config: &Path, data: &Path, within: Duration) {
    wait_until("the alert retries to be due", within, || {
        let now = chrono::Utc::now();
        json_lines(&raqib(config, data, &["alerts", "--json"]))
            .iter()
            .flat_map(|a| a["deliveries"].as_array().cloned().unwrap_or_default())
            .filter(|d| d["status"] == "pending")
            .all(|d| {
                let next = d["next_at"].as_str().unwrap_or_default();
                chrono::DateTime::parse_from_rfc3339(next)
                    .unwrap_or_else(|e| panic!("next_at {next:?}: {e}"))
                    <= now
            })
    });
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
    raqib_env(config, data, &[], args)
}

/// The variables webhooks take their proxy from.
pub const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// `cmd` without the caller's proxy variables: a developer's proxy would otherwise receive the
/// tests' webhooks to loopback peers.
pub fn without_proxy(cmd: &mut Command) -> &mut Command {
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// `raqib` with extra environment variables (and none of the caller's proxy variables).
pub fn raqib_env(config: &Path, data: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    without_proxy(&mut Command::new(BIN))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
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

/// A port free for both UDP and TCP on 127.0.0.1 (bound and released: a small race, but
/// the peers here must be told a port up front).
pub fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Waits until a SIP UA answers OPTIONS on 127.0.0.1:`port` (UDP), up to `within`.
pub fn wait_sip(port: u16, within: Duration) {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let me = sock.local_addr().unwrap();
    let deadline = std::time::Instant::now() + within;
    let mut n = 0;
    while std::time::Instant::now() < deadline {
        n += 1;
        let msg = format!(
            "OPTIONS sip:probe@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKwait{n}\r\nMax-Forwards: 70\r\nFrom: <sip:wait@{me}>;tag=w{n}\r\nTo: <sip:probe@127.0.0.1:{port}>\r\nCall-ID: wait-{n}@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        let _ = sock.send_to(msg.as_bytes(), ("127.0.0.1", port));
        let mut buf = [0u8; 4096];
        if let Ok((len, _)) = sock.recv_from(&mut buf) {
            if buf[..len].starts_with(b"SIP/2.0 ") {
                return;
            }
        }
    }
    panic!("no SIP answer on 127.0.0.1:{port} within {within:?}");
}

/// baresip as a UAS in `dir`: auto-answers (or rings forever with `manual`), plays `wav`.
pub fn baresip(dir: &Path, port: u16, wav: &Path, manual: bool) -> Proc {
    baresip_with(dir, port, wav, manual, "")
}

/// `baresip` with `extra` lines appended to its config (e.g. `rtcp_mux yes`).
pub fn baresip_with(dir: &Path, port: u16, wav: &Path, manual: bool, extra: &str) -> Proc {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("config"),
        format!(
            "sip_listen 127.0.0.1:{port}\nnet_interface 127.0.0.1\ndns_server 127.0.0.1:53\n\
             audio_source aufile,{}\naudio_alert aufile,/dev/null\naudio_player aufile,{}\n\
             rtp_ports 20000-29999\nmodule_path /usr/lib/baresip/modules\nmodule g711.so\n\
             module aufile.so\nmodule_app account.so\nmodule_app menu.so\n{extra}",
            wav.display(),
            dir.join("heard.wav").display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("accounts"),
        format!(
            "<sip:uas@127.0.0.1>;regint=0;answermode={};audio_codecs=PCMU,PCMA\n",
            if manual { "manual" } else { "auto" }
        ),
    )
    .unwrap();
    let child = Command::new("baresip")
        .arg("-f")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("baresip starts");
    let proc = Proc(child);
    wait_sip(port, Duration::from_secs(15));
    proc
}

/// kamailio in the foreground with `template` (a file under tests/peers/) whose placeholders
/// are replaced; waits until it answers OPTIONS on `port`.
pub fn kamailio(dir: &Path, template: &str, replace: &[(&str, String)], port: u16) -> Proc {
    let mut text = std::fs::read_to_string(format!("tests/peers/{template}")).unwrap();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    let cfg = dir.join(template);
    std::fs::write(&cfg, text).unwrap();
    let child = Command::new("kamailio")
        .args(["-DD", "-E", "-f"])
        .arg(&cfg)
        .arg("-Y")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kamailio starts");
    let proc = Proc(child);
    wait_sip(port, Duration::from_secs(15));
    proc
}

/// `raqib --config CFG --data-dir DATA ARGS` with the trunk password in the environment.
pub fn raqib_with_password(
    config: &Path,
    data: &Path,
    password: Option<&str>,
    args: &[&str],
) -> Output {
    let mut cmd = Command::new(BIN);
    match password {
        Some(p) => cmd.env("RAQIB_TEST_TRUNK_PASSWORD", p),
        None => cmd.env_remove("RAQIB_TEST_TRUNK_PASSWORD"),
    };
    cmd.arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

/// Stores copies of real stored results (`--json` objects) as `centre`'s, each re-dated to
/// 09:00 UTC on its day (`YYYY-MM-DD`): history in past periods without waiting for them.
pub fn copy_results(data: &Path, centre: &str, copies: &[(&Value, String)]) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = raqib::store::Store::open(data, std::env::var("RAQIB_STORE").ok().as_deref())
            .await
            .unwrap();
        for (from, day) in copies {
            let at = format!("{day}T09:00:00.000Z");
            let mut v = (*from).clone();
            let m = v.as_object_mut().unwrap();
            for k in ["id", "sweep", "scoring"] {
                m.remove(k);
            }
            m.insert("centre".into(), centre.into());
            m.insert("started_at".into(), at.clone().into());
            store
                .insert_result(&raqib::store::NewResult {
                    channel: "phone",
                    centre_id: Some(centre),
                    target: v["target"].as_str().unwrap(),
                    started_at: chrono::DateTime::parse_from_rfc3339(&at).unwrap().into(),
                    outcome: v["outcome"].as_str().unwrap(),
                    reason: None,
                    sweep_id: None,
                    data: &v,
                    agent: None,
                })
                .await
                .unwrap();
        }
        store.close().await;
    });
}

/// Starts `raqib serve --listen` on a free port (its stderr to `log`) and waits until it
/// listens; the guard and the port.
pub fn serve_listen(config: &Path, data: &Path, log: &Path, extra: &[&str]) -> (Proc, u16) {
    let port = free_port();
    let proc = Proc(
        Command::new(BIN)
            .arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_until("serve to listen", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (proc, port)
}

/// `raqib users password USER` with `password` on standard input; its exit code.
pub fn set_password(config: &Path, data: &Path, user: &str, password: &str) -> Option<i32> {
    use std::io::Write;
    let mut p = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(["users", "password", user])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(p.stdin.take().unwrap(), "{password}").unwrap();
    p.wait().unwrap().code()
}

/// Everything the store holds on disk, to look for a secret in: the SQLite file and its WAL,
/// or a data-only dump of the PostgreSQL database when `RAQIB_STORE` names one.
pub fn store_bytes(data: &Path) -> Vec<u8> {
    match std::env::var("RAQIB_STORE") {
        Ok(url) if url.starts_with("postgres") => {
            let url = raqib::store::resolved_url(&url, data);
            let out = Command::new("pg_dump")
                .args(["--data-only", &url])
                .output()
                .expect("pg_dump (postgresql-client) runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
        _ => {
            let mut bytes = std::fs::read(data.join("raqib.sqlite")).unwrap();
            bytes.extend(std::fs::read(data.join("raqib.sqlite-wal")).unwrap_or_default());
            bytes
        }
    }
}

/// The PostgreSQL URL template (`RAQIB_TEST_POSTGRES`, set by scripts/test) for tests that need
/// PostgreSQL whatever the round; `None` (a skip) without it, a failure in CI.
pub fn postgres_url(what: &str) -> Option<String> {
    match std::env::var("RAQIB_TEST_POSTGRES") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("RAQIB_TEST_POSTGRES is not set in CI: run the tests with scripts/test");
            }
            eprintln!("SKIP: {what} needs PostgreSQL: set RAQIB_TEST_POSTGRES (scripts/test does)");
            None
        }
    }
}

/// A lab with `phones` (number → behaviour) and a raqib config that dials it (numbers under
/// +962 allowed), in `dir`: (lab, config path, data directory).
pub fn lab_with_phones(
    dir: &Path,
    phones: &[(&str, &str)],
    extra_config: &str,
) -> (Lab, std::path::PathBuf, std::path::PathBuf) {
    let data = dir.join("data");
    let lab_config = dir.join("lab.toml");
    let mut text = format!("{LAB_PORTS}[lab.phones]\n");
    for (n, b) in phones {
        text += &format!("\"{n}\" = \"{b}\"\n");
    }
    std::fs::write(&lab_config, text).unwrap();
    let lab = start_lab(&lab_config, &data.join("lab"));
    let config = dir.join("raqib.toml");
    std::fs::write(
        &config,
        format!(
            "[trunk]\nuri_template = \"sip:{{number}}@{}\"\n[guard]\nallow_prefixes = [\"+962\"]\n{extra_config}",
            lab.sip
        ),
    )
    .unwrap();
    (lab, config, data)
}

/// Writes `csv` next to the data directory and imports it; panics with raqib's message if
/// the import fails.
pub fn import_centres(config: &Path, data: &Path, csv: &str) {
    let file = data.with_extension("centres.csv");
    std::fs::write(&file, csv).unwrap();
    let out = raqib(config, data, &["centres", "import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One HTTP/1.1 request to 127.0.0.1:`port`: (status, head, body). Binary bodies (a
/// recording) are read as text lossily: tests look at their start.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    write!(s, "{head}Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    let raw = String::from_utf8_lossy(&bytes);
    let status = raw[9..12].parse().unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    (status, head.to_string(), body.to_string())
}

/// The JSON object of a body (chunked or not: the text between the outer braces).
pub fn json_of(body: &str) -> Value {
    let json = &body[body.find('{').unwrap_or(0)..=body.rfind('}').unwrap_or(0)];
    serde_json::from_str(json).unwrap_or(Value::Null)
}

/// The standard output of a command that must have succeeded (else its stderr in the panic).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// How wide a page's HTML (a mail, a report) lays out in Chromium in a frame `width` px wide
/// (headless windows are at least 500 px): the page's scroll width and the frame's. Also a screenshot in
/// $RAQIB_SCREENSHOTS/NAME-WIDTH.png when set.
pub fn laid_out_widths(html: &str, name: &str, width: u32) -> (i64, i64) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mail.html");
    let srcdoc = html.replace('&', "&amp;").replace('"', "&quot;");
    std::fs::write(
        &file,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\">\
             <iframe id=\"m\" width=\"{width}\" height=\"1400\" style=\"border:0;display:block\" \
             srcdoc=\"{srcdoc}\"></iframe><script>\
             document.getElementById('m').addEventListener('load', e => {{\
               const d = e.target.contentDocument.scrollingElement;\
               document.body.setAttribute('data-widths', d.scrollWidth + ' ' + d.clientWidth);\
             }})</script></body></html>"
        ),
    )
    .unwrap();
    let chromium = |extra: &str| {
        Command::new("/usr/bin/chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--force-device-scale-factor=2",
                &format!("--window-size={},1400", width.max(500)),
                extra,
            ])
            .arg(format!("file://{}", file.display()))
            .output()
            .expect("chromium runs")
    };
    if let Ok(shots) = std::env::var("RAQIB_SCREENSHOTS") {
        chromium(&format!("--screenshot={shots}/{name}-{width}.png"));
    }
    let dom = String::from_utf8_lossy(&chromium("--dump-dom").stdout).to_string();
    let widths = dom
        .split("data-widths=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no widths measured in {dom}"));
    let mut n = widths.split(' ').map(|x| x.parse::<i64>().unwrap());
    (n.next().unwrap(), n.next().unwrap())
}

/// A certificate authority and a server certificate it signed for `names` (IP addresses or
/// DNS names), written as PEM files into `dir`: (CA certificate, server certificate, server key).
pub fn tls_pki(
    dir: &Path,
    names: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("raqib test CA {}", dir.display()),
    );
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
    let mut server =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    server
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0]);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = server.signed_by(&key, &*ca).unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}
