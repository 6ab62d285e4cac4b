//! Builds axe-core (pinned in probes/web/package-lock.json, installed by `./scripts/setup`)
//! into the binary, so that an installed raqib audits pages from any directory. A build
//! without it still works; its browser audit then needs `[browser] axe_path`.

use std::path::Path;

fn main() {
    let web = Path::new("probes/web/node_modules/axe-core");
    let script = web.join("axe.min.js");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=probes/web/package-lock.json");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("axe.min.js");
    let (bytes, version) = match std::fs::read(&script) {
        Ok(bytes) => {
            let version = std::fs::read_to_string(web.join("package.json"))
                .ok()
                .and_then(|p| version_of(&p))
                .unwrap_or_else(|| "unknown".into());
            (bytes, version)
        }
        Err(_) => {
            println!(
                "cargo:warning={} is missing: this build carries no axe-core (run ./scripts/setup, \
                 then build again)",
                script.display()
            );
            (Vec::new(), "none".into())
        }
    };
    std::fs::write(&out, bytes).expect("OUT_DIR is writable");
    println!("cargo:rustc-env=RAQIB_AXE_VERSION={version}");
}

/// `"version": "4.11.0"` of a package.json, without a JSON parser in the build.
fn version_of(package_json: &str) -> Option<String> {
    let rest = &package_json[package_json.find("\"version\"")? + "\"version\"".len()..];
    let rest = &rest[rest.find('"')? + 1..];
    Some(rest[..rest.find('"')?].to_string())
}
