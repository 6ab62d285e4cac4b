//! Every API answer the tests receive is checked against the schema the OpenAPI document
//! declares for its path, method and status: a response cannot drift from the document unseen.
//! One `python3` with `jsonschema` (Draft 2020-12, as OpenAPI 3.1 is) serves the whole test
//! binary, a line in and a line out per answer.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use serde_json::{json, Value};

/// Reads the document once, then per line `{method, path, status, body}` (path may carry a
/// query string), answering `"ok"` or what is wrong, as a JSON string on one line.
const CHECKER: &str = r#"
import json, re, sys
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

spec = json.loads(sys.stdin.readline())
registry = Registry().with_resource(
    "urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012))

def esc(s):
    return s.replace("~", "~0").replace("/", "~1")

def template(path):
    if path in spec["paths"]:
        return path
    for t in spec["paths"]:
        if re.fullmatch(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(t)), path):
            return t
    return None

def deref(obj, pointer):
    while "$ref" in obj:
        pointer = obj["$ref"][1:]
        obj = spec
        for part in pointer.strip("/").split("/"):
            obj = obj[part.replace("~1", "/").replace("~0", "~")]
    return obj, pointer

def check(r):
    path = r["path"].split("?")[0]
    t = template(path)
    if t is None:
        return f"{path} is not in the document"
    op = spec["paths"][t].get(r["method"].lower())
    if op is None:
        return f"{r['method']} {t} is not in the document"
    status = str(r["status"])
    key = status if status in op["responses"] else "default"
    if key not in op["responses"]:
        return f"{r['method']} {t} answered {status}, which the document does not list"
    pointer = f"/paths/{esc(t)}/{r['method'].lower()}/responses/{key}"
    resp, pointer = deref(op["responses"][key], pointer)
    media = resp.get("content", {}).get("application/json")
    if media is None:
        return f"{r['method']} {t} {status}: the document gives no application/json body"
    schema = {"$ref": f"urn:spec#{pointer}/content/application~1json/schema"}
    errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(r["body"]),
                    key=lambda e: list(e.absolute_path))
    if errors:
        return f"{r['method']} {t} {status}: " + "; ".join(
            f"at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
    return "ok"

for line in sys.stdin:
    try:
        answer = check(json.loads(line))
    except Exception as e:
        answer = f"the checker failed: {e!r}"
    print(json.dumps(answer), flush=True)
"#;

struct Checker {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// `None` when jsonschema is missing outside CI (a skip, said once).
static CHECKER_PROC: Mutex<Option<Option<Checker>>> = Mutex::new(None);

fn start(doc: &Value) -> Option<Checker> {
    if !crate::peers::python_module("jsonschema", "jsonschema") {
        eprintln!("SKIP: API answers are not checked against the OpenAPI document");
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", CHECKER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{doc}").unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    Some(Checker {
        _child: child,
        stdin,
        stdout,
    })
}

/// The document `/api/openapi.json` serves (the test `the_served_document_is_the_library_s`
/// holds them equal).
pub fn document() -> Value {
    raqib::server::openapi().clone()
}

/// Whether answers are checked here (jsonschema is installed).
pub fn available() -> bool {
    let mut guard = CHECKER_PROC.lock().unwrap_or_else(|e| e.into_inner());
    guard.get_or_insert_with(|| start(&document())).is_some()
}

/// What is wrong with an answer by the document (`None`: nothing, or no checker here).
pub fn problem(method: &str, path: &str, status: u16, body: &Value) -> Option<String> {
    let mut guard = CHECKER_PROC.lock().unwrap_or_else(|e| e.into_inner());
    let checker = guard.get_or_insert_with(|| start(&document())).as_mut()?;
    let line = json!({"method": method, "path": path, "status": status, "body": body});
    writeln!(checker.stdin, "{line}").expect("the schema checker reads");
    let mut answer = String::new();
    checker.stdout.read_line(&mut answer).unwrap();
    let answer: String = serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("the schema checker said {answer:?}: {e}"));
    (answer != "ok").then_some(answer)
}

/// Panics unless the answer is a JSON body that the document declares for it.
pub fn check(method: &str, path: &str, status: u16, head: &str, body: &str) {
    // The connection cap refuses a connection before reading any request: no route answered.
    if head == CAP_REFUSAL && body.is_empty() {
        return;
    }
    assert!(
        head.lines()
            .any(|l| l.eq_ignore_ascii_case("content-type: application/json; charset=utf-8")),
        "{method} {path} {status}: not JSON: {head}"
    );
    let v: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: not JSON ({e}): {body}"));
    if let Some(p) = problem(method, path, status, &v) {
        panic!("the answer breaks the OpenAPI document: {p}\n{v}");
    }
}

/// What `serve` writes to a connection beyond `[server] max_connections`.
const CAP_REFUSAL: &str =
    "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0";

/// Whether a request's answer is the API's (the dashboard's pages and evidence are not).
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.split('?').next() == Some("/healthz")
}
