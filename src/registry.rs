//! The centre registry: who raqib audits, where, when they are open, and which numbers and
//! websites are theirs. Centres come from a CSV file (`raqib centres import`) and live in the
//! store; every probe of a centre, and the dialling guard, starts from here.
//!
//! Import is all-or-nothing: every row is checked first and any bad row refuses the whole
//! file, naming each bad row as a spreadsheet numbers it (the header is row 1).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// The embedded sample centres, used when the config names no other file.
pub const SAMPLE_CSV: &str = include_str!("../config/centres.csv");

/// The CSV columns, in the order raqib writes them.
pub const COLUMNS: [&str; 9] = [
    "id", "name_ar", "name_en", "agency", "region", "timezone", "hours", "phones", "websites",
];

/// Columns a file may add: `tags`, words separated by `;` (e.g. `urban;pilot`), that
/// `[[schedule]] tags` select on; `agency_ar` and `region_ar`, the agency's and the region's
/// names in Arabic (pages in Arabic show `agency` and `region` where they are missing);
/// `hours_ramadan`, the hours kept in Ramadan, written like `hours` (blank: the same hours).
pub const OPTIONAL_COLUMNS: [&str; 4] = ["tags", "agency_ar", "region_ar", "hours_ramadan"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Centre {
    pub id: String,
    pub name_ar: String,
    pub name_en: String,
    pub agency: String,
    /// The agency's name in Arabic, when the registry gives one.
    #[serde(default)]
    pub agency_ar: Option<String>,
    pub region: String,
    /// The region's name in Arabic, when the registry gives one.
    #[serde(default)]
    pub region_ar: Option<String>,
    /// IANA time zone name, e.g. `Asia/Amman`.
    pub timezone: String,
    // Written as its text (its `Display`).
    #[schema(value_type = String, example = "Sun-Thu 08:00-15:00")]
    pub hours: OpeningHours,
    /// The hours kept in Ramadan (by the Umm al-Qura calendar, in the centre's time zone),
    /// when they differ from `hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "Sun-Thu 09:00-14:00")]
    pub hours_ramadan: Option<OpeningHours>,
    /// E.164 numbers (`+9626...`).
    pub phones: Vec<String>,
    /// Absolute http(s) URLs.
    pub websites: Vec<String>,
    /// Free labels for selecting centres in schedules (`urban`, `pilot`, `carrier=mobile`).
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Centre {
    pub fn tz(&self) -> chrono_tz::Tz {
        // Validated at import; a stored centre always has a known zone.
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// The hours in force on the centre's local date `day`: `hours_ramadan` in Ramadan (when
    /// given), else `hours`.
    pub fn hours_on(&self, day: NaiveDate) -> &OpeningHours {
        match &self.hours_ramadan {
            Some(r) if crate::hijri::ramadan(day) => r,
            _ => &self.hours,
        }
    }
}

/// Weekly opening hours: one or more ranges of days, each with a time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours(pub Vec<HoursRange>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursRange {
    /// Days the window opens on, as a bit set over `Weekday::num_days_from_sunday()`.
    pub days: u8,
    pub open: NaiveTime,
    /// When `close <= open` the window runs past midnight into the next day; `24:00` is
    /// stored as 23:59:59.999.
    pub close: NaiveTime,
}

const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

fn day_index(name: &str) -> Option<u8> {
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(name))
        .map(|i| i as u8)
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    if s == "24:00" {
        return NaiveTime::from_hms_milli_opt(23, 59, 59, 999);
    }
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

fn fmt_time(t: NaiveTime) -> String {
    if t == NaiveTime::from_hms_milli_opt(23, 59, 59, 999).unwrap() {
        "24:00".into()
    } else {
        t.format("%H:%M").to_string()
    }
}

impl FromStr for OpeningHours {
    type Err = FieldError;

    /// `Sun-Thu 08:00-15:00`, several `;`-separated; days as `Sun`, `Sun-Thu` (wrapping,
    /// `Sat-Wed`) or lists `Sun,Tue`.
    fn from_str(s: &str) -> Result<Self, FieldError> {
        let mut ranges = Vec::new();
        for part in s.split(';').map(str::trim) {
            if part.is_empty() {
                continue;
            }
            let (days_text, times) = part.split_once(char::is_whitespace).ok_or_else(|| {
                FieldError(format!(
                    "'{part}': expected days and times, like 'Sun-Thu 08:00-15:00'"
                ))
            })?;
            let mut days = 0u8;
            for item in days_text.split(',') {
                let bits = match item.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (day_index(a), day_index(b));
                        let (Some(a), Some(b)) = (a, b) else {
                            return Err(FieldError(format!(
                                "'{item}': days are Sun Mon Tue Wed Thu Fri Sat"
                            )));
                        };
                        let mut bits = 0u8;
                        let mut d = a;
                        loop {
                            bits |= 1 << d;
                            if d == b {
                                break;
                            }
                            d = (d + 1) % 7;
                        }
                        bits
                    }
                    None => {
                        1 << day_index(item).ok_or_else(|| {
                            FieldError(format!("'{item}': days are Sun Mon Tue Wed Thu Fri Sat"))
                        })?
                    }
                };
                days |= bits;
            }
            let times = times.trim();
            let (open, close) = times
                .split_once('-')
                .and_then(|(a, b)| Some((parse_time(a.trim())?, parse_time(b.trim())?)))
                .ok_or_else(|| {
                    FieldError(format!(
                        "'{part}': expected days then a time range, like 'Sun-Thu 08:00-15:00'"
                    ))
                })?;
            if open == close {
                return Err(FieldError(format!(
                    "'{times}': opening and closing times are the same"
                )));
            }
            ranges.push(HoursRange { days, open, close });
        }
        if ranges.is_empty() {
            return Err(FieldError("no opening hours given".into()));
        }
        Ok(OpeningHours(ranges))
    }
}

