//! When to read the template again.
//!
//! ARM's rule comes first: when the service says `Retry-After`, that is the interval (it knows
//! when something can change, and reading sooner only spends the subscription's read quota).
//! Without one, reads start quick after a change, when a short phase (Queued, Optimizing)
//! may end soon, and slow down geometrically to a ceiling that fits the phase: a build spends
//! most of its hour in Customizing, where a minute's delay in noticing is nothing.
//!
//! `az image builder wait` polls every 30 s regardless; scripts/bench/track.py compares the two.

use std::time::Duration;

/// The first read after a change.
pub const FIRST: Duration = Duration::from_secs(5);
/// Each read without change waits this much longer than the one before.
pub const GROWTH: f64 = 1.6;
/// Never wait longer than this, whatever Retry-After says (a stuck proxy can send hours).
pub const LONGEST: Duration = Duration::from_secs(300);

/// The slowest polling a phase gets without Retry-After.
pub fn ceiling(sub_state: Option<&str>) -> Duration {
    let secs = match sub_state.map(str::to_ascii_lowercase).as_deref() {
        Some("queued") => 15,
        Some("building") | Some("optimizing") => 30,
        Some("validating") => 45,
        // Customizing and Distributing take most of a build.
        _ => 60,
    };
    Duration::from_secs(secs)
}

#[derive(Debug, Clone)]
pub struct Schedule {
    current: Duration,
    retry_after: Option<Duration>,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule { current: FIRST, retry_after: None }
    }
}

impl Schedule {
    /// The interval before the next read, given what the last read said.
    pub fn next(&mut self, changed: bool, sub_state: Option<&str>, retry_after: Option<Duration>) -> Duration {
        if retry_after.is_some() {
            self.retry_after = retry_after;
        }
        if let Some(ra) = self.retry_after {
            return ra.clamp(Duration::from_secs(1), LONGEST);
        }
        self.current = if changed { FIRST } else { self.current.mul_f64(GROWTH).min(ceiling(sub_state)) };
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_the_interval() {
        let mut s = Schedule::default();
        assert_eq!(s.next(false, Some("Customizing"), Some(Duration::from_secs(60))), Duration::from_secs(60));
        // Remembered until the service says otherwise.
        assert_eq!(s.next(true, Some("Distributing"), None), Duration::from_secs(60));
        assert_eq!(s.next(false, None, Some(Duration::from_secs(9000))), LONGEST);
    }

    #[test]
    fn without_retry_after_it_backs_off_to_the_phase_ceiling() {
        let mut s = Schedule::default();
        let mut last = Duration::ZERO;
        for _ in 0..20 {
            last = s.next(false, Some("Customizing"), None);
        }
        assert_eq!(last, Duration::from_secs(60));
        assert_eq!(s.next(true, Some("Optimizing"), None), FIRST);
        assert!(s.next(false, Some("Queued"), None) <= Duration::from_secs(15));
    }
}
