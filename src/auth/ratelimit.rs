//! Rate limits for the login and token endpoints, per client and per address.
//!
//! Limits are kept in each instance's memory (governor's GCRA): behind a load balancer
//! of N instances an attacker gets at most N times the limit, which still bounds
//! guessing; the limits themselves are configuration.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use actix_web::HttpRequest;

use crate::error::ApiError;

/// How much more an address may try than one (client, address) pair: a shared office
/// NAT has many users, but one address spraying many accounts must still be slowed.
const ADDRESS_FACTOR: u32 = 5;
/// Forget idle keys once a limiter holds this many.
const MAX_KEYS: usize = 100_000;

pub struct AuthRateLimiter {
    pair: DefaultKeyedRateLimiter<(String, IpAddr)>,
    address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl AuthRateLimiter {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let per_address =
            per_minute.saturating_mul(NonZeroU32::new(ADDRESS_FACTOR).unwrap_or(NonZeroU32::MIN));
        Self {
            pair: RateLimiter::keyed(Quota::per_minute(per_minute)),
            address: RateLimiter::keyed(Quota::per_minute(per_address)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt by `client` (an email or client id, case-folded) from `address`.
    pub fn check(&self, client: &str, address: IpAddr) -> Result<(), ApiError> {
        for limiter_len in [self.pair.len(), self.address.len()] {
            if limiter_len > MAX_KEYS {
                self.pair.retain_recent();
                self.address.retain_recent();
            }
        }
        let key = (client.to_lowercase(), address);
        let refused = self
            .address
            .check_key(&address)
            .err()
            .or_else(|| self.pair.check_key(&key).err());
        match refused {
            None => Ok(()),
            Some(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(ApiError::too_many_requests(wait.as_secs() + 1))
            }
        }
    }
}

/// One bucket per key for look-ups whose answers must not be guessed at speed (share
/// codes): keyed by client address for anyone, by account for agencies.
pub struct LookupRateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl LookupRateLimiter {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
        }
    }

    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        if self.limiter.len() > MAX_KEYS {
            self.limiter.retain_recent();
        }
        match self.limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(ApiError::too_many_requests(wait.as_secs() + 1))
            }
        }
    }
}

/// The address a rate limit counts a request against.
pub fn client_address(req: &HttpRequest) -> IpAddr {
    // The peer address, not X-Forwarded-For: a header anyone can set must not pick the bucket.
    req.peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_stopped_after_its_quota_and_told_when_to_retry() {
        let limiter = AuthRateLimiter::new(3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check("ana@example.org", ip).is_ok());
        }
        let err = limiter.check("ANA@example.org", ip).unwrap_err();
        assert_eq!(err.status.as_u16(), 429);
    }

    #[test]
    fn another_client_or_address_has_its_own_quota() {
        let limiter = AuthRateLimiter::new(1);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiter.check("a", ip).is_ok());
        assert!(limiter.check("a", ip).is_err());
        assert!(limiter.check("b", ip).is_ok());
        assert!(limiter.check("a", "192.0.2.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn look_ups_are_counted_per_key() {
        let limiter = LookupRateLimiter::new(2);
        assert!(limiter.check("192.0.2.1").is_ok());
        assert!(limiter.check("192.0.2.1").is_ok());
        assert_eq!(limiter.check("192.0.2.1").unwrap_err().status.as_u16(), 429);
        assert!(limiter.check("agency:a").is_ok());
    }

    #[test]
    fn one_address_cannot_spray_unlimited_clients() {
        let limiter = AuthRateLimiter::new(1);
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        let allowed = (0..50)
            .filter(|i| limiter.check(&format!("user{i}"), ip).is_ok())
            .count();
        assert_eq!(allowed, ADDRESS_FACTOR as usize);
    }
}
