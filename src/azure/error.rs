//! What went wrong talking to Azure, with what a support ticket needs: the operation, ARM's
//! error code and message (and its nested details), and the request ids.

use std::fmt;

use serde_json::Value;

use crate::redact::redact;

/// One entry of ARM's error body (`{"error": {"code", "message", "target", "details"}}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub target: Option<String>,
    pub details: Vec<ErrorDetail>,
}

impl ErrorDetail {
    /// Reads ARM's error shape; tolerates the variants RPs send (`error` wrapper or not,
    /// `odata.error`, a bare string message).
    pub fn from_body(body: &Value) -> Option<ErrorDetail> {
        let e = body.get("error").or_else(|| body.get("odata.error")).unwrap_or(body);
        let code = e.get("code").and_then(Value::as_str)?;
        let message = match e.get("message") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => o.get("value").and_then(Value::as_str).unwrap_or_default().to_string(),
            _ => String::new(),
        };
        let details = e
            .get("details")
            .and_then(Value::as_array)
            .map(|ds| ds.iter().filter_map(ErrorDetail::from_body).collect())
            .unwrap_or_default();
        Some(ErrorDetail {
            code: code.to_string(),
            message,
            target: e.get("target").and_then(Value::as_str).map(str::to_string),
            details,
        })
    }

    /// The innermost details, which usually say what actually failed.
    pub fn leaves(&self) -> Vec<&ErrorDetail> {
        if self.details.is_empty() { vec![self] } else { self.details.iter().flat_map(ErrorDetail::leaves).collect() }
    }
}

/// ARM answered with an error status, or an operation ended in Failed/Canceled.
#[derive(Debug, Clone)]
pub struct AzureError {
    /// e.g. `PUT /subscriptions/…/deployments/x`.
    pub operation: String,
    pub status: u16,
    pub error: ErrorDetail,
    pub request_id: Option<String>,
    pub correlation_id: Option<String>,
}

#[derive(Debug)]
pub enum Error {
    Azure(Box<AzureError>),
    /// No token: the credential could not sign in.
    Auth(String),
    /// The request never got an answer (DNS, TLS, connection), after retries.
    Transport(String),
    /// Azure answered something we cannot read.
    Protocol(String),
    /// A local problem (a file to upload, a bad argument).
    Local(String),
    /// A wait had a limit and reached it (`deploy --timeout`, a long-running operation past
    /// `AIBC_OPERATION_TIMEOUT`); what was sent goes on in Azure.
    TimedOut(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Azure(e) => Some(e.status),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Azure(e) => Some(&e.error.code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Azure(e) => {
                write!(f, "{} failed", e.operation)?;
                if e.status != 0 {
                    write!(f, " ({})", e.status)?;
                }
                write!(f, ": {}: {}", e.error.code, redact(&e.error.message))?;
                for leaf in e.error.leaves() {
                    if std::ptr::eq(leaf, &e.error) {
                        continue;
                    }
                    write!(f, "\n  {}: {}", leaf.code, redact(&leaf.message))?;
                    if let Some(t) = &leaf.target {
                        write!(f, " (target: {t})")?;
                    }
                }
                if let Some(id) = &e.correlation_id {
                    write!(f, "\n  correlation id: {id}")?;
                }
                if let Some(id) = &e.request_id {
                    write!(f, "\n  request id: {id}")?;
                }
                Ok(())
            }
            Error::Auth(m) => write!(f, "could not sign in: {}", redact(m)),
            Error::Transport(m) => write!(f, "could not reach Azure: {}", redact(m)),
            Error::Protocol(m) => write!(f, "unexpected answer from Azure: {}", redact(m)),
            Error::Local(m) => f.write_str(&redact(m)),
            Error::TimedOut(m) => write!(f, "timed out: {}", redact(m)),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_details_are_shown_with_ids() {
        let body = json!({"error": {"code": "DeploymentFailed", "message": "At least one resource deployment operation failed.",
            "details": [{"code": "BadRequest", "message": "x", "details": [{"code": "InvalidParameter", "message": "vmSize is wrong", "target": "vmProfile.vmSize"}]}]}});
        let err = Error::Azure(Box::new(AzureError {
            operation: "PUT deployments/d".into(),
            status: 400,
            error: ErrorDetail::from_body(&body).unwrap(),
            request_id: Some("r-1".into()),
            correlation_id: Some("c-1".into()),
        }));
        let text = err.to_string();
        assert!(text.starts_with("PUT deployments/d failed (400): DeploymentFailed"), "{text}");
        assert!(text.contains("InvalidParameter: vmSize is wrong (target: vmProfile.vmSize)"), "{text}");
        assert!(text.contains("correlation id: c-1") && text.contains("request id: r-1"), "{text}");
    }

    #[test]
    fn odd_error_bodies() {
        assert!(ErrorDetail::from_body(&json!({"message": "no code"})).is_none());
        let e = ErrorDetail::from_body(&json!({"odata.error": {"code": "C", "message": {"value": "m"}}})).unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("C", "m"));
    }
}
