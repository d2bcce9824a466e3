//! DynamoDB's AttributeValue model: validation with the service's wording, number
//! normalisation and ordering, key values, and the item size DynamoDB charges against 400 KB.

use std::cmp::Ordering;

use base64::Engine as _;
use serde_json::{Map, Value};

/// Largest item DynamoDB stores (attribute names plus values).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

const INVALID: &str = "One or more parameter values were invalid: ";

/// A DynamoDB number: sign, significant digits without leading/trailing zeros, and the
/// power of ten of the last digit. Zero has no digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    neg: bool,
    digits: Vec<u8>,
    exp: i64,
}

impl Number {
    /// Parses and range-checks a number as DynamoDB does (38 significant digits, magnitude
    /// between 1E-130 and 1E+126).
    pub fn parse(s: &str) -> Result<Number, String> {
        let bad = || format!("The parameter cannot be converted to a numeric value: {s}");
        let t = s.trim();
        let (neg, rest) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mant, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().map_err(|_| bad())?),
            None => (rest, 0),
        };
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
            || exp.abs() > 100_000
        {
            return Err(bad());
        }
        let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|c| c - b'0').collect();
        let mut exp = exp - frac.len() as i64;
        let lead = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..lead);
        while digits.last() == Some(&0) {
            digits.pop();
            exp += 1;
        }
        if digits.is_empty() {
            return Ok(Number {
                neg: false,
                digits,
                exp: 0,
            });
        }
        if digits.len() > 38 {
            return Err("Attempting to store more than 38 significant digits in a Number".into());
        }
        // Magnitude as the power of ten of the leading digit.
        let top = exp + digits.len() as i64 - 1;
        if top > 125 {
            return Err(
                "Number overflow. Attempting to store a number with magnitude larger than supported range"
                    .into(),
            );
        }
        if top < -130 {
            return Err(
                "Number underflow. Attempting to store a number with magnitude smaller than supported range"
                    .into(),
            );
        }
        Ok(Number { neg, digits, exp })
    }

    /// Plain decimal text, as DynamoDB returns numbers (`1.50` comes back as `1.5`).
    pub fn to_text(&self) -> String {
        if self.digits.is_empty() {
            return "0".into();
        }
        let mut s = String::new();
        if self.neg {
            s.push('-');
        }
        let d: String = self.digits.iter().map(|&d| (b'0' + d) as char).collect();
        if self.exp >= 0 {
            s.push_str(&d);
            s.extend(std::iter::repeat_n('0', self.exp as usize));
        } else {
            let point = d.len() as i64 + self.exp;
            if point > 0 {
                s.push_str(&d[..point as usize]);
                s.push('.');
                s.push_str(&d[point as usize..]);
            } else {
                s.push_str("0.");
                s.extend(std::iter::repeat_n('0', (-point) as usize));
                s.push_str(&d);
            }
        }
        s
    }

    /// `self + o` (or `self - o` when `subtract`), exact, range-checked as a stored number is
    /// (the `+`/`-` of update expressions and `ADD` on numbers).
    pub fn add(&self, o: &Number, subtract: bool) -> Result<Number, String> {
        let o_neg = o.neg != subtract && !o.digits.is_empty();
        // Both magnitudes as digit strings scaled to the smaller exponent.
        let exp = self.exp.min(o.exp);
        let scaled = |n: &Number| -> Vec<u8> {
            let mut d = n.digits.clone();
            if !d.is_empty() {
                d.extend(std::iter::repeat_n(0, (n.exp - exp) as usize));
            }
            d
        };
        let (a, b) = (scaled(self), scaled(o));
        let (mag, neg) = if self.neg == o_neg || b.is_empty() || a.is_empty() {
            let neg = if a.is_empty() { o_neg } else { self.neg };
            (add_digits(&a, &b), neg)
        } else if cmp_digits(&a, &b) == Ordering::Less {
            (sub_digits(&b, &a), o_neg)
        } else {
            (sub_digits(&a, &b), self.neg)
        };
        let text: String = mag.iter().map(|&d| (b'0' + d) as char).collect();
        let text = if text.is_empty() {
            "0".to_string()
        } else {
            text
        };
        Number::parse(&format!("{}{text}E{exp}", if neg { "-" } else { "" }))
    }

    fn cmp_magnitude(&self, o: &Number) -> Ordering {
        match (self.digits.is_empty(), o.digits.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let top = |n: &Number| n.exp + n.digits.len() as i64;
        top(self)
            .cmp(&top(o))
            .then_with(|| self.digits.cmp(&o.digits))
    }
}

