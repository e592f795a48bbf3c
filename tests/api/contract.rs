//! Checks real responses against the OpenAPI document (public/openapi.json, generated
//! from src/api/): the status is listed for the operation, and the response's headers,
//! content type and body conform. Schemas are checked with the `jsonschema` crate
//! (JSON Schema 2020-12, the dialect of OpenAPI 3.1).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::Value;

use crate::common::TestResponse;

/// The OpenAPI document, parsed once.
pub struct Spec {
    pub doc: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/public/openapi.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        Spec::new(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")))
    })
}

impl Spec {
    pub fn new(doc: Value) -> Self {
        Self {
            doc,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// Follows a local `$ref` (`#/a/b`), repeatedly.
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> Result<&'a Value, String> {
        for _ in 0..32 {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return Ok(value);
            };
            let pointer = reference
                .strip_prefix('#')
                .ok_or_else(|| format!("only local $refs are supported: {reference}"))?;
            value = self
                .doc
                .pointer(pointer)
                .ok_or_else(|| format!("unresolved $ref {reference}"))?;
        }
        Err("$ref chain too long".into())
    }

    /// The operation object for `method` on `path` (the path as written in the document).
    pub fn operation(&self, method: &str, path: &str) -> Result<&Value, String> {
        let item = self
            .doc
            .get("paths")
            .and_then(|p| p.get(path))
            .ok_or_else(|| format!("path {path} is not in the document"))?;
        item.get(method.to_ascii_lowercase())
            .ok_or_else(|| format!("{method} {path} is not in the document"))
    }

    /// Checks a response to `method path` against its operation: the status is listed, and the
    /// matching response's headers, content type and body conform.
    pub fn check(&self, method: &str, path: &str, response: &TestResponse) -> Result<(), String> {
        let operation = self.operation(method, path)?;
        let responses = operation
            .get("responses")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{method} {path} has no responses"))?;
        let status = response.status.to_string();
        let range = format!("{}XX", &status[..1]);
        let definition = responses
            .get(&status)
            .or_else(|| responses.get(&range))
            .or_else(|| responses.get("default"))
            .ok_or_else(|| {
                format!(
                    "{method} {path}: status {status} is not documented (documented: {:?}); body: {}",
                    responses.keys().collect::<Vec<_>>(),
                    response.body
                )
            })?;
        self.check_response(definition, method, response)
            .map_err(|e| format!("{method} {path} -> {status}: {e}"))
    }

    /// Checks a response against a named `#/components/responses/...` (404 and 405, which no
    /// single operation lists).
    pub fn check_component(
        &self,
        name: &str,
        method: &str,
        response: &TestResponse,
    ) -> Result<(), String> {
        let definition = self
            .doc
            .pointer(&format!("/components/responses/{name}"))
            .ok_or_else(|| format!("no component response {name}"))?;
        self.check_response(definition, method, response)
            .map_err(|e| format!("{name} ({}): {e}", response.status))
    }

    fn check_response(
        &self,
        definition: &Value,
        method: &str,
        response: &TestResponse,
    ) -> Result<(), String> {
        let definition = self.resolve(definition)?;
        let mut errors = Vec::new();

        if let Some(headers) = definition.get("headers").and_then(Value::as_object) {
            for (name, header) in headers {
                let header = self.resolve(header)?;
                let required = header.get("required").and_then(Value::as_bool) == Some(true);
                match response.header(name) {
                    None if required => errors.push(format!("required header {name} is missing")),
                    None => {}
                    Some(value) => {
                        let schema = header.get("schema").cloned().unwrap_or(Value::Bool(true));
                        let schema = self.resolve(&schema)?;
                        let instance = header_instance(value, schema);
                        for e in self.validate(schema, &instance) {
                            errors.push(format!("header {name}: {value:?}: {e}"));
                        }
                    }
                }
            }
        }

        let content = definition.get("content").and_then(Value::as_object);
        match content {
            None => {
                if !response.body.is_empty() {
                    errors.push(format!(
                        "no content is documented but the body is {:?}",
                        response.body
                    ));
                }
            }
            Some(_) if method.eq_ignore_ascii_case("HEAD") => {
                errors.push("a HEAD response must not document content".into());
            }
            Some(media_types) => {
                let actual = response.header("content-type").unwrap_or_default();
                let essence = actual
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                match media_types.get(&essence) {
                    None => errors.push(format!(
                        "content type {actual:?} is not documented (documented: {:?})",
                        media_types.keys().collect::<Vec<_>>()
                    )),
                    Some(media) => {
                        let schema = media.get("schema").cloned().unwrap_or(Value::Bool(true));
                        let instance = if essence == "application/json" {
                            match serde_json::from_str::<Value>(&response.body) {
                                Ok(v) => Some(v),
                                Err(e) => {
                                    errors.push(format!("body is not JSON: {e}"));
                                    None
                                }
                            }
                        } else {
                            Some(Value::String(response.body.clone()))
                        };
                        if let Some(instance) = instance {
                            for e in self.validate(&schema, &instance) {
                                errors.push(format!("body: {e}"));
                            }
                        }
                    }
                }
            }
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}\n  body: {}",
                errors.join("\n  "),
                truncate(&response.body)
            ))
        }
    }

    /// Every way `instance` breaks `schema` (empty when it conforms), each with the JSON
    /// pointer of the offending value. `schema` may refer into the document
    /// (`#/components/...`).
    pub fn validate(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let validator = self.validator(schema);
        validator
            .iter_errors(instance)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("{}: {e}", if at.is_empty() { "/" } else { at.as_str() })
            })
            .collect()
    }

    fn validator(&self, schema: &Value) -> Arc<Validator> {
        let key = schema.to_string();
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = cache.get(&key) {
            return v.clone();
        }
        // The schema becomes the root of a resource that also holds the document's
        // components, so its local `$ref`s resolve as they do inside the document.
        let root = match schema {
            Value::Object(map) => {
                let mut map = map.clone();
                map.insert("components".into(), self.doc["components"].clone());
                Value::Object(map)
            }
            other => other.clone(),
        };
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema {key} does not compile: {e}"));
        let validator = Arc::new(validator);
        cache.insert(key, validator.clone());
        validator
    }
}

fn header_instance(value: &str, schema: &Value) -> Value {
    let wants_number = match schema.get("type") {
        Some(Value::String(t)) => t == "integer" || t == "number",
        _ => false,
    };
    if wants_number {
        if let Ok(n) = value.trim().parse::<i64>() {
            return Value::from(n);
        }
        if let Ok(n) = value.trim().parse::<f64>() {
            return Value::from(n);
        }
    }
    Value::String(value.to_owned())
}

fn truncate(text: &str) -> String {
    const MAX: usize = 300;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}...", text.chars().take(MAX).collect::<String>())
    }
}
