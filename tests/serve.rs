//! `raqib serve` end to end: a `[[schedule]]` fired at start-up plans its sweep as jobs, the
//! process is killed with SIGKILL in the middle, and the next `raqib serve` finishes the
//! sweep with every job exactly once; SIGTERM stops it cleanly.

mod peers;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use peers::{json_lines, raqib, start_lab, wait_until, BIN, LAB_PORTS};

/// A `raqib serve` child, killed if a test panics before it ends it. Its log goes to
/// `serve.log` beside the data directory (read it when a test fails).
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Served {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Served {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

fn serve(config: &Path, data: &Path, args: &[&str]) -> Served {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.with_file_name("serve.log"))
        .unwrap();
    let child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .arg("serve")
        .args(args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Served(child)
}

fn import(config: &Path, data: &Path, dir: &Path, csv: &str) {
    let path = dir.join("c.csv");
    std::fs::write(&path, csv).unwrap();
    let out = raqib(config, data, &["centres", "import", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// This quarter, as `--period` takes it.
fn quarter() -> String {
    use chrono::Datelike;
    let now = chrono::Utc::now();
    format!("{}-Q{}", now.year(), now.month0() / 3 + 1)
}

#[test]
fn a_killed_serve_is_finished_by_the_next_with_every_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lab_config = dir.path().join("lab.toml");
    std::fs::write(&lab_config, format!("{LAB_PORTS}slow_ms = 1200\n")).unwrap();
    let lab = start_lab(&lab_config, &data.join("lab"));
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        "[web]\nconcurrency = 1\n[browser]\nenabled = false\n\
         [[schedule]]\nname = \"web-all\"\ncron = \"0 0 1 1 *\"\ntimezone = \"Asia/Amman\"\nchannel = \"web\"\n",
    )
    .unwrap();
    let mut csv = String::from("id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n");
    let ids = [
        "jo-amman-civil",
        "jo-irbid-civil",
        "sa-jeddah-passports",
        "qa-doha-labour",
    ];
    for id in ids {
        csv += &format!(
            "{id},م,C,A,R,Asia/Amman,Sun-Thu 08:00-15:00,,http://{h}/slow/{id}/;http://{h}/ok/{id}/\n",
            h = lab.http
        );
    }
    import(&config, &data, dir.path(), &csv);

    let results = || json_lines(&raqib(&config, &data, &["results", "--json"]));
    let sweeps = || json_lines(&raqib(&config, &data, &["sweeps", "--json"]));

    // First run: fired at start-up, killed after two of its eight jobs.
    let mut first = serve(&config, &data, &["--run", "web-all"]);
    wait_until("two results", Duration::from_secs(30), || {
        results().len() >= 2
    });
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let before = results();
    let s = &sweeps()[0];
    assert_eq!(s["status"], "abandoned", "{s}");
    assert_eq!(s["total"], 8);
    assert!(before.len() < 8, "killed too late to test resuming");

    // Second run, without --run: it adopts the sweep and finishes it; nothing is fired anew.
    let mut second = serve(&config, &data, &[]);
    wait_until("the sweep to finish", Duration::from_secs(60), || {
        sweeps()[0]["status"] == "finished"
    });
    let after = results();
    assert_eq!(after.len(), 8, "every job once: {after:#?}");
    let mut per_target: BTreeMap<String, usize> = BTreeMap::new();
    for r in &after {
        assert_eq!(r["sweep"], 1);
        *per_target
            .entry(r["target"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_target.len(), 8);
    assert!(per_target.values().all(|n| *n == 1), "{per_target:?}");
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "results before the kill are kept"
    );
    let s = &sweeps();
    assert_eq!(
        s.len(),
        1,
        "no second sweep: the schedule did not fire again"
    );
    assert_eq!(
        (s[0]["done"].as_i64(), s[0]["total"].as_i64()),
        (Some(8), Some(8))
    );

    // SIGTERM: a clean, prompt exit.
    let t0 = Instant::now();
    unsafe {
        libc::kill(second.id() as i32, libc::SIGTERM);
    }
    let status = second.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(t0.elapsed() < Duration::from_secs(10));
    drop(lab);
}

#[test]
fn an_unknown_schedule_name_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("raqib.toml");
    std::fs::write(&config, "").unwrap();
    let out = raqib(&config, &dir.path().join("d"), &["serve", "--run", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Phone schedules call only inside opening hours: an open centre's numbers are called at
/// random instants within the spread, a closed centre is skipped, or deferred to its window.
#[test]
fn phone_schedules_call_inside_hours_and_skip_or_defer_closed_centres() {
    use chrono::{Datelike, Duration as D, Utc};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lab_config = dir.path().join("lab.toml");
    std::fs::write(
        &lab_config,
        format!(
            "{LAB_PORTS}[lab.phones]\n\"+96265000101\" = \"answer:200\"\n\"+96265000102\" = \"answer:200\"\n\"+96265000201\" = \"answer:200\"\n\"+96265000301\" = \"answer:200\"\n\"+96265000302\" = \"busy\"\n"
        ),
    )
    .unwrap();
    let lab = start_lab(&lab_config, &data.join("lab"));
    // The closed centre opens only on the day after tomorrow (Amman time).
    let later = (Utc::now() + D::hours(3) + D::days(2)).weekday();
    let day =
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][later.num_days_from_monday() as usize];
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        format!(
            "[trunk]\nuri_template = \"sip:{{number}}@{sip}\"\n[call]\nafter_answer = \"hangup\"\n\
             [guard]\nallow_prefixes = [\"+962\"]\n[serve]\ncall_margin_secs = 0\n[scoring]\nmin_calls_quarter = 2\n\
             [[schedule]]\nname = \"calls\"\ncron = \"0 0 1 1 *\"\ntimezone = \"Asia/Amman\"\nchannel = \"phone\"\nspread_minutes = 1\n\
             [[schedule]]\nname = \"calls-defer\"\ncron = \"0 0 1 1 *\"\ntimezone = \"Asia/Amman\"\nchannel = \"phone\"\ncentres = \"closed\"\nwhen_closed = \"defer\"\n",
            sip = lab.sip
        ),
    )
    .unwrap();
    let csv = format!(
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
         open,م,Open,A,R,Asia/Amman,Sun-Sat 00:00-24:00,+96265000101;+96265000102,\n\
         closed,م,Closed,A,R,Asia/Amman,{day} 10:00-11:00,+96265000201,\n\
         prov,م,Provisional,A,R,Asia/Amman,Sun-Sat 00:00-24:00,+96265000301;+96265000302,\n"
    );
    import(&config, &data, dir.path(), &csv);
    // 'prov' gets a provisional flag: one call answered (labelled a person: 100), one busy (0):
    // a mean of 50 whose interval crosses 60, on the 2 valid calls this test's quarter needs.
    let pre = raqib(
        &config,
        &data,
        &["sweep", "--channel", "phone", "--centres", "prov"],
    );
    assert!(
        pre.status.success(),
        "{}",
        String::from_utf8_lossy(&pre.stderr)
    );
    let answered = json_lines(&raqib(
        &config,
        &data,
        &["results", "--centre", "prov", "--json"],
    ))
    .into_iter()
    .find(|r| r["outcome"] == "answered")
    .unwrap();
    let id = answered["id"].to_string();
    let label = [
        "label",
        &id,
        "--answer-type",
        "human",
        "--reason",
        "a clerk answered",
    ];
    assert!(raqib(&config, &data, &label).status.success());
    let flags = json_lines(&raqib(
        &config,
        &data,
        &["flags", "--period", &quarter(), "--json"],
    ));
    assert_eq!(flags.len(), 1, "{flags:#?}");
    assert_eq!(
        (flags[0]["centre"].as_str(), flags[0]["class"].as_str()),
        (Some("prov"), Some("provisional"))
    );
    let before: Vec<_> = json_lines(&raqib(&config, &data, &["results", "--json"]))
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();

    let planned = Utc::now();
    let mut server = serve(&config, &data, &["--run", "calls", "--run", "calls-defer"]);
    let sweeps = || json_lines(&raqib(&config, &data, &["sweeps", "--json"]));
    wait_until("both sweeps planned", Duration::from_secs(20), || {
        sweeps().iter().filter(|s| !s["schedule"].is_null()).count() == 2
    });
    let by_schedule = |name: &str| {
        sweeps()
            .into_iter()
            .find(|s| s["schedule"] == name)
            .unwrap_or_else(|| panic!("no sweep of {name}"))
    };
    // Skip: the closed centre gets no job; the provisional one a second round of calls.
    assert_eq!(by_schedule("calls")["total"], 2 + 2 * 2);
    wait_until("the calls", Duration::from_secs(90), || {
        by_schedule("calls")["status"] == "finished"
    });
    let calls: Vec<_> = json_lines(&raqib(&config, &data, &["results", "--json"]))
        .into_iter()
        .filter(|r| !before.contains(&r["id"]))
        .collect();
    assert_eq!(calls.len(), 6, "{calls:#?}");
    let count = |centre: &str| calls.iter().filter(|c| c["centre"] == centre).count();
    assert_eq!((count("open"), count("prov"), count("closed")), (2, 4, 0));
    for c in &calls {
        assert_ne!(c["outcome"], "refused", "within the daily cap: {c}");
        assert_eq!(c["in_hours"], true);
        let t = chrono::DateTime::parse_from_rfc3339(c["started_at"].as_str().unwrap()).unwrap();
        let offset = (t.with_timezone(&Utc) - planned).num_milliseconds();
        assert!(
            (-1000..62_000).contains(&offset),
            "called {offset} ms after planning"
        );
    }
    // Defer: the closed centre's call waits for its window, days away: planned, not placed.
    let d = by_schedule("calls-defer");
    assert_eq!(
        (
            d["total"].as_i64(),
            d["done"].as_i64(),
            d["status"].as_str()
        ),
        (Some(1), Some(0), Some("running"))
    );
    unsafe {
        libc::kill(server.id() as i32, libc::SIGTERM);
    }
    assert!(server.wait().unwrap().success());
    drop(lab);
}

/// `/healthz` of `raqib serve --listen`: (status, JSON body).
fn healthz(port: u16) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (
        status,
        serde_json::from_str(body.trim()).unwrap_or_default(),
    )
}

/// Item 11 under `raqib serve` with a schedule: health reports the scheduler's heartbeat, and
/// when the scheduler cannot renew its leases (another process holds the lock they need) the
/// heartbeat goes stale and health is 503 naming the scheduler; healthy again once
/// the lock is gone.
#[test]
fn health_reports_a_stalled_scheduler() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        "[serve]\nlease_secs = 3\n[browser]\nenabled = false\n\
         [[schedule]]\nname = \"yearly\"\ncron = \"0 0 1 1 *\"\ntimezone = \"Asia/Amman\"\nchannel = \"web\"\n",
    )
    .unwrap();
    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);
    // The first beat comes when the scheduler runs; then one a second (a third of the lease).
    wait_until("a healthy scheduler", Duration::from_secs(20), || {
        let (status, h) = healthz(port);
        status == 200
            && h["checks"]["scheduler"]["age_secs"]
                .as_f64()
                .is_some_and(|a| a < 3.0)
    });
    let (_, h) = healthz(port);
    assert_eq!(h["checks"]["scheduler"]["stale_after_secs"], 3.0, "{h}");
    // Another process holds the lock the lease renewals need: SQLite's write lock, or on
    // PostgreSQL the agents table's.
    let mut lock = match std::env::var("RAQIB_STORE") {
        Ok(url) if url.starts_with("postgres") => {
            let mut p = peers::Proc(
                Command::new("psql")
                    .arg(raqib::store::resolved_url(&url, &data))
                    .arg("-qtA")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("psql (postgresql-client) runs"),
            );
            use std::io::Write;
            p.0.stdin
                .as_mut()
                .unwrap()
                .write_all(b"BEGIN; LOCK TABLE agents IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n")
                .unwrap();
            p
        }
        _ => peers::Proc(
            Command::new("python3")
                .arg("-c")
                .arg(
                    "import sqlite3, sys\n\
                     c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
                     c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\nsys.stdin.read()\n",
                )
                .arg(data.join("raqib.sqlite"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        ),
    };
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(lock.0.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    let mut last = serde_json::Value::Null;
    wait_until(
        "the scheduler reported stalled",
        Duration::from_secs(30),
        || {
            let (status, h) = healthz(port);
            last = h.clone();
            status == 503
                && h["failing"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|p| p == "scheduler"))
        },
    );
    assert!(
        last["checks"]["scheduler"]["error"]
            .as_str()
            .unwrap()
            .contains("stalled"),
        "{last}"
    );
    drop(lock);
    wait_until("health again", Duration::from_secs(30), || {
        healthz(port).0 == 200
    });
}

/// SIGHUP: a broken config is refused with its FILE:LINE and serve runs on; a good one is
/// taken up by the same process (same PID), with its new schedules and the dashboard back.
#[test]
fn sighup_reloads_the_config_or_refuses_it_and_runs_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("raqib.toml");
    let schedule = |name: &str| {
        format!(
            "[[schedule]]\nname = \"{name}\"\ncron = \"0 3 1 1 *\"\ntimezone = \"Asia/Amman\"\nchannel = \"web\"\n"
        )
    };
    std::fs::write(&config, schedule("before")).unwrap();
    let port = peers::free_port();
    let mut served = serve(&config, &data, &["--listen", &format!("127.0.0.1:{port}")]);
    let log = || std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    wait_until(
        "serve to plan its schedules",
        Duration::from_secs(20),
        || log().contains("next: before at"),
    );
    let pid = served.id() as i32;
    let hup = || unsafe { libc::kill(pid, libc::SIGHUP) };

    std::fs::write(
        &config,
        format!(
            "{}\n[call]\nring_timeout_secs = \"soon\"\n",
            schedule("after")
        ),
    )
    .unwrap();
    assert_eq!(hup(), 0);
    wait_until("the refusal", Duration::from_secs(20), || {
        log().contains("reload refused")
    });
    let refusal = log();
    assert!(
        refusal.contains(&format!("{}:", config.display())),
        "{refusal}"
    );
    assert!(served.try_wait().unwrap().is_none(), "still running");
    let (status, _, _) = peers::http(port, "GET", "/healthz", &[], "");
    assert_eq!(status, 200);

    std::fs::write(&config, schedule("after")).unwrap();
    assert_eq!(hup(), 0);
    wait_until("the new schedules", Duration::from_secs(30), || {
        log().contains("next: after at")
    });
    assert!(
        served.try_wait().unwrap().is_none(),
        "the same process runs on"
    );
    assert_eq!(served.id() as i32, pid);
    wait_until("the dashboard back", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let (status, _, _) = peers::http(port, "GET", "/healthz", &[], "");
    assert_eq!(status, 200);
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(served.wait().unwrap().success());
}
