//! `raqib serve --metrics-listen`: Prometheus `/metrics` on its own address, read from the
//! store. Real phone and web sweeps through `raqib lab` (in other processes than serve) give
//! answered and unanswered calls, up and down pages; the scrape must agree with `raqib
//! results` and `raqib scores`, show a running sweep's progress, count one more probe exactly
//! once, and never be served on the API's port.

mod peers;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use peers::{free_port, json_lines, raqib, start_lab, wait_until, Proc, BIN, LAB_PORTS};
use serde_json::Value;

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// One HTTP/1.1 request: (status, content-type, body).
fn http(port: u16, method: &str, path: &str, token: Option<&str>) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    (head[9..12].parse().unwrap(), content_type, body.to_string())
}

/// A scrape: each sample line as its series (`name{labels}`, exactly as printed) → value.
struct Scrape {
    text: String,
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    fn get(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{}", self.text))
    }

    /// The samples of one metric name (any labels), in the order printed.
    fn family(&self, name: &str) -> Vec<(String, f64)> {
        self.text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
            .map(|l| {
                let (series, value) = l.rsplit_once(' ').unwrap();
                (series.to_string(), value.parse().unwrap())
            })
            .collect()
    }
}

fn scrape(port: u16) -> Scrape {
    let (status, content_type, text) = http(port, "GET", "/metrics", None);
    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let mut samples = BTreeMap::new();
    let mut described = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            described.push(rest.split(' ').next().unwrap().to_string());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        let name = series.split('{').next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|f| described.iter().any(|d| d == f))
            .unwrap_or(name);
        assert!(
            described.iter().any(|d| d == family),
            "{name} has no TYPE line before it"
        );
        let v: f64 = value.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert!(
            samples.insert(series.to_string(), v).is_none(),
            "{series} twice"
        );
    }
    // Prometheus' own Python client must read the same samples.
    if peers::python_module("prometheus_client", "prometheus-client") {
        let mut py = Command::new("python3")
            .args([
                "-c",
                "import sys, json\n\
                 from prometheus_client.parser import text_string_to_metric_families as parse\n\
                 out = []\n\
                 for f in parse(sys.stdin.read()):\n\
                 \x20   for s in f.samples:\n\
                 \x20       out.append([f.type, s.name, s.labels, s.value])\n\
                 print(json.dumps(out))",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        py.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let out = py.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "prometheus_client rejects the scrape: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        let parsed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(parsed.len(), samples.len(), "{parsed:?}");
        for s in &parsed {
            let labels = s[2].as_object().unwrap();
            let value = s[3].as_f64().unwrap();
            let found = samples.iter().any(|(series, v)| {
                series.split('{').next() == s[1].as_str()
                    // serde_json's float parsing may be one ULP off the shortest form.
                    && (*v - value).abs() <= 1e-12 * v.abs().max(1.0)
                    && labels.iter().all(|(k, lv)| {
                        series.contains(&format!("{k}=\"{}\"", lv.as_str().unwrap()))
                    })
            });
            assert!(found, "{s} is not among the samples read here");
        }
        let types: BTreeMap<&str, &str> = parsed
            .iter()
            .map(|s| (s[1].as_str().unwrap(), s[0].as_str().unwrap()))
            .collect();
        assert_eq!(types["raqib_probes_total"], "counter");
        assert_eq!(types["raqib_call_answer_seconds_count"], "histogram");
        assert_eq!(types["raqib_sweeps_running"], "gauge");
    }
    Scrape { text, samples }
}

/// `raqib results --json`, all of them.
fn results(config: &Path, data: &Path) -> Vec<Value> {
    json_lines(&raqib(config, data, &["results", "--json"]))
}

/// The probe counters as the results say they must be.
fn expected_counters(results: &[Value]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for r in results {
        let series = format!(
            "raqib_probes_total{{channel=\"{}\",outcome=\"{}\"}}",
            r["channel"].as_str().unwrap(),
            r["outcome"].as_str().unwrap()
        );
        *out.entry(series).or_insert(0.0) += 1.0;
    }
    out
}

fn counters(s: &Scrape) -> BTreeMap<String, f64> {
    s.family("raqib_probes_total").into_iter().collect()
}

/// A histogram's buckets (le → cumulative count), `_sum` and `_count`.
fn histogram(s: &Scrape, name: &str, labels: &str) -> (Vec<(String, f64)>, f64, f64) {
    let prefix = format!("{name}_bucket{{{labels}");
    let buckets: Vec<(String, f64)> = s
        .family(&format!("{name}_bucket"))
        .into_iter()
        .filter(|(series, _)| series.starts_with(&prefix))
        .map(|(series, v)| {
            let le = series.split("le=\"").nth(1).unwrap();
            (le.trim_end_matches("\"}").to_string(), v)
        })
        .collect();
    let suffix = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", labels.trim_end_matches(','))
    };
    (
        buckets,
        s.get(&format!("{name}_sum{suffix}")),
        s.get(&format!("{name}_count{suffix}")),
    )
}

