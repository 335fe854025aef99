//! A small typed ARM client on azure_core's pipeline (docs/adr/0001): the pipeline brings the
//! bearer token, client request ids, user agent and retries (429, 5xx, dropped connections,
//! honouring `Retry-After`); this file adds ARM's long-running-operation rules and error
//! bodies. Every line it logs passes the redactor.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use azure_core::http::headers::HeaderName;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, Method, Pipeline, PipelineSendOptions, Request, RetryOptions,
};
use serde_json::Value;
use url::Url;

use super::cloud::Cloud;
use super::error::{AzureError, Error, ErrorDetail, Result};
use crate::redact::redact;

const ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
const LOCATION: HeaderName = HeaderName::from_static("location");
const RETRY_AFTER: HeaderName = HeaderName::from_static("retry-after");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
const CORRELATION_ID: HeaderName = HeaderName::from_static("x-ms-correlation-request-id");

/// How long to wait between polls when ARM does not say (`Retry-After` missing).
const DEFAULT_POLL: Duration = Duration::from_secs(5);
/// ARM's Retry-After is honoured up to this; a larger value is most likely a mistake.
const MAX_POLL: Duration = Duration::from_secs(60);
/// A 2xx whose body is not JSON (a proxy's or captive portal's page) on a read is retried
/// this many times, then shown.
const NOT_JSON_RETRIES: u32 = 3;
const WWW_AUTHENTICATE: HeaderName = HeaderName::from_static("www-authenticate");
const CONTENT_TYPE: HeaderName = HeaderName::from_static("content-type");

/// An ARM response, with what the LRO rules and support tickets need from its headers.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    pub async_operation: Option<String>,
    pub location: Option<String>,
    pub retry_after: Option<Duration>,
    pub request_id: Option<String>,
    pub correlation_id: Option<String>,
}

/// Where verbose request lines go; `None` keeps quiet.
pub type Trace = Option<Arc<dyn Fn(&str) + Send + Sync>>;

#[derive(Clone)]
pub struct ArmClient {
    pipeline: Pipeline,
    base: Url,
    /// How long one long-running operation may be polled (`AIBC_OPERATION_TIMEOUT`).
    lro_limit: Duration,
    reads: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
    trace: Trace,
}

impl std::fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmClient").field("base", &self.base.as_str()).finish_non_exhaustive()
    }
}

/// Logs each try (so retries show) with method, redacted URL, status and ARM's request id.
#[derive(Debug)]
struct TracePolicy {
    sink: TraceSink,
}

struct TraceSink(Trace);

impl std::fmt::Debug for TraceSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceSink")
    }
}

#[async_trait::async_trait]
impl Policy for TracePolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let started = std::time::Instant::now();
        let line = format!("{} {}", request.method(), request.url());
        let result = next[0].send(ctx, request, &next[1..]).await;
        if let Some(sink) = &self.sink.0 {
            let ms = started.elapsed().as_millis();
            match &result {
                Ok(r) => {
                    let id = r.headers().get_optional_str(&REQUEST_ID).unwrap_or("-");
                    sink(&redact(&format!("{line} -> {} in {ms} ms (request id {id})", u16::from(r.status()))));
                }
                Err(e) => sink(&redact(&format!("{line} -> error after {ms} ms: {e}"))),
            }
        }
        result
    }
}

impl ArmClient {
    pub fn new(cloud: &Cloud, credential: Arc<dyn TokenCredential>, trace: Trace) -> ArmClient {
        Self::with_limits(cloud, credential, None, trace, &super::limits::Limits::default())
    }