impl fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(&fmt_days(r.days))?;
            write!(f, " {}-{}", fmt_time(r.open), fmt_time(r.close))?;
        }
        Ok(())
    }
}

/// Days as the shortest list of runs, e.g. `Sun-Thu` or `Sat,Mon-Wed`.
fn fmt_days(bits: u8) -> String {
    if bits == 0x7f {
        return "Sun-Sat".into();
    }
    // Start from a day that is closed so that a wrapping run (Sat-Wed) stays whole.
    let start = (0..7).find(|d| bits & (1 << d) == 0).unwrap_or(0);
    let mut runs = Vec::new();
    let mut i = 0;
    while i < 7 {
        let d = (start + i) % 7;
        if bits & (1 << d) != 0 {
            let first = d;
            let mut last = d;
            while i + 1 < 7 && bits & (1 << ((start + i + 1) % 7)) != 0 {
                i += 1;
                last = (start + i) % 7;
            }
            runs.push(if first == last {
                DAY_NAMES[first].to_string()
            } else {
                format!("{}-{}", DAY_NAMES[first], DAY_NAMES[last])
            });
        }
        i += 1;
    }
    runs.join(",")
}

impl HoursRange {
    pub fn opens_on(&self, day: Weekday) -> bool {
        self.days & (1 << day.num_days_from_sunday()) != 0
    }
}

impl OpeningHours {
    /// Whether the centre is open at this local date and time. A window that closes at or
    /// before it opens runs past midnight and belongs to the day it opened.
    pub fn is_open(&self, local: chrono::NaiveDateTime) -> bool {
        self.open_from_today(local) || self.open_from_yesterday(local)
    }

    /// Open at `local` in a window that opened on `local`'s own day.
    fn open_from_today(&self, local: chrono::NaiveDateTime) -> bool {
        let (day, t) = (local.weekday(), local.time());
        self.0
            .iter()
            .any(|r| r.opens_on(day) && r.open <= t && (t < r.close || r.close <= r.open))
    }

    /// Open at `local` in a window that opened the day before and runs past midnight.
    fn open_from_yesterday(&self, local: chrono::NaiveDateTime) -> bool {
        let (day, t) = (local.weekday().pred(), local.time());
        self.0
            .iter()
            .any(|r| r.close <= r.open && r.opens_on(day) && t < r.close)
    }
}

