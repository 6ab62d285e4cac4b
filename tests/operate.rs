//! What an operator runs around the service, as processes: `config check`, completions, the
//! man page, the log (`RUST_LOG`, `--log-format json`, no secret in any line), and an installed
//! binary that audits a page from a directory far from its source tree.

mod peers;

use std::path::Path;
use std::process::Command;

fn run(config: Option<&Path>, cwd: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(peers::BIN);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.args(args).current_dir(cwd).output().unwrap()
}

#[test]
fn config_check_prints_the_effective_config_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        "[store]\nurl = \"postgres://raqib@db.invalid/raqib\"\npassword_env = \"PG_SECRET_VAR\"\n\
         [server]\npublic_url = \"https://raqib.example\"\n\
         [[alerts.contact]]\nagency = \"*\"\nwebhook = \"https://hooks.example/services/T0/B0/sEcReTpAtH\"\n\
         [call]\nclassify_secs = 90\n",
    )
    .unwrap();
    let out = Command::new(peers::BIN)
        .arg("--config")
        .arg(&config)
        .args(["config", "check"])
        .env("PG_SECRET_VAR", "hunter2-pg")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("sEcReTpAtH") && !text.contains("hunter2"),
        "{text}"
    );
    assert!(text.contains("https://hooks.example/… #"), "{text}");
    assert!(text.contains("password_env = \"PG_SECRET_VAR\""), "{text}");
    // Effective: what the file sets, and the defaults it leaves out.
    assert!(text.contains("classify_secs = 90"), "{text}");
    assert!(text.contains("ring_timeout_secs = "), "{text}");
    let parsed: toml::Table = toml::from_str(&text).expect("the output is TOML");
    assert!(parsed.contains_key("scoring"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("good"));

    let out = Command::new(peers::BIN)
        .arg("--config")
        .arg(&config)
        .args(["config", "check", "--json"])
        .env("PG_SECRET_VAR", "hunter2-pg")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["call"]["classify_secs"], 90);
    assert!(!v.to_string().contains("sEcReTpAtH"));

    // Wrong: exit 2, FILE:LINE:COLUMN, nothing on stdout.
    std::fs::write(
        &config,
        "[call]\nclassify_secs = 90\nring_timeout_secs = \"soon\"\n",
    )
    .unwrap();
    let out = run(Some(&config), dir.path(), &["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:", config.display())), "{err}");
    assert!(out.stdout.is_empty());

    // What serve refuses at start is refused here too.
    std::fs::write(
        &config,
        "[[alerts.contact]]\nagency = \"*\"\nwebhook = \"http://127.0.0.1:9/h\"\n",
    )
    .unwrap();
    let out = run(Some(&config), dir.path(), &["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("public_url"));
}

#[test]
fn completions_and_man_pages_need_no_config() {
    let dir = tempfile::tempdir().unwrap();
    // A broken config does not stop them.
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[call\n").unwrap();
    for (shell, marker) in [
        ("bash", "_raqib()"),
        ("zsh", "#compdef raqib"),
        ("fish", "complete -c raqib"),
    ] {
        let out = run(Some(&broken), dir.path(), &["completions", shell]);
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}");
        for sub in ["serve", "sweep", "config", "verdicts"] {
            assert!(text.contains(sub), "{shell} completes {sub}");
        }
    }
    let out = run(Some(&broken), dir.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));

    let out = run(Some(&broken), dir.path(), &["man"]);
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH raqib 1"), "{page}");
    assert!(
        page.contains("axe\\-core") || page.contains("axe-core"),
        "the version names axe-core"
    );
    let pages = dir.path().join("man1");
    let out = run(None, dir.path(), &["man", "--dir", pages.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "raqib.1",
        "raqib-serve.1",
        "raqib-config-check.1",
        "raqib-store-prune.1",
    ] {
        assert!(pages.join(name).is_file(), "{name}");
    }
    // man(1) reads it, when the machine has it.
    if peers::have("man", "man-db") {
        let out = Command::new("man")
            .arg("-l")
            .arg(pages.join("raqib-serve.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("--metrics-listen"));
    }
}

#[test]
fn a_bad_rust_log_is_refused_and_json_logs_are_one_object_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(peers::BIN)
        .args(["config", "check"])
        .env("RUST_LOG", "raqib=loud")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RUST_LOG"));
}

/// The installed binary alone: copied to a directory of its own and run from another, with
/// no source tree or node_modules in reach, it still audits a page with the axe-core it
/// carries, and says which.
#[test]
fn an_installed_binary_audits_with_the_axe_core_it_carries() {
    if !peers::have("chromium", "chromium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = dir.path().join("bin");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let bin = bin_dir.join("raqib");
    std::fs::copy(peers::BIN, &bin).unwrap();

    let pinned = pinned_axe();
    let out = Command::new(&bin).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(version.contains(&format!("axe-core {pinned}")), "{version}");

    let config = dir.path().join("raqib.toml");
    std::fs::write(
        &config,
        format!("{}\n[web]\ntrust_lab_ca = true\n", peers::LAB_PORTS),
    )
    .unwrap();
    let data = dir.path().join("data");
    let lab = peers::start_lab(&config, &data);
    let url = format!("http://{}/ok/jo-amman-civil/", lab.http);
    let out = Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .args(["probe", "web", &url, "--pages", "0", "--json"])
        .current_dir(&elsewhere)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = &peers::json_lines(&out)[0];
    assert_eq!(r["a11y"]["engine"], format!("axe-core {pinned}"), "{r}");
    assert!(r["a11y"]["violations"].is_array());

    // A named axe_path that is not there: exit 2 and how to fix it.
    std::fs::write(
        &config,
        format!(
            "{}\n[browser]\naxe_path = \"nowhere/axe.min.js\"\n",
            peers::LAB_PORTS
        ),
    )
    .unwrap();
    let out = Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .args(["probe", "web", &url, "--pages", "0"])
        .current_dir(&elsewhere)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nowhere/axe.min.js") && err.contains("built into raqib"),
        "{err}"
    );
}

/// The axe-core version package-lock.json pins.
fn pinned_axe() -> String {
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("probes/web/package-lock.json").unwrap())
            .unwrap();
    lock["packages"]["node_modules/axe-core"]["version"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The most talkative log (`RUST_LOG=trace`, raqib's and its libraries' events, as JSON)
/// across sign-ins right and wrong, API and /metrics requests with their tokens, and a config
/// full of secrets' names: every line is JSON, requests are logged, and no secret appears.
#[test]
fn no_secret_reaches_the_log_even_at_trace() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("raqib.toml");
    let secrets = [
        ("RAQIB_TEST_TRUNK_PW", "trunk-s3cret-pw"),
        ("RAQIB_TEST_METRICS", "metrics-s3cret-token"),
    ];
    std::fs::write(
        &config,
        "[trunk]\nusername = \"robot\"\npassword_env = \"RAQIB_TEST_TRUNK_PW\"\n\
         [server]\nmetrics_token_env = \"RAQIB_TEST_METRICS\"\npublic_url = \"https://raqib.example\"\n\
         [[alerts.contact]]\nagency = \"*\"\nwebhook = \"http://127.0.0.1:9/hook/path-s3cret\"\n",
    )
    .unwrap();
    peers::ok(&peers::raqib(
        &config,
        &data,
        &["users", "add", "boss", "--role", "admin"],
    ));
    assert_eq!(
        peers::set_password(&config, &data, "boss", "signin-s3cret-pw"),
        Some(0)
    );
    let token = peers::ok(&peers::raqib(&config, &data, &["users", "token", "boss"]));
    let token = token.trim().to_string();
    let (api, metrics) = (peers::free_port(), peers::free_port());
    let log = dir.path().join("serve.log");
    let _serve = peers::Proc(
        Command::new(peers::BIN)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .args(["--log-format", "json", "serve"])
            .args(["--listen", &format!("127.0.0.1:{api}")])
            .args(["--metrics-listen", &format!("127.0.0.1:{metrics}")])
            .envs(secrets)
            .env("RUST_LOG", "trace")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    peers::wait_until(
        "serve to listen",
        std::time::Duration::from_secs(20),
        || {
            [api, metrics]
                .iter()
                .all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok())
        },
    );
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    for password in ["signin-s3cret-pw", "wrong-s3cret-pw"] {
        let body = format!("name=boss&password={password}&next=%2F");
        peers::http(api, "POST", "/login", &[form], &body);
    }
    let get = |port: u16, path: &str, bearer: Option<&str>| {
        let auth = bearer.map(|b| format!("Bearer {b}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        peers::http(port, "GET", path, &headers, "").0
    };
    assert_eq!(get(api, "/api/centres", Some(&token)), 200);
    get(api, &format!("/api/results?token={token}"), None);
    assert_eq!(get(metrics, "/metrics", Some(secrets[1].1)), 200);

    peers::wait_until(
        "the access lines",
        std::time::Duration::from_secs(10),
        || std::fs::read_to_string(&log).unwrap().contains("/metrics"),
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "raqib::access")
        .collect();
    assert!(access.len() >= 5, "{text}");
    assert!(
        access
            .iter()
            .any(|l| l["path"] == "/login" && l["status"] == 303),
        "{text}"
    );
    assert!(
        access.iter().all(|l| l["spans"][0]["request"].is_u64()),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "TRACE" || l["level"] == "DEBUG"),
        "trace is on"
    );
    for secret in [
        "trunk-s3cret-pw",
        "metrics-s3cret-token",
        "path-s3cret",
        "signin-s3cret-pw",
        "wrong-s3cret-pw",
        token.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
}