/// Compares two magnitudes given as most-significant-first digits (no leading zeros assumed
/// beyond what `strip` removes).
fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (strip(a), strip(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn strip(d: &[u8]) -> &[u8] {
    let lead = d.iter().take_while(|&&x| x == 0).count();
    &d[lead..]
}

fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut s = carry;
        if i > 0 {
            i -= 1;
            s += a[i];
        }
        if j > 0 {
            j -= 1;
            s += b[j];
        }
        out.push(s % 10);
        carry = s / 10;
    }
    out.reverse();
    strip(&out).to_vec()
}

/// `a - b` for `a >= b`.
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut i, mut j, mut borrow) = (a.len(), b.len(), 0i8);
    while i > 0 {
        i -= 1;
        let mut d = a[i] as i8 - borrow;
        if j > 0 {
            j -= 1;
            d -= b[j] as i8;
        }
        borrow = (d < 0) as i8;
        out.push((d + 10 * borrow) as u8);
    }
    out.reverse();
    strip(&out).to_vec()
}

impl Ord for Number {
    fn cmp(&self, o: &Number) -> Ordering {
        let sign = |n: &Number| {
            if n.digits.is_empty() {
                0
            } else if n.neg {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(o)) {
            Ordering::Equal if sign(self) < 0 => o.cmp_magnitude(self),
            Ordering::Equal => self.cmp_magnitude(o),
            other => other,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, o: &Number) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// A scalar usable as a key attribute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyValue {
    /// String.
    S(String),
    /// Number.
    N(Number),
    /// Binary.
    B(Vec<u8>),
}

impl KeyValue {
    /// The type letter (`S`, `N`, `B`).
    pub fn type_letter(&self) -> &'static str {
        match self {
            KeyValue::S(_) => "S",
            KeyValue::N(_) => "N",
            KeyValue::B(_) => "B",
        }
    }
}

fn decode_b64(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| format!("{INVALID}Invalid binary value: not base64"))
}

/// The single `(type, value)` pair of an AttributeValue object.
pub fn single(v: &Value) -> Result<(&str, &Value), String> {
    let Value::Object(m) = v else {
        return Err("Supplied AttributeValue is not an object".into());
    };
    let mut it = m.iter();
    match (it.next(), it.next()) {
        (None, _) => Err(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
                .into(),
        ),
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        _ => Err("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes".into()),
    }
}

fn str_of<'a>(v: &'a Value, ty: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("{INVALID}{ty} value must be a string"))
}

fn set_of<'a>(v: &'a Value, ty: &str, name: &str) -> Result<Vec<&'a str>, String> {
    let Value::Array(a) = v else {
        return Err(format!("{INVALID}{ty} value must be a list"));
    };
    if a.is_empty() {
        // DynamoDB's message really has the double space.
        return Err(format!("{INVALID}An {name} set  may not be empty"));
    }
    a.iter().map(|e| str_of(e, ty)).collect()
}

fn dup_error(items: &[&str]) -> String {
    format!(
        "{INVALID}Input collection [{}] contains duplicates.",
        items.join(", ")
    )
}

