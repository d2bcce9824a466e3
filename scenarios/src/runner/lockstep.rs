//! Runs a fleet in lockstep quanta on several host threads.
//!
//! Every unit (a device) is advanced to the quantum's deadline before any is advanced further;
//! between two quanta one thread runs the serial work (the switch learns that everyone got
//! there, the pacer, progress) and picks the next deadline. Inside a quantum each thread takes
//! the units of its own share, one at a time, then those left in the others' shares, so a
//! quantum in which a few devices are busy (a TLS handshake) and the rest sleep keeps every
//! thread busy until the work runs out, whichever devices the busy ones are, while a device
//! mostly stays on one core (see [`Shares`]). Which thread runs a unit cannot change the
//! result: the switch delivers nothing sent inside a quantum before the next one (see
//! `net_bridge::Switch`).
//!
//! The threads meet once per quantum, at a [`Rendezvous`] whose last arrival runs the serial
//! work before it lets the others go; they spin briefly before they sleep, since most quanta
//! of a busy fleet end within microseconds of each other.
//!
//! The run's *span* is measured in CPU time: per quantum, the CPU time of the thread that
//! worked longest, plus the serial work. It is what the run takes on cores of its own, without
//! the time threads lose waking each other, and, unlike the wall clock, it does not grow when
//! the host is shared with other work.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::cputime;

/// Spins (`spin_loop` hints) at a rendezvous before sleeping on it.
const SPINS: u32 = 4000;

/// Where the threads of a run meet at the end of each quantum.
pub struct Rendezvous {
    threads: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
}

