//! CPU time, the host-time measure that does not depend on what else the host runs: a fleet's
//! figures taken on a shared machine are wall-clock noise, its CPU time is not.

use std::time::Duration;

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock ids used here always exist on
    // Linux, and on failure `ts` stays zero (a zero reading, never undefined behaviour).
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// CPU time the calling thread has used so far.
pub fn thread() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time every thread of the process has used so far.
pub fn process() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work_and_a_thread_counts_only_its_own() {
        let spin = |d: Duration| {
            let start = thread();
            let mut x = 0u64;
            while thread() - start < d {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            x
        };
        let (t0, p0) = (thread(), process());
        spin(Duration::from_millis(20));
        assert!(thread() - t0 >= Duration::from_millis(20));
        let before = thread();
        std::thread::scope(|s| {
            s.spawn(|| spin(Duration::from_millis(30)));
        });
        // The other thread's work shows in the process's time, not in this thread's.
        assert!(thread() - before < Duration::from_millis(30));
        assert!(process() - p0 >= Duration::from_millis(50));
    }
}