/// Validates an AttributeValue (recursively) and rewrites numbers to their normal form.
pub fn normalize(v: &mut Value) -> Result<(), String> {
    let (ty, _) = single(v)?;
    let ty = ty.to_string();
    let Value::Object(m) = v else { unreachable!() };
    let inner = m.get_mut(&ty).expect("key present");
    match ty.as_str() {
        "S" => {
            str_of(inner, "S")?;
        }
        "N" => {
            let n = Number::parse(str_of(inner, "N")?)?;
            *inner = Value::String(n.to_text());
        }
        "B" => {
            decode_b64(str_of(inner, "B")?)?;
        }
        "BOOL" => {
            if !inner.is_boolean() {
                return Err(format!("{INVALID}BOOL value must be a boolean"));
            }
        }
        "NULL" => {
            if inner != &Value::Bool(true) {
                return Err(format!(
                    "{INVALID}Null attribute value types must have the value of true"
                ));
            }
        }
        "M" => {
            let Value::Object(map) = inner else {
                return Err(format!("{INVALID}M value must be a map"));
            };
            for e in map.values_mut() {
                normalize(e)?;
            }
        }
        "L" => {
            let Value::Array(list) = inner else {
                return Err(format!("{INVALID}L value must be a list"));
            };
            for e in list.iter_mut() {
                normalize(e)?;
            }
        }
        "SS" => {
            let items = set_of(inner, "SS", "string")?;
            let mut seen = items.clone();
            seen.sort();
            seen.dedup();
            if seen.len() != items.len() {
                return Err(dup_error(&items));
            }
        }
        "NS" => {
            let items = set_of(inner, "NS", "number")?;
            let mut nums = items
                .iter()
                .map(|s| Number::parse(s))
                .collect::<Result<Vec<_>, _>>()?;
            let texts: Vec<Value> = nums.iter().map(|n| Value::String(n.to_text())).collect();
            nums.sort();
            nums.dedup();
            if nums.len() != items.len() {
                return Err(dup_error(&items));
            }
            *inner = Value::Array(texts);
        }
        "BS" => {
            let items = set_of(inner, "BS", "binary")?;
            let mut bins = items
                .iter()
                .map(|s| decode_b64(s))
                .collect::<Result<Vec<_>, _>>()?;
            bins.sort();
            bins.dedup();
            if bins.len() != items.len() {
                return Err(dup_error(&items));
            }
        }
        other => {
            return Err(format!(
                "Supplied AttributeValue has an unknown datatype: {other}"
            ))
        }
    }
    Ok(())
}

/// Validates every attribute of an item (or key) map.
pub fn normalize_item(item: &mut Map<String, Value>) -> Result<(), String> {
    for v in item.values_mut() {
        normalize(v)?;
    }
    Ok(())
}

/// The key value of an already validated AttributeValue, if it is a scalar key type.
pub fn key_value(v: &Value) -> Option<KeyValue> {
    let (ty, inner) = single(v).ok()?;
    let s = inner.as_str()?;
    match ty {
        "S" => Some(KeyValue::S(s.to_string())),
        "N" => Number::parse(s).ok().map(KeyValue::N),
        "B" => decode_b64(s).ok().map(KeyValue::B),
        _ => None,
    }
}

/// Whether two validated AttributeValues are equal as DynamoDB compares them.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (key_value(a), key_value(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn number_size(s: &str) -> usize {
    // About one byte per two significant digits, plus one.
    Number::parse(s).map_or(1, |n| n.digits.len().div_ceil(2) + 1)
}

