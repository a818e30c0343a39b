//! Connection tasks that write in batches.

/// Runs a connection task one turn late: woken (a query was queued), it first lets the other
/// tasks that are ready run, so that the queries they queue go out in the same write. tokio
/// otherwise runs a task woken by another one right after it (its "LIFO slot"), and the
/// connection would write each query on its own: one system call and one wake-up of the
/// server per query instead of per batch.
pub struct Batched<F> {
    inner: std::pin::Pin<Box<F>>,
    yielded: bool,
}

impl<F> Batched<F> {
    pub fn new(inner: F) -> Self {
        Self {
            inner: Box::pin(inner),
            yielded: false,
        }
    }
}

impl<F: std::future::Future> std::future::Future for Batched<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        if !self.yielded {
            self.yielded = true;
            // Woken while running: tokio puts the task at the back of the run queue.
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        self.yielded = false;
        self.inner.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::Batched;

    #[tokio::test]
    async fn a_batched_task_still_runs_to_its_end() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(Batched::new(async move { rx.await.unwrap() + 1 }));
        tx.send(41).unwrap();
        assert_eq!(task.await.unwrap(), 42);
    }
}
