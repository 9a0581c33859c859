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
//!
//! The JS side is `host`: on wasm the runtime's promises and timers; in the
//! native tests a recorder of what the executor asked for, so the executor's
//! logic is tested without a runtime.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use host::{Promise, Value};

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

type Answer = Result<Value, Value>;
type Task = Pin<Box<dyn Future<Output = Answer>>>;

thread_local! {
    static SLOTS: RefCell<Slots<Answer>> = const { RefCell::new(Slots::new()) };
    /// Tasks waiting, by index; `None` for a free index or the task being polled.
    static TASKS: RefCell<Vec<Option<Task>>> = const { RefCell::new(Vec::new()) };
    /// The task being polled: a `Wait` polled the first time belongs to it.
    static CURRENT: Cell<u32> = const { Cell::new(0) };
}

fn poll(index: u32, task: &mut Task) -> Poll<Answer> {
    CURRENT.set(index);
    task.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs `fut`: its output when it is ready at once, else a promise of it.
pub fn spawn(fut: impl Future<Output = Answer> + 'static) -> Answer {
    host::install();
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
            Ok(host::drive(index))
        }
    }
}

/// A promise settled: fill its slot and poll its task.
fn resume(index: u32, id: u32, ok: bool, value: Value) {
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
        Poll::Ready(Ok(v)) => host::finish(index, true, v),
        Poll::Ready(Err(e)) => host::finish(index, false, e),
        Poll::Pending => TASKS.with_borrow_mut(|t| t[index as usize] = Some(task)),
    }
}

/// Closes a dropped wait's slot. A task dropped with the thread's storage
/// (native tests) finds the slots gone, which closes them as well.
fn close(id: u32) {
    let _ = SLOTS.try_with(|s| s.borrow_mut().close(id));
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
            host::attach(CURRENT.get(), self.id, &promise);
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
            close(self.id);
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
            self.timer = Some(host::timer(CURRENT.get(), self.id, self.ms));
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
            close(self.id);
            host::cancel(handle);
        }
    }
}

/// The JS side: promises, timers and the answer's promise.
#[cfg(target_arch = "wasm32")]
mod host {
    use std::cell::OnceCell;

    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::prelude::wasm_bindgen;
    use wasm_bindgen::JsCast;

    pub use js_sys::Promise;
    pub use wasm_bindgen::JsValue as Value;

    type Resume = Closure<dyn FnMut(u32, u32, bool, Value)>;

    thread_local! {
        /// [`super::resume`] as a JS function, made once per instance.
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
        pub fn attach(task: u32, id: u32, promise: &Promise);
        pub fn timer(task: u32, id: u32, ms: u32) -> i32;
        pub fn cancel(handle: i32);
        pub fn drive(task: u32) -> Value;
        pub fn finish(task: u32, ok: bool, value: Value);
    }

    /// Hands JS the function that resumes tasks, once per instance.
    pub fn install() {
        RESUME.with(|r| {
            r.get_or_init(|| {
                let f = Closure::own_assert_unwind_safe(super::resume as fn(u32, u32, bool, Value));
                set_resume(f.as_ref().unchecked_ref());
                f
            });
        });
    }
}

/// A host that records what the executor asks of it, for the native tests.
#[cfg(not(target_arch = "wasm32"))]
mod host {
    use std::cell::RefCell;

    pub type Value = i32;
    pub type Promise = i32;

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Call {
        Attach {
            task: u32,
            id: u32,
            promise: Promise,
        },
        Timer {
            task: u32,
            id: u32,
            ms: u32,
        },
        Cancel(i32),
        Drive(u32),
        Finish {
            task: u32,
            ok: bool,
            value: Value,
        },
    }

    thread_local! {
        pub static CALLS: RefCell<Vec<Call>> = const { RefCell::new(Vec::new()) };
    }

    fn record(c: Call) {
        CALLS.with_borrow_mut(|calls| calls.push(c));
    }

    pub fn install() {}
    pub fn attach(task: u32, id: u32, promise: &Promise) {
        record(Call::Attach {
            task,
            id,
            promise: *promise,
        });
    }
    /// The timer's handle is `1000 + id`.
    pub fn timer(task: u32, id: u32, ms: u32) -> i32 {
        record(Call::Timer { task, id, ms });
        1000 + id as i32
    }
    pub fn cancel(handle: i32) {
        record(Call::Cancel(handle));
    }
    /// The answer's promise is `-1`.
    pub fn drive(task: u32) -> Value {
        record(Call::Drive(task));
        -1
    }
    pub fn finish(task: u32, ok: bool, value: Value) {
        record(Call::Finish { task, ok, value });
    }
}

