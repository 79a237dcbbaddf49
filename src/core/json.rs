//! A small JSON writer for what souk sends. The wasm build carries no serde, and
//! this is all the encoding it needs.

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

#[cfg(test)]
mod tests {
    use super::*;

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
