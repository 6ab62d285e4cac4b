//! `raqib centres import` and `list` against a real SQLite file: all rows or none, every bad
//! row named, Arabic unchanged, existing ids updated.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn raqib(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_raqib"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn listed(data: &Path) -> Vec<Value> {
    let out = raqib(data, &["centres", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const GOOD: &str = "tests/fixtures/centres/good.csv";

#[test]
fn good_file_imports_and_arabic_round_trips() {
    let data = tempfile::tempdir().unwrap();
    let out = raqib(data.path(), &["centres", "import", GOOD, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["added"], 3);
    assert_eq!(report["updated"], 0);

    let centres = listed(data.path());
    assert_eq!(centres.len(), 3);
    let dubai = centres.iter().find(|c| c["id"] == "t-dubai").unwrap();
    // Quotes, an Arabic comma and a field comma survive unchanged.
    assert_eq!(dubai["name_ar"], "مركز خدمة \"دبي\"، الفرع الرئيسي, ديرة");
    assert_eq!(dubai["hours"], "Mon-Thu 07:30-15:30; Fri 07:30-12:00");
    assert_eq!(dubai["websites"], serde_json::json!([]));
    let amman = centres.iter().find(|c| c["id"] == "t-amman").unwrap();
    assert_eq!(amman["name_ar"], "مكتب الأحوال المدنية - عمّان");
    assert_eq!(
        amman["phones"],
        serde_json::json!(["+96265000101", "+96265000102"])
    );
    assert_eq!(amman["timezone"], "Asia/Amman");
    let night = centres.iter().find(|c| c["id"] == "t-night").unwrap();
    assert_eq!(night["hours"], "Sat-Wed 22:00-02:00");

    // What was read back imports again unchanged: the same file counts as 3 updates.
    let again = raqib(data.path(), &["centres", "import", GOOD, "--json"]);
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        (report["added"].as_i64(), report["updated"].as_i64()),
        (Some(0), Some(3))
    );
    assert_eq!(listed(data.path()), centres);
}

#[test]
fn bad_rows_import_nothing_and_are_each_named() {
    let data = tempfile::tempdir().unwrap();
    assert_eq!(
        raqib(data.path(), &["centres", "import", GOOD])
            .status
            .code(),
        Some(0)
    );
    let before = listed(data.path());

    let out = raqib(
        data.path(),
        &["centres", "import", "tests/fixtures/centres/bad-rows.csv"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "nothing imported; 5 bad rows",
        "row 3: phones: '0796500010' is not E.164",
        "row 4: unknown time zone 'Asia/Atlantis'",
        "row 5: duplicate id 't-amman' (first on row 2)",
        "row 6: hours: 'Sun to Thu 8am-3pm'",
        "row 7: has 3 fields, the header has 9",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    // Rows 2 and 8 were good, yet nothing of the file was written.
    assert_eq!(listed(data.path()), before);

    let json = raqib(
        data.path(),
        &[
            "centres",
            "import",
            "tests/fixtures/centres/bad-rows.csv",
            "--json",
        ],
    );
    assert_eq!(json.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows: Vec<i64> = report["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, [3, 4, 5, 6, 7]);
}

#[test]
fn a_missing_column_imports_nothing() {
    let data = tempfile::tempdir().unwrap();
    let out = raqib(
        data.path(),
        &[
            "centres",
            "import",
            "tests/fixtures/centres/missing-column.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing column 'timezone'"));
    assert!(listed(data.path()).is_empty());
}

#[test]
fn rows_after_a_multi_line_field_name_their_row_and_line() {
    let data = tempfile::tempdir().unwrap();
    let csv = data.path().join("multi.csv");
    std::fs::write(
        &csv,
        "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n\
         a1,\"سطر\nثان\",n,a,r,Asia/Amman,Sun 08:00-09:00,+96265000101,\n\
         a2,x,n,a,r,Asia/Amman,Sun 08:00-09:00,+9626500,\n",
    )
    .unwrap();
    let out = raqib(data.path(), &["centres", "import", csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row 3 (line 4): phones: '+9626500' is not E.164"),
        "{err}"
    );
}

#[test]
fn existing_ids_are_updated_and_a_bom_is_accepted() {
    let data = tempfile::tempdir().unwrap();
    assert_eq!(
        raqib(data.path(), &["centres", "import", GOOD])
            .status
            .code(),
        Some(0)
    );
    // update.csv is saved with a UTF-8 byte-order mark, as spreadsheets do.
    let out = raqib(
        data.path(),
        &[
            "centres",
            "import",
            "tests/fixtures/centres/update.csv",
            "--json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["added"].as_i64(), report["updated"].as_i64()),
        (Some(1), Some(1))
    );
    let centres = listed(data.path());
    assert_eq!(centres.len(), 4);
    let amman = centres.iter().find(|c| c["id"] == "t-amman").unwrap();
    assert_eq!(amman["name_ar"], "مكتب الأحوال المدنية - عمّان (الجديد)");
    assert_eq!(amman["hours"], "Sun-Thu 08:00-16:00");
    assert_eq!(amman["phones"], serde_json::json!(["+96265000101"]));
}

#[test]
fn a_missing_file_is_bad_input() {
    let data = tempfile::tempdir().unwrap();
    let out = raqib(
        data.path(),
        &["centres", "import", "/nonexistent/centres.csv"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/centres.csv"));
}

#[test]
fn a_missing_file_names_its_cause_once() {
    let data = tempfile::tempdir().unwrap();
    let out = raqib(
        data.path(),
        &["centres", "import", "/nonexistent/centres.csv"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

const HEADER: &str = "id,name_ar,name_en,agency,region,timezone,hours,phones,websites\n";

/// Imports `csv`; asserts exit 2, that nothing was imported, and returns the message.
fn refused(csv: &[u8]) -> String {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("c.csv");
    std::fs::write(&file, csv).unwrap();
    let out = raqib(data.path(), &["centres", "import", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        listed(data.path()).is_empty(),
        "nothing may be imported: {err}"
    );
    assert!(err.len() < 4096, "the message must not echo a runaway cell");
    err
}

#[test]
fn hostile_cells_are_refused_by_row_and_column() {
    let good = "a,مركز,A,G,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,\n";
    let huge = format!(
        "{HEADER}{good}b,{},B,G,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000102,\n",
        "م".repeat(5_000_000)
    );
    let err = refused(huge.as_bytes());
    assert!(
        err.contains("row 3") && err.contains("name_ar is 5000000 characters long"),
        "{err}"
    );

    let nul =
        format!("{HEADER}{good}b,مر\0كز,B,G,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000102,\n");
    let err = refused(nul.as_bytes());
    assert!(
        err.contains("row 3") && err.contains("name_ar has a control character (U+0000)"),
        "{err}"
    );

    let escape = format!(
        "{HEADER}{good}b,مركز,\"B\x1b[31m\",G,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000102,\n"
    );
    assert!(refused(escape.as_bytes()).contains("name_en has a control character (U+001B)"));

    let phones = (0..25)
        .map(|i| format!("+962650001{i:02}"))
        .collect::<Vec<_>>()
        .join(";");
    let many = format!("{HEADER}b,مركز,B,G,R,Asia/Amman,Sun-Thu 08:00-15:00,{phones},\n");
    assert!(refused(many.as_bytes()).contains("phones has 25 entries (at most 20)"));

    let creds = format!(
        "{HEADER}b,مركز,B,G,R,Asia/Amman,Sun-Thu 08:00-15:00,,http://user:pw@example.invalid/\n"
    );
    let err = refused(creds.as_bytes());
    assert!(
        err.contains("user name or password") && !err.contains("pw@"),
        "{err}"
    );
}

#[test]
fn a_utf16_file_says_it_is_utf16() {
    let text = format!("{HEADER}a,مركز,A,G,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,\n");
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for (bytes, says) in [
        (
            le.clone(),
            "UTF-16 (little-endian, without a byte-order mark)",
        ),
        (be, "UTF-16 (big-endian, without a byte-order mark)"),
        (
            [&[0xFF, 0xFE][..], &le].concat(),
            "UTF-16 (little-endian, with a byte-order mark)",
        ),
    ] {
        let err = refused(&bytes);
        assert!(
            err.contains(says) && !err.contains("missing column"),
            "{err}"
        );
    }
}
