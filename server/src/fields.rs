//! Reading the fields of a JSON object with errors that name the field and the problem,
//! such as `batch[3].timestamp: must be an RFC 3339 date-time, got "yesterday"`.
//!
//! A field that is `null` counts as absent, since JavaScript clients send `null` for
//! "not set".

use serde_json::{Map, Value};

use crate::datetime;

/// Why a request body was refused: the path of the field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct Invalid {
    /// Where the problem is, such as `batch[3].timestamp` or `categories.necessary`.
    pub path: String,
    /// What is wrong, such as `is required`.
    pub problem: String,
}

impl Invalid {
    /// A problem with the field at `path`.
    pub fn new(path: impl Into<String>, problem: impl Into<String>) -> Invalid {
        Invalid {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

/// Shorthand for results of reading a field.
pub type Result<T, E = Invalid> = std::result::Result<T, E>;

/// Longest rendering of a bad value quoted back in an error.
const QUOTE_CHARS: usize = 60;

/// `value` as JSON, shortened so that an error never echoes a whole body.
pub fn quote(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= QUOTE_CHARS {
        text
    } else {
        let mut short: String = text.chars().take(QUOTE_CHARS - 1).collect();
        short.push('…');
        short
    }
}

/// The fields of one JSON object, found at `path` in the body.
#[derive(Debug)]
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    /// What the paths of its fields start with (empty: their bare names).
    path: String,
    /// What errors about the object as a whole call it.
    name: String,
}

impl<'a> Fields<'a> {
    /// The fields of `value`, which must be an object; `path` names it in errors
    /// (empty for the body itself, which errors then call `body`).
    pub fn of(value: &'a Value, path: impl Into<String>) -> Result<Fields<'a>> {
        let path = path.into();
        let name = if path.is_empty() { "body" } else { &path }.to_owned();
        Fields::read(value, path, name)
    }

    /// The fields of `value`, which must be an object, named by their bare names in
    /// errors; errors about the object as a whole call it `name`.
    pub fn top(value: &'a Value, name: &str) -> Result<Fields<'a>> {
        Fields::read(value, String::new(), name.to_owned())
    }

    fn read(value: &'a Value, path: String, name: String) -> Result<Fields<'a>> {
        match value {
            Value::Object(object) => Ok(Fields { object, path, name }),
            other => Err(Invalid::new(
                name,
                format!("must be a JSON object, got {}", quote(other)),
            )),
        }
    }

    /// The path of field `name`, as errors show it.
    pub fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// An error about this object as a whole.
    pub fn invalid(&self, problem: impl Into<String>) -> Invalid {
        Invalid::new(self.name.clone(), problem)
    }

    /// An error about field `name`.
    pub fn invalid_field(&self, name: &str, problem: impl Into<String>) -> Invalid {
        Invalid::new(self.path_of(name), problem)
    }

    /// The raw value of field `name`, unless it is absent or `null`.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|v| !v.is_null())
    }

    /// The names of the fields present.
    pub fn names(&self) -> impl Iterator<Item = &'a str> {
        self.object.keys().map(String::as_str)
    }

    /// Field `name`, which must be present.
    pub fn required(&self, name: &str) -> Result<&'a Value> {
        self.get(name)
            .ok_or_else(|| self.invalid_field(name, "is required"))
    }

    /// Optional string field `name`: if present, non-empty and at most `max_chars`
    /// characters long.
    pub fn optional_str(&self, name: &str, max_chars: usize) -> Result<Option<&'a str>> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let Value::String(text) = value else {
            return Err(self.invalid_field(name, format!("must be a string, got {}", quote(value))));
        };
        if text.is_empty() {
            return Err(self.invalid_field(name, "must not be empty"));
        }
        let chars = text.chars().count();
        if chars > max_chars {
            return Err(self.invalid_field(
                name,
                format!("is {chars} characters long; the limit is {max_chars}"),
            ));
        }
        Ok(Some(text))
    }

