//! The outermost tower layer of the runtime: counts invocations handed to the service and
//! those whose response was posted, so a shutdown can wait for the ones in progress.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
};

use lambda_runtime::{Service, tower::Layer};
use tokio::sync::watch;

/// Invocations handed to the service and those whose response was posted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    /// Handed to the service.
    pub(super) begun: u64,
    /// Answered.
    pub(super) ended: u64,
}

impl Counts {
    /// Nothing in progress.
    pub(super) fn settled(&self) -> bool {
        self.begun == self.ended
    }
}

/// Wraps a service in [`Counted`], publishing to one [`watch`] channel.
pub(super) struct CountLayer(Arc<watch::Sender<Counts>>);

impl CountLayer {
    /// A layer publishing its counts on `counts`.
    pub(super) fn new(counts: watch::Sender<Counts>) -> Self {
        Self(Arc::new(counts))
    }
}

impl<S> Layer<S> for CountLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            counts: self.0.clone(),
        }
    }
}

/// A service counting each call when it begins and when its future ends.
#[derive(Clone)]
pub(super) struct Counted<S> {
    inner: S,
    counts: Arc<watch::Sender<Counts>>,
}

impl<S, R> Service<R> for Counted<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = CountEnd<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        self.counts.send_modify(|c| c.begun += 1);
        CountEnd {
            inner: Box::pin(self.inner.call(req)),
            counts: self.counts.clone(),
        }
    }
}

/// The inner future, counting its end.
pub(super) struct CountEnd<F> {
    inner: Pin<Box<F>>,
    counts: Arc<watch::Sender<Counts>>,
}

impl<F: Future> Future for CountEnd<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let out = ready!(self.inner.as_mut().poll(cx));
        self.counts.send_modify(|c| c.ended += 1);
        Poll::Ready(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_are_counted_when_they_begin_and_when_they_end() {
        let (tx, rx) = watch::channel(Counts::default());
        let gate = Arc::new(tokio::sync::Notify::new());
        let held = gate.clone();
        let inner = lambda_runtime::service_fn(move |_: u8| {
            let held = held.clone();
            async move {
                held.notified().await;
                Ok::<_, std::convert::Infallible>(())
            }
        });
        let mut service = CountLayer::new(tx).layer(inner);
        let call = service.call(1);
        assert_eq!(*rx.borrow(), Counts { begun: 1, ended: 0 });
        assert!(!rx.borrow().settled());
        gate.notify_one();
        call.await.unwrap();
        assert_eq!(*rx.borrow(), Counts { begun: 1, ended: 1 });
        assert!(rx.borrow().settled());
    }
}
