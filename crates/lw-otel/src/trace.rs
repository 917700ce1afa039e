//! Traces: X-Ray-compatible ids, one span per invocation, and the SDK's workflow and activity
//! spans placed under it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use opentelemetry::{
    Context, KeyValue,
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::{SpanId, SpanKind, TraceContextExt, TraceId, Tracer},
};
use opentelemetry_aws::trace::{XrayIdGenerator, XrayPropagator};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::IdGenerator};
use temporalio_common::{
    data_converters::{
        GenericPayloadConverter, PayloadConverter, SerializationContext, SerializationContextData,
        WorkflowSerializationContext,
    },
    protos::temporal::api::common::v1::Payload,
};
use temporalio_sdk::{
    WorkflowContextView,
    interceptors::{ActivityInboundInterceptor, ExecuteActivityInput, ExecuteActivityOutput, Next},
    opentelemetry::{TRACE_HEADER_KEY, WorkflowIdGenerator},
    workflow_interceptors::{
        ExecuteWorkflowInput, ExecuteWorkflowResult, InitializeWorkflowInput,
        InitializeWorkflowOutput, WorkflowInterceptor, WorkflowInterceptorContext,
        WorkflowInterceptorFuture, WorkflowNext,
    },
};

/// Trace ids in X-Ray's format (the first 4 bytes are the epoch second), span ids replay-safe
/// inside workflows (as the SDK's tracing requires) and random elsewhere.
#[derive(Debug, Default)]
pub struct LambdaIdGenerator {
    xray: XrayIdGenerator,
    workflow: WorkflowIdGenerator,
}

impl IdGenerator for LambdaIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        self.xray.new_trace_id()
    }

    fn new_span_id(&self) -> SpanId {
        self.workflow.new_span_id()
    }
}

/// The current invocation's span context, shared with the interceptors (activity tasks do not
/// inherit OpenTelemetry's thread-local context).
#[derive(Clone, Default)]
pub(crate) struct InvocationSlot(Arc<Mutex<Option<Context>>>);

impl InvocationSlot {
    pub(crate) fn set(&self, cx: Context) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx);
    }

    pub(crate) fn take(&self) -> Option<Context> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn get(&self) -> Option<Context> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The `_tracer-data` header carrying the invocation span, as the SDK's plugin reads it.
    fn header(&self) -> Option<Payload> {
        let cx = self.get()?;
        let mut carrier = Carrier::default();
        TraceContextPropagator::new().inject_context(&cx, &mut carrier);
        if carrier.0.is_empty() {
            return None;
        }
        let converter = PayloadConverter::default();
        let data = SerializationContextData::Workflow(WorkflowSerializationContext::new());
        converter
            .to_payload(&SerializationContext::new(&data, &converter), &carrier.0)
            .ok()
    }

    fn fill(&self, headers: &mut HashMap<String, Payload>) {
        if !headers.contains_key(TRACE_HEADER_KEY)
            && let Some(p) = self.header()
        {
            headers.insert(TRACE_HEADER_KEY.to_owned(), p);
        }
    }
}

#[derive(Default)]
struct Carrier(HashMap<String, String>);

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

impl Extractor for Carrier {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Puts the invocation span into an activity's trace header when the caller sent none, so
/// the SDK's `RunActivity` span is its child. Registered before the SDK's plugin.
pub(crate) struct ActivityParent(pub(crate) InvocationSlot);

impl ActivityInboundInterceptor for ActivityParent {
    fn execute_activity<'a>(
        &'a self,
        mut input: ExecuteActivityInput,
        next: Next<'a, ExecuteActivityInput, ExecuteActivityOutput<'a>>,
    ) -> ExecuteActivityOutput<'a> {
        self.0.fill(input.headers_mut());
        next.run(input)
    }
}

/// The same for workflows (`RunWorkflow` spans). It only changes which span is the parent,
/// never what the workflow does, so replay stays deterministic.
pub(crate) struct WorkflowParent(pub(crate) InvocationSlot);

impl WorkflowInterceptor for WorkflowParent {
    fn initialize_workflow(
        &self,
        _ctx: WorkflowContextView,
        mut input: InitializeWorkflowInput,
        next: WorkflowNext<'_, InitializeWorkflowInput, InitializeWorkflowOutput>,
    ) -> InitializeWorkflowOutput {
        self.0.fill(input.headers_mut());
        next.run(input)
    }

    fn execute<'a>(
        &'a self,
        _ctx: WorkflowInterceptorContext,
        mut input: ExecuteWorkflowInput,
        next: WorkflowNext<
            'a,
            ExecuteWorkflowInput,
            WorkflowInterceptorFuture<'a, ExecuteWorkflowResult>,
        >,
    ) -> WorkflowInterceptorFuture<'a, ExecuteWorkflowResult> {
        self.0.fill(input.headers_mut());
        next.run(input)
    }
}

/// Starts the span of one invocation: named after the function, kind server, with the FaaS
/// attributes, and parented to Lambda's X-Ray trace when Lambda sent a trace header.
pub(crate) fn start_invocation_span<T>(
    tracer: &T,
    function_name: &str,
    start: &lw_options::InvocationStart,
) -> Context
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    let parent = match &start.xray_trace_id {
        Some(header) => {
            let mut carrier = Carrier::default();
            carrier.set("x-amzn-trace-id", header.clone());
            XrayPropagator::default().extract(&carrier)
        }
        None => Context::new(),
    };
    let span = tracer
        .span_builder(function_name.to_owned())
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("faas.invocation_id", start.request_id.clone()),
            KeyValue::new("cloud.resource_id", start.function_arn.clone()),
            KeyValue::new("faas.coldstart", start.cold),
            KeyValue::new("faas.trigger", "other"),
        ])
        .start_with_context(tracer, &parent);
    parent.with_span(span)
}