/// Checks a histogram against the observations (in seconds) it must hold.
fn check_histogram(s: &Scrape, name: &str, labels: &str, observed: &[f64]) {
    let (buckets, sum, count) = histogram(s, name, labels);
    assert!(buckets.len() > 2, "{name}: {buckets:?}");
    assert_eq!(buckets.last().unwrap().0, "+Inf");
    assert_eq!(buckets.last().unwrap().1, count, "{name}: +Inf is _count");
    assert_eq!(count, observed.len() as f64, "{name}_count");
    for pair in buckets.windows(2) {
        assert!(
            pair[0].1 <= pair[1].1,
            "{name}: not cumulative: {buckets:?}"
        );
    }
    for (le, n) in &buckets {
        let bound: f64 = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().unwrap()
        };
        let want = observed.iter().filter(|v| **v <= bound).count() as f64;
        assert_eq!(*n, want, "{name} bucket le={le}: {observed:?}");
    }
    let want_sum: f64 = observed.iter().sum();
    assert!(
        (sum - want_sum).abs() < 1e-6,
        "{name}_sum {sum} != {want_sum}"
    );
}

/// Centre → its numbers' lab behaviours and its one website (a lab path).
const CENTRES: [(&str, &[&str], &str); 3] = [
    ("m-good", &["human", "human", "ivr", "human"], "ok"),
    ("m-bad", &["busy", "busy", "unavailable"], "error"),
    // No phone; a page slow enough to watch a sweep in progress.
    ("m-slow", &[], "slow"),
];