    /// Required string field `name`: non-empty and at most `max_chars` characters.
    pub fn required_str(&self, name: &str, max_chars: usize) -> Result<&'a str> {
        self.required(name)?;
        Ok(self
            .optional_str(name, max_chars)?
            .expect("a present field is read"))
    }

    /// Required string field `name`, which must be one of `choices`.
    pub fn one_of(&self, name: &str, choices: &[&'static str]) -> Result<&'static str> {
        let value = self.required(name)?;
        value
            .as_str()
            .and_then(|text| choices.iter().copied().find(|c| *c == text))
            .ok_or_else(|| {
                self.invalid_field(
                    name,
                    format!(
                        "must be one of {}, got {}",
                        choices.join(", "),
                        quote(value)
                    ),
                )
            })
    }

    /// Required RFC 3339 date-time field `name`, in the stored UTC form.
    pub fn date_time(&self, name: &str) -> Result<String> {
        let value = self.required(name)?;
        self.date_time_value(name, value)
    }

    /// Optional RFC 3339 date-time field `name`, in the stored UTC form.
    pub fn optional_date_time(&self, name: &str) -> Result<Option<String>> {
        self.get(name)
            .map(|value| self.date_time_value(name, value))
            .transpose()
    }

    fn date_time_value(&self, name: &str, value: &Value) -> Result<String> {
        value.as_str().and_then(datetime::normalize).ok_or_else(|| {
            self.invalid_field(
                name,
                format!("must be an RFC 3339 date-time, got {}", quote(value)),
            )
        })
    }

    /// Required boolean field `name`.
    pub fn bool(&self, name: &str) -> Result<bool> {
        let value = self.required(name)?;
        value.as_bool().ok_or_else(|| {
            self.invalid_field(name, format!("must be true or false, got {}", quote(value)))
        })
    }

    /// Optional field `name`, which must be an object if present.
    pub fn optional_object(&self, name: &str) -> Result<Option<Fields<'a>>> {
        self.get(name)
            .map(|value| {
                Fields::of(value, self.path_of(name)).map_err(|_| {
                    self.invalid_field(name, format!("must be an object, got {}", quote(value)))
                })
            })
            .transpose()
    }

    /// Required field `name`, which must be an object.
    pub fn object(&self, name: &str) -> Result<Fields<'a>> {
        self.required(name)?;
        Ok(self
            .optional_object(name)?
            .expect("a present field is read"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err<T: std::fmt::Debug>(result: Result<T>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_path_and_the_problem() {
        let body = json!({
            "s": "ok", "empty": "", "n": 7, "long": "abcdef", "none": null,
            "at": "yesterday", "yes": "yes", "obj": {"k": 1}, "list": [1]
        });
        let f = Fields::of(&body, "batch[3]").unwrap();
        assert_eq!(f.required_str("s", 10), Ok("ok"));
        assert_eq!(
            err(f.required_str("missing", 10)),
            "batch[3].missing: is required"
        );
        assert_eq!(
            err(f.required_str("none", 10)),
            "batch[3].none: is required"
        );
        assert_eq!(f.optional_str("none", 10), Ok(None));
        assert_eq!(
            err(f.required_str("empty", 10)),
            "batch[3].empty: must not be empty"
        );
        assert_eq!(
            err(f.required_str("n", 10)),
            "batch[3].n: must be a string, got 7"
        );
        assert_eq!(
            err(f.required_str("long", 3)),
            "batch[3].long: is 6 characters long; the limit is 3"
        );
        assert_eq!(
            err(f.date_time("at")),
            r#"batch[3].at: must be an RFC 3339 date-time, got "yesterday""#
        );
        assert_eq!(
            err(f.bool("yes")),
            r#"batch[3].yes: must be true or false, got "yes""#
        );
        assert!(f.optional_object("obj").unwrap().is_some());
        assert_eq!(
            err(f.object("list")),
            "batch[3].list: must be an object, got [1]"
        );
        assert_eq!(
            err(f.one_of("s", &["a", "b"])),
            r#"batch[3].s: must be one of a, b, got "ok""#
        );
    }

    #[test]
    fn the_body_itself_and_long_values() {
        assert_eq!(
            err(Fields::of(&json!([1, 2]), "")),
            "body: must be a JSON object, got [1,2]"
        );
        assert_eq!(
            err(Fields::top(&json!(null), "message")),
            "message: must be a JSON object, got null"
        );
        let body = json!({ "at": 1 });
        let f = Fields::top(&body, "message").unwrap();
        assert_eq!(
            err(f.date_time("at")),
            "at: must be an RFC 3339 date-time, got 1"
        );
        assert_eq!(err(Err::<(), _>(f.invalid("is odd"))), "message: is odd");
        let body = json!({ "n": "x".repeat(200) });
        let f = Fields::of(&body, "").unwrap();
        let message = err(f.bool("n"));
        assert!(
            message.starts_with("n: must be true or false, got \"xxx"),
            "{message}"
        );
        assert!(
            message.ends_with('…') && message.chars().count() < 120,
            "{message}"
        );
    }
}
