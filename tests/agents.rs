//! Several agents on one PostgreSQL (RAQIB_TEST_POSTGRES, set by scripts/test): two `raqib
//! serve --agent` processes sweep 200 lab centres together with no job run twice or missed; an
//! agent killed with SIGKILL mid-sweep loses its leases and the other finishes its jobs; a
//! schedule's agent tags keep its jobs off an agent without them; the dialling guard's daily cap
//! holds with processes racing for the same number.

mod peers;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use peers::{eventually, json_lines, raqib_env, start_lab, wait_until, LAB_PORTS};
use serde_json::Value;

fn postgres() -> Option<String> {
    peers::postgres_url("agents")
}

struct Unit {
    _dir: tempfile::TempDir,
    _lab: peers::Lab,
    config: PathBuf,
    data: PathBuf,
    store: String,
    dir: PathBuf,
}

impl Unit {
    fn run(&self, args: &[&str]) -> std::process::Output {
        let out = raqib_env(
            &self.config,
            &self.data,
            &[("RAQIB_STORE", &self.store)],
            args,
        );
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn json(&self, args: &[&str]) -> Vec<Value> {
        json_lines(&self.run(args))
    }

    /// `raqib serve --agent NAME` with its log in the unit's directory.
    fn agent(&self, name: &str, extra: &[&str]) -> Agent {
        self.agent_with(&self.config, name, extra)
    }

    /// The same with another config file.
    fn agent_with(&self, config: &std::path::Path, name: &str, extra: &[&str]) -> Agent {
        let log = self.dir.join(format!("{name}.log"));
        let child = Command::new(peers::BIN)
            .arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(&self.data)
            .env("RAQIB_STORE", &self.store)
            .args(["serve", "--agent", name])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Agent { child, log }
    }
}

struct Agent {
    child: Child,
    log: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Agent {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let child = &mut self.child;
        let stopped = eventually(Duration::from_secs(30), || {
            child.try_wait().unwrap().is_some()
        });
        assert!(stopped, "agent did not stop: {}", self.log());
    }
}

/// A unit of `n` centres whose sites are the lab's slow page, and a web schedule every
/// `every` seconds.
fn unit(url: &str, n: usize, slow_ms: u64, extra_config: &str) -> Unit {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lab_config = dir.path().join("lab.toml");
    std::fs::write(&lab_config, format!("{LAB_PORTS}slow_ms = {slow_ms}\n")).unwrap();
    let lab = start_lab(&lab_config, &data.join("lab"));
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        format!(
            "[browser]\nenabled = false\n[web]\nconcurrency = 4\n\
             [serve]\nlease_secs = 3\n{extra_config}"
        ),
    )
    .unwrap();
    let mut csv = String::from("id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n");
    for i in 0..n {
        csv += &format!(
            "c{i:03},مركز {i},Centre {i},A,R,Asia/Amman,Sun-Sat 00:00-24:00,,http://{}/slow/jo-amman-civil/\n",
            lab.http
        );
    }
    let csv_path = dir.path().join("c.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let u = Unit {
        config,
        data,
        store: url.to_string(),
        dir: dir.path().to_path_buf(),
        _lab: lab,
        _dir: dir,
    };
    u.run(&["centres", "import", csv_path.to_str().unwrap()]);
    u
}

/// Results of sweep `id`: centre → agents that stored one.
fn by_centre(u: &Unit, id: i64) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in u.json(&["results", "--sweep", &id.to_string(), "--json"]) {
        out.entry(r["centre"].as_str().unwrap().to_string())
            .or_default()
            .push(r["agent"].as_str().unwrap_or("-").to_string());
    }
    out
}