/// The size DynamoDB counts for a value.
pub fn value_size(v: &Value) -> usize {
    let Ok((ty, inner)) = single(v) else { return 0 };
    let strs = || {
        inner
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    match ty {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(1, number_size),
        "B" => inner
            .as_str()
            .and_then(|s| decode_b64(s).ok())
            .map_or(0, |b| b.len()),
        "BOOL" | "NULL" => 1,
        "SS" => strs().map(str::len).sum(),
        "NS" => strs().map(number_size).sum(),
        "BS" => strs()
            .filter_map(|s| decode_b64(s).ok())
            .map(|b| b.len())
            .sum(),
        "M" => {
            3 + inner.as_object().map_or(0, |m| {
                m.iter().map(|(k, v)| k.len() + value_size(v) + 1).sum()
            })
        }
        "L" => {
            3 + inner
                .as_array()
                .map_or(0, |l| l.iter().map(|v| value_size(v) + 1).sum())
        }
        _ => 0,
    }
}

/// The size DynamoDB counts for an item: attribute names plus values.
pub fn item_size(item: &Map<String, Value>) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_normalise_and_order() {
        for (i, o) in [
            ("1.50", "1.5"),
            ("-0.0", "0"),
            ("001", "1"),
            ("1e3", "1000"),
            ("1.5E-3", "0.0015"),
            ("+7", "7"),
            ("-12.340", "-12.34"),
        ] {
            assert_eq!(Number::parse(i).unwrap().to_text(), o, "{i}");
        }
        let n = |s| Number::parse(s).unwrap();
        assert!(n("-2") < n("-1.5"));
        assert!(n("-1") < n("0"));
        assert!(n("0.5") < n("1"));
        assert!(n("9") < n("10"));
        assert!(n("10") < n("10.5"));
        assert_eq!(n("1.0"), n("1"));
    }

    #[test]
    fn number_arithmetic_is_exact() {
        let n = |s| Number::parse(s).unwrap();
        for (a, b, sum, diff) in [
            ("1", "2", "3", "-1"),
            ("0.1", "0.2", "0.3", "-0.1"),
            ("-5", "3", "-2", "-8"),
            ("100", "-100", "0", "200"),
            ("0", "-7.5", "-7.5", "7.5"),
            (
                "99999999999999999999",
                "1",
                "100000000000000000000",
                "99999999999999999998",
            ),
            (
                "1E+20",
                "1E-5",
                "100000000000000000000.00001",
                "99999999999999999999.99999",
            ),
        ] {
            assert_eq!(n(a).add(&n(b), false).unwrap().to_text(), sum, "{a}+{b}");
            assert_eq!(n(a).add(&n(b), true).unwrap().to_text(), diff, "{a}-{b}");
        }
        let e = n("1E+30").add(&n("1E-30"), false).unwrap_err();
        assert!(e.contains("38 significant"), "{e}");
    }

    #[test]
    fn number_rules() {
        assert!(Number::parse("abc")
            .unwrap_err()
            .contains("cannot be converted"));
        assert!(Number::parse("").is_err());
        assert!(Number::parse("1.2.3").is_err());
        assert!(Number::parse("1e").is_err());
        assert!(Number::parse(&"1".repeat(39))
            .unwrap_err()
            .contains("38 significant"));
        assert!(Number::parse(&"1".repeat(38)).is_ok());
        assert!(Number::parse("1E+126").unwrap_err().contains("overflow"));
        assert!(Number::parse("9.9E+125").is_ok());
        assert!(Number::parse("1E-131").unwrap_err().contains("underflow"));
        assert!(Number::parse("1E-130").is_ok());
    }

    #[test]
    fn attribute_values_validate() {
        let ok = json!({"M": {"a": {"L": [{"N": "1.0"}, {"NULL": true}, {"BOOL": false}]},
                              "b": {"SS": ["x", "y"]}, "c": {"BS": ["AAE="]}, "d": {"B": "AQID"}}});
        let mut v = ok.clone();
        normalize(&mut v).unwrap();
        assert_eq!(v["M"]["a"]["L"][0]["N"], "1");
        for (bad, msg) in [
            (json!({}), "is empty"),
            (json!({"S": "a", "N": "1"}), "more than one"),
            (json!({"NS": []}), "An number set  may not be empty"),
            (json!({"SS": []}), "An string set  may not be empty"),
            (json!({"SS": ["a", "a"]}), "contains duplicates"),
            (json!({"NS": ["1", "1.0"]}), "contains duplicates"),
            (json!({"NULL": false}), "value of true"),
            (json!({"B": "!!"}), "base64"),
            (json!({"X": "1"}), "unknown datatype"),
            (json!({"L": [{"N": "x"}]}), "cannot be converted"),
        ] {
            let mut v = bad.clone();
            let e = normalize(&mut v).unwrap_err();
            assert!(e.contains(msg), "{bad}: {e}");
        }
    }

    #[test]
    fn sizes_count_names_and_values() {
        let item = json!({"deviceId": {"S": "hopper"}, "seq": {"N": "12"}, "ok": {"BOOL": true}});
        let Value::Object(m) = item else {
            unreachable!()
        };
        assert_eq!(item_size(&m), 8 + 6 + 3 + 2 + 2 + 1);
    }
}
