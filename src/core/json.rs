//! A small JSON writer for what souk sends, and a reader for what it receives (chat
//! messages, the FAQ). The wasm build carries no serde, and this is all the JSON it
//! needs.

use super::event::{Properties, Value};

/// Builds one JSON object, field by field, in order.
#[derive(Debug)]
pub struct Object {
    out: String,
}

impl Default for Object {
    fn default() -> Self {
        Self::new()
    }
}

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Object {
            out: String::from("{"),
        }
    }

    fn key(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        string(&mut self.out, key);
        self.out.push(':');
    }

    /// Adds a string field.
    pub fn text(&mut self, key: &str, value: &str) {
        self.key(key);
        string(&mut self.out, value);
    }

    /// Adds a boolean field.
    pub fn boolean(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
    }

    /// Adds a field whose value is already JSON.
    pub fn raw(&mut self, key: &str, json: &str) {
        self.key(key);
        self.out.push_str(json);
    }

    /// Adds a property value.
    pub fn value(&mut self, key: &str, value: &Value) {
        self.key(key);
        write_value(&mut self.out, value);
    }

    /// The finished object.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// Joins JSON values into a JSON array.
pub fn array<I: IntoIterator<Item = String>>(items: I) -> String {
    let items: Vec<String> = items.into_iter().collect();
    let mut out = String::with_capacity(items.iter().map(|item| item.len() + 1).sum::<usize>() + 2);
    out.push('[');
    out.push_str(&items.join(","));
    out.push(']');
    out
}

/// One property value as JSON.
pub fn value(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// Writes `properties` as a JSON object.
pub fn properties(properties: &Properties) -> String {
    let mut object = Object::new();
    for (key, value) in &properties.0 {
        object.value(key, value);
    }
    object.finish()
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        // Non-finite numbers never get here: the core refuses them on the way in.
        Value::Number(number) if number.is_finite() => number_text(out, *number),
        Value::Number(_) => out.push_str("null"),
        Value::Text(text) => string(out, text),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(props) => out.push_str(&properties(props)),
    }
}

/// A finite number as JSON text, the way JavaScript writes it: integers without a
/// fraction. Core's f64 formatting would add ~16 KB to the wasm build.
pub fn number(number: f64) -> String {
    let mut out = String::new();
    number_text(&mut out, number);
    out
}

fn number_text(out: &mut String, number: f64) {
    if number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0 {
        out.push_str(itoa_i64(number as i64).as_str());
    } else {
        out.push_str(ryu::Buffer::new().format_finite(number));
    }
}

/// An integer as decimal text, without the formatting machinery.
/// A whole number as JSON text, without the float formatting [`number`] needs.
pub fn integer(n: i64) -> String {
    itoa_i64(n)
}

