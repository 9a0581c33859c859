//! The edge's executor: each request is a task polled in the runtime's call,
//! then again each time a promise it waits on settles. JS drives it: a [`Wait`]
//! puts a `then` on its promise that calls back into [`resume`], which polls
//! the task. An awaited promise costs one crossing out and one back, where
//! wasm-bindgen-futures' `JsFuture` costs two closures, a wake, a microtask
//! hop and their crossings; a request that waits on nothing gets no promise.
//!
//! Tasks are polled with a no-op waker. That is sound because every leaf
//! future the edge awaits is a [`Wait`] or a [`Sleep`], whose task is polled
//! again when they settle; nothing here waits on a waker of its own.

/// What the promises being waited on settled with, by id. Ids are not reused,
/// so a promise that settles after its [`Wait`] was dropped finds no slot and
/// is ignored.
struct Slots<V> {
    next: u32,
    open: Vec<(u32, Option<V>)>,
}

impl<V> Slots<V> {
    const fn new() -> Self {
        Slots {
            next: 0,
            open: Vec::new(),
        }
    }

    /// A new slot's id; never 0.
    fn open(&mut self) -> u32 {
        self.next = self.next.checked_add(1).unwrap_or(1);
        self.open.push((self.next, None));
        self.next
    }

    /// Whether slot `id` is still open; if so it now holds `value`.
    fn fill(&mut self, id: u32, value: V) -> bool {
        match self.open.iter_mut().find(|(i, _)| *i == id) {
            Some((_, v)) => {
                *v = Some(value);
                true
            }
            None => false,
        }
    }

    /// The value of slot `id`, closing it, once it has one.
    fn take(&mut self, id: u32) -> Option<V> {
        let at = self
            .open
            .iter()
            .position(|(i, v)| *i == id && v.is_some())?;
        self.open.swap_remove(at).1
    }

    fn close(&mut self, id: u32) {
        self.open.retain(|(i, _)| *i != id);
    }
}

#[cfg(target_arch = "wasm32")]
pub use runtime::{sleep, spawn, wait};

#[cfg(target_arch = "wasm32")]
mod runtime {
    use std::cell::{Cell, OnceCell, RefCell};
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    use js_sys::Promise;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::prelude::wasm_bindgen;
    use wasm_bindgen::{JsCast, JsValue};

    use super::Slots;

    type Answer = Result<JsValue, JsValue>;
    type Task = Pin<Box<dyn Future<Output = Answer>>>;
    type Resume = Closure<dyn FnMut(u32, u32, bool, JsValue)>;

    thread_local! {
        static SLOTS: RefCell<Slots<Answer>> = const { RefCell::new(Slots::new()) };
        /// Tasks waiting, by index; `None` for a free index or the task being polled.
        static TASKS: RefCell<Vec<Option<Task>>> = const { RefCell::new(Vec::new()) };
        /// The task being polled: a `Wait` polled the first time belongs to it.
        static CURRENT: Cell<u32> = const { Cell::new(0) };
        /// [`resume`] as a JS function, made once per instance.
        static RESUME: OnceCell<Resume> = const { OnceCell::new() };
    }

    #[wasm_bindgen(inline_js = r#"
    let resume;
    const answers = new Map();
    export function setResume(f) { resume = f; }
    // Calls into the instance that made the wait. A trap is rethrown (the entry
    // fails every request in flight) unless that instance was replaced since:
    // its requests were failed already.
    function stepper(task, id) {
      const f = resume;
      return (ok, value) => {
        try { f(task, id, ok, value); } catch (e) { if (f === resume) throw e; }
      };
    }
    export function attach(task, id, promise) {
      const step = stepper(task, id);
      promise.then((v) => step(true, v), (e) => step(false, e));
    }
    // Settles like a promise, in a microtask, so a trap reaches the entry the same way.
    export function timer(task, id, ms) {
      const step = stepper(task, id);
      return setTimeout(() => Promise.resolve().then(() => step(true)), ms);
    }
    export function cancel(handle) { clearTimeout(handle); }
    export function drive(task) {
      return new Promise((ok, fail) => answers.set(task, [ok, fail]));
    }
    export function finish(task, ok, value) {
      const answer = answers.get(task);
      answers.delete(task);
      if (answer) answer[ok ? 0 : 1](value);
    }
    "#)]
    extern "C" {
        #[wasm_bindgen(js_name = setResume)]
        fn set_resume(f: &js_sys::Function);
        fn attach(task: u32, id: u32, promise: &Promise);
        fn timer(task: u32, id: u32, ms: u32) -> i32;
        fn cancel(handle: i32);
        fn drive(task: u32) -> Promise;
        fn finish(task: u32, ok: bool, value: JsValue);
    }

