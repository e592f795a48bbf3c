//! A small builder for the document's operations. It derives what follows from the types
//! and the error values instead of repeating it per operation: schemas (`$ref`s into
//! `components/schemas`, filled by schemars), the error codes and examples of a failure
//! (from `ApiError` itself: code, message, extra fields), the headers each response
//! carries (from `ApiError::headers`), and the HEAD and OPTIONS operations.

use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, SchemaGenerator};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;

const HEADERS: &str = "#/components/headers/";

/// Every documented body starts with this sentence for a 400.
pub const BAD_BODY: &str = "The body is not a JSON object (invalid JSON, an array, a string ...), a required field is missing or a field is not a string.";

pub struct Doc {
    requests: SchemaGenerator,
    responses: SchemaGenerator,
    paths: Map<String, Value>,
}

impl Default for Doc {
    fn default() -> Self {
        let settings = |contract| {
            SchemaSettings::draft2020_12().with(|s| {
                s.definitions_path = "/components/schemas".into();
                s.meta_schema = None;
                s.contract = contract;
            })
        };
        Self {
            // A request field that serde fills with a default is optional; a response
            // field is always there (null when absent), so the two contracts differ.
            requests: SchemaGenerator::new(settings(Contract::Deserialize)),
            responses: SchemaGenerator::new(settings(Contract::Serialize)),
            paths: Map::new(),
        }
    }
}

impl Doc {
    pub fn get(&mut self, path: &str, id: &str, tag: &str, summary: &str) -> Op<'_> {
        self.op("GET", path, id, tag, summary)
    }

    pub fn post(&mut self, path: &str, id: &str, tag: &str, summary: &str) -> Op<'_> {
        self.op("POST", path, id, tag, summary)
    }

    pub fn delete(&mut self, path: &str, id: &str, tag: &str, summary: &str) -> Op<'_> {
        self.op("DELETE", path, id, tag, summary)
    }

    fn op(&mut self, method: &str, path: &str, id: &str, tag: &str, summary: &str) -> Op<'_> {
        Op {
            doc: self,
            method: method.to_owned(),
            path: path.to_owned(),
            value: json!({ "operationId": id, "summary": summary, "tags": [tag], "responses": {} }),
        }
    }

    /// A response schema registered by type (a `$ref` for named types).
    pub fn response_schema<T: JsonSchema>(&mut self) -> Value {
        self.responses.subschema_for::<T>().to_value()
    }

    /// The paths and every schema the operations referred to.
    pub fn finish(mut self) -> (Map<String, Value>, Map<String, Value>) {
        let mut schemas = self.requests.take_definitions(true);
        schemas.extend(self.responses.take_definitions(true));
        (self.paths, schemas)
    }
}

pub struct Op<'a> {
    doc: &'a mut Doc,
    method: String,
    path: String,
    value: Value,
}

