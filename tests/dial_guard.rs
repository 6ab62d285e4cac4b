//! The dialling guard against every form of a number: a target's user part in `+…`, `00…`,
//! bare international digits, national, separated or percent-escaped form is normalised to
//! E.164 and passes the allowed prefixes and the daily cap, through the CLI and the API.
//! `--unlisted` waives only "is in the registry". A UDP listener that counts datagrams
//! stands where a refused call would have gone: it must hear nothing.

mod peers;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use peers::{call, raqib};
use serde_json::Value;

/// A UDP socket on loopback that counts every datagram it receives until dropped.
struct Counter {
    port: u16,
    count: Arc<AtomicUsize>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Counter {
    fn start() -> Counter {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, s) = (count.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while !s.load(Ordering::Relaxed) {
                if socket.recv_from(&mut buf).is_ok() {
                    c.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Counter { port, count, stop }
    }

    fn heard(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn refused(r: &Value, why: &str) {
    assert_eq!(r["outcome"], "refused", "{r:#}");
    assert!(
        r["detail"].as_str().is_some_and(|d| d.contains(why)),
        "expected '{why}': {r:#}"
    );
    assert!(
        r["sip_trace"].is_null(),
        "a refused call has no trace: {r:#}"
    );
}

/// One HTTP/1.1 POST with a bearer token; (status, JSON body).
fn post(port: u16, path: &str, token: &str, body: &str) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, _, body) = peers::http(port, "POST", path, &headers, body);
    (status, peers::json_of(&body))
}

#[test]
fn every_number_form_passes_the_prefixes_and_the_daily_cap() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, config, data) = peers::lab_with_phones(
        dir.path(),
        &[("+96265000131", "busy")],
        "max_calls_per_number_per_day = 3\n",
    );
    peers::import_centres(
        &config,
        &data,
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
         jo-a,مركز,A,G,R,Asia/Amman,Sun-Sat 00:00-24:00,+96265000131,\n",
    );
    let counter = Counter::start();
    let at = |user: &str| format!("sip:{user}@127.0.0.1:{}", counter.port);

    // Outside the allowed prefixes in every international form, --unlisted or not.
    for user in [
        "00966112000431",
        "966112000431",
        "%2B966112000431",
        "+966-11-200-0431",
    ] {
        let r = call(&config, &data, &[&at(user), "--unlisted"]);
        refused(&r, "matches no allowed prefix");
        assert_eq!(r["number"], "+966112000431", "{r:#}");
    }
    // Numbers that cannot be put in E.164 form are never dialled either.
    for user in ["911", "065000999", "tel0096265000131", "*310096265000131"] {
        let r = call(&config, &data, &[&at(user), "--unlisted"]);
        assert_eq!(r["outcome"], "refused", "{user}: {r:#}");
    }
    assert_eq!(counter.heard(), 0, "nothing may reach a refused target");

    // The registry number's three calls of the day go to the lab (busy), the fourth is refused.
    for _ in 0..3 {
        assert_eq!(call(&config, &data, &["+96265000131"])["outcome"], "busy");
    }
    refused(&call(&config, &data, &["+96265000131"]), "daily cap");
    // Every other form of the same number is the same number: its cap is spent.
    for user in [
        "0096265000131",
        "96265000131",
        "065000131",
        "%2B96265000131",
        "+962-6-500-0131",
        "+962(6)500.0131",
        "0096265000131;phone-context=+962",
    ] {
        let r = call(&config, &data, &[&at(user), "--unlisted"]);
        refused(&r, "daily cap");
        assert_eq!(r["number"], "+96265000131", "{r:#}");
        assert_eq!(
            r["centre"], "jo-a",
            "the registry's number is the centre's: {r:#}"
        );
    }
    // A bare target in another form is the same number too; the scheme's case changes nothing.
    refused(&call(&config, &data, &["00962 6 500 0131"]), "daily cap");
    refused(
        &call(
            &config,
            &data,
            &[&format!("SIP:0096265000131@127.0.0.1:{}", counter.port)],
        ),
        "daily cap",
    );
    assert_eq!(counter.heard(), 0);

    // A sips: number passes the very same guard as a sip: one: refused, never dialled.
    for user in ["0096265000131", "+96265000131", "00966112000431"] {
        for target in [
            format!("sips:{user}@127.0.0.1:{}", counter.port),
            format!("SIPS:{user}@127.0.0.1:{};transport=tls", counter.port),
        ] {
            let r = call(&config, &data, &[&target]);
            assert_eq!(r["outcome"], "refused", "{target}: {r:#}");
        }
    }
    // A tel: URI is bad input (exit 2).
    let out = raqib(
        &config,
        &data,
        &["probe", "call", "tel:+96265000131", "--unlisted", "--json"],
    );
    assert_eq!(out.status.code(), Some(2));
    // A name is no number: auditor-only, and recorded without a number.
    let out = raqib(&config, &data, &["probe", "call", &at("uas")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(counter.heard(), 0);

    // The API takes the same door.
    assert!(raqib(
        &config,
        &data,
        &["users", "add", "aud", "--role", "auditor"]
    )
    .status
    .success());
    let token = String::from_utf8(raqib(&config, &data, &["users", "token", "aud"]).stdout)
        .unwrap()
        .trim()
        .to_string();
    let (_serve, port) = peers::serve_listen(&config, &data, &dir.path().join("serve.log"), &[]);
    for user in ["0096265000131", "00966112000431"] {
        let body = serde_json::json!({"channel": "phone", "target": at(user), "unlisted": true});
        let (status, v) = post(port, "/api/probe", &token, &body.to_string());
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["items"][0]["outcome"], "refused", "{v:#}");
    }
    let body = serde_json::json!({"channel": "phone", "target": format!("sips:0096265000131@127.0.0.1:{}", counter.port), "unlisted": true});
    let (status, v) = post(port, "/api/probe", &token, &body.to_string());
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["items"][0]["outcome"], "refused", "{v:#}");
    assert_eq!(counter.heard(), 0);
    drop(lab);
}