impl Centre {
    /// Whether the centre is open at `at` in its own time zone, by the hours in force on each
    /// day: a window past midnight keeps the hours of the day it opened (the last night of
    /// Ramadan runs on Ramadan hours into the first morning of Shawwal).
    pub fn is_open_at(&self, at: chrono::DateTime<chrono::Utc>) -> bool {
        let local = at.with_timezone(&self.tz()).naive_local();
        let today = local.date();
        self.hours_on(today).open_from_today(local)
            || today
                .pred_opt()
                .is_some_and(|y| self.hours_on(y).open_from_yesterday(local))
    }
}

impl Serialize for OpeningHours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for OpeningHours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `+` and 8 to 15 digits, the first not 0 (ITU-T E.164).
pub fn check_e164(n: &str) -> Result<(), FieldError> {
    let digits = n
        .strip_prefix('+')
        .ok_or_else(|| FieldError(format!("'{n}' is not E.164: it must start with +")))?;
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(FieldError(format!(
            "'{n}' is not E.164: only digits may follow +"
        )));
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(FieldError(format!(
            "'{n}' is not E.164: a country code (not 0) and 8 to 15 digits in all"
        )));
    }
    Ok(())
}

fn check_website(u: &str) -> Result<(), FieldError> {
    let shown = crate::redact::url(u);
    let url = url::Url::parse(u).map_err(|e| FieldError(format!("'{shown}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(FieldError(format!(
            "'{shown}' is not an http(s) URL with a host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError(format!(
            "'{shown}': a website with a user name or password is refused (it would be stored)"
        )));
    }
    Ok(())
}

