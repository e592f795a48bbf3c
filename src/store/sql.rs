//! SQL with its parameters, numbered by the builder.
//!
//! A statement is text interleaved with bound values; guards (conditions shared by
//! several statements of one batch) are `Sql` values too and are spliced in whole. The
//! placeholders `?1, ?2, ...` are assigned only when the statement is rendered, in the
//! order the values appear, so no SQL string in the project carries a hand-written
//! index that could point at the wrong value.
//!
//! ```text
//! sql!["UPDATE users SET password_hash = " (new) " WHERE id = " (id) " AND " [guard]]
//! ```
//! `"..."` is SQL text, `(expr)` a bound value, `[expr]` another `Sql`, `{expr}` SQL text
//! computed in code (constants and policy expressions, never input).

/// A bound SQL parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arg<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Text(s)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(s: Option<&'a str>) -> Self {
        s.map_or(Arg::Null, Arg::Text)
    }
}

#[derive(Clone, Debug)]
enum Part<'a> {
    Text(&'static str),
    Computed(String),
    Bind(Arg<'a>),
}

#[derive(Clone, Debug, Default)]
pub struct Sql<'a> {
    parts: Vec<Part<'a>>,
}

impl<'a> Sql<'a> {
    /// SQL text. A `?` here would be a placeholder the builder does not know about.
    pub fn push(mut self, text: &'static str) -> Self {
        debug_assert!(!text.contains('?'), "placeholders come from bind(): {text}");
        self.parts.push(Part::Text(text));
        self
    }

    /// SQL text computed in code (constants, policy expressions), never input.
    pub fn push_computed(mut self, text: String) -> Self {
        debug_assert!(!text.contains('?'), "placeholders come from bind(): {text}");
        self.parts.push(Part::Computed(text));
        self
    }

    pub fn bind(mut self, value: impl Into<Arg<'a>>) -> Self {
        self.parts.push(Part::Bind(value.into()));
        self
    }

    /// `(v1, v2, ...)` for `IN`, each value bound; `(NULL)` for none, which matches nothing.
    pub fn list(values: &'a [String]) -> Self {
        if values.is_empty() {
            return Sql::default().push("(NULL)");
        }
        let mut out = Sql::default().push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out = out.push(", ");
            }
            out = out.bind(v);
        }
        out.push(")")
    }

    pub fn append(mut self, other: Sql<'a>) -> Self {
        self.parts.extend(other.parts);
        self
    }

    /// The text with `?1..?n` in order of appearance, and the values in that order.
    pub fn render(&self) -> (String, Vec<Arg<'a>>) {
        let mut text = String::new();
        let mut args = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Computed(t) => text.push_str(t),
                Part::Bind(a) => {
                    args.push(*a);
                    text.push('?');
                    text.push_str(&args.len().to_string());
                }
            }
        }
        (text, args)
    }
}

/// Builds an [`Sql`]; see the module documentation.
macro_rules! sql {
    (@acc $s:ident ;) => {};
    (@acc $s:ident ; $text:literal $($rest:tt)*) => {
        $s = $s.push($text); $crate::store::sql::sql!(@acc $s ; $($rest)*)
    };
    (@acc $s:ident ; ($value:expr) $($rest:tt)*) => {
        $s = $s.bind($value); $crate::store::sql::sql!(@acc $s ; $($rest)*)
    };
    (@acc $s:ident ; [$other:expr] $($rest:tt)*) => {
        $s = $s.append($other); $crate::store::sql::sql!(@acc $s ; $($rest)*)
    };
    (@acc $s:ident ; {$text:expr} $($rest:tt)*) => {
        $s = $s.push_computed(($text).into()); $crate::store::sql::sql!(@acc $s ; $($rest)*)
    };
    ($($rest:tt)*) => {{
        #[allow(unused_mut)]
        let mut s = $crate::store::sql::Sql::default();
        $crate::store::sql::sql!(@acc s ; $($rest)*);
        s
    }};
}
pub(crate) use sql;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_bind_each_value_in_order() {
        let values = vec!["a".to_string(), "b".to_string()];
        let stmt = sql!["SELECT 1 WHERE x = " (7) " AND y IN " [Sql::list(&values)]];
        let (text, args) = stmt.render();
        assert_eq!(text, "SELECT 1 WHERE x = ?1 AND y IN (?2, ?3)");
        assert_eq!(args, vec![Arg::Int(7), Arg::Text("a"), Arg::Text("b")]);
        assert_eq!(Sql::list(&[]).render().0, "(NULL)");
    }

    #[test]
    fn numbers_placeholders_in_order_across_spliced_guards() {
        let guard =
            sql!["EXISTS (SELECT 1 FROM users WHERE id = " ("u1") " AND n = " ("nonce") ")"];
        let stmt = sql![
            "UPDATE t SET a = " (5_i64) " WHERE k = " ("key") " AND " [guard.clone()]
            " AND " [guard] " AND x IS " (None::<&str>)
        ];
        let (text, args) = stmt.render();
        assert_eq!(
            text,
            "UPDATE t SET a = ?1 WHERE k = ?2 AND EXISTS (SELECT 1 FROM users WHERE id = ?3 \
             AND n = ?4) AND EXISTS (SELECT 1 FROM users WHERE id = ?5 AND n = ?6) AND x IS ?7"
        );
        assert_eq!(
            args,
            vec![
                Arg::Int(5),
                Arg::Text("key"),
                Arg::Text("u1"),
                Arg::Text("nonce"),
                Arg::Text("u1"),
                Arg::Text("nonce"),
                Arg::Null
            ]
        );
    }

    #[test]
    fn computed_text_is_spliced_verbatim() {
        let limit = 5;
        let (text, args) = sql!["SELECT " {format!("{limit}")} " WHERE 1"].render();
        assert_eq!(text, "SELECT 5 WHERE 1");
        assert!(args.is_empty());
    }

    #[test]
    #[should_panic(expected = "placeholders come from bind()")]
    fn a_hand_written_placeholder_is_refused() {
        let _ = sql!["SELECT 1 WHERE id = ?1"];
    }
}