#[cfg(test)]
mod tests {
    use super::host::{Call, CALLS};
    use super::*;

    /// Spawns a task that waits: the answer is the promise `drive` made.
    fn pending(fut: impl Future<Output = Answer> + 'static) {
        assert_eq!(spawn(fut), Ok(-1), "a promise of the answer");
    }

    fn calls() -> Vec<Call> {
        CALLS.with_borrow_mut(std::mem::take)
    }

    /// The id of the slot the last `attach` or `timer` opened.
    fn last_id() -> u32 {
        CALLS
            .with_borrow(|c| {
                c.iter().rev().find_map(|call| match call {
                    Call::Attach { id, .. } | Call::Timer { id, .. } => Some(*id),
                    _ => None,
                })
            })
            .expect("a wait was made")
    }

    #[test]
    fn a_task_that_waits_on_nothing_is_answered_in_the_call() {
        calls();
        assert_eq!(spawn(async { Ok(7) }), Ok(7));
        assert_eq!(calls(), [], "no promise, no attach");
    }

    #[test]
    fn a_task_goes_on_when_its_promise_settles_without_redoing_earlier_work() {
        calls();
        let runs = std::rc::Rc::new(Cell::new(0));
        let r = runs.clone();
        let answer = spawn(async move {
            r.set(r.get() + 1);
            let v = wait(40).await?;
            Ok(v + 2)
        });
        assert_eq!(answer, Ok(-1), "the answer's promise");
        let id = last_id();
        let made = calls();
        let Call::Attach { task, promise, .. } = made[0] else {
            panic!("{made:?}")
        };
        assert_eq!(promise, 40);
        assert_eq!(made[1], Call::Drive(task));
        resume(task, id, true, 40);
        assert_eq!(
            calls(),
            [Call::Finish {
                task,
                ok: true,
                value: 42
            }]
        );
        assert_eq!(runs.get(), 1);
        resume(task, id, true, 40);
        assert_eq!(calls(), [], "a settled wait is not resumed twice");
    }

    #[test]
    fn a_rejected_promise_is_an_error_in_the_task() {
        calls();
        pending(async { wait(1).await.map(|_| 0) });
        let id = last_id();
        let Call::Attach { task, .. } = calls()[0] else {
            unreachable!()
        };
        resume(task, id, false, 9);
        assert_eq!(
            calls(),
            [Call::Finish {
                task,
                ok: false,
                value: 9
            }]
        );
    }

    #[test]
    fn a_promise_that_settles_after_its_wait_was_dropped_is_ignored() {
        calls();
        let polls = std::rc::Rc::new(Cell::new(0));
        let p = polls.clone();
        let mut body = Box::pin(async {
            // Polled once (attached), then dropped: as `within` drops its timer.
            let mut first = Box::pin(wait(1));
            let _ = std::future::poll_fn(|cx| Poll::Ready(first.as_mut().poll(cx))).await;
            drop(first);
            wait(2).await
        });
        pending(std::future::poll_fn(move |cx| {
            p.set(p.get() + 1);
            body.as_mut().poll(cx)
        }));
        let made = calls();
        let (task, dropped) = match made[0] {
            Call::Attach {
                task,
                id,
                promise: 1,
            } => (task, id),
            _ => panic!("{made:?}"),
        };
        let Call::Attach {
            id: kept,
            promise: 2,
            ..
        } = made[1]
        else {
            panic!("{made:?}")
        };
        resume(task, dropped, true, 5);
        assert_eq!(polls.get(), 1, "the task is not polled for it");
        assert_eq!(calls(), []);
        resume(task, kept, true, 6);
        assert_eq!(
            calls(),
            [Call::Finish {
                task,
                ok: true,
                value: 6
            }]
        );
    }

    #[test]
    fn a_timer_fires_into_its_task_and_is_cleared_when_dropped_early() {
        calls();
        pending(async {
            sleep(5).await;
            Ok(1)
        });
        let made = calls();
        let Call::Timer { task, id, ms: 5 } = made[0] else {
            panic!("{made:?}")
        };
        resume(task, id, true, 0);
        assert_eq!(
            calls(),
            [Call::Finish {
                task,
                ok: true,
                value: 1
            }],
            "a fired timer is not cleared"
        );

        pending(async {
            let mut t = Box::pin(sleep(5_000));
            let _ = std::future::poll_fn(|cx| Poll::Ready(t.as_mut().poll(cx))).await;
            drop(t);
            wait(3).await
        });
        let made = calls();
        let Call::Timer { id, .. } = made[0] else {
            panic!("{made:?}")
        };
        assert_eq!(
            made[1],
            Call::Cancel(1000 + id as i32),
            "dropped before it fired: cleared"
        );
    }

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
