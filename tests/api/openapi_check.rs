//! Checks real responses against the OpenAPI document (public/openapi.json).
//!
//! A small JSON Schema validator over serde_json for exactly the subset the document uses:
//! `$ref` (local), `type` (one or a list), `const`, `enum`, `required`, `properties`,
//! `additionalProperties` (bool or schema), `items`, `minItems`, `maxItems`, `minLength`,
//! `maxLength`, `minimum`, `maximum`, `pattern`, `oneOf`, `anyOf`, `allOf`, `not`. Annotations
//! (`description`, `example(s)`, `discriminator`, `title`, `format`) are ignored. Any other
//! keyword is reported as an error, so the document cannot silently outgrow the validator.
//! `pattern` uses the regex subset in [`Regex`].

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::TestResponse;

const ANNOTATIONS: &[&str] = &[
    "description",
    "example",
    "examples",
    "discriminator",
    "title",
    "format",
    "summary",
];

/// The OpenAPI document, parsed once.
pub struct Spec {
    pub doc: Value,
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
        Self { doc }
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

    /// Every way `instance` breaks `schema` (empty when it conforms), each with a JSON pointer.
    pub fn validate(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate_at(schema, instance, "", &mut errors);
        errors
    }

    fn validate_at(&self, schema: &Value, instance: &Value, at: &str, errors: &mut Vec<String>) {
        let here = if at.is_empty() { "/" } else { at };
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                errors.push(format!("{here}: no value is allowed here"));
                return;
            }
            Value::Object(map) => map,
            other => {
                errors.push(format!("{here}: schema is not an object: {other}"));
                return;
            }
        };
        for (keyword, arg) in schema {
            match keyword.as_str() {
                "$ref" => match arg
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|pointer| self.doc.pointer(pointer))
                {
                    Some(target) => self.validate_at(target, instance, at, errors),
                    None => errors.push(format!("{here}: unresolved $ref {arg}")),
                },
                "type" => {
                    let allowed: Vec<&str> = match arg {
                        Value::String(t) => vec![t.as_str()],
                        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                        _ => vec![],
                    };
                    if !allowed.iter().any(|t| has_type(instance, t)) {
                        errors.push(format!(
                            "{here}: expected type {}, got {}",
                            allowed.join(" or "),
                            short(instance)
                        ));
                    }
                }
                "const" => {
                    if instance != arg {
                        errors.push(format!("{here}: expected {arg}, got {}", short(instance)));
                    }
                }
                "enum" => {
                    let options = arg.as_array().map(Vec::as_slice).unwrap_or_default();
                    if !options.contains(instance) {
                        errors.push(format!("{here}: {} is not one of {arg}", short(instance)));
                    }
                }
                "required" => {
                    if let Some(object) = instance.as_object() {
                        for name in arg.as_array().into_iter().flatten() {
                            let name = name.as_str().unwrap_or_default();
                            if !object.contains_key(name) {
                                errors.push(format!("{here}: required property {name:?} is missing"));
                            }
                        }
                    }
                }
                "properties" => {
                    if let (Some(object), Some(properties)) = (instance.as_object(), arg.as_object())
                    {
                        for (name, sub) in properties {
                            if let Some(value) = object.get(name) {
                                self.validate_at(sub, value, &format!("{at}/{name}"), errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Some(object) = instance.as_object() {
                        let declared: BTreeSet<&str> = schema
                            .get("properties")
                            .and_then(Value::as_object)
                            .map(|p| p.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        for (name, value) in object {
                            if !declared.contains(name.as_str()) {
                                if arg == &Value::Bool(false) {
                                    errors.push(format!("{here}: unexpected property {name:?}"));
                                } else {
                                    self.validate_at(arg, value, &format!("{at}/{name}"), errors);
                                }
                            }
                        }
                    }
                }
                "items" => {
                    if let Some(items) = instance.as_array() {
                        for (i, item) in items.iter().enumerate() {
                            self.validate_at(arg, item, &format!("{at}/{i}"), errors);
                        }
                    }
                }
                "minItems" | "maxItems" => {
                    if let Some(items) = instance.as_array() {
                        let bound = arg.as_u64().unwrap_or_default() as usize;
                        let ok = if keyword == "minItems" {
                            items.len() >= bound
                        } else {
                            items.len() <= bound
                        };
                        if !ok {
                            errors.push(format!("{here}: {} items breaks {keyword} {bound}", items.len()));
                        }
                    }
                }
                "minLength" | "maxLength" => {
                    if let Some(text) = instance.as_str() {
                        let chars = text.chars().count();
                        let bound = arg.as_u64().unwrap_or_default() as usize;
                        let ok = if keyword == "minLength" {
                            chars >= bound
                        } else {
                            chars <= bound
                        };
                        if !ok {
                            errors.push(format!("{here}: {chars} characters breaks {keyword} {bound}"));
                        }
                    }
                }
                "minimum" | "maximum" => {
                    if let (Some(n), Some(bound)) = (instance.as_f64(), arg.as_f64()) {
                        let ok = if keyword == "minimum" {
                            n >= bound
                        } else {
                            n <= bound
                        };
                        if !ok {
                            errors.push(format!("{here}: {n} breaks {keyword} {bound}"));
                        }
                    }
                }
                "pattern" => {
                    if let Some(text) = instance.as_str() {
                        match Regex::new(arg.as_str().unwrap_or_default()) {
                            Ok(re) if re.is_match(text) => {}
                            Ok(_) => errors.push(format!(
                                "{here}: {} does not match {arg}",
                                short(instance)
                            )),
                            Err(e) => errors.push(format!("{here}: pattern {arg}: {e}")),
                        }
                    }
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let branches = arg.as_array().map(Vec::as_slice).unwrap_or_default();
                    let results: Vec<Vec<String>> = branches
                        .iter()
                        .map(|b| {
                            let mut e = Vec::new();
                            self.validate_at(b, instance, at, &mut e);
                            e
                        })
                        .collect();
                    let passing = results.iter().filter(|e| e.is_empty()).count();
                    match keyword.as_str() {
                        "allOf" => errors.extend(results.into_iter().flatten()),
                        "anyOf" if passing == 0 => errors.push(format!(
                            "{here}: matches no anyOf branch: {}",
                            results.concat().join("; ")
                        )),
                        "oneOf" if passing != 1 => errors.push(format!(
                            "{here}: matches {passing} oneOf branches, not exactly one: {}",
                            results.concat().join("; ")
                        )),
                        _ => {}
                    }
                }
                "not" => {
                    let mut e = Vec::new();
                    self.validate_at(arg, instance, at, &mut e);
                    if e.is_empty() {
                        errors.push(format!("{here}: matches a schema it must not match: {arg}"));
                    }
                }
                k if ANNOTATIONS.contains(&k) => {}
                other => errors.push(format!(
                    "{here}: unsupported schema keyword {other:?} (teach tests/api/openapi_check.rs)"
                )),
            }
        }
    }
}

/// A header value as the instance its schema describes: numbers for integer/number schemas.
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

fn has_type(instance: &Value, t: &str) -> bool {
    match t {
        "null" => instance.is_null(),
        "boolean" => instance.is_boolean(),
        "object" => instance.is_object(),
        "array" => instance.is_array(),
        "string" => instance.is_string(),
        "number" => instance.is_number(),
        "integer" => {
            instance.is_i64()
                || instance.is_u64()
                || instance.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn short(value: &Value) -> String {
    truncate(&value.to_string())
}

fn truncate(text: &str) -> String {
    const MAX: usize = 300;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}...", text.chars().take(MAX).collect::<String>())
    }
}

// ------------------------------------------------------------------------------------------------
// A small backtracking regex for `pattern`.

/// The ECMA-262 subset used in the document: `^` and `$` (at the ends), literals, `.`,
/// escapes (`\.`, `\-`, `\d`, `\w`, `\s` ...), classes with ranges (`[a-z0-9._-]`, `[^...]`),
/// groups (`(...)`, `(?:...)`) with alternation `|`, and the quantifiers `*`, `+`, `?`, `{n}`,
/// `{n,}`, `{n,m}` (greedy). Anything else is a parse error, never a silent mismatch.
pub struct Regex {
    alternatives: Vec<Vec<Node>>,
}

#[derive(Debug, Clone)]
enum Node {
    Start,
    End,
    Char(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Group(Vec<Vec<Node>>),
    Repeat {
        node: Box<Node>,
        min: usize,
        max: Option<usize>,
    },
}

impl Regex {
    pub fn new(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let alternatives = parse_alternatives(&chars, &mut pos)?;
        if pos != chars.len() {
            return Err(format!("unbalanced ')' at {pos} in {pattern:?}"));
        }
        Ok(Self { alternatives })
    }

    /// Whether the pattern matches anywhere in `text` (JSON Schema patterns are unanchored).
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        (0..=chars.len()).any(|start| {
            self.alternatives
                .iter()
                .any(|alt| match_seq(alt, &chars, start, &|_| true))
        })
    }
}

fn parse_alternatives(p: &[char], pos: &mut usize) -> Result<Vec<Vec<Node>>, String> {
    let mut alternatives = vec![Vec::new()];
    while *pos < p.len() {
        let c = p[*pos];
        match c {
            ')' => break,
            '|' => {
                *pos += 1;
                alternatives.push(Vec::new());
                continue;
            }
            _ => {}
        }
        let atom = parse_atom(p, pos)?;
        let atom = parse_quantifier(p, pos, atom)?;
        alternatives.last_mut().unwrap().push(atom);
    }
    Ok(alternatives)
}

fn parse_atom(p: &[char], pos: &mut usize) -> Result<Node, String> {
    let c = p[*pos];
    *pos += 1;
    Ok(match c {
        '^' => Node::Start,
        '$' => Node::End,
        '.' => Node::Any,
        '(' => {
            if p.get(*pos) == Some(&'?') {
                if p.get(*pos + 1) != Some(&':') {
                    return Err("only (?:...) groups are supported".into());
                }
                *pos += 2;
            }
            let inner = parse_alternatives(p, pos)?;
            if p.get(*pos) != Some(&')') {
                return Err("unclosed group".into());
            }
            *pos += 1;
            Node::Group(inner)
        }
        '[' => parse_class(p, pos)?,
        '\\' => {
            let e = *p.get(*pos).ok_or("dangling backslash")?;
            *pos += 1;
            escape_node(e)?
        }
        '*' | '+' | '?' | '{' | '}' | ']' => return Err(format!("unexpected {c:?}")),
        c => Node::Char(c),
    })
}

fn escape_node(e: char) -> Result<Node, String> {
    let class = |ranges: Vec<(char, char)>, negated| Node::Class { ranges, negated };
    Ok(match e {
        'd' => class(vec![('0', '9')], false),
        'D' => class(vec![('0', '9')], true),
        'w' => class(WORD.to_vec(), false),
        'W' => class(WORD.to_vec(), true),
        's' => class(SPACE.to_vec(), false),
        'S' => class(SPACE.to_vec(), true),
        'n' => Node::Char('\n'),
        't' => Node::Char('\t'),
        'r' => Node::Char('\r'),
        c if c.is_ascii_alphanumeric() => return Err(format!("unsupported escape \\{c}")),
        c => Node::Char(c),
    })
}

const WORD: [(char, char); 4] = [('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')];
const SPACE: [(char, char); 6] = [
    (' ', ' '),
    ('\t', '\r'),
    ('\u{a0}', '\u{a0}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{3000}', '\u{3000}'),
];

fn parse_class(p: &[char], pos: &mut usize) -> Result<Node, String> {
    let mut negated = false;
    if p.get(*pos) == Some(&'^') {
        negated = true;
        *pos += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *p.get(*pos).ok_or("unclosed character class")?;
        *pos += 1;
        if c == ']' && !first {
            break;
        }
        first = false;
        let low = if c == '\\' {
            let e = *p.get(*pos).ok_or("dangling backslash")?;
            *pos += 1;
            match escape_node(e)? {
                Node::Char(ch) => ch,
                Node::Class {
                    ranges: r,
                    negated: false,
                } => {
                    ranges.extend(r);
                    continue;
                }
                _ => return Err(format!("unsupported escape \\{e} in a class")),
            }
        } else {
            c
        };
        // `a-z` is a range; a `-` first or last is a literal.
        if p.get(*pos) == Some(&'-') && p.get(*pos + 1).is_some_and(|&n| n != ']') {
            let mut high = p[*pos + 1];
            *pos += 2;
            if high == '\\' {
                high = *p.get(*pos).ok_or("dangling backslash")?;
                *pos += 1;
            }
            if high < low {
                return Err(format!("bad range {low}-{high}"));
            }
            ranges.push((low, high));
        } else {
            ranges.push((low, low));
        }
    }
    Ok(Node::Class { ranges, negated })
}

fn parse_quantifier(p: &[char], pos: &mut usize, atom: Node) -> Result<Node, String> {
    let (min, max) = match p.get(*pos) {
        Some('*') => (0, None),
        Some('+') => (1, None),
        Some('?') => (0, Some(1)),
        Some('{') => {
            let close = p[*pos..]
                .iter()
                .position(|&c| c == '}')
                .ok_or("unclosed {")?;
            let body: String = p[*pos + 1..*pos + close].iter().collect();
            let parse = |s: &str| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad quantifier {{{body}}}"))
            };
            let (min, max) = match body.split_once(',') {
                None => (parse(&body)?, Some(parse(&body)?)),
                Some((lo, "")) => (parse(lo)?, None),
                Some((lo, hi)) => (parse(lo)?, Some(parse(hi)?)),
            };
            *pos += close;
            (min, max)
        }
        _ => return Ok(atom),
    };
    *pos += 1;
    if matches!(atom, Node::Start | Node::End) {
        return Err("quantified anchor".into());
    }
    if matches!(p.get(*pos), Some('?' | '+')) {
        return Err("lazy and possessive quantifiers are not supported".into());
    }
    Ok(Node::Repeat {
        node: Box::new(atom),
        min,
        max,
    })
}

fn match_one(node: &Node, c: char) -> bool {
    match node {
        Node::Char(x) => *x == c,
        Node::Any => c != '\n' && c != '\r' && c != '\u{2028}' && c != '\u{2029}',
        Node::Class { ranges, negated } => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
        _ => false,
    }
}

/// Matches `seq` at `i`, then hands the end position to `k` (backtracking on its refusal).
fn match_seq(seq: &[Node], s: &[char], i: usize, k: &dyn Fn(usize) -> bool) -> bool {
    let Some((first, rest)) = seq.split_first() else {
        return k(i);
    };
    match first {
        Node::Start => i == 0 && match_seq(rest, s, i, k),
        Node::End => i == s.len() && match_seq(rest, s, i, k),
        Node::Char(_) | Node::Any | Node::Class { .. } => {
            i < s.len() && match_one(first, s[i]) && match_seq(rest, s, i + 1, k)
        }
        Node::Group(alternatives) => alternatives
            .iter()
            .any(|alt| match_seq(alt, s, i, &|j| match_seq(rest, s, j, k))),
        Node::Repeat { node, min, max } => {
            match_repeat(node, *min, *max, s, i, &|j| match_seq(rest, s, j, k))
        }
    }
}

fn match_repeat(
    node: &Node,
    min: usize,
    max: Option<usize>,
    s: &[char],
    i: usize,
    k: &dyn Fn(usize) -> bool,
) -> bool {
    // Greedy: one more repetition first (never an empty one), then stop if allowed.
    if max != Some(0) {
        let more = match_seq(std::slice::from_ref(node), s, i, &|j| {
            j != i && match_repeat(node, min.saturating_sub(1), max.map(|m| m - 1), s, j, k)
        });
        if more {
            return true;
        }
    }
    min == 0 && k(i)
}