#[test]
fn agents_two_share_a_sweep_of_200_centres_with_every_job_once() {
    let Some(url) = postgres() else { return };
    let u = unit(
        &url,
        200,
        150,
        "[[schedule]]\nname = \"web\"\ncron = \"*/10 * * * * *\"\nchannel = \"web\"\n",
    );
    let mut a = u.agent("north-1", &["--agent-tag", "region=north"]);
    let mut b = u.agent("north-2", &[]);
    // Both fire the same instants: one sweep per fire, whichever plans first. An agent that
    // starts just after an instant first fires at the next one: wait for a fire both saw.
    let raced = |a: &Agent, b: &Agent| {
        let logs = a.log() + &b.log();
        logs.contains("planned by another agent") || logs.contains("is still running")
    };
    wait_until(
        "a finished sweep, and a fire both agents saw",
        Duration::from_secs(120),
        || {
            raced(&a, &b)
                && u.json(&["sweeps", "--json"])
                    .iter()
                    .any(|s| s["status"] == "finished")
        },
    );
    a.stop();
    b.stop();
    let sweeps = u.json(&["sweeps", "--json"]);
    let fired: BTreeSet<&str> = sweeps
        .iter()
        .filter_map(|s| s["selection"].as_str())
        .collect();
    assert_eq!(fired, BTreeSet::from(["schedule:web"]));
    let first = sweeps
        .iter()
        .filter(|s| s["status"] == "finished")
        .min_by_key(|s| s["id"].as_i64())
        .unwrap();
    assert_eq!(
        (first["total"].as_i64(), first["done"].as_i64()),
        (Some(200), Some(200))
    );
    let done = by_centre(&u, first["id"].as_i64().unwrap());
    assert_eq!(done.len(), 200, "every centre's job has a result");
    assert!(
        done.values().all(|agents| agents.len() == 1),
        "no job ran twice: {:?}",
        done.iter().filter(|(_, a)| a.len() > 1).collect::<Vec<_>>()
    );
    let mut per_agent: BTreeMap<&str, usize> = BTreeMap::new();
    for agents in done.values() {
        *per_agent.entry(agents[0].as_str()).or_default() += 1;
    }
    eprintln!("jobs per agent: {per_agent:?}");
    assert_eq!(
        per_agent.keys().copied().collect::<Vec<_>>(),
        ["north-1", "north-2"]
    );
    // Each fire was planned once: the loser of a race says so, or saw the sweep running.
    let logs = a.log() + &b.log();
    let planned = logs.matches("planned with 200 jobs").count();
    assert_eq!(planned, sweeps.len(), "{logs}");
    assert!(
        logs.contains("planned by another agent") || logs.contains("is still running"),
        "{logs}"
    );
    // `raqib agents`: both, their tags and what they did.
    let agents = u.json(&["agents", "--json"]);
    let names: Vec<&str> = agents.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["north-1", "north-2"]);
    assert_eq!(agents[0]["tags"], serde_json::json!(["region=north"]));
    let total: i64 = agents
        .iter()
        .map(|a| a["jobs_done"].as_i64().unwrap())
        .sum();
    assert!(total >= 200, "{agents:?}");
}

#[test]
fn agents_a_killed_agent_loses_its_leases_and_the_other_finishes() {
    let Some(url) = postgres() else { return };
    let u = unit(
        &url,
        40,
        1_000,
        "[[schedule]]\nname = \"web\"\ncron = \"0 0 1 1 *\"\nchannel = \"web\"\n",
    );
    // The victim plans the sweep and starts on it alone.
    let mut victim = u.agent("victim", &["--run", "web"]);
    wait_until(
        "the victim's first results",
        Duration::from_secs(60),
        || {
            u.json(&["agents", "--json"])
                .iter()
                .any(|a| a["name"] == "victim" && a["jobs_done"].as_i64() > Some(0))
        },
    );
    let mut survivor = u.agent("survivor", &[]);
    wait_until("the survivor registered", Duration::from_secs(30), || {
        u.json(&["agents", "--json"])
            .iter()
            .any(|a| a["name"] == "survivor")
    });
    victim.child.kill().unwrap(); // SIGKILL: no drain, leases left to run out
    victim.child.wait().unwrap();
    let killed_at = Instant::now();
    wait_until(
        "the survivor to finish the sweep",
        Duration::from_secs(120),
        || {
            u.json(&["sweeps", "--json"])
                .iter()
                .any(|s| s["status"] == "finished")
        },
    );
    let waited = killed_at.elapsed();
    survivor.stop();
    let sweep = &u.json(&["sweeps", "--json"])[0];
    assert_eq!(
        (sweep["total"].as_i64(), sweep["done"].as_i64()),
        (Some(40), Some(40))
    );
    let done = by_centre(&u, sweep["id"].as_i64().unwrap());
    assert_eq!(done.len(), 40);
    assert!(done.values().all(|a| a.len() == 1), "{done:?}");
    let survivor_jobs = done.values().filter(|a| a[0] == "survivor").count();
    let victim_jobs = done.values().filter(|a| a[0] == "victim").count();
    assert!(victim_jobs > 0 && survivor_jobs > 0, "{done:?}");
    eprintln!("victim {victim_jobs}, survivor {survivor_jobs}, finished {waited:?} after the kill");
    let agents = u.json(&["agents", "--json"]);
    let victim_row = agents.iter().find(|a| a["name"] == "victim").unwrap();
    assert_eq!(victim_row["alive"], false, "{victim_row}");
}

