//! The call probe against the lab's SIP centres (a separate `raqib lab` process) and a
//! hostile UAS: every outcome, the timeline, evidence files, the heuristic, and the guard.

mod peers;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use peers::{call, raqib, start_lab, LAB_PORTS};
use serde_json::Value;

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
}

fn env(extra: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("raqib.toml");
    std::fs::write(&config, format!("{extra}\n{LAB_PORTS}")).unwrap();
    let data = dir.path().join("data");
    Env { config, data, dir }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn wav_seconds(path: &str) -> f64 {
    let r = hound::WavReader::open(path).unwrap();
    let s = r.spec();
    assert_eq!(
        (s.sample_rate, s.channels, s.bits_per_sample),
        (8000, 1, 16)
    );
    r.duration() as f64 / 8000.0
}

/// Runs calls in parallel threads; each entry is (name, args).
fn calls(e: &Env, list: &[(&str, Vec<String>)]) -> Vec<(String, Value)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = list
            .iter()
            .map(|(name, args)| {
                s.spawn(move || {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    (name.to_string(), call(&e.config, &e.data, &args))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn uri(user: &str, sip: &str) -> String {
    format!("sip:{user}@{sip}")
}

#[test]
fn every_outcome_of_the_lab() {
    let e = env("[call]\ntimer_t1_ms = 50\n");
    let lab = start_lab(&e.config, &e.data);
    let a = |user: &str, extra: &[&str]| {
        let mut v = vec![uri(user, &lab.sip), "--unlisted".to_string()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let list = vec![
        ("answer", a("answer-1200", &["--after-answer", "listen:2"])),
        ("busy", a("busy", &[])),
        ("unavailable", a("unavailable", &[])),
        ("declined", a("declined", &[])),
        ("not_in_service", a("not_in_service", &[])),
        ("congested", a("congested", &[])),
        ("odd_699", a("reject-699", &[])),
        ("never", a("never", &["--ring-timeout", "2"])),
        ("silent", a("silent", &[])),
        ("early", a("early", &[])),
        (
            "far_bye",
            a("hangup-1500", &["--after-answer", "listen:10"]),
        ),
        ("hangup", a("answer-300", &["--after-answer", "hangup"])),
    ];
    let results = calls(&e, &list);
    let get = |n: &str| &results.iter().find(|(k, _)| k == n).unwrap().1;
    let expect = [
        ("answer", "answered", Some(200)),
        ("busy", "busy", Some(486)),
        ("unavailable", "rejected", Some(480)),
        ("declined", "rejected", Some(603)),
        ("not_in_service", "not_in_service", Some(404)),
        ("congested", "failed", Some(503)),
        ("odd_699", "busy", Some(699)),
        ("never", "no_answer", Some(487)),
        ("silent", "unreachable", None),
        ("early", "not_in_service", Some(404)),
        ("far_bye", "answered", Some(200)),
        ("hangup", "answered", Some(200)),
    ];
    for (name, outcome, status) in expect {
        let r = get(name);
        assert_eq!(r["outcome"], outcome, "{name}: {r:#}");
        assert_eq!(
            r["sip_status"].as_u64(),
            status.map(|s| s as u64),
            "{name}: {r:#}"
        );
        assert_eq!(r["channel"], "phone");
        assert_eq!(r["unlisted"], true);
    }

    // The answered call: its timeline, its media, its evidence.
    let r = get("answer");
    let t = &r["timings_ms"];
    // The lab answers 1200 ms after the INVITE reached it; loopback adds microseconds.
    assert!((f(&t["answer"]) - 1200.0).abs() < 30.0, "{t}");
    assert!(
        f(&t["first_response"]) < 50.0 && f(&t["ringing"]) < 50.0,
        "{t}"
    );
    assert!(
        f(&t["first_audio"]) < 100.0,
        "the greeting starts at once: {t}"
    );
    assert!(f(&t["total"]) > 3100.0, "{t}");
    let rtp = &r["rtp"];
    assert!(rtp["packets"].as_u64().unwrap() >= 90, "{rtp}"); // 2 s at 50 packets/s
    assert_eq!(rtp["lost"], 0);
    assert!((f(&rtp["mos"]) - 4.35).abs() < 0.05, "{rtp}");
    assert_eq!(r["hangup_by"], "raqib");
    assert_eq!(r["early_media"], false);
    let secs = wav_seconds(r["recording"].as_str().unwrap());
    assert!((1.8..=2.3).contains(&secs), "recording of {secs} s");
    let trace = std::fs::read_to_string(r["sip_trace"].as_str().unwrap()).unwrap();
    for m in [
        "INVITE sip:answer-1200@",
        "SIP/2.0 180 Ringing",
        "SIP/2.0 200 OK",
        "ACK sip:",
        "BYE sip:",
    ] {
        assert!(trace.contains(m), "trace lacks {m:?}");
    }

    // CANCEL on the ring timeout, and timer B on a peer that never says anything.
    let never = get("never");
    assert!(
        (2000.0..2600.0).contains(&f(&never["timings_ms"]["total"])),
        "{never:#}"
    );
    let trace = std::fs::read_to_string(never["sip_trace"].as_str().unwrap()).unwrap();
    assert!(trace.contains("CANCEL sip:never@") && trace.contains("487 Request Terminated"));
    let silent = get("silent");
    assert!(
        f(&silent["timings_ms"]["total"]) >= 3200.0,
        "64 × T1 of 50 ms: {silent:#}"
    );
    assert!(silent["timings_ms"]["first_response"].is_null());

    // Early media: the announcement was recorded although the call failed.
    let early = get("early");
    assert_eq!(early["early_media"], true);
    assert!(wav_seconds(early["recording"].as_str().unwrap()) > 5.0);
    assert!(early["timings_ms"]["answer"].is_null());

    // The far end hung up first; raqib answered its BYE.
    let far = get("far_bye");
    assert_eq!(far["hangup_by"], "remote");
    assert!(f(&far["timings_ms"]["total"]) < 4000.0, "{far:#}");
    let trace = std::fs::read_to_string(far["sip_trace"].as_str().unwrap()).unwrap();
    assert!(trace.contains("BYE sip:raqib@") && trace.contains("SIP/2.0 200 OK\nVia"));

    // hangup: BYE right after the ACK; nothing listened to, no answer type.
    let h = get("hangup");
    assert!(h["answer_type"].is_null());
    assert!(f(&h["timings_ms"]["total"]) < 1000.0);

    // Every call is in the store.
    let stored = peers::json_lines(&raqib(
        &e.config,
        &e.data,
        &["results", "--channel", "phone", "--json"],
    ));
    assert_eq!(stored.len(), list.len());
    drop(lab);
    drop(e.dir);
}

#[test]
fn the_heuristic_tells_what_answered() {
    let e = env("[call]\nclassify_secs = 12\n");
    let lab = start_lab(&e.config, &e.data);
    let a = |user: &str| {
        vec![
            uri(user, &lab.sip),
            "--unlisted".into(),
            "--after-answer".into(),
            "listen:12".into(),
        ]
    };
    let list = vec![
        ("human", a("answer-500")),
        ("ivr", a("ivr")),
        ("music", a("music")),
        ("voicemail", a("voicemail")),
    ];
    for (name, r) in calls(&e, &list) {
        assert_eq!(r["answer_type"], name, "{r:#}");
        assert_eq!(r["answer_type_source"], "heuristic");
    }
}

/// Mean absolute amplitude of a recording between two instants (seconds).
fn loudness(path: &str, from: f64, to: f64) -> f64 {
    let r = hound::WavReader::open(path).unwrap();
    let s: Vec<i16> = r.into_samples::<i16>().map(Result::unwrap).collect();
    let (a, b) = (
        (from * 8000.0) as usize,
        ((to * 8000.0) as usize).min(s.len()),
    );
    s[a.min(b)..b]
        .iter()
        .map(|x| (*x as f64).abs())
        .sum::<f64>()
        / (b - a.min(b)).max(1) as f64
}

#[test]
fn an_ivr_script_presses_through_and_a_302_is_followed() {
    let e = env("");
    let lab = start_lab(&e.config, &e.data);
    // The lab's IVR plays a 7.2 s prompt, waits for a digit, then a person greets.
    let r = call(
        &e.config,
        &e.data,
        &[
            &uri("ivr", &lab.sip),
            "--unlisted",
            "--after-answer",
            "ivr:lab-agent",
        ],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    assert_eq!(r["ivr"]["digits_sent"], "0", "{r:#}");
    assert_eq!(r["ivr"]["reaches_agent"], true);
    let wav = r["recording"].as_str().unwrap();
    // Silence while the script waits (the prompt ended ~7.2 s), then the greeting after "0".
    assert!(loudness(wav, 7.4, 7.9) < 50.0, "quiet after the prompt");
    assert!(
        loudness(wav, 8.2, 9.6) > 300.0,
        "the greeting after the digit"
    );

    // 302 to another lab user, followed; the redirect is listed.
    let r = call(
        &e.config,
        &e.data,
        &[
            &uri("moved-answer-300", &lab.sip),
            "--unlisted",
            "--after-answer",
            "hangup",
        ],
    );
    assert_eq!(r["outcome"], "answered", "{r:#}");
    assert_eq!(
        r["redirects"],
        serde_json::json!([uri("answer-300", &lab.sip)])
    );
    // A script that does not exist is bad input, before anything is dialled.
    let out = raqib(
        &e.config,
        &e.data,
        &[
            "probe",
            "call",
            &uri("ivr", &lab.sip),
            "--unlisted",
            "--after-answer",
            "ivr:nope",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

fn hostile(mode: &str, e: &Env) -> Value {
    let mut cmd = Command::new("python3");
    cmd.arg("tests/peers/hostile_uas.py").arg(mode);
    let (_peer, line) = peers::spawn_ready(cmd, "ready", Duration::from_secs(10));
    let port = line.split_whitespace().nth(1).unwrap().to_string();
    call(
        &e.config,
        &e.data,
        &[
            &format!("sip:x@127.0.0.1:{port}"),
            "--unlisted",
            "--ring-timeout",
            "3",
            "--after-answer",
            "listen:1",
        ],
    )
}

#[test]
fn a_hostile_peer_is_classified_and_never_crashes_raqib() {
    let e = env("[call]\ntimer_t1_ms = 50\n");
    let modes = [
        "garbage",
        "weird_codes",
        "no_to_tag",
        "huge_header",
        "absurd_length",
        "flood_180",
        "retransmit_200",
        "two_via_200",
        "wrong_branch_200",
    ];
    let results: Vec<(&str, Value)> = std::thread::scope(|s| {
        let hs: Vec<_> = modes
            .iter()
            .map(|m| s.spawn(|| (*m, hostile(m, &e))))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (mode, r) in &results {
        let (outcome, status) = match *mode {
            "garbage" => ("failed", None),
            "weird_codes" => ("busy", Some(699)), // unknown 6xx is treated as 600 (RFC 3261 §8.1.3.2)
            "no_to_tag" => ("failed", Some(200)),
            "huge_header" => ("busy", Some(486)),
            "absurd_length" => ("failed", Some(503)),
            "flood_180" | "retransmit_200" => ("answered", Some(200)),
            // The 200 is not this INVITE's (RFC 3261 §8.1.3.3, §17.1.3): the 486 after it is.
            "two_via_200" | "wrong_branch_200" => ("busy", Some(486)),
            _ => unreachable!(),
        };
        assert_eq!(r["outcome"], outcome, "{mode}: {r:#}");
        assert_eq!(r["sip_status"].as_u64(), status, "{mode}: {r:#}");
        let trace = std::fs::read_to_string(r["sip_trace"].as_str().unwrap()).unwrap();
        match *mode {
            "garbage" => assert!(r["detail"].as_str().unwrap().contains("malformed")),
            "weird_codes" => assert!(f(&r["timings_ms"]["first_response"]) < 100.0),
            "no_to_tag" => assert!(r["detail"].as_str().unwrap().contains("To tag")),
            "absurd_length" => assert!(trace.contains("malformed, ignored")),
            "flood_180" => assert!(trace.contains("further messages not kept")),
            "retransmit_200" => assert!(trace.contains("200 OK retransmitted: ACK sent again")),
            "two_via_200" => {
                assert!(trace.contains("discarded: 2 Via"), "{trace}");
                assert!(r["timings_ms"]["answer"].is_null(), "{r:#}");
            }
            "wrong_branch_200" => {
                assert!(trace.contains("discarded: branch"), "{trace}");
                assert!(r["timings_ms"]["answer"].is_null(), "{r:#}");
            }
            _ => {}
        }
    }
    // One result per call: the retransmitted 200 OK did not make a second one.
    let stored = peers::json_lines(&raqib(&e.config, &e.data, &["results", "--json"]));
    assert_eq!(stored.len(), modes.len());
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_guard_decides_what_is_dialled() {
    let e = env("");
    let lab_config = e.dir.path().join("lab.toml");
    write(
        &lab_config,
        &format!("{LAB_PORTS}[lab.phones]\n\"+96265000101\" = \"answer:200\"\n"),
    );
    let lab = start_lab(&lab_config, &e.data.join("lab"));
    write(
        &e.config,
        &format!(
            "[trunk]\nuri_template = \"sip:{{number}}@{}\"\n[call]\nafter_answer = \"hangup\"\n[guard]\nallow_prefixes = [\"+962\"]\nmax_calls_per_number_per_day = 2\n",
            lab.sip
        ),
    );
    let csv = e.dir.path().join("c.csv");
    write(
        &csv,
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
         g-amman,عمّان,Amman,A,R,Asia/Amman,Sun-Sat 00:00-24:00,+96265000101,\n\
         g-riyadh,الرياض,Riyadh,A,R,Asia/Riyadh,Sun-Thu 08:00-15:00,+966112000401,\n",
    );
    assert!(raqib(
        &e.config,
        &e.data,
        &["centres", "import", csv.to_str().unwrap()]
    )
    .status
    .success());

    let out = raqib(
        &e.config,
        &e.data,
        &["sweep", "--channel", "phone", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (s["answered"].as_u64(), s["refused"].as_u64()),
        (Some(1), Some(1)),
        "{s:#}"
    );
    let refused = peers::json_lines(&raqib(
        &e.config,
        &e.data,
        &["results", "--centre", "g-riyadh", "--json"],
    ));
    assert_eq!(refused[0]["outcome"], "refused");
    assert!(refused[0]["detail"]
        .as_str()
        .unwrap()
        .contains("matches no allowed prefix"));
    assert!(
        refused[0]["sip_trace"].is_null(),
        "a refused number is never dialled"
    );

    // Second call of the day is allowed (cap 2), the third is refused. The centre is open
    // around the clock, so the call was inside its hours.
    let second = call(&e.config, &e.data, &["+96265000101"]);
    assert_eq!(second["outcome"], "answered");
    assert_eq!(second["in_hours"], true);
    let third = call(&e.config, &e.data, &["+96265000101"]);
    assert_eq!(third["outcome"], "refused");
    assert!(
        third["detail"].as_str().unwrap().contains("daily cap"),
        "{third:#}"
    );

    // A number outside the registry needs --unlisted, and the prefix list still applies.
    let r = call(&e.config, &e.data, &["+96265000999"]);
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("not in the registry"),
        "{r:#}"
    );
    let r = call(&e.config, &e.data, &["+96265000999", "--unlisted"]);
    assert_eq!(
        (r["outcome"].as_str(), r["unlisted"].as_bool()),
        (Some("not_in_service"), Some(true))
    );
    assert!(r["in_hours"].is_null(), "no centre, no hours");
    let r = call(&e.config, &e.data, &["+4420700000000", "--unlisted"]);
    assert_eq!(r["outcome"], "refused");
    // A sip: URI that is not a number needs --unlisted.
    let out = raqib(
        &e.config,
        &e.data,
        &["probe", "call", &format!("sip:answer-1@{}", lab.sip)],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Runs `raqib probe call --json ARGS` to its end; its one result and the CPU time (user +
/// system, every thread) the process used, from the kernel's accounting of the reaped child.
// The child is reaped by wait4 below (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn call_cpu(e: &Env, config: &Path, args: &[&str]) -> (Value, Duration) {
    use std::io::Read;
    let mut child = Command::new(peers::BIN)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(&e.data)
        .args(["probe", "call", "--json"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{args:?}: {status}"
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    (v, cpu)
}

fn hostile_port(mode: &str) -> (peers::Proc, String) {
    let mut cmd = Command::new("python3");
    cmd.arg("tests/peers/hostile_uas.py").arg(mode);
    let (peer, line) = peers::spawn_ready(cmd, "ready", Duration::from_secs(10));
    (peer, line.split_whitespace().nth(1).unwrap().to_string())
}

/// A peer that answers every INVITE only with datagrams the call cannot use (no Via, another
/// Call-ID, bytes that do not parse) once made a call burn a core until timer B. The ring
/// timeout (1 s) ends before timer B (64 × 50 ms = 3.2 s), the window where it spun.
///
/// Start-up cost is measured, not guessed: the same binary placing a call that ends at once
/// (a TCP trunk whose port refuses the connection) pays for the process, the config, the
/// store and one stored result. What a call to the hostile peer costs beyond that, and what a
/// call to a peer that never answers costs beyond it, must each stay under 50 ms.
#[test]
fn a_peer_that_sends_only_unusable_datagrams_costs_no_cpu() {
    let e = env("[call]\ntimer_t1_ms = 50\nafter_answer = \"hangup\"\n");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let tcp_config = e.dir.path().join("tcp.toml");
    std::fs::write(
        &tcp_config,
        "[trunk]\ntransport = \"tcp\"\n[call]\ntimer_t1_ms = 50\nafter_answer = \"hangup\"\n",
    )
    .unwrap();
    let refused = format!("sip:x@127.0.0.1:{closed_port}");
    let startup = (0..2)
        .map(|_| {
            let (r, cpu) = call_cpu(&e, &tcp_config, &[&refused, "--unlisted"]);
            assert_eq!(r["outcome"], "unreachable", "{r:#}");
            assert!(f(&r["timings_ms"]["total"]) < 500.0, "{r:#}");
            cpu
        })
        .max()
        .unwrap();

    let (_hostile, port) = hostile_port("unusable");
    let target = format!("sip:x@127.0.0.1:{port}");
    let (r, hostile_cpu) = call_cpu(
        &e,
        &e.config,
        &[&target, "--unlisted", "--ring-timeout", "1"],
    );
    assert_eq!(r["outcome"], "failed", "{r:#}");
    assert!(r["detail"].as_str().unwrap().contains("malformed"), "{r:#}");
    assert!(
        f(&r["timings_ms"]["total"]) >= 3200.0,
        "timer B ended the call: {r:#}"
    );

    let (_silent, port) = hostile_port("silent");
    let target = format!("sip:x@127.0.0.1:{port}");
    let (r, silent_cpu) = call_cpu(
        &e,
        &e.config,
        &[&target, "--unlisted", "--ring-timeout", "1"],
    );
    assert_eq!(r["outcome"], "unreachable", "{r:#}");
    assert!(f(&r["timings_ms"]["total"]) >= 3200.0, "{r:#}");

    eprintln!(
        "CPU: start-up {startup:?}, hostile peer {hostile_cpu:?}, silent peer {silent_cpu:?}"
    );
    let budget = Duration::from_millis(50);
    assert!(
        hostile_cpu.saturating_sub(startup) < budget,
        "hostile peer: {hostile_cpu:?} of CPU, start-up {startup:?}"
    );
    assert!(
        silent_cpu.saturating_sub(startup) < budget,
        "silent peer: {silent_cpu:?} of CPU, start-up {startup:?}"
    );
}

/// A SIP peer on one port over both UDP and TCP: counts UDP datagrams and TCP connections,
/// keeps the INVITEs it got (with the transport they came by), and answers each INVITE 486
/// so the call ends at once.
struct CountingPeer {
    port: u16,
    udp: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tcp: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    invites: std::sync::Arc<std::sync::Mutex<Vec<(&'static str, String)>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for CountingPeer {
    fn drop(&mut self) {
        // The UDP thread notices within its read timeout; the TCP one stays blocked in
        // accept until the test binary exits, holding nothing another test needs.
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn busy_reply(invite: &str) -> String {
    let mut out = String::from("SIP/2.0 486 Busy Here\r\n");
    for line in invite.split("\r\n") {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        match name.as_str() {
            "via" | "from" | "call-id" | "cseq" => out += &format!("{line}\r\n"),
            "to" => out += &format!("{line};tag=busy\r\n"),
            _ => {}
        }
    }
    out + "Content-Length: 0\r\n\r\n"
}

fn counting_peer() -> CountingPeer {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    // One port free for both: UDP first, then TCP on the same number.
    let (udp, tcp) = loop {
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        if let Ok(t) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            break (u, t);
        }
    };
    let peer = CountingPeer {
        port: udp.local_addr().unwrap().port(),
        udp: Arc::new(AtomicUsize::new(0)),
        tcp: Arc::new(AtomicUsize::new(0)),
        invites: Arc::new(Mutex::new(Vec::new())),
        stop: Arc::new(AtomicBool::new(false)),
    };
    udp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let (count, invites, stop) = (peer.udp.clone(), peer.invites.clone(), peer.stop.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 65_536];
        while !stop.load(Ordering::Relaxed) {
            if let Ok((n, from)) = udp.recv_from(&mut buf) {
                count.fetch_add(1, Ordering::SeqCst);
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                if text.starts_with("INVITE ") {
                    let _ = udp.send_to(busy_reply(&text).as_bytes(), from);
                    invites.lock().unwrap().push(("udp", text));
                }
            }
        }
    });
    let (count, invites) = (peer.tcp.clone(), peer.invites.clone());
    std::thread::spawn(move || {
        for stream in tcp.incoming() {
            let Ok(mut s) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let invites = invites.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut buf = [0u8; 16_384];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        return; // raqib closed the connection: the call is over
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let head = text[..end + 4].to_string();
                        if head.starts_with("INVITE ") {
                            let _ = s.write_all(busy_reply(&head).as_bytes());
                            invites.lock().unwrap().push(("tcp", head));
                        }
                        // Bodies (the SDP) and the ACK need no answer here.
                        got.clear();
                    }
                }
            });
        }
    });
    peer
}

/// `;transport=` in the Request-URI decides the call's transport over the trunk's default;
/// `sips:` and `transport=tls` never leave in clear.
/// Call-ID, From tag and branch each carry 128 random bits (RFC 3261 §19.3).
#[test]
fn the_uri_chooses_the_transport_and_sips_is_never_sent_in_clear() {
    use std::sync::atomic::Ordering;
    let e = env("[call]\ntimer_t1_ms = 50\nafter_answer = \"hangup\"\n");
    let peer = counting_peer();
    let p = peer.port;
    let invites = |by: &str| -> Vec<String> {
        let all = peer.invites.lock().unwrap();
        all.iter()
            .filter(|(t, _)| *t == by)
            .map(|(_, i)| i.clone())
            .collect()
    };

    // The trunk says UDP; the URI says TCP: the INVITE goes down a TCP connection.
    let r = call(
        &e.config,
        &e.data,
        &[
            &format!("sip:uas@127.0.0.1:{p};transport=tcp"),
            "--unlisted",
        ],
    );
    assert_eq!(
        (r["outcome"].as_str(), r["sip_status"].as_u64()),
        (Some("busy"), Some(486)),
        "{r:#}"
    );
    assert_eq!(
        peer.udp.load(Ordering::SeqCst),
        0,
        "no datagram for transport=tcp"
    );
    assert_eq!(peer.tcp.load(Ordering::SeqCst), 1);
    let by_tcp = invites("tcp");
    assert!(by_tcp[0].contains("\r\nVia: SIP/2.0/TCP "), "{}", by_tcp[0]);

    // sips: and transport=tls: a TLS handshake is tried (a connection opened), and with a
    // peer that speaks no TLS nothing else is sent: no datagram, no INVITE in clear. (The lib
    // test of probe::call checks the bytes; tests/call_tls.rs calls over TLS for real.)
    for (n, uri) in [
        format!("sips:uas@127.0.0.1:{p}"),
        format!("sip:uas@127.0.0.1:{p};transport=tls"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = call(&e.config, &e.data, &[&uri, "--unlisted"]);
        assert_eq!(r["outcome"], "unreachable", "{uri}: {r:#}");
        let detail = r["detail"].as_str().unwrap();
        assert!(
            detail.contains("no TLS handshake within 3200 ms"),
            "{detail}"
        );
        assert!(detail.contains("nothing was sent"), "{detail}");
        assert_eq!(
            peer.udp.load(Ordering::SeqCst),
            0,
            "{uri}: a datagram was sent"
        );
        assert_eq!(peer.tcp.load(Ordering::SeqCst), 2 + n, "{uri}");
        assert_eq!(invites("tcp").len(), 1, "{uri}: an INVITE in clear");
    }

    // The trunk says TCP; the URI says UDP: datagrams, no connection.
    let tcp_trunk = e.dir.path().join("tcp.toml");
    std::fs::write(
        &tcp_trunk,
        "[trunk]\ntransport = \"tcp\"\n[call]\ntimer_t1_ms = 50\nafter_answer = \"hangup\"\n",
    )
    .unwrap();
    let r = call(
        &tcp_trunk,
        &e.data,
        &[
            &format!("sip:uas@127.0.0.1:{p};transport=udp"),
            "--unlisted",
        ],
    );
    assert_eq!(
        (r["outcome"].as_str(), r["sip_status"].as_u64()),
        (Some("busy"), Some(486)),
        "{r:#}"
    );
    assert!(
        peer.udp.load(Ordering::SeqCst) >= 2,
        "INVITE and ACK as datagrams"
    );
    assert_eq!(peer.tcp.load(Ordering::SeqCst), 3, "no further connection");
    let by_udp = invites("udp");
    assert!(by_udp[0].contains("\r\nVia: SIP/2.0/UDP "), "{}", by_udp[0]);

    // 128 random bits each: 32 hex digits, never repeated between the two calls.
    let ids = |inv: &str| -> Vec<String> {
        let header = |name: &str| {
            inv.split("\r\n")
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {inv}"))
                .to_string()
        };
        let call_id = header("Call-ID: ");
        let tag = header("From: ").split(";tag=").nth(1).unwrap().to_string();
        let via = header("Via: ");
        let branch = via
            .split(";branch=")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap();
        vec![
            call_id.split('@').next().unwrap().to_string(),
            tag,
            branch
                .strip_prefix("z9hG4bK")
                .expect("the magic cookie")
                .to_string(),
        ]
    };
    let (a, b) = (ids(&by_tcp[0]), ids(&by_udp[0]));
    for (x, y) in a.iter().zip(&b) {
        for v in [x, y] {
            assert!(
                v.len() >= 32 && v.bytes().all(|c| c.is_ascii_hexdigit()),
                "not 128 random bits: {v:?}"
            );
        }
        assert_ne!(x, y);
    }
}