    /// `challenge` re-authenticates on a 401 (see `super::challenge`); `limits` bound each
    /// try and each long-running operation.
    pub fn with_limits(
        cloud: &Cloud,
        credential: Arc<dyn TokenCredential>,
        challenge: Option<Arc<dyn azure_core::http::policies::auth::OnChallenge>>,
        trace: Trace,
        limits: &super::limits::Limits,
    ) -> ArmClient {
        let retry = RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::milliseconds(800),
            max_retries: 6,
            max_total_elapsed: azure_core::time::Duration::seconds(180),
            max_delay: azure_core::time::Duration::seconds(30),
        });
        let options = ClientOptions { retry, ..Default::default() };
        let mut bearer = BearerTokenAuthorizationPolicy::new(credential, [cloud.arm_scope.clone()]);
        if let Some(challenge) = challenge {
            bearer = bearer.with_on_challenge(challenge);
        }
        let auth: Arc<dyn Policy> = Arc::new(bearer);
        let tracer: Arc<dyn Policy> = Arc::new(TracePolicy { sink: TraceSink(trace.clone()) });
        let guard: Arc<dyn Policy> = Arc::new(super::limits::Guard::new(limits.per_try));
        let pipeline = Pipeline::new(
            Some("aibc"),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            Vec::new(),
            vec![auth, tracer, guard],
            None,
        );
        ArmClient {
            pipeline,
            base: cloud.arm.clone(),
            lro_limit: limits.operation,
            reads: Arc::default(),
            writes: Arc::default(),
            trace,
        }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// ARM reads (GETs, including LRO polls) and writes sent so far; the run benchmark counts them.
    pub fn counts(&self) -> (u64, u64) {
        (self.reads.load(Ordering::Relaxed), self.writes.load(Ordering::Relaxed))
    }

    pub fn log(&self, line: &str) {
        if let Some(sink) = &self.trace {
            sink(&redact(line));
        }
    }

    /// `path` is an ARM path (`/subscriptions/…`) or an absolute URL ARM gave us (LRO status,
    /// nextLink); `api` is added as `api-version` unless the URL carries one.
    fn url(&self, path: &str, api: Option<&str>) -> Result<Url> {
        let mut url = if path.starts_with("https://") || path.starts_with("http://") {
            Url::parse(path).map_err(|e| Error::Protocol(format!("bad URL `{path}`: {e}")))?
        } else {
            self.base
                .join(path.trim_start_matches('/'))
                .map_err(|e| Error::Local(format!("bad resource path `{path}`: {e}")))?
        };
        if let Some(api) = api
            && !url.query_pairs().any(|(k, _)| k == "api-version")
        {
            url.query_pairs_mut().append_pair("api-version", api);
        }
        Ok(url)
    }

    /// Sends one request; a status of 400 or more becomes `Error::Azure` with ARM's body. A
    /// read answered 2xx with a body that is not JSON (a proxy's page, a cut-off body) is
    /// sent again a few times before that answer is shown.
    pub async fn send(&self, method: Method, path: &str, api: Option<&str>, body: Option<&Value>) -> Result<Response> {
        let mut tries = 0;
        loop {
            match self.send_once(method, path, api, body).await {
                Err(Error::Protocol(m))
                    if method == Method::Get && m.contains(NOT_JSON) && tries < NOT_JSON_RETRIES =>
                {
                    tries += 1;
                    self.log(&format!("{m}; reading again ({tries} of {NOT_JSON_RETRIES})"));
                    tokio::time::sleep(Duration::from_secs(1 << (tries - 1))).await;
                }
                Err(Error::Protocol(m)) if m.contains(NOT_JSON) && tries > 0 => {
                    return Err(Error::Protocol(format!(
                        "{m} ({} tries; a proxy or firewall between aibc and ARM may be answering: check HTTPS_PROXY and NO_PROXY)",
                        tries + 1
                    )));
                }
                other => return other,
            }
        }
    }

    async fn send_once(&self, method: Method, path: &str, api: Option<&str>, body: Option<&Value>) -> Result<Response> {
        let url = self.url(path, api)?;
        let operation = format!("{} {}", method, url.path());
        if method == Method::Get {
            self.reads.fetch_add(1, Ordering::Relaxed);
        } else {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        let mut request = Request::new(url, method);
        request.insert_header("accept", "application/json");
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            request.set_body(serde_json::to_vec(body).map_err(|e| Error::Local(e.to_string()))?);
        }
        let ctx = Context::new();
        let options = PipelineSendOptions { skip_checks: true, ..Default::default() };
        let raw = self.pipeline.send(&ctx, &mut request, Some(options)).await.map_err(|e| classify(&operation, e))?;
        let status = u16::from(raw.status());
        let headers = raw.headers();
        let text = |h: &HeaderName| headers.get_optional_str(h).map(str::to_string);
        let retry_after = headers.get_optional_str(&RETRY_AFTER).and_then(parse_retry_after);
        let (async_operation, location) = (text(&ASYNC_OPERATION), text(&LOCATION));
        let (request_id, correlation_id) = (text(&REQUEST_ID), text(&CORRELATION_ID));
        let challenge = text(&WWW_AUTHENTICATE);
        let bytes: &[u8] = raw.body().as_ref();
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            match serde_json::from_slice(bytes) {
                Ok(v) => v,
                Err(_) if status >= 400 => Value::String(String::from_utf8_lossy(bytes).into_owned()),
                Err(e) => {
                    let kind = text(&CONTENT_TYPE).unwrap_or_else(|| "no content type".into());
                    return Err(Error::Protocol(format!(
                        "{operation}: {status} {NOT_JSON} ({kind}, {} bytes, {e}): {}",
                        bytes.len(),
                        clip(bytes)
                    )));
                }
            }
        };
        if status >= 400 {
            let mut error = ErrorDetail::from_body(&body).unwrap_or_else(|| ErrorDetail {
                code: format!("Http{status}"),
                message: body.as_str().map(|b| clip(b.as_bytes())).unwrap_or_default(),
                ..Default::default()
            });
            if status == 401 {
                // The pipeline already signed in again once (super::challenge); a second 401
                // means the identity itself is refused.
                error.message.push_str(&super::challenge::after_refusal(challenge.as_deref()));
            }
            return Err(Error::Azure(Box::new(AzureError { operation, status, error, request_id, correlation_id })));
        }
        Ok(Response { status, body, async_operation, location, retry_after, request_id, correlation_id })
    }

    /// GET; `None` when the resource does not exist.
    pub async fn get(&self, path: &str, api: &str) -> Result<Option<Value>> {
        match self.send(Method::Get, path, Some(api), None).await {
            Ok(r) => Ok(Some(r.body)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET of a collection, following `nextLink`.
    pub async fn list(&self, path: &str, api: &str) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut next = Some(path.to_string());
        while let Some(page) = next.take() {
            let r = self.send(Method::Get, &page, Some(api), None).await?;
            if let Some(values) = r.body.get("value").and_then(Value::as_array) {
                items.extend(values.iter().cloned());
            }
            next = r.body.get("nextLink").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        }
        Ok(items)
    }

    /// PUT and wait for the resource to be provisioned; returns its final representation.
    pub async fn put(&self, path: &str, api: &str, body: &Value) -> Result<Value> {
        let first = self.send(Method::Put, path, Some(api), Some(body)).await?;
        let operation = format!("PUT {path}");
        let ids = with_ids(&first);
        if let Some(status_url) = first.async_operation.clone() {
            self.wait_async(&operation, &status_url, first.retry_after).await.map_err(&ids)?;
            return Ok(self.get(path, api).await?.unwrap_or(Value::Null));
        }
        if first.status == 202
            && let Some(location) = first.location.clone()
        {
            self.wait_location(&operation, &location, first.retry_after).await.map_err(&ids)?;
            return Ok(self.get(path, api).await?.unwrap_or(Value::Null));
        }
        // 200/201 without a status URL: follow provisioningState on the resource itself.
        let mut current = first.body;
        let mut delay = first.retry_after;
        let started = std::time::Instant::now();
        loop {
            self.check_limit(&operation, started)?;
            match provisioning_state(&current) {
                None => return Ok(current),
                Some(s) if is_terminal(s) => return finish(&operation, s, &current).map(|()| current).map_err(&ids),
                Some(_) => {}
            }
            tokio::time::sleep(poll_delay(delay)).await;
            let r = self.send(Method::Get, path, Some(api), None).await?;
            delay = r.retry_after;
            current = r.body;
        }
    }

    /// POST an action (`…/run`, `…/cancel`, `…/whatIf`) and wait for it; returns the
    /// operation's result body where ARM gives one.
    pub async fn post(&self, path: &str, api: &str, body: Option<&Value>) -> Result<Value> {
        let first = self.send(Method::Post, path, Some(api), Some(body.unwrap_or(&Value::Null))).await?;
        let operation = format!("POST {path}");
        let ids = with_ids(&first);
        if let Some(status_url) = first.async_operation.clone() {
            let status = self.wait_async(&operation, &status_url, first.retry_after).await.map_err(&ids)?;
            // The result of a POST is at Location when ARM gives both.
            if let Some(location) = first.location.clone() {
                return self.wait_location(&operation, &location, None).await;
            }
            return Ok(status.get("properties").cloned().unwrap_or(Value::Null));
        }
        if first.status == 202
            && let Some(location) = first.location.clone()
        {
            return self.wait_location(&operation, &location, first.retry_after).await;
        }
        Ok(first.body)
    }

    /// POST and return as soon as ARM accepted it (the run command follows the template instead).
    pub async fn post_no_wait(&self, path: &str, api: &str, body: Option<&Value>) -> Result<Response> {
        self.send(Method::Post, path, Some(api), Some(body.unwrap_or(&Value::Null))).await
    }

    /// DELETE and wait until it is gone; a resource that is already gone is fine.
    pub async fn delete(&self, path: &str, api: &str) -> Result<()> {
        let first = match self.send(Method::Delete, path, Some(api), None).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let operation = format!("DELETE {path}");
        if let Some(status_url) = first.async_operation.clone() {
            self.wait_async(&operation, &status_url, first.retry_after).await?;
        } else if first.status == 202
            && let Some(location) = first.location.clone()
        {
            self.wait_location(&operation, &location, first.retry_after).await?;
        }
        Ok(())
    }

    /// Polls an `Azure-AsyncOperation` URL until its status is terminal.
    async fn wait_async(&self, operation: &str, url: &str, mut delay: Option<Duration>) -> Result<Value> {
        let started = std::time::Instant::now();
        loop {
            self.check_limit(operation, started)?;
            tokio::time::sleep(poll_delay(delay)).await;
            let r = self.send(Method::Get, url, None, None).await?;
            let status = r.body.get("status").and_then(Value::as_str).unwrap_or("InProgress");
            if is_terminal(status) {
                finish(operation, status, &r.body)?;
                return Ok(r.body);
            }
            delay = r.retry_after;
        }
    }

    /// Polls a `Location` URL until it stops answering 202; returns the final body.
    async fn wait_location(&self, operation: &str, url: &str, mut delay: Option<Duration>) -> Result<Value> {
        let started = std::time::Instant::now();
        loop {
            self.check_limit(operation, started)?;
            tokio::time::sleep(poll_delay(delay)).await;
            let r = self.send(Method::Get, url, None, None).await.map_err(|e| match e {
                Error::Azure(mut a) => {
                    a.operation = operation.to_string();
                    Error::Azure(a)
                }
                other => other,
            })?;
            if r.status != 202 {
                return Ok(r.body);
            }
            delay = r.retry_after;
        }
    }
}

impl ArmClient {
    /// A long-running operation polled past its limit ends the wait, not the operation.
    fn check_limit(&self, operation: &str, started: std::time::Instant) -> Result<()> {
        if started.elapsed() < self.lro_limit {
            return Ok(());
        }
        Err(Error::TimedOut(format!(
            "{operation} was still running after {}; it goes on in Azure. Run the command again to pick it up, \
             or allow longer with AIBC_OPERATION_TIMEOUT",
            super::limits::human(self.lro_limit)
        )))
    }
}

/// The words a non-JSON body error carries (`send` retries reads on them).
const NOT_JSON: &str = "with a body that is not JSON";

/// What came back, for an error message: the first few hundred characters on one line. The
/// text is redacted before it is cut, so a token cut in half is still recognised.
pub(crate) fn clip(bytes: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let one_line: String = redact(&text).split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(MAX).collect();
    if one_line.chars().count() > MAX || bytes.len() > 64 * 1024 {
        out.push_str(" …");
    }
    out
}

fn classify(operation: &str, e: azure_core::Error) -> Error {
    use azure_core::error::ErrorKind;
    match e.kind() {
        // A certificate failure while signing in is a TLS problem, not a refusal.
        ErrorKind::Credential => match error_chain(&e).split_once(super::limits::TLS_PROBLEM) {
            Some((_, rest)) => Error::Transport(format!("{}{rest}", super::limits::TLS_PROBLEM)),
            None => Error::Auth(error_chain(&e)),
        },
        ErrorKind::Io | ErrorKind::Connection => Error::Transport(format!("{operation}: {}", error_chain(&e))),
        _ => Error::Transport(format!("{operation}: {}", error_chain(&e))),
    }
}

/// The error and its causes on one line: TLS and connection errors hide the useful part
/// (certificate unknown, connection refused) in the source chain.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

pub fn provisioning_state(body: &Value) -> Option<&str> {
    body.pointer("/properties/provisioningState").and_then(Value::as_str)
}

fn is_terminal(state: &str) -> bool {
    ["succeeded", "failed", "canceled", "cancelled"].contains(&state.to_ascii_lowercase().as_str())
}

/// An operation's failure carries the ids of the request that started it: those are what
/// a support ticket needs.
fn with_ids(first: &Response) -> impl Fn(Error) -> Error + use<> {
    let (request_id, correlation_id) = (first.request_id.clone(), first.correlation_id.clone());
    move |e| match e {
        Error::Azure(mut a) => {
            if a.request_id.is_none() {
                a.request_id = request_id.clone();
            }
            if a.correlation_id.is_none() {
                a.correlation_id = correlation_id.clone();
            }
            Error::Azure(a)
        }
        other => other,
    }
}

fn finish(operation: &str, state: &str, body: &Value) -> Result<()> {
    if state.eq_ignore_ascii_case("succeeded") {
        return Ok(());
    }
    let error = ErrorDetail::from_body(body)
        .or_else(|| {
            body.pointer("/properties/error").and_then(|e| ErrorDetail::from_body(&serde_json::json!({"error": e})))
        })
        .unwrap_or_else(|| ErrorDetail {
            code: state.to_string(),
            message: format!("the operation ended {state}"),
            ..Default::default()
        });
    Err(Error::Azure(Box::new(AzureError {
        operation: operation.to_string(),
        status: 0,
        error,
        request_id: None,
        correlation_id: None,
    })))
}

fn poll_delay(retry_after: Option<Duration>) -> Duration {
    retry_after.unwrap_or(DEFAULT_POLL).min(MAX_POLL)
}

/// `Retry-After` is seconds or an HTTP date; ARM sends seconds.
fn parse_retry_after(text: &str) -> Option<Duration> {
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn terminal_states_and_failures() {
        assert!(is_terminal("Succeeded") && is_terminal("canceled") && !is_terminal("Running"));
        let e = finish("PUT x", "Failed", &json!({"status": "Failed", "error": {"code": "Conflict", "message": "m"}}));
        assert_eq!(e.unwrap_err().code(), Some("Conflict"));
        let e = finish("PUT x", "Canceled", &json!({})).unwrap_err();
        assert_eq!(e.code(), Some("Canceled"));
    }

    #[test]
    fn retry_after_is_capped_and_defaults() {
        assert_eq!(poll_delay(parse_retry_after("3")), Duration::from_secs(3));
        assert_eq!(poll_delay(parse_retry_after("3600")), MAX_POLL);
        assert_eq!(poll_delay(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")), DEFAULT_POLL);
    }
}
