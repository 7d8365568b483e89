//! The generic cell rate algorithm, as a pure function of the bucket's state and the time:
//! a quota of `units` per `window`, one unit coming back every `window / units`, a full
//! quota usable at once. The state of a bucket is its theoretical arrival time (TAT): the
//! moment at which it would be full again.
//!
//! Written out rather than taken from `governor` because a request limited by two buckets
//! (an account and an address) must be decided on both before either is charged: a
//! refused attempt charges neither, and the answer names the longer wait.

use std::time::{Duration, Instant};

/// One limit, as the `RateLimit-Policy` header names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub name: &'static str,
    pub units: u32,
    pub window: Duration,
}

impl Quota {
    pub fn per_minute(name: &'static str, units: u32) -> Self {
        Self {
            name,
            units: units.max(1),
            window: Duration::from_secs(60),
        }
    }

    fn interval(&self) -> Duration {
        self.window / self.units
    }
}

/// A bucket's standing after a decision, for the `RateLimit` header and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub quota: Quota,
    /// Units left now (after this request's, when it was allowed).
    pub remaining: u32,
    /// Until the whole quota is back.
    pub reset: Duration,
    /// Refused: until one unit is back.
    pub retry_after: Option<Duration>,
}

/// Decides one unit for a bucket whose TAT is `tat` (None: never used, or full). Returns
/// the standing and, when allowed, the bucket's new TAT.
pub fn decide(quota: &Quota, tat: Option<Instant>, now: Instant) -> (Standing, Option<Instant>) {
    let interval = quota.interval();
    let tat = tat.filter(|t| *t > now).unwrap_or(now);
    let after = tat + interval;
    let ahead = after - now;
    if ahead <= quota.window {
        let left = quota.window - ahead;
        let remaining = (left.as_nanos() / interval.as_nanos().max(1)) as u32;
        let standing = Standing {
            quota: *quota,
            remaining,
            reset: ahead,
            retry_after: None,
        };
        return (standing, Some(after));
    }
    let standing = Standing {
        quota: *quota,
        remaining: 0,
        reset: tat - now,
        retry_after: Some(ahead - quota.window),
    };
    (standing, None)
}

/// Whole seconds, rounded up (a client that waits this long is not refused for being early).
pub fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_quota_is_usable_at_once_then_comes_back_one_unit_per_interval() {
        let quota = Quota::per_minute("q", 3);
        let start = Instant::now();
        let mut tat = None;
        for left in [2, 1, 0] {
            let (standing, next) = decide(&quota, tat, start);
            assert_eq!(standing.remaining, left);
            tat = next;
        }
        let (refused, next) = decide(&quota, tat, start);
        assert!(next.is_none());
        assert_eq!(refused.retry_after, Some(Duration::from_secs(20)));
        assert_eq!(refused.reset, Duration::from_secs(60));
        // After the wait it names, one unit is there.
        let (allowed, _) = decide(&quota, tat, start + Duration::from_secs(20));
        assert_eq!(allowed.retry_after, None);
        assert_eq!(allowed.remaining, 0);
        // And after the whole window, the whole quota.
        let (full, _) = decide(&quota, tat, start + Duration::from_secs(60));
        assert_eq!(full.remaining, 2);
    }

    #[test]
    fn seconds_round_up() {
        assert_eq!(ceil_secs(Duration::from_millis(1001)), 2);
        assert_eq!(ceil_secs(Duration::from_secs(3)), 3);
    }
}
