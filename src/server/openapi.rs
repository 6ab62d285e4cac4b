//! The OpenAPI 3.1 document of the API. Its schemas are generated (utoipa) from the same
//! types serde writes the answers from, so a changed field changes the document; the API test
//! checks every answer it receives against it.

use std::sync::OnceLock;

use serde_json::Value;
use utoipa::OpenApi;

/// The types the API answers with; utoipa adds every type they contain.
#[derive(OpenApi)]
#[openapi(components(schemas(
    crate::registry::Centre,
    crate::probe::call::CallResult,
    crate::probe::web::WebResult,
    crate::score::CentreScores,
    crate::verdict::ResultScoring,
    crate::score::cases::CaseStatus,
    crate::score::load::Labelled,
    crate::store::users::User,
    crate::store::signins::SigninAttempt,
    crate::store::StoredLabel,
    crate::store::Case,
    crate::store::Sweep,
    super::Health,
    Error,
)))]
struct Generated;

/// The body of every answer but 2xx.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Error {
    /// What went wrong, for people.
    pub error: String,
}

/// The paths, parameters, responses and the schemas of answers assembled by hand
/// (`openapi.json`), with the generated schemas merged in.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc: Value =
            serde_json::from_str(include_str!("openapi.json")).expect("openapi.json is JSON");
        let generated = serde_json::to_value(Generated::openapi()).expect("the document");
        let schemas = doc["components"]["schemas"]
            .as_object_mut()
            .expect("components.schemas");
        for (name, schema) in generated["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            assert!(
                schemas.insert(name.clone(), schema.clone()).is_none(),
                "{name} is both written by hand and generated"
            );
        }
        doc
    })
}

#[cfg(test)]
mod tests {
    /// Every `$ref` names a component that is there.
    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                        out.push(r);
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = super::document();
        if let Ok(path) = std::env::var("RAQIB_OPENAPI_OUT") {
            std::fs::write(path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
        }
        let mut all = Vec::new();
        refs(doc, &mut all);
        assert!(all.len() > 20);
        for r in all {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{r} is not local"));
            assert!(doc.pointer(pointer).is_some(), "{r} names nothing");
        }
    }
}
