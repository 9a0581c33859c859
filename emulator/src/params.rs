//! Bot API call parameters and errors, shaped like Telegram's.
//!
//! Telegram accepts the same parameter as a JSON value (JSON body) or as a string (query string,
//! form body, where JSON-serialized fields such as `prices` arrive as JSON text); `Params` reads
//! both the same way.

use serde_json::{json, Map, Value};

/// A refusal, serialized as `{"ok":false,"error_code":…,"description":…}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// 400 `Bad Request: <reason>`.
    pub fn bad(reason: impl AsRef<str>) -> ApiError {
        ApiError {
            code: 400,
            description: format!("Bad Request: {}", reason.as_ref()),
            retry_after: None,
        }
    }

    pub fn new(code: u16, description: impl Into<String>) -> ApiError {
        ApiError {
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized")
    }

    pub fn method_not_found() -> ApiError {
        ApiError::new(404, "Not Found: method not found")
    }

    pub fn too_many_requests(retry_after: u64) -> ApiError {
        ApiError {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
        }
    }

    pub fn missing(name: &str) -> ApiError {
        ApiError::bad(format!("parameter \"{name}\" is required"))
    }

    pub fn body(&self) -> Value {
        let mut v = json!({"ok": false, "error_code": self.code, "description": self.description});
        if let Some(n) = self.retry_after {
            v["parameters"] = json!({"retry_after": n});
        }
        v
    }
}

pub type ApiResult = Result<Value, ApiError>;

pub fn ok_body(result: &Value) -> Value {
    json!({"ok": true, "result": result})
}

#[derive(Clone, Debug, Default)]
pub struct Params(pub Map<String, Value>);

impl Params {
    pub fn from_json(v: Value) -> Params {
        match v {
            Value::Object(m) => Params(m),
            _ => Params::default(),
        }
    }

    /// Adds string pairs (query string or form body); later pairs win, as in Telegram.
    pub fn extend_pairs(&mut self, pairs: impl IntoIterator<Item = (String, String)>) {
        for (k, v) in pairs {
            self.0.insert(k, Value::String(v));
        }
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// The value, with `null` treated as absent.
    fn raw(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// A string parameter; numbers and booleans are accepted in their text form.
    pub fn str(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(ApiError::bad(format!(
                "field \"{name}\" must be of type String"
            ))),
        }
    }

    pub fn str_req(&self, name: &str) -> Result<String, ApiError> {
        self.str(name)?.ok_or_else(|| ApiError::missing(name))
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let invalid = || ApiError::bad(format!("invalid {name} specified"));
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(invalid),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid()),
            Some(_) => Err(invalid()),
        }
    }

    /// Like the real server: an out-of-range integer is clamped, not refused.
    pub fn int_clamped(
        &self,
        name: &str,
        default: i64,
        min: i64,
        max: i64,
    ) -> Result<i64, ApiError> {
        Ok(self.int(name)?.unwrap_or(default).clamp(min, max))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => Ok(Some(n.as_i64() != Some(0))),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" | "" => Ok(Some(false)),
                _ => Err(ApiError::bad(format!("invalid {name} specified"))),
            },
            Some(_) => Err(ApiError::bad(format!("invalid {name} specified"))),
        }
    }

    /// A JSON-serialized parameter: text is parsed, an inline JSON value is taken as is.
    pub fn json(&self, name: &str) -> Result<Option<Value>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|_| ApiError::bad(format!("can't parse {name} JSON object"))),
            Some(v) => Ok(Some(v.clone())),
        }
    }

    /// The parameters without `name` (used for a webhook reply's `method`).
    pub fn without(&self, name: &str) -> Params {
        let mut m = self.0.clone();
        m.remove(name);
        Params(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_form_values_alike() {
        let mut form = Params::default();
        form.extend_pairs([
            ("user_id".to_string(), "42".to_string()),
            ("ok".to_string(), "true".to_string()),
            (
                "prices".to_string(),
                r#"[{"label":"x","amount":5}]"#.to_string(),
            ),
        ]);
        let json = Params::from_json(
            json!({"user_id": 42, "ok": true, "prices": [{"label":"x","amount":5}]}),
        );
        for p in [form, json] {
            assert_eq!(p.int("user_id").unwrap(), Some(42));
            assert_eq!(p.bool("ok").unwrap(), Some(true));
            assert_eq!(p.json("prices").unwrap().unwrap()[0]["amount"], 5);
        }
    }

    #[test]
    fn refuses_malformed_values() {
        let p =
            Params::from_json(json!({"n": "x1", "b": "maybe", "j": "[1,", "s": [1], "nul": null}));
        assert_eq!(
            p.int("n").unwrap_err().description,
            "Bad Request: invalid n specified"
        );
        assert!(p.bool("b").is_err());
        assert_eq!(
            p.json("j").unwrap_err().description,
            "Bad Request: can't parse j JSON object"
        );
        assert!(p.str("s").is_err());
        assert_eq!(
            p.str_req("nul").unwrap_err().description,
            "Bad Request: parameter \"nul\" is required"
        );
        assert_eq!(p.int_clamped("absent", 100, 1, 100).unwrap(), 100);
        let big = Params::from_json(json!({"limit": 1000}));
        assert_eq!(big.int_clamped("limit", 100, 1, 100).unwrap(), 100);
    }

    #[test]
    fn error_body_has_telegram_shape() {
        let e = ApiError::too_many_requests(3);
        assert_eq!(
            e.body(),
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}})
        );
    }
}