    fn poll(index: u32, task: &mut Task) -> Poll<Answer> {
        CURRENT.set(index);
        task.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Runs `fut`: its output when it is ready at once, else a promise of it.
    pub fn spawn(fut: impl Future<Output = Answer> + 'static) -> Answer {
        RESUME.with(|r| {
            r.get_or_init(|| {
                let f = Closure::own_assert_unwind_safe(resume as fn(u32, u32, bool, JsValue));
                set_resume(f.as_ref().unchecked_ref());
                f
            });
        });
        let mut task: Task = Box::pin(fut);
        let index = TASKS.with_borrow_mut(|t| match t.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                t.push(None);
                t.len() - 1
            }
        }) as u32;
        match poll(index, &mut task) {
            Poll::Ready(out) => out,
            Poll::Pending => {
                TASKS.with_borrow_mut(|t| t[index as usize] = Some(task));
                Ok(drive(index).into())
            }
        }
    }

    /// A promise settled: fill its slot and poll its task.
    fn resume(index: u32, id: u32, ok: bool, value: JsValue) {
        let settled = if ok { Ok(value) } else { Err(value) };
        if !SLOTS.with_borrow_mut(|s| s.fill(id, settled)) {
            return;
        }
        let Some(mut task) =
            TASKS.with_borrow_mut(|t| t.get_mut(index as usize).and_then(Option::take))
        else {
            return;
        };
        match poll(index, &mut task) {
            Poll::Ready(Ok(v)) => finish(index, true, v),
            Poll::Ready(Err(e)) => finish(index, false, e),
            Poll::Pending => TASKS.with_borrow_mut(|t| t[index as usize] = Some(task)),
        }
    }

    /// A promise's outcome, awaited in a task.
    pub struct Wait {
        promise: Option<Promise>,
        id: u32,
    }

    pub fn wait(promise: Promise) -> Wait {
        Wait {
            promise: Some(promise),
            id: 0,
        }
    }

    impl Future for Wait {
        type Output = Answer;

        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Answer> {
            if let Some(promise) = self.promise.take() {
                self.id = SLOTS.with_borrow_mut(Slots::open);
                attach(CURRENT.get(), self.id, &promise);
                return Poll::Pending;
            }
            match SLOTS.with_borrow_mut(|s| s.take(self.id)) {
                Some(out) => {
                    self.id = 0;
                    Poll::Ready(out)
                }
                None => Poll::Pending,
            }
        }
    }

    impl Drop for Wait {
        fn drop(&mut self) {
            if self.id != 0 {
                SLOTS.with_borrow_mut(|s| s.close(self.id));
            }
        }
    }

    /// A `setTimeout` awaited in a task, cleared when dropped.
    pub struct Sleep {
        ms: u32,
        id: u32,
        timer: Option<i32>,
    }

    pub fn sleep(ms: u64) -> Sleep {
        Sleep {
            ms: u32::try_from(ms).unwrap_or(u32::MAX),
            id: 0,
            timer: None,
        }
    }

    impl Future for Sleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.id == 0 {
                self.id = SLOTS.with_borrow_mut(Slots::open);
                self.timer = Some(timer(CURRENT.get(), self.id, self.ms));
                return Poll::Pending;
            }
            match SLOTS.with_borrow_mut(|s| s.take(self.id)) {
                Some(_) => {
                    self.timer = None;
                    Poll::Ready(())
                }
                None => Poll::Pending,
            }
        }
    }

    impl Drop for Sleep {
        fn drop(&mut self) {
            if let Some(handle) = self.timer {
                SLOTS.with_borrow_mut(|s| s.close(self.id));
                cancel(handle);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Slots;

    #[test]
    fn a_slot_gives_its_value_once() {
        let mut s = Slots::new();
        let a = s.open();
        let b = s.open();
        assert_ne!(a, b);
        assert_ne!(a, 0);
        assert_eq!(s.take(a), None, "nothing before it settles");
        assert!(s.fill(a, "a"));
        assert_eq!(s.take(b), None, "another slot's value is not this one's");
        assert_eq!(s.take(a), Some("a"));
        assert_eq!(s.take(a), None);
        assert!(!s.fill(a, "again"), "a taken slot is closed");
    }

    #[test]
    fn a_closed_slot_ignores_a_late_value_even_after_more_opens() {
        let mut s = Slots::new();
        let dropped = s.open();
        s.close(dropped);
        let later = s.open();
        assert_ne!(later, dropped, "ids are not reused");
        assert!(!s.fill(dropped, 1));
        assert_eq!(s.take(later), None);
        assert!(s.open.len() == 1);
    }

    #[test]
    fn ids_skip_zero_when_they_wrap() {
        let mut s: Slots<()> = Slots::new();
        s.next = u32::MAX;
        assert_eq!(s.open(), 1);
    }
}