fn check_id(id: &str) -> Result<(), FieldError> {
    if id.is_empty() {
        return Err(FieldError("id is empty".into()));
    }
    if id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(FieldError(format!(
            "id '{id}': use at most 64 letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(())
}

/// One refused row of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// As a spreadsheet numbers it: the header is row 1.
    pub row: u64,
    /// The file's line the row starts on; differs from `row` after a multi-line field.
    pub line: u64,
    pub problems: Vec<String>,
}

/// A registry value that fails its rule: the message names the value and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(pub String);

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Header { path: String, message: String },
    #[error("{path}: nothing imported; {n} bad row{s}:\n{list}", n = rows.len(), s = if rows.len() == 1 { "" } else { "s" }, list = fmt_rows(rows))]
    Rows { path: String, rows: Vec<RowError> },
}

fn fmt_rows(rows: &[RowError]) -> String {
    rows.iter()
        .map(|r| {
            let line = if r.line != r.row {
                format!(" (line {})", r.line)
            } else {
                String::new()
            };
            format!("  row {}{line}: {}", r.row, r.problems.join("; "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn split_list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// Reads a centres CSV file; see [`parse_csv`].
pub fn read_csv(path: &Path) -> Result<Vec<Centre>, RegistryError> {
    let bytes = std::fs::read(path).map_err(|source| RegistryError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_csv(&bytes, &path.display().to_string())
}

/// The longest a field may be, in characters: names and agencies are a line of text, the
/// lists (phones, websites, tags) a handful of entries. A registry row is shown on every page
/// and API answer that names its centre, so a runaway cell would be served again and again.
fn max_chars(column: &str) -> usize {
    match column {
        "name_ar" | "name_en" | "agency" | "agency_ar" | "region" | "region_ar" => 200,
        "timezone" => 64,
        "hours" | "hours_ramadan" => 300,
        _ => 2000,
    }
}

/// A field's length and characters: no control characters (NUL, escapes, tabs) in any cell
/// but the line breaks a quoted field may hold, and no more than [`max_chars`].
fn check_field(column: &str, value: &str) -> Option<String> {
    let control = |c: &char| c.is_control() && !matches!(c, '\n' | '\r');
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| control(c)) {
        return Some(format!(
            "{column} has a control character (U+{:04X}) at character {}",
            c as u32,
            at + 1
        ));
    }
    let n = value.chars().count();
    let max = max_chars(column);
    (n > max).then(|| format!("{column} is {n} characters long (at most {max})"))
}

/// Entries a list cell (phones, websites, tags) may hold.
const MAX_LIST: usize = 20;

/// Whether `bytes` are UTF-16 text: by byte-order mark, or, without one, by the zero byte in
/// every other position that ASCII text in UTF-16 has.
fn utf16(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\xFF\xFE") {
        return Some("UTF-16 (little-endian, with a byte-order mark)");
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Some("UTF-16 (big-endian, with a byte-order mark)");
    }
    let head = &bytes[..bytes.len().min(512) & !1];
    if head.len() < 8 {
        return None;
    }
    let zeros = |offset: usize| {
        head.iter()
            .skip(offset)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let pairs = head.len() / 2;
    if zeros(1) * 10 >= pairs * 9 && zeros(0) * 10 < pairs {
        Some("UTF-16 (little-endian, without a byte-order mark)")
    } else if zeros(0) * 10 >= pairs * 9 && zeros(1) * 10 < pairs {
        Some("UTF-16 (big-endian, without a byte-order mark)")
    } else {
        None
    }
}

/// Parses and checks every row; any problem refuses the whole file.
pub fn parse_csv(bytes: &[u8], path: &str) -> Result<Vec<Centre>, RegistryError> {
    if let Some(which) = utf16(bytes) {
        return Err(RegistryError::Header {
            path: path.to_string(),
            message: format!(
                "the file is {which}, not UTF-8: save it as \"CSV UTF-8\" (or convert it with \
                 iconv -f UTF-16 -t UTF-8)"
            ),
        });
    }
    // Spreadsheets save UTF-8 with a byte-order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header_err = |message: String| RegistryError::Header {
        path: path.to_string(),
        message,
    };
    let headers = reader
        .headers()
        .map_err(|e| header_err(format!("cannot read the header row: {e}")))?
        .clone();
    let mut index = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if index.insert(h.to_string(), i).is_some() {
            return Err(header_err(format!("column '{h}' appears twice")));
        }
    }
    let missing: Vec<_> = COLUMNS
        .iter()
        .filter(|c| !index.contains_key(**c))
        .collect();
    if !missing.is_empty() {
        return Err(header_err(format!(
            "missing column{} {}; the header must name {}",
            if missing.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", "),
            COLUMNS.join(",")
        )));
    }
    let unknown: Vec<_> = headers
        .iter()
        .filter(|h| !COLUMNS.contains(h) && !OPTIONAL_COLUMNS.contains(h))
        .collect();
    if !unknown.is_empty() {
        return Err(header_err(format!(
            "unknown column(s) {}",
            unknown.join(", ")
        )));
    }

    let mut centres = Vec::new();
    let mut bad = Vec::new();
    let mut first_row_of: HashMap<String, u64> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let row = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| line_of(bytes, p.byte())).unwrap_or(0);
                bad.push(RowError {
                    row,
                    line,
                    problems: vec![format!("unreadable: {e}")],
                });
                continue;
            }
        };
        let line = record
            .position()
            .map(|p| line_of(bytes, p.byte()))
            .unwrap_or(0);
        let mut problems = Vec::new();
        if record.len() != headers.len() {
            problems.push(format!(
                "has {} fields, the header has {}",
                record.len(),
                headers.len()
            ));
            bad.push(RowError {
                row,
                line,
                problems,
            });
            continue;
        }
        let field = |name: &str| {
            index
                .get(name)
                .and_then(|&i| record.get(i))
                .unwrap_or("")
                .to_string()
        };
        for (name, value) in headers.iter().zip(record.iter()) {
            if let Some(e) = check_field(name, value) {
                problems.push(e);
            }
        }
        let id = field("id");
        if let Err(e) = check_id(&id) {
            problems.push(e.0);
        } else if let Some(first) = first_row_of.get(&id) {
            problems.push(format!("duplicate id '{id}' (first on row {first})"));
        } else {
            first_row_of.insert(id.clone(), row);
        }
        for name in ["name_ar", "name_en", "agency", "region"] {
            if field(name).is_empty() {
                problems.push(format!("{name} is empty"));
            }
        }
        let timezone = field("timezone");
        if timezone.parse::<chrono_tz::Tz>().is_err() {
            problems.push(format!(
                "unknown time zone '{timezone}' (use an IANA name such as Asia/Amman)"
            ));
        }
        let hours = match field("hours").parse::<OpeningHours>() {
            Ok(h) => Some(h),
            Err(e) => {
                problems.push(format!("hours: {e}"));
                None
            }
        };
        let ramadan_text = field("hours_ramadan");
        let hours_ramadan = match ramadan_text.trim() {
            "" => None,
            text => match text.parse::<OpeningHours>() {
                Ok(h) => Some(h),
                Err(e) => {
                    problems.push(format!("hours_ramadan: {e}"));
                    None
                }
            },
        };
        let phones = split_list(&field("phones"));
        for p in &phones {
            if let Err(e) = check_e164(p) {
                problems.push(format!("phones: {e}"));
            }
        }
        let websites = split_list(&field("websites"));
        for w in &websites {
            if let Err(e) = check_website(w) {
                problems.push(format!("websites: {e}"));
            }
        }
        if phones.is_empty() && websites.is_empty() {
            problems.push("neither phones nor websites: nothing to audit".into());
        }
        let tags = split_list(&field("tags"));
        for (name, list) in [
            ("phones", &phones),
            ("websites", &websites),
            ("tags", &tags),
        ] {
            if list.len() > MAX_LIST {
                problems.push(format!(
                    "{name} has {} entries (at most {MAX_LIST})",
                    list.len()
                ));
            }
        }
        for t in &tags {
            if t.chars().any(|c| c.is_whitespace() || c == ',') {
                problems.push(format!(
                    "tags: '{t}' has a space or comma (separate tags with ;)"
                ));
            }
        }
        match (problems.is_empty(), hours) {
            (true, Some(hours)) => centres.push(Centre {
                id,
                name_ar: field("name_ar"),
                name_en: field("name_en"),
                agency: field("agency"),
                agency_ar: Some(field("agency_ar")).filter(|a| !a.trim().is_empty()),
                region: field("region"),
                region_ar: Some(field("region_ar")).filter(|a| !a.trim().is_empty()),
                timezone,
                hours,
                hours_ramadan,
                phones,
                websites,
                tags,
            }),
            _ => bad.push(RowError {
                row,
                line,
                problems,
            }),
        }
    }
    if !bad.is_empty() {
        return Err(RegistryError::Rows {
            path: path.to_string(),
            rows: bad,
        });
    }
    Ok(centres)
}

