//! Every `tests/fixtures/config/invalid-*.toml` is refused with exit code 2 and exactly the
//! error in its sibling `.err` file (file:line:column: key: message).

use std::path::Path;
use std::process::Command;

#[test]
fn invalid_configs_give_their_exact_errors() {
    let dir = Path::new("tests/fixtures/config");
    let mut fixtures: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("invalid-") && name.ends_with(".toml")
        })
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 10, "fixtures missing: {fixtures:?}");
    let data = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for toml in &fixtures {
        let expected = std::fs::read_to_string(toml.with_extension("err"))
            .unwrap_or_else(|_| panic!("{} has no .err file", toml.display()));
        let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
            .arg("--config")
            .arg(toml)
            .arg("--data-dir")
            .arg(data.path())
            .args(["centres", "list"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let got = stderr.trim_end().strip_prefix("raqib: ").unwrap_or(&stderr);
        if out.status.code() != Some(2) || got != expected.trim_end() {
            failures.push(format!(
                "{}: exit {:?}\n  expected: {}\n  got:      {}",
                toml.display(),
                out.status.code(),
                expected.trim_end(),
                got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_missing_config_file_is_bad_input() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
        .args(["--config", "/nonexistent/raqib.toml", "--data-dir"])
        .arg(data.path())
        .args(["centres", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/raqib.toml: cannot read the configuration"),
        "{stderr}"
    );
}

#[test]
fn the_environment_names_the_config() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
        .env("RAQIB_CONFIG", "tests/fixtures/config/invalid-type.toml")
        .env("RAQIB_DATA_DIR", data.path())
        .args(["centres", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid-type.toml:2:14"));
}