#[test]
fn metrics_agree_with_the_store_and_count_each_new_probe_once() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut phones = String::from("[lab.phones]\n");
    let mut csv = String::from("id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n");
    let lab_config = dir.path().join("lab.toml");
    let mut numbers_of = BTreeMap::new();
    for (i, (id, behaviours, _)) in CENTRES.iter().enumerate() {
        let numbers: Vec<String> = (0..behaviours.len())
            .map(|j| format!("+9626500{i}{j:03}"))
            .collect();
        for (n, b) in numbers.iter().zip(behaviours.iter()) {
            phones += &format!("\"{n}\" = \"{b}\"\n");
        }
        numbers_of.insert(*id, numbers);
    }
    std::fs::write(&lab_config, format!("{LAB_PORTS}slow_ms = 4000\n{phones}")).unwrap();
    let lab = start_lab(&lab_config, &data.join("lab"));
    for (i, (id, _, path)) in CENTRES.iter().enumerate() {
        csv += &format!(
            "{id},مركز {i},Centre {i},Agency M,R,Asia/Amman,Sun-Sat 00:00-24:00,{},http://{}/{path}/jo-amman-civil/\n",
            numbers_of[id].join(";"),
            lab.http
        );
    }
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        format!(
            "[trunk]\nuri_template = \"sip:{{number}}@{}\"\nmax_channels = 16\n\
             [call]\nring_timeout_secs = 10\n\
             [guard]\nallow_prefixes = [\"+962\"]\n\
             [web]\ntimeout_ms = 30000\n",
            lab.sip
        ),
    )
    .unwrap();
    let csv_path = dir.path().join("c.csv");
    std::fs::write(&csv_path, csv).unwrap();
    ok(&raqib(
        &config,
        &data,
        &["centres", "import", csv_path.to_str().unwrap()],
    ));
    ok(&raqib(
        &config,
        &data,
        &["users", "add", "ops", "--role", "admin"],
    ));
    let token = ok(&raqib(&config, &data, &["users", "token", "ops"]));

    // Probes made by other processes than the one serving /metrics.
    ok(&raqib(&config, &data, &["sweep", "--channel", "phone"]));
    ok(&raqib(
        &config,
        &data,
        &[
            "sweep",
            "--channel",
            "web",
            "--no-browser",
            "--centres",
            "m-good,m-bad",
        ],
    ));
    let setup_secs = t0.elapsed().as_secs_f64();

    let (api, metrics) = (free_port(), free_port());
    let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
    let _serve = Proc(
        Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{api}"),
                "--metrics-listen",
                &format!("127.0.0.1:{metrics}"),
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    wait_until("serve to listen", Duration::from_secs(20), || {
        [api, metrics]
            .iter()
            .all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok())
    });
    let serve_log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(
        serve_log.contains(&format!("metrics on http://127.0.0.1:{metrics}/metrics")),
        "{serve_log}"
    );

    // First scrape: everything stored so far (timed alone: it reads every result and scores
    // the month), then the one checked (by Prometheus' parser too).
    let scrape_at = Instant::now();
    assert_eq!(http(metrics, "GET", "/metrics", None).0, 200);
    let first_scrape_ms = scrape_at.elapsed().as_millis();
    let first = scrape(metrics);
    let stored = results(&config, &data);
    assert_eq!(stored.len(), 7 + 2, "{stored:#?}");
    assert_eq!(counters(&first), expected_counters(&stored));
    let answered: Vec<&Value> = stored
        .iter()
        .filter(|r| r["channel"] == "phone" && r["outcome"] == "answered")
        .collect();
    assert_eq!(answered.len(), 4);
    assert!(
        stored
            .iter()
            .any(|r| r["channel"] == "phone" && r["outcome"] == "busy")
            && stored
                .iter()
                .any(|r| r["channel"] == "web" && r["outcome"] == "up")
            && stored
                .iter()
                .any(|r| r["channel"] == "web" && r["outcome"] == "down"),
        "{stored:#?}"
    );
    let secs = |r: &Value, key: &str| r["timings_ms"][key].as_f64().unwrap() / 1000.0;
    let answer_times: Vec<f64> = answered.iter().map(|r| secs(r, "answer")).collect();
    check_histogram(&first, "raqib_call_answer_seconds", "", &answer_times);
    for channel in ["phone", "web"] {
        let totals: Vec<f64> = stored
            .iter()
            .filter(|r| r["channel"] == channel)
            .map(|r| secs(r, "total"))
            .collect();
        check_histogram(
            &first,
            "raqib_probe_duration_seconds",
            &format!("channel=\"{channel}\","),
            &totals,
        );
    }

    // This month's scores, as `raqib scores` prints them.
    let scores = json_lines(&raqib(&config, &data, &["scores", "--json"]));
    let mut want_scores = BTreeMap::new();
    for c in &scores {
        for channel in ["phone", "web"] {
            if let Some(v) = c[channel]["score"]["value"].as_f64() {
                want_scores.insert(
                    format!(
                        "raqib_score{{centre=\"{}\",channel=\"{channel}\"}}",
                        c["centre"].as_str().unwrap()
                    ),
                    v,
                );
            }
        }
    }
    let got_scores: BTreeMap<String, f64> = first.family("raqib_score").into_iter().collect();
    assert_eq!(
        got_scores.keys().collect::<Vec<_>>(),
        want_scores.keys().collect::<Vec<_>>()
    );
    for (series, want) in &want_scores {
        // The same f64 both ways, but serde_json may read it one ULP off.
        let got = got_scores[series];
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{series}: {got} != {want}"
        );
    }
    assert!(
        want_scores.contains_key("raqib_score{centre=\"m-good\",channel=\"phone\"}")
            && want_scores.contains_key("raqib_score{centre=\"m-bad\",channel=\"phone\"}"),
        "{want_scores:?}"
    );
    assert_eq!(first.get("raqib_score_threshold"), 60.0);
    assert_eq!(first.get("raqib_sweeps_running"), 0.0);
    assert!(first.family("raqib_sweep_jobs").is_empty());
    for status in ["pending", "sent", "failed"] {
        assert_eq!(
            first.get(&format!("raqib_alert_deliveries{{status=\"{status}\"}}")),
            0.0
        );
    }

    // Only GET /metrics on this port; and /metrics is not on the API's port, even with a token.
    assert_eq!(http(metrics, "GET", "/anything-else", None).0, 404);
    assert_eq!(http(metrics, "GET", "/", None).0, 404);
    assert_eq!(http(metrics, "POST", "/metrics", None).0, 405);
    // Signed out, the dashboard sends a page request to sign in; signed in, there is no such page.
    assert_eq!(http(api, "GET", "/metrics", None).0, 303);
    assert_eq!(http(api, "GET", "/metrics", Some(&token)).0, 404);

    // A sweep in progress, seen from the store: 2 jobs, the fast one done, the slow one not.
    let mut sweep = Proc(
        Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .args([
                "sweep",
                "--channel",
                "web",
                "--no-browser",
                "--centres",
                "m-slow,m-good",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut during = None;
    wait_until("the sweep's first result", Duration::from_secs(15), || {
        let s = scrape(metrics);
        let jobs = s.family("raqib_sweep_jobs_done");
        let done = jobs.first().map(|j| j.1);
        let found = done == Some(1.0);
        if found {
            during = Some(s);
        }
        found
    });
    let during = during.unwrap();
    assert_eq!(during.get("raqib_sweeps_running"), 1.0);
    let sweep_jobs = during.family("raqib_sweep_jobs");
    assert_eq!(sweep_jobs.len(), 1, "{}", during.text);
    assert!(
        sweep_jobs[0].0.contains("channel=\"web\"") && sweep_jobs[0].0.contains("schedule=\"\""),
        "{sweep_jobs:?}"
    );
    assert_eq!(sweep_jobs[0].1, 2.0);
    assert_eq!(
        during.get("raqib_probes_total{channel=\"web\",outcome=\"up\"}"),
        first.get("raqib_probes_total{channel=\"web\",outcome=\"up\"}") + 1.0
    );
    let status = sweep.0.wait().unwrap();
    assert!(status.success());
    let after_sweep = scrape(metrics);
    assert_eq!(after_sweep.get("raqib_sweeps_running"), 0.0);
    assert!(after_sweep.family("raqib_sweep_jobs_done").is_empty());
    assert_eq!(
        counters(&after_sweep),
        expected_counters(&results(&config, &data))
    );

    // One more call, by another process: exactly one more busy call, nothing else changed.
    let busy = &numbers_of["m-bad"][0];
    let call = peers::call(&config, &data, &[busy]);
    assert_eq!(call["outcome"], "busy", "{call:#}");
    let last = scrape(metrics);
    let mut want = counters(&after_sweep);
    *want
        .get_mut("raqib_probes_total{channel=\"phone\",outcome=\"busy\"}")
        .unwrap() += 1.0;
    assert_eq!(counters(&last), want);
    assert_eq!(
        last.get("raqib_probe_duration_seconds_count{channel=\"phone\"}"),
        after_sweep.get("raqib_probe_duration_seconds_count{channel=\"phone\"}") + 1.0
    );
    assert_eq!(
        last.get("raqib_call_answer_seconds_count"),
        answered.len() as f64
    );
    assert_eq!(counters(&last), expected_counters(&results(&config, &data)));

    // What every exporter has: its build, its process.
    let build = last.family("raqib_build_info");
    assert_eq!(build.len(), 1, "{build:?}");
    assert!(build[0]
        .0
        .contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))));
    assert!(build[0].0.contains("axe_core=\""));
    assert!(last.get("process_resident_memory_bytes") > 1e6);
    assert!(last.get("process_open_fds") >= 3.0);
    let started = last.get("process_start_time_seconds");
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        started <= now && started > now - 600.0,
        "{started} vs {now}"
    );
    // Per target, as blackbox_exporter: the busy number's latest call failed, an answered
    // one's succeeded with its answer time.
    let of = |family: &str, target: &str| -> Vec<f64> {
        last.family(family)
            .into_iter()
            .filter(|(series, _)| series.contains(target))
            .map(|(_, v)| v)
            .collect()
    };
    assert_eq!(of("raqib_probe_success", busy), vec![0.0]);
    let latest_answered = results(&config, &data)
        .into_iter()
        .rfind(|r| r["outcome"] == "answered")
        .unwrap();
    let number = latest_answered["number"].as_str().unwrap().to_string();
    let latest_of_number = results(&config, &data)
        .into_iter()
        .rfind(|r| r["number"] == number.as_str())
        .unwrap();
    if latest_of_number["outcome"] == "answered" {
        assert_eq!(of("raqib_probe_success", &number), vec![1.0]);
        let want = latest_of_number["timings_ms"]["answer"].as_f64().unwrap() / 1000.0;
        let got = of("raqib_probe_answer_seconds", &number);
        assert!(
            got.len() == 1 && (got[0] - want).abs() < 1e-6,
            "{got:?} vs {want}"
        );
    }
    assert!(!last
        .family("raqib_probe_last_run_timestamp_seconds")
        .is_empty());
    // Evidence on disk: the calls' recordings.
    assert!(last.get("raqib_evidence_bytes{kind=\"recordings\"}") > 0.0);
    assert!(last.get("raqib_evidence_files{kind=\"traces\"}") > 0.0);
    eprintln!(
        "timings: sweeps {setup_secs:.1} s, first scrape {first_scrape_ms} ms, whole test {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// With `[server] metrics_token_env`, a scrape needs that bearer token; a serve whose variable
/// is not set refuses to start rather than serve /metrics to anyone.
#[test]
fn a_metrics_token_keeps_scrapers_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        "[server]\nmetrics_token_env = \"RAQIB_TEST_METRICS_TOKEN\"\n",
    )
    .unwrap();
    let metrics = free_port();
    let refused = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--metrics-listen", &format!("127.0.0.1:{metrics}")])
        .env_remove("RAQIB_TEST_METRICS_TOKEN")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("RAQIB_TEST_METRICS_TOKEN"));

    let _serve = Proc(
        Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .args(["serve", "--metrics-listen", &format!("127.0.0.1:{metrics}")])
            .env("RAQIB_TEST_METRICS_TOKEN", "s3cret-scrape")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until("serve to listen", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", metrics)).is_ok()
    });
    let (status, _, _) = http(metrics, "GET", "/metrics", None);
    assert_eq!(status, 401);
    let (status, _, _) = http(metrics, "GET", "/metrics", Some("s3cret-scrapf"));
    assert_eq!(status, 401);
    let (status, _, body) = http(metrics, "GET", "/metrics", Some("s3cret-scrape"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("raqib_build_info{"));
}