impl Op<'_> {
    pub fn describe(mut self, text: &str) -> Self {
        self.value["description"] = json!(text);
        self
    }

    /// An optional query parameter.
    pub fn query(self, name: &str, schema: Value, description: &str) -> Self {
        self.parameter("query", name, schema, description)
    }

    /// The `{name}` segment of the path.
    pub fn path_segment(self, name: &str, schema: Value, description: &str) -> Self {
        self.parameter("path", name, schema, description)
    }

    fn parameter(mut self, place: &str, name: &str, schema: Value, description: &str) -> Self {
        if self.value.get("parameters").is_none() {
            self.value["parameters"] = json!([]);
        }
        self.value["parameters"]
            .as_array_mut()
            .expect("parameters is an array")
            .push(json!({
                "name": name,
                "in": place,
                "required": place == "path",
                "description": description,
                "schema": schema,
            }));
        self
    }

    pub fn bearer(mut self) -> Self {
        self.value["security"] = json!([{ "bearerAuth": [] }]);
        self
    }

    /// A required JSON body of type `T`, with named examples.
    pub fn body<T: JsonSchema>(self, examples: &[(&str, Value)]) -> Self {
        self.request::<T>(true, examples)
    }

    /// A JSON body that may be left out.
    pub fn optional_body<T: JsonSchema>(self, examples: &[(&str, Value)]) -> Self {
        self.request::<T>(false, examples)
    }

    fn request<T: JsonSchema>(mut self, required: bool, examples: &[(&str, Value)]) -> Self {
        let schema = self.doc.requests.subschema_for::<T>().to_value();
        let named: Map<String, Value> = examples
            .iter()
            .map(|(name, value)| ((*name).to_owned(), json!({ "value": value })))
            .collect();
        self.value["requestBody"] = json!({
            "required": required,
            "content": { "application/json": { "schema": schema, "examples": named } }
        });
        // Every route with a body refuses other media types the same way.
        self.shared(415, "UnsupportedMediaType")
    }

    /// The success answer: a JSON body of type `T` with one example.
    pub fn replies<T: JsonSchema + Serialize>(
        mut self,
        status: u16,
        description: &str,
        example: &T,
    ) -> Self {
        let schema = self.doc.response_schema::<T>();
        let media = json!({ "schema": schema, "example": example });
        self.set(
            status,
            success(description, Some(("application/json", media))),
        );
        self
    }

    /// The success answer of `/v1/login`: one schema, several named examples.
    pub fn replies_one_of<T: JsonSchema>(
        mut self,
        status: u16,
        description: &str,
        examples: &[(&str, &str, Value)],
    ) -> Self {
        let schema = self.doc.response_schema::<T>();
        let named: Map<String, Value> = examples
            .iter()
            .map(|(name, summary, value)| {
                (
                    (*name).to_owned(),
                    json!({ "summary": summary, "value": value }),
                )
            })
            .collect();
        let media = json!({ "schema": schema, "examples": named });
        self.set(
            status,
            success(description, Some(("application/json", media))),
        );
        self
    }

    /// A success answer with a schema given by hand (the HTML page, this document).
    pub fn replies_with(
        mut self,
        status: u16,
        description: &str,
        media_type: &str,
        media: Value,
    ) -> Self {
        self.set(status, success(description, Some((media_type, media))));
        self
    }

    /// A success answer without a body (204).
    pub fn empty(mut self, status: u16, description: &str) -> Self {
        self.set(status, success(description, None));
        self
    }

    /// Adds a header to the success answer (Cache-Control of public documents, the CSP
    /// of the page).
    pub fn success_header(mut self, name: &str, component: &str) -> Self {
        if let Some(response) = self.success_mut() {
            response["headers"][name] = header_ref(component);
        }
        self
    }

    /// An OpenAPI link from the success answer to the operation a client calls next.
    pub fn link(mut self, name: &str, operation: &str, body: Value, description: &str) -> Self {
        if let Some(response) = self.success_mut() {
            response["links"][name] = json!({ "operationId": operation, "requestBody": body, "description": description });
        }
        self
    }

    /// A failure: its codes, examples and headers all come from the errors given.
    pub fn fails(mut self, status: u16, description: &str, errors: &[ApiError]) -> Self {
        self.set(status, failure(description, errors));
        self
    }

    /// A failure whose text starts with [`BAD_BODY`].
    pub fn bad_body(self, more: &str, errors: &[ApiError]) -> Self {
        let description = if more.is_empty() {
            BAD_BODY.to_owned()
        } else {
            format!("{BAD_BODY} {more}")
        };
        self.fails(400, &description, errors)
    }

    /// A failure described once in `components/responses`.
    pub fn shared(mut self, status: u16, component: &str) -> Self {
        self.set(
            status,
            json!({ "$ref": format!("#/components/responses/{component}") }),
        );
        self
    }

    fn set(&mut self, status: u16, response: Value) {
        self.value["responses"][status.to_string()] = response;
    }

    fn success_mut(&mut self) -> Option<&mut Value> {
        let responses = self.value["responses"].as_object_mut()?;
        responses
            .iter_mut()
            .find(|(status, _)| status.starts_with('2'))
            .map(|(_, r)| r)
    }

    /// Adds the operation, its HEAD twin for a GET, and the path's CORS preflight.
    pub fn add(self) {
        let Op {
            doc,
            method,
            path,
            mut value,
        } = self;
        // A `{name}` segment belongs to the path, so that HEAD and OPTIONS have it too.
        let mut in_path = Vec::new();
        if let Some(Value::Array(parameters)) = value.get_mut("parameters") {
            parameters.retain(|p| {
                let keep = p["in"] != "path";
                if !keep {
                    in_path.push(p.clone());
                }
                keep
            });
            if parameters.is_empty() {
                value.as_object_mut().map(|o| o.remove("parameters"));
            }
        }
        let head = (method == "GET").then(|| head_of(&value, &super::components::responses()));
        let item = doc.paths.entry(path.clone()).or_insert_with(|| json!({}));
        if !in_path.is_empty() {
            item["parameters"] = Value::Array(in_path);
        }
        if let Some(head) = head {
            item["head"] = head;
        }
        item["options"] = preflight(&method, &path);
        item[method.to_ascii_lowercase()] = value;
    }
}