/// The 1-based line a record starts on. csv's own counters are off with CRLF files (its
/// position points at the `\n` of the previous `\r\n`), so count from the first byte that
/// is not a line ending.
fn line_of(bytes: &[u8], offset: u64) -> u64 {
    let mut start = (offset as usize).min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
        start += 1;
    }
    bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// An agency filter naming no agency of the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownAgency {
    #[error("no agency '{0}': the registry is empty (raqib centres import FILE.csv)")]
    EmptyRegistry(String),
    #[error("no agency '{agency}' in the registry; known agencies: {known}")]
    Unknown {
        agency: String,
        /// The registry's, quoted and comma-separated.
        known: String,
    },
}

/// An agency filter must name an agency of `centres`: a typo would otherwise select nothing,
/// and an empty list reads as "no centre is flagged".
pub fn check_agency(centres: &[Centre], agency: &str) -> Result<(), UnknownAgency> {
    let mut known: Vec<&str> = centres.iter().map(|c| c.agency.as_str()).collect();
    known.sort();
    known.dedup();
    if known.contains(&agency) {
        return Ok(());
    }
    if known.is_empty() {
        return Err(UnknownAgency::EmptyRegistry(agency.to_string()));
    }
    Err(UnknownAgency::Unknown {
        agency: agency.to_string(),
        known: known
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Shell-style selection of centre ids: `*` any run, `?` one character; several patterns
/// separated by commas.
pub fn glob_match(patterns: &str, id: &str) -> bool {
    patterns
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .any(|p| glob_one(p.as_bytes(), id.as_bytes()))
}

fn glob_one(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_parse_and_print_back() {
        for (input, canonical) in [
            ("Sun-Thu 08:00-15:00", "Sun-Thu 08:00-15:00"),
            (
                "sun-thu 08:00-15:00; Sat 09:00-12:00",
                "Sun-Thu 08:00-15:00; Sat 09:00-12:00",
            ),
            ("Sat-Wed 22:00-02:00", "Sat-Wed 22:00-02:00"),
            ("Mon,Wed,Fri 07:30-24:00", "Mon,Wed,Fri 07:30-24:00"),
            ("Sun-Sat 00:00-24:00", "Sun-Sat 00:00-24:00"),
            ("Fri-Sun 10:00-11:00", "Fri-Sun 10:00-11:00"),
        ] {
            let h: OpeningHours = input.parse().unwrap();
            assert_eq!(h.to_string(), canonical, "{input}");
            assert_eq!(canonical.parse::<OpeningHours>().unwrap(), h);
        }
        let sat_wed: OpeningHours = "Sat-Wed 08:00-12:00".parse().unwrap();
        assert!(sat_wed.0[0].opens_on(Weekday::Sat));
        assert!(sat_wed.0[0].opens_on(Weekday::Sun));
        assert!(!sat_wed.0[0].opens_on(Weekday::Thu));
    }

    #[test]
    fn open_or_closed_in_the_centres_own_time() {
        use chrono::{NaiveDate, TimeZone};
        let at = |d: u32, h: u32, m: u32| {
            NaiveDate::from_ymd_opt(2026, 11, d)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
        };
        // 2026-11-22 is a Sunday.
        let h: OpeningHours = "Sun-Thu 08:00-15:00".parse().unwrap();
        assert!(h.is_open(at(22, 8, 0)));
        assert!(!h.is_open(at(22, 15, 0)), "closing time is closed");
        assert!(!h.is_open(at(27, 10, 0)), "Friday");
        let night: OpeningHours = "Sat-Wed 22:00-02:00".parse().unwrap();
        assert!(night.is_open(at(22, 23, 0)), "Sunday evening");
        assert!(
            night.is_open(at(23, 1, 30)),
            "Monday 01:30 belongs to Sunday's window"
        );
        assert!(
            night.is_open(at(26, 1, 30)),
            "Thursday 01:30 belongs to Wednesday's window"
        );
        assert!(
            !night.is_open(at(27, 1, 30)),
            "Friday 01:30: Thursday has no window"
        );
        let split: OpeningHours = "Sun-Thu 07:30-13:30; Sun-Thu 16:00-20:00".parse().unwrap();
        assert!(!split.is_open(at(22, 14, 0)));
        assert!(split.is_open(at(22, 16, 0)));
        // The same UTC instant, open in Amman (UTC+3) and closed in Casablanca (UTC+1).
        let utc = chrono::Utc
            .with_ymd_and_hms(2026, 11, 23, 5, 30, 0)
            .unwrap(); // Monday
        let mut c = parse_csv(SAMPLE_CSV.as_bytes(), "x").unwrap().remove(0);
        c.hours = "Mon-Fri 08:00-16:30".parse().unwrap();
        c.timezone = "Asia/Amman".into();
        assert!(c.is_open_at(utc), "08:30 in Amman");
        c.timezone = "Africa/Casablanca".into();
        assert!(!c.is_open_at(utc), "06:30 in Casablanca");
    }

    #[test]
    fn bad_hours_are_refused() {
        for bad in [
            "",
            "Sun-Thu",
            "Sun-Thu 8-15",
            "Sun-Thu 08:00",
            "Sunday 08:00-15:00",
            "Sun 25:00-26:00",
            "Sun 08:00-08:00",
        ] {
            assert!(bad.parse::<OpeningHours>().is_err(), "{bad}");
        }
    }

    #[test]
    fn e164() {
        assert!(check_e164("+96265000101").is_ok());
        assert!(check_e164("96265000101").is_err());
        assert!(check_e164("+0123456789").is_err());
        assert!(check_e164("+9626500A101").is_err());
        assert!(check_e164("+1234567").is_err());
        assert!(check_e164("+1234567890123456").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("jo-*", "jo-amman-civil"));
        assert!(glob_match("sa-*,jo-*", "jo-amman-civil"));
        assert!(!glob_match("jo-*", "sa-riyadh"));
        assert!(glob_match("*civil*", "jo-amman-civil"));
        assert!(glob_match("jo-?mman*", "jo-amman-civil"));
        assert!(glob_match("*", "x"));
        assert!(!glob_match("a*b", "acbx"));
    }

    #[test]
    fn sample_centres_are_valid() {
        let c = parse_csv(SAMPLE_CSV.as_bytes(), "config/centres.csv").unwrap();
        assert!(c.len() >= 10);
    }

    #[test]
    fn an_optional_tags_column_is_read_and_checked() {
        let head = "id,name_ar,name_en,agency,region,timezone,hours,phones,websites,tags\n";
        let ok = format!(
            "{head}a,م,A,G,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,,urban; pilot\n\
             b,م,B,G,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000102,,\n"
        );
        let c = parse_csv(ok.as_bytes(), "t.csv").unwrap();
        assert_eq!(c[0].tags, ["urban", "pilot"]);
        assert!(c[1].tags.is_empty());
        let bad =
            format!("{head}a,م,A,G,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,,north east\n");
        let e = parse_csv(bad.as_bytes(), "t.csv").unwrap_err().to_string();
        assert!(
            e.contains("row 2") && e.contains("'north east' has a space"),
            "{e}"
        );
    }

    #[test]
    fn optional_arabic_agency_and_region_names_are_read_and_blank_is_none() {
        let head =
            "id,name_ar,name_en,agency,agency_ar,region,region_ar,timezone,hours,phones,websites\n";
        let csv = format!(
            "{head}a,م,A,Health,دائرة الصحة,Irbid,إربد,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,\n\
             b,م,B,Health, ,R,,Asia/Amman,Sun-Thu 08:00-15:00,+96265000102,\n"
        );
        let c = parse_csv(csv.as_bytes(), "t.csv").unwrap();
        assert_eq!(c[0].agency_ar.as_deref(), Some("دائرة الصحة"));
        assert_eq!(c[0].region_ar.as_deref(), Some("إربد"));
        assert_eq!(c[1].agency_ar, None);
        assert_eq!(c[1].region_ar, None);
        let sample = parse_csv(SAMPLE_CSV.as_bytes(), "config/centres.csv").unwrap();
        assert!(sample
            .iter()
            .all(|c| c.agency_ar.is_some() && c.region_ar.is_some()));
        let long = format!(
            "{head}a,م,A,G,{},R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000101,\n",
            "ج".repeat(201)
        );
        assert!(parse_csv(long.as_bytes(), "t.csv").is_err());
    }

    #[test]
    fn an_optional_hours_ramadan_column_valid_invalid_with_its_row_and_absent() {
        let head =
            "id,name_ar,name_en,agency,region,timezone,hours,hours_ramadan,phones,websites\n";
        let ok = format!(
            "{head}a,م,A,G,R,Asia/Riyadh,Sun-Thu 07:30-14:30,sun-thu 10:00-15:00,+966110000001,\n\
             b,م,B,G,R,Asia/Riyadh,Sun-Thu 07:30-14:30, ,+966110000002,\n"
        );
        let c = parse_csv(ok.as_bytes(), "t.csv").unwrap();
        assert_eq!(
            c[0].hours_ramadan
                .as_ref()
                .map(|h| h.to_string())
                .as_deref(),
            Some("Sun-Thu 10:00-15:00")
        );
        assert_eq!(c[1].hours_ramadan, None, "blank: the same hours all year");
        let bad = format!(
            "{head}a,م,A,G,R,Asia/Riyadh,Sun-Thu 07:30-14:30,Sun-Thu 10:00-15:00,+966110000001,\n\
             b,م,B,G,R,Asia/Riyadh,Sun-Thu 07:30-14:30,Sun-Thu 10am-3pm,+966110000002,\n"
        );
        let e = parse_csv(bad.as_bytes(), "t.csv").unwrap_err().to_string();
        assert!(
            e.contains("nothing imported; 1 bad row") && e.contains("row 3: hours_ramadan: "),
            "{e}"
        );
        // A file without the column: no centre has Ramadan hours.
        let absent = parse_csv(SAMPLE_CSV.as_bytes(), "config/centres.csv").unwrap();
        assert!(absent.iter().all(|c| c.hours_ramadan.is_none()));
        // JSON: written as text, left out when absent, read back the same.
        let json = serde_json::to_value(&c[0]).unwrap();
        assert_eq!(json["hours_ramadan"], "Sun-Thu 10:00-15:00");
        assert!(serde_json::to_value(&c[1])
            .unwrap()
            .get("hours_ramadan")
            .is_none());
        let back: Centre = serde_json::from_value(json).unwrap();
        assert_eq!(back, c[0]);
    }

    #[test]
    fn in_ramadan_the_centre_keeps_its_ramadan_hours_2027_and_2028() {
        use chrono::TimeZone;
        let csv = "id,name_ar,name_en,agency,region,timezone,hours,hours_ramadan,phones,websites\n\
            a,م,A,G,R,Asia/Riyadh,Sun-Thu 07:30-14:30,Sun-Thu 10:00-15:00,+966110000001,\n\
            n,م,N,G,R,Asia/Riyadh,Sun-Thu 07:30-14:30,Sun-Sat 20:00-02:00,+966110000002,\n";
        let c = parse_csv(csv.as_bytes(), "t.csv").unwrap();
        let (day, night) = (&c[0], &c[1]);
        // Riyadh is UTC+3; local times below.
        let at = |y, mo, d, h, mi| {
            chrono_tz::Asia::Riyadh
                .with_ymd_and_hms(y, mo, d, h, mi, 0)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        // Wednesday 10 February 2027, 3 Ramadan 1448.
        assert!(
            !day.is_open_at(at(2027, 2, 10, 8, 0)),
            "08:00: normal hours only"
        );
        assert!(
            day.is_open_at(at(2027, 2, 10, 14, 45)),
            "14:45: Ramadan hours only"
        );
        // Sunday 7 February 2027, 30 Sha'ban: normal hours still.
        assert!(day.is_open_at(at(2027, 2, 7, 8, 0)));
        assert!(!day.is_open_at(at(2027, 2, 7, 14, 45)));
        // Wednesday 10 March 2027, 2 Shawwal: normal hours again.
        assert!(day.is_open_at(at(2027, 3, 10, 8, 0)));
        assert!(!day.is_open_at(at(2027, 3, 10, 14, 45)));
        // Sunday 30 January 2028, 3 Ramadan 1449, and Sunday 27 February 2028, 2 Shawwal.
        assert!(!day.is_open_at(at(2028, 1, 30, 8, 0)));
        assert!(day.is_open_at(at(2028, 1, 30, 14, 45)));
        assert!(day.is_open_at(at(2028, 2, 27, 8, 0)));
        assert!(!day.is_open_at(at(2028, 2, 27, 14, 45)));
        // The last night of Ramadan 1448 (29 Ramadan, Monday 8 March 2027) runs on Ramadan
        // hours past midnight into 1 Shawwal; the next night has none.
        assert!(night.is_open_at(at(2027, 3, 8, 23, 0)));
        assert!(night.is_open_at(at(2027, 3, 9, 1, 30)));
        assert!(!night.is_open_at(at(2027, 3, 9, 23, 0)));
        assert!(!night.is_open_at(at(2027, 3, 10, 1, 30)));
        // The first night: not open at 01:30 on 1 Ramadan (Sha'ban's hours the day before).
        assert!(!night.is_open_at(at(2027, 2, 8, 1, 30)));
        assert!(night.is_open_at(at(2027, 2, 9, 1, 30)));
    }
}