fn itoa_i64(n: i64) -> String {
    let mut digits = Vec::with_capacity(20);
    let mut rest = n.unsigned_abs();
    loop {
        digits.push(b'0' + (rest % 10) as u8);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Writes `text` as a JSON string, escaping what JSON requires.
fn string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[(c as usize >> shift) & 0xf] as char);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A plain decimal such as `89.00` as a number, without pulling float parsing into
/// the wasm build (prices in JSON-LD are often strings, and souk stores some as text).
pub fn decimal(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.len() <= 15 && part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    let number = |part: &str| part.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')) as f64;
    Some(number(whole) + number(fraction) / 10f64.powi(fraction.len() as i32))
}

/// A JSON value, as [`parse`] reads it. Numbers keep their text, so reading
/// one costs no float parsing in the wasm build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    Text(String),
    /// An array.
    List(Vec<Json>),
    /// An object's fields, in order (a repeated name keeps every copy).
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The first field called `name`, if this is an object that has one.
    pub fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The number, if this is a whole number from 0 to 2^53 written without a
    /// fraction or exponent.
    pub fn as_u64(&self) -> Option<u64> {
        let Json::Number(digits) = self else {
            return None;
        };
        let n = digits.bytes().try_fold(0u64, |n, b| {
            b.is_ascii_digit()
                .then(|| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
                .flatten()
        })?;
        (n <= 1 << 53).then_some(n)
    }
}

/// Where, and why, text is not valid JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not valid JSON at byte {at}: {problem}")]
pub struct JsonError {
    /// Byte offset of the problem.
    pub at: usize,
    /// What was wrong there.
    pub problem: &'static str,
}

/// Most arrays and objects nested in one another that [`parse`] reads.
pub const MAX_DEPTH: usize = 32;

/// Reads one JSON value (RFC 8259), refusing trailing text and nesting deeper than
/// [`MAX_DEPTH`]. Never panics, whatever the input.
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut reader = Reader {
        text,
        at: 0,
        depth: 0,
    };
    let value = reader.value()?;
    reader.space();
    if reader.at < text.len() {
        return Err(reader.fail("unexpected text after the value"));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl Reader<'_> {
    fn fail(&self, problem: &'static str) -> JsonError {
        JsonError {
            at: self.at,
            problem,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        self.space();
        let rest = &self.text[self.at..];
        for (word, value) in [
            ("null", Json::Null),
            ("true", Json::Bool(true)),
            ("false", Json::Bool(false)),
        ] {
            if rest.starts_with(word) {
                self.at += word.len();
                return Ok(value);
            }
        }
        match self.peek() {
            Some(b'"') => self.string().map(Json::Text),
            Some(b'[' | b'{') => {
                if self.depth == MAX_DEPTH {
                    return Err(self.fail("nested too deeply"));
                }
                self.depth += 1;
                let value = self.container();
                self.depth -= 1;
                value
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            None => Err(self.fail("unexpected end")),
            _ => Err(self.fail("expected a value")),
        }
    }

    /// An array or object; the cursor is on its opening bracket.
    fn container(&mut self) -> Result<Json, JsonError> {
        let object = self.peek() == Some(b'{');
        let close = if object { b'}' } else { b']' };
        self.at += 1;
        let (mut items, mut fields) = (Vec::new(), Vec::new());
        if !self.eat(close) {
            loop {
                if object {
                    self.space();
                    if self.peek() != Some(b'"') {
                        return Err(self.fail("expected a field name"));
                    }
                    let name = self.string()?;
                    if !self.eat(b':') {
                        return Err(self.fail("expected `:`"));
                    }
                    fields.push((name, self.value()?));
                } else {
                    items.push(self.value()?);
                }
                if self.eat(close) {
                    break;
                }
                if !self.eat(b',') {
                    return Err(self.fail("expected `,` or a closing bracket"));
                }
            }
        }
        Ok(if object {
            Json::Object(fields)
        } else {
            Json::List(items)
        })
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.at;
        let bytes = self.text.as_bytes();
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at - from
        };
        let mut at = start + usize::from(bytes[start] == b'-');
        let whole = digits(&mut at);
        let mut ok = whole == 1 || (whole > 1 && bytes[at - whole] != b'0');
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            ok &= digits(&mut at) > 0;
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            at += usize::from(matches!(bytes.get(at), Some(b'+' | b'-')));
            ok &= digits(&mut at) > 0;
        }
        if !ok {
            return Err(self.fail("malformed number"));
        }
        self.at = at;
        Ok(Json::Number(self.text[start..at].to_owned()))
    }

    /// A string; the cursor is on its opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.at..];
            let Some(end) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') else {
                return Err(self.fail("unterminated string"));
            };
            out.push_str(&rest[..end]);
            self.at += end;
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escaped = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode()?,
                        _ => return Err(self.fail("bad escape")),
                    };
                    self.at += 1;
                    out.push(escaped);
                }
                _ => return Err(self.fail("control character in a string")),
            }
        }
    }

    /// The character of a `\u` escape (two for a surrogate pair); the cursor is on
    /// the `u`, and is left on the last hex digit.
    fn unicode(&mut self) -> Result<char, JsonError> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).ok_or_else(|| self.fail("lone low surrogate"));
        }
        if !self.text[self.at + 1..].starts_with("\\u") {
            return Err(self.fail("lone high surrogate"));
        }
        self.at += 2;
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(self.fail("lone high surrogate"));
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            .ok_or_else(|| self.fail("bad surrogate pair"))
    }

    /// The four hex digits after the `u` under the cursor; leaves it on the last.
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.at + 1..self.at + 5)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.fail("`\\u` needs four hex digits"))?;
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.fail("`\\u` needs four hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_reader_refuses_what_is_not_json() {
        for bad in [
            "",
            " ",
            "{",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "1e",
            "+1",
            "tru",
            "\"\\x\"",
            "\"a",
            "\"\u{1}\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\u12\"",
            "[1 2]",
            "{} x",
            "nul",
            "'a'",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&deep).unwrap_err().problem, "nested too deeply");
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        assert_eq!(
            parse(" {\"a\" : [ true , false, null, 0, -0.5e-3, \"\\/\\u00e9\"] } "),
            Ok(Json::Object(vec![(
                "a".into(),
                Json::List(vec![
                    Json::Bool(true),
                    Json::Bool(false),
                    Json::Null,
                    Json::Number("0".into()),
                    Json::Number("-0.5e-3".into()),
                    Json::Text("/é".into()),
                ])
            )]))
        );
    }

    #[test]
    fn writes_nested_properties_with_escapes() {
        let props = Properties(vec![
            ("name".into(), Value::Text("Mug \"Noor\"\n\u{1}".into())),
            ("price".into(), Value::Number(24.5)),
            ("qty".into(), Value::Number(2.0)),
            (
                "tags".into(),
                Value::List(vec![Value::Bool(true), Value::Null]),
            ),
            ("ar".into(), Value::Text("إبريق".into())),
            (
                "nested".into(),
                Value::Object(Properties(vec![("a".into(), Value::Number(-0.001))])),
            ),
            (
                "big".into(),
                Value::List(vec![
                    Value::Number(-42.0),
                    Value::Number(1e21),
                    Value::Number(0.1 + 0.2),
                ]),
            ),
        ]);
        assert_eq!(
            properties(&props),
            r#"{"name":"Mug \"Noor\"\n\u0001","price":24.5,"qty":2,"tags":[true,null],"ar":"إبريق","nested":{"a":-0.001},"big":[-42,1e21,0.30000000000000004]}"#
        );
    }
}