fn header_ref(component: &str) -> Value {
    json!({ "$ref": format!("{HEADERS}{component}") })
}

/// Every response carries these two.
fn base_headers() -> Value {
    json!({
        "X-Content-Type-Options": header_ref("XContentTypeOptions"),
        "Cache-Control": header_ref("CacheControlNoStore"),
    })
}

fn success(description: &str, content: Option<(&str, Value)>) -> Value {
    let mut response = json!({ "description": description, "headers": base_headers() });
    if let Some((media_type, media)) = content {
        response["content"] = json!({ media_type: media });
    }
    response
}

/// An error response for `errors`: `Error` narrowed to their codes, one example each
/// (the body the Worker renders for it), and the headers they carry.
pub fn failure(description: &str, errors: &[ApiError]) -> Value {
    let codes: Vec<&str> = errors.iter().map(ApiError::code).collect();
    let mut narrowed = json!({ "properties": { "error": { "enum": codes } } });
    if errors.iter().all(|e| e.body().get("retry_after").is_some()) {
        narrowed["required"] = json!(["retry_after"]);
    }
    let examples: Map<String, Value> = errors
        .iter()
        .map(|e| (e.code().to_owned(), json!({ "value": e.body() })))
        .collect();

    let mut headers = base_headers();
    let carrying = |name: &str| {
        errors
            .iter()
            .filter(|e| e.headers().iter().any(|(h, _)| *h == name))
            .count()
    };
    let all = errors.len();
    for (name, component) in [("Retry-After", "RetryAfter"), ("Allow", "Allow")] {
        if carrying(name) == all {
            headers[name] = header_ref(component);
        }
    }
    match carrying("WWW-Authenticate") {
        0 => {}
        n if n == all => headers["WWW-Authenticate"] = header_ref("WWWAuthenticate"),
        _ => headers["WWW-Authenticate"] = header_ref("WWWAuthenticateWhenBearer"),
    }

    json!({
        "description": description,
        "headers": headers,
        "content": { "application/json": {
            "schema": { "allOf": [{ "$ref": "#/components/schemas/Error" }, narrowed] },
            "examples": examples,
        } }
    })
}

/// HEAD answers what GET answers, without a body.
fn head_of(get: &Value, shared: &Map<String, Value>) -> Value {
    let mut head = get.clone();
    let id = get["operationId"].as_str().unwrap_or_default();
    let mut chars = id.chars();
    let capitalised: String = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .into_iter()
        .chain(chars)
        .collect();
    head["operationId"] = json!(format!("head{capitalised}"));
    head["summary"] = json!(format!(
        "{} (headers only)",
        get["summary"].as_str().unwrap_or_default()
    ));
    head["description"] = json!("The same as GET, without a body.");
    if let Some(responses) = head["responses"].as_object_mut() {
        for response in responses.values_mut() {
            if let Some(name) = response["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/responses/"))
            {
                *response = shared.get(name).cloned().unwrap_or_default();
            }
            if let Some(r) = response.as_object_mut() {
                r.remove("content");
                r.remove("links");
            }
        }
    }
    head
}

fn preflight(method: &str, path: &str) -> Value {
    let words: String = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect::<String>()
        })
        .collect();
    let id = if words.is_empty() {
        "preflightRoot".to_owned()
    } else {
        format!("preflight{words}")
    };
    let mut headers = base_headers();
    for (name, component) in [
        ("Access-Control-Allow-Methods", "AccessControlAllowMethods"),
        ("Access-Control-Allow-Origin", "AccessControlAllowOrigin"),
        ("Access-Control-Allow-Headers", "AccessControlAllowHeaders"),
        ("Access-Control-Max-Age", "AccessControlMaxAge"),
        ("Vary", "Vary"),
    ] {
        headers[name] = header_ref(component);
    }
    json!({
        "operationId": id,
        "summary": "CORS preflight",
        "tags": ["cors"],
        "description": format!("Answers a browser's preflight for `{method} {path}`. The CORS headers are added only for an `Origin` allowed by `CORS_ALLOWED_ORIGINS` (none by default); credentials are never allowed."),
        "responses": { "204": { "description": "Preflight answered.", "headers": headers } }
    })
}
