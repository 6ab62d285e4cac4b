//! Input a careless operator or an attacker gives raqib: credentials inside URLs are never
//! printed or stored, and a filter naming nothing that exists is bad input (exit 2) that names
//! what does exist, never an empty answer that reads as "all is well".

mod peers;

use peers::raqib;

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const CENTRES: &str = "id,name_ar,name_en,agency,region,timezone,hours,phones,websites,tags\n\
     a,مركز,A,Civil Status Department,Amman,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,,pilot\n\
     b,مركز,B,Passports,Irbid,Asia/Amman,Sun-Thu 08:00-15:00,+96265000102,,\n";

#[test]
fn credentials_in_urls_are_never_printed_or_stored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("raqib.toml");
    // A port nobody listens on: the test delivery fails, and its failure is printed.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    std::fs::write(
        &config,
        format!(
            "[alerts]\n[[alerts.contact]]\nagency = \"*\"\n\
             webhook = \"http://hookuser:hookpw@127.0.0.1:{port}/services/T0/B0/SLACKSECRET\"\n"
        ),
    )
    .unwrap();
    for args in [&["alerts", "test"][..], &["alerts", "test", "--json"]] {
        let out = raqib(&config, &data, args);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "the delivery fails: {all}");
        assert!(
            all.contains(&format!("127.0.0.1:{port}")),
            "names the host: {all}"
        );
        for secret in ["hookpw", "hookuser", "SLACKSECRET", "/services/"] {
            assert!(!all.contains(secret), "{secret} printed: {all}");
        }
    }

    // A page with credentials is refused before anything is stored, and the refusal hides them.
    let out = raqib(
        &config,
        &data,
        &[
            "probe",
            "web",
            "http://webuser:webpw@127.0.0.1:9/",
            "--no-browser",
            "--json",
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("user name or password") && all.contains("***@127.0.0.1"),
        "{all}"
    );
    assert!(!all.contains("webpw") && !all.contains("webuser"), "{all}");
    let out = raqib(&config, &data, &["results", "--json"]);
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "nothing stored: {}",
        text(&out)
    );
}

#[test]
fn a_filter_that_names_nothing_is_bad_input_naming_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("raqib.toml");
    std::fs::write(&config, "").unwrap();
    peers::import_centres(&config, &data, CENTRES);
    for cmd in ["flags", "scores", "trends", "cases"] {
        let out = raqib(&config, &data, &[cmd, "--agency", "No such agency"]);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {all}");
        assert!(
            all.contains("no agency 'No such agency'")
                && all.contains("'Civil Status Department', 'Passports'"),
            "{cmd}: {all}"
        );
    }
    let out = raqib(
        &config,
        &data,
        &["report", "--format", "json", "--agency", "Nope"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // The real agency still works.
    let out = raqib(&config, &data, &["flags", "--agency", "Passports"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A schedule that selects an unknown agency, region or tag keeps serve from starting.
    for (line, says) in [
        ("agency = \"Pasports\"", "no agency 'Pasports'"),
        ("region = \"Aqaba\"", "known regions: 'Amman', 'Irbid'"),
        (
            "tags = [\"pilot\", \"night\"]",
            "no tag 'night' in the registry; known tags: 'pilot'",
        ),
    ] {
        std::fs::write(
            &config,
            format!(
                "[[schedule]]\nname = \"s\"\ncron = \"0 9 * * SUN\"\nchannel = \"web\"\n{line}\n"
            ),
        )
        .unwrap();
        let out = raqib(&config, &data, &["serve"]);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{line}: {all}");
        assert!(all.contains(says), "{line}: {all}");
    }
}
