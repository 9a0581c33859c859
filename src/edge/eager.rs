//! A future polled once on the spot, so that a request which waits on nothing
//! is answered in the runtime's call itself, without the promise, task and
//! microtask an executor costs.
//!
//! The first poll has no executor to wake, so it gets a no-op waker. That is
//! sound for any future that keeps the contract of `Future::poll` and wakes
//! the waker of its latest poll: the executor polls on, and each poll hands
//! its own waker down. `worker::Delay` keeps only its first waker, so the
//! edge has its own timer (`platform::Sleep`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A future's output now, or the future, to hand to an executor.
pub enum Eager<F: Future> {
    Ready(F::Output),
    Later(Pin<Box<F>>),
}

/// Polls `fut` once.
pub fn poll_once<F: Future>(mut fut: Pin<Box<F>>) -> Eager<F> {
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Eager::Ready(out),
        Poll::Pending => Eager::Later(fut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// Ready once `fire` is set; wakes the waker of its latest poll.
    struct Event {
        fire: Rc<Cell<bool>>,
        waker: Rc<RefCell<Option<Waker>>>,
    }

    impl Future for Event {
        type Output = u8;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
            if self.fire.get() {
                return Poll::Ready(7);
            }
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    #[derive(Default)]
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_future_that_waits_on_nothing_is_answered_at_once() {
        match poll_once(Box::pin(async { 7 })) {
            Eager::Ready(v) => assert_eq!(v, 7),
            Eager::Later(_) => panic!("a ready future went to the executor"),
        }
    }

    #[test]
    fn a_future_that_waits_goes_on_under_the_executor() {
        let fire = Rc::new(Cell::new(false));
        let waker = Rc::new(RefCell::new(None));
        let polls = Rc::new(Cell::new(0));
        let p = Rc::clone(&polls);
        let event = Event {
            fire: Rc::clone(&fire),
            waker: Rc::clone(&waker),
        };
        // Work before the wait runs once, in the first poll.
        let fut = async move {
            p.set(p.get() + 1);
            event.await + 1
        };
        let Eager::Later(mut later) = poll_once(Box::pin(fut)) else {
            panic!("answered before the event");
        };
        assert_eq!(polls.get(), 1);

        let executor = Arc::new(Count::default());
        let exec_waker = Waker::from(Arc::clone(&executor));
        let mut cx = Context::from_waker(&exec_waker);
        assert!(later.as_mut().poll(&mut cx).is_pending());
        fire.set(true);
        waker.borrow_mut().take().expect("a waker").wake();
        assert_eq!(
            executor.0.load(Ordering::SeqCst),
            1,
            "the executor is woken"
        );
        assert_eq!(later.as_mut().poll(&mut cx), Poll::Ready(8));
        assert_eq!(polls.get(), 1, "the work before the wait is not done again");
    }
}
