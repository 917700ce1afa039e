//! What [`apply_defaults`](crate::apply_defaults) is given, and what it resolves to.

use std::{collections::HashMap, time::Duration};

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

use crate::{
    DEFAULT_ENDPOINT, DEFAULT_EXPORT_TIMEOUT, DEFAULT_METRIC_INTERVAL, DEFAULT_SERVICE_NAME,
};

/// Settings for [`apply_defaults`](crate::apply_defaults). Every field is optional: unset ones are resolved from
/// the environment, then the ADOT defaults. Its `Debug` shows the headers' names only.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct OtelOptions {
    /// Collector endpoint → `OTEL_EXPORTER_OTLP_ENDPOINT` → [`DEFAULT_ENDPOINT`].
    pub endpoint: Option<String>,
    /// Service name → `OTEL_SERVICE_NAME` → `AWS_LAMBDA_FUNCTION_NAME` →
    /// [`DEFAULT_SERVICE_NAME`].
    pub service_name: Option<String>,
    /// Periodic metric export interval (default [`DEFAULT_METRIC_INTERVAL`]); every
    /// invocation also flushes.
    pub metric_export_interval: Option<Duration>,
    /// Timeout of one export (default [`DEFAULT_EXPORT_TIMEOUT`]).
    pub export_timeout: Option<Duration>,
    /// gRPC metadata sent with every export (e.g. an `authorization` header for a SaaS
    /// collector).
    pub headers: Vec<(String, String)>,
    /// TLS for an `https://` endpoint (system roots are used when this is unset).
    pub tls: Option<opentelemetry_otlp::tonic_types::transport::ClientTlsConfig>,
}

impl std::fmt::Debug for OtelOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("OtelOptions")
            .field("endpoint", &self.endpoint)
            .field("service_name", &self.service_name)
            .field("metric_export_interval", &self.metric_export_interval)
            .field("export_timeout", &self.export_timeout)
            .field("headers", &headers)
            .field("tls", &self.tls.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl OtelOptions {
    /// Sets the collector endpoint.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the service name.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sets the periodic metric export interval.
    pub fn metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_export_interval = Some(interval);
        self
    }

    /// Sets the timeout of one export.
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = Some(timeout);
        self
    }

    /// Adds a gRPC metadata header to every export.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Resolves every setting against an environment snapshot.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let env = HashMap::from([("AWS_LAMBDA_FUNCTION_NAME".to_string(), "orders".to_string())]);
    /// let r = lw_otel::OtelOptions::default().resolve(&env);
    /// assert_eq!(r.endpoint, "http://localhost:4317");
    /// assert_eq!(r.service_name, "orders");
    /// ```
    pub fn resolve(&self, env: &HashMap<String, String>) -> Resolved {
        let var = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let (endpoint, endpoint_origin) =
            match self.endpoint.clone().filter(|e| !e.trim().is_empty()) {
                Some(e) => (e, "OtelOptions::endpoint".to_owned()),
                None => match var("OTEL_EXPORTER_OTLP_ENDPOINT") {
                    Some(e) => (
                        e.to_owned(),
                        "environment variable OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
                    ),
                    None => (
                        DEFAULT_ENDPOINT.to_owned(),
                        "the default endpoint".to_owned(),
                    ),
                },
            };
        let service_name = self
            .service_name
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| var("OTEL_SERVICE_NAME").map(str::to_owned))
            .or_else(|| var("AWS_LAMBDA_FUNCTION_NAME").map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        let mut resource = vec![
            ("service.name".to_owned(), service_name.clone()),
            ("cloud.provider".to_owned(), "aws".to_owned()),
        ];
        for (key, v) in [
            ("cloud.region", "AWS_REGION"),
            ("faas.name", "AWS_LAMBDA_FUNCTION_NAME"),
            ("faas.version", "AWS_LAMBDA_FUNCTION_VERSION"),
            ("faas.instance", "AWS_LAMBDA_LOG_STREAM_NAME"),
        ] {
            if let Some(value) = var(v) {
                resource.push((key.to_owned(), value.to_owned()));
            }
        }
        let max_memory = var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
            .and_then(|m| m.parse::<i64>().ok())
            .map(|mb| mb * 1024 * 1024);
        Resolved {
            endpoint,
            endpoint_origin,
            service_name,
            function_name: var("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or(DEFAULT_SERVICE_NAME)
                .to_owned(),
            metric_export_interval: self
                .metric_export_interval
                .unwrap_or(DEFAULT_METRIC_INTERVAL),
            export_timeout: self.export_timeout.unwrap_or(DEFAULT_EXPORT_TIMEOUT),
            resource,
            max_memory_bytes: max_memory,
        }
    }
}

/// [`OtelOptions`] with every default applied.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Resolved {
    /// The collector endpoint.
    pub endpoint: String,
    /// Where the endpoint came from (`OtelOptions::endpoint`, the environment variable, or
    /// the default), for messages.
    pub endpoint_origin: String,
    /// `service.name`.
    pub service_name: String,
    /// The function's name (the invocation span's name).
    pub function_name: String,
    /// The periodic metric export interval.
    pub metric_export_interval: Duration,
    /// The timeout of one export.
    pub export_timeout: Duration,
    /// Resource attributes other than `faas.max_memory`.
    pub resource: Vec<(String, String)>,
    /// `faas.max_memory` in bytes, from `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub max_memory_bytes: Option<i64>,
}

impl Resolved {
    /// Checks the endpoint is an http(s) URL with a host, naming where it came from.
    pub fn check_endpoint(&self) -> Result<(), crate::OtelError> {
        let ok = self
            .endpoint
            .parse::<http::Uri>()
            .is_ok_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
        if ok {
            return Ok(());
        }
        Err(crate::OtelError::Invalid {
            origin: self.endpoint_origin.clone(),
            message: format!(
                "`{}` is not an http(s) URL; write it as http://host:port (the ADOT layer's \
                 collector is {})",
                self.endpoint,
                crate::DEFAULT_ENDPOINT
            ),
        })
    }

    /// The OpenTelemetry resource every span and metric carries.
    pub fn otel_resource(&self) -> Resource {
        let mut attrs: Vec<KeyValue> = self
            .resource
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        if let Some(m) = self.max_memory_bytes {
            attrs.push(KeyValue::new("faas.max_memory", m));
        }
        Resource::builder_empty().with_attributes(attrs).build()
    }
}