#[test]
fn agents_only_those_with_the_tags_take_a_schedules_jobs_even_without_schedules() {
    let Some(url) = postgres() else { return };
    let u = unit(
        &url,
        6,
        0,
        "[[schedule]]\nname = \"mobile\"\ncron = \"0 0 1 1 *\"\nchannel = \"web\"\n\
         agent_tags = [\"carrier=mobile\"]\n",
    );
    // The gateway's config has no schedule: it only works what others plan, and it starts
    // before there is any sweep of its channel.
    let worker = u.dir.join("worker.toml");
    std::fs::write(
        &worker,
        "[browser]\nenabled = false\n[serve]\nlease_secs = 3\n",
    )
    .unwrap();
    let mut mobile = u.agent_with(&worker, "gateway", &["--agent-tag", "carrier=mobile"]);
    wait_until("the gateway registered", Duration::from_secs(30), || {
        u.json(&["agents", "--json"])
            .iter()
            .any(|a| a["name"] == "gateway")
    });
    // The landline plans the sweep but may not take its jobs.
    let mut landline = u.agent(
        "landline",
        &["--run", "mobile", "--agent-tag", "carrier=fixed"],
    );
    wait_until("the gateway to finish", Duration::from_secs(60), || {
        u.json(&["sweeps", "--json"])
            .first()
            .is_some_and(|s| s["status"] == "finished")
    });
    landline.stop();
    mobile.stop();
    let id = u.json(&["sweeps", "--json"])[0]["id"].as_i64().unwrap();
    let done = by_centre(&u, id);
    assert_eq!(done.len(), 6);
    assert!(
        done.values().all(|a| a == &["gateway".to_string()]),
        "{done:?}"
    );
}

#[test]
fn agents_racing_for_one_number_keep_its_daily_cap() {
    let Some(url) = postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (_lab, config, data) = peers::lab_with_phones(
        dir.path(),
        &[("+96265000401", "busy")],
        "max_calls_per_number_per_day = 2\n",
    );
    let csv = dir.path().join("c.csv");
    std::fs::write(
        &csv,
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
         a,مركز,A,G,R,Asia/Amman,Sun-Sat 00:00-24:00,+96265000401,\n",
    )
    .unwrap();
    let env = [("RAQIB_STORE", url.as_str())];
    assert!(raqib_env(
        &config,
        &data,
        &env,
        &["centres", "import", csv.to_str().unwrap()]
    )
    .status
    .success());
    // Six processes dial the same number at once; the cap is two a day.
    let racers: Vec<Child> = (0..6)
        .map(|_| {
            Command::new(peers::BIN)
                .arg("--config")
                .arg(&config)
                .arg("--data-dir")
                .arg(&data)
                .env("RAQIB_STORE", &url)
                .args(["probe", "call", "+96265000401", "--json"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut r in racers {
        assert!(r.wait().unwrap().success());
    }
    let results = json_lines(&raqib_env(&config, &data, &env, &["results", "--json"]));
    let outcomes: Vec<&str> = results
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 6);
    assert_eq!(
        outcomes.iter().filter(|o| **o == "busy").count(),
        2,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "refused").count(),
        4,
        "{outcomes:?}"
    );
}