impl Rendezvous {
    /// A rendezvous of `threads` (at least 1) threads.
    pub fn new(threads: usize) -> Rendezvous {
        Rendezvous {
            threads: threads.max(1),
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// Returns once every thread has arrived. The last to arrive runs `last` first, while the
    /// others still wait: what it writes, they see when they return.
    pub fn wait(&self, last: impl FnOnce()) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.threads {
            self.arrived.store(0, Ordering::Relaxed);
            last();
            let _guard = lock(&self.sleep);
            self.generation
                .store(generation.wrapping_add(1), Ordering::Release);
            self.wake.notify_all();
            return;
        }
        for _ in 0..SPINS {
            if self.generation.load(Ordering::Acquire) != generation {
                return;
            }
            std::hint::spin_loop();
        }
        let mut guard = lock(&self.sleep);
        while self.generation.load(Ordering::Acquire) == generation {
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Which thread advances which unit in a quantum: each thread owns a contiguous share of the
/// units and takes them in order, then helps the others with what is left of theirs (from
/// the front, one unit at a time). A unit thus runs on the same thread quantum after quantum
/// unless the load is uneven, and its state (registers, RAM, peripherals: tens of KiB per
/// device) stays in that core's caches; a single shared cursor would hand each unit to
/// whichever thread came first and move that state between the cores' caches every quantum.
struct Shares {
    /// Thread `k` owns units `bounds[k]..bounds[k + 1]`.
    bounds: Vec<usize>,
    /// The next unit of each share, each on a cache line of its own.
    next: Vec<Padded>,
}

/// An atomic on a cache line of its own, so that one thread's cursor does not slow another's.
#[repr(align(128))]
struct Padded(AtomicUsize);

impl Shares {
    fn new(units: usize, threads: usize) -> Shares {
        Shares {
            bounds: (0..=threads).map(|k| k * units / threads).collect(),
            next: (0..threads)
                .map(|k| Padded(AtomicUsize::new(k * units / threads)))
                .collect(),
        }
    }

    /// The next unit for thread `k`: its own first, then the others', or `None` when the
    /// quantum's units are all taken.
    fn take(&self, k: usize) -> Option<usize> {
        let threads = self.next.len();
        (0..threads).map(|j| (k + j) % threads).find_map(|share| {
            let end = self.bounds[share + 1];
            // A cursor past its end stays there: a load first keeps a thread that finished
            // its share from writing to the others' lines for nothing.
            if self.next[share].0.load(Ordering::Relaxed) >= end {
                return None;
            }
            let i = self.next[share].0.fetch_add(1, Ordering::Relaxed);
            (i < end).then_some(i)
        })
    }

    /// Every share untaken again, for the next quantum (by the thread that runs `between`,
    /// while the others wait).
    fn reset(&self) {
        for (k, next) in self.next.iter().enumerate() {
            next.0.store(self.bounds[k], Ordering::Relaxed);
        }
    }
}

/// Locks a mutex; a thread that panicked does not poison the run for the others (its panic is
/// passed on when the run ends).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `units` in quanta on `threads` host threads: every unit is advanced to deadline `t`
/// (`advance(unit, t)`, starting with `first`), then `between(t)` runs on one thread and
/// returns the next deadline, or `None` to stop. After each `between` that returned a
/// deadline, `overlap()` runs on the same thread while the others already advance units of the
/// next quantum (work that must be done before the next `between` but that no unit needs in
/// this quantum). Returns the span (see the module's docs).
///
/// A panic in `advance`, `between` or `overlap` ends the run after the quantum and is passed on.
pub fn run<U: Send>(
    units: &mut [U],
    threads: usize,
    first: u64,
    advance: impl Fn(&mut U, u64) + Sync,
    mut between: impl FnMut(u64) -> Option<u64> + Send,
    overlap: impl Fn() + Sync,
) -> Duration {
    let threads = threads.clamp(1, units.len().max(1));
    if threads == 1 {
        let started = cputime::thread();
        let mut t = first;
        loop {
            for u in units.iter_mut() {
                advance(u, t);
            }
            match between(t) {
                Some(next) => t = next,
                None => break,
            }
            overlap();
        }
        return cputime::thread().saturating_sub(started);
    }

    let cells: Vec<Mutex<&mut U>> = units.iter_mut().map(Mutex::new).collect();
    let shares = Shares::new(cells.len(), threads);
    let deadline = AtomicU64::new(first);
    let done = AtomicBool::new(false);
    // CPU nanoseconds each thread worked in the current quantum.
    let worked: Vec<AtomicU64> = (0..threads).map(|_| AtomicU64::new(0)).collect();
    let span = AtomicU64::new(0);
    let between = Mutex::new(&mut between);
    let panicked: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);
    let rendezvous = Rendezvous::new(threads);

    let keep = |p: Box<dyn Any + Send>| {
        lock(&panicked).get_or_insert(p);
    };
    std::thread::scope(|scope| {
        for k in 0..threads {
            let (cells, shares, deadline, done, worked, span, between, rendezvous, advance) = (
                &cells,
                &shares,
                &deadline,
                &done,
                &worked,
                &span,
                &between,
                &rendezvous,
                &advance,
            );
            let overlap = &overlap;
            // Whether this thread ran the last `between`, and so runs `overlap` next.
            let mut led = false;
            let keep = &keep;
            let panicked = &panicked;
            scope.spawn(move || loop {
                let t = deadline.load(Ordering::Relaxed);
                let started = cputime::thread();
                let work = catch_unwind(AssertUnwindSafe(|| {
                    if std::mem::take(&mut led) {
                        overlap();
                    }
                    while let Some(i) = shares.take(k) {
                        advance(&mut lock(&cells[i]), t);
                    }
                }));
                if let Err(p) = work {
                    keep(p);
                }
                let used = cputime::thread().saturating_sub(started);
                worked[k].store(used.as_nanos() as u64, Ordering::Relaxed);
                rendezvous.wait(|| {
                    let serial = cputime::thread();
                    let busiest = worked.iter().map(|w| w.load(Ordering::Relaxed)).max();
                    let next = if lock(panicked).is_some() {
                        None
                    } else {
                        match catch_unwind(AssertUnwindSafe(|| (lock(between))(t))) {
                            Ok(next) => next,
                            Err(p) => {
                                keep(p);
                                None
                            }
                        }
                    };
                    match next {
                        Some(n) => deadline.store(n, Ordering::Relaxed),
                        None => done.store(true, Ordering::Relaxed),
                    }
                    led = true;
                    shares.reset();
                    let serial = cputime::thread().saturating_sub(serial);
                    span.fetch_add(
                        busiest.unwrap_or(0) + serial.as_nanos() as u64,
                        Ordering::Relaxed,
                    );
                });
                if done.load(Ordering::Relaxed) {
                    break;
                }
            });
        }
    });
    if let Some(p) = panicked.into_inner().unwrap_or_else(|e| e.into_inner()) {
        resume_unwind(p);
    }
    Duration::from_nanos(span.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit that records the deadlines it was advanced to and what it saw of the others'
    /// progress at the start of each quantum.
    #[derive(Default)]
    struct Unit {
        seen: Vec<u64>,
    }

    fn lockstep_run(threads: usize, units: usize) -> Vec<Vec<u64>> {
        let mut us: Vec<Unit> = (0..units).map(|_| Unit::default()).collect();
        let progress = AtomicU64::new(0);
        let overlaps = AtomicU64::new(0);
        let mut quanta = 0;
        run(
            &mut us,
            threads,
            10,
            |u, t| {
                // Every unit must have finished the previous quantum: `progress` counts the
                // units advanced so far, and the serial step checks it.
                u.seen.push(t);
                progress.fetch_add(1, Ordering::Relaxed);
            },
            |t| {
                // `overlap` ran after every earlier quantum, before this `between`.
                assert_eq!(overlaps.load(Ordering::Relaxed), quanta);
                quanta += 1;
                assert_eq!(progress.load(Ordering::Relaxed), quanta * units as u64);
                (t < 100).then_some(t + 10)
            },
            || {
                overlaps.fetch_add(1, Ordering::Relaxed);
            },
        );
        assert_eq!(
            overlaps.load(Ordering::Relaxed),
            9,
            "after every quantum but the last"
        );
        us.into_iter().map(|u| u.seen).collect()
    }

    #[test]
    fn every_unit_reaches_every_deadline_in_order_on_any_number_of_threads() {
        let expected: Vec<u64> = (1..=10).map(|k| k * 10).collect();
        for threads in [1, 2, 3, 8] {
            let seen = lockstep_run(threads, 7);
            assert_eq!(seen.len(), 7);
            for s in seen {
                assert_eq!(s, expected, "threads {threads}");
            }
        }
    }

    #[test]
    fn a_thread_takes_its_own_share_in_order_then_what_is_left_of_the_others() {
        let s = Shares::new(10, 3); // shares 0..3, 3..6, 6..10
        let take = |k| s.take(k);
        assert_eq!([take(1), take(1), take(1)], [Some(3), Some(4), Some(5)]);
        // Share 1 is done: thread 1 helps share 2, from its front.
        assert_eq!(take(1), Some(6));
        assert_eq!([take(2), take(0)], [Some(7), Some(0)]);
        let rest: Vec<_> = std::iter::from_fn(|| take(2)).collect();
        assert_eq!(rest, [8, 9, 1, 2], "its own first, then share 0");
        assert_eq!([take(0), take(1), take(2)], [None, None, None]);
        s.reset();
        assert_eq!([take(2), take(0), take(1)], [Some(6), Some(0), Some(3)]);
    }

    #[test]
    fn threads_racing_for_the_shares_take_every_unit_exactly_once() {
        let s = Shares::new(1000, 4);
        for _ in 0..3 {
            let taken: Vec<Vec<usize>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..4)
                    .map(|k| {
                        let s = &s;
                        scope.spawn(move || std::iter::from_fn(|| s.take(k)).collect())
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let mut all: Vec<usize> = taken.concat();
            all.sort_unstable();
            assert_eq!(all, (0..1000).collect::<Vec<_>>());
            s.reset();
        }
    }

    #[test]
    fn more_threads_than_units_and_no_units_are_fine() {
        assert_eq!(
            lockstep_run(5, 2),
            vec![(1..=10).map(|k| k * 10).collect::<Vec<_>>(); 2]
        );
        let mut none: Vec<Unit> = Vec::new();
        let mut calls = 0;
        run(
            &mut none,
            4,
            1,
            |_, _| {},
            |_| {
                calls += 1;
                None
            },
            || {},
        );
        assert_eq!(calls, 1);
    }

    #[test]
    fn a_panic_in_a_unit_ends_the_run_and_is_passed_on() {
        let result = std::panic::catch_unwind(|| {
            let mut us: Vec<u32> = vec![0; 6];
            run(
                &mut us,
                3,
                1,
                |u, t| {
                    *u += 1;
                    if t == 3 && *u == 3 {
                        panic!("unit failed");
                    }
                },
                |t| Some(t + 1),
                || {},
            );
        });
        let err = result.expect_err("the panic must reach the caller");
        assert_eq!(err.downcast_ref::<&str>(), Some(&"unit failed"));
    }

    #[test]
    fn the_span_is_cpu_time_of_the_busiest_thread() {
        // Two units of ~20 ms CPU each per quantum on two threads (each unit waits for the
        // other to start, so each thread takes one): the span counts one of them per quantum,
        // not both, and not the time a thread sleeps.
        let busy = |d: Duration| {
            let start = cputime::thread();
            while cputime::thread() - start < d {
                std::hint::spin_loop();
            }
        };
        let both_started = std::sync::Barrier::new(2);
        let mut us = vec![(); 2];
        let span = run(
            &mut us,
            2,
            1,
            |_, _| {
                both_started.wait();
                busy(Duration::from_millis(20));
            },
            |t| (t < 3).then_some(t + 1),
            || {},
        );
        assert!(span >= Duration::from_millis(60), "{span:?}");
        assert!(span < Duration::from_millis(110), "{span:?}");
    }
}
