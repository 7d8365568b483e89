//! Rate limits for the login and token endpoints (per account and per address) and for
//! share-code look-ups, with the IETF `RateLimit-Policy` and `RateLimit` headers
//! (draft-ietf-httpapi-ratelimit-headers) on every answer of a limited route.
//!
//! Limits are kept in each instance's memory: behind a load balancer of N instances an
//! attacker gets at most N times the limit, which still bounds guessing; the limits
//! themselves are configuration.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};

use super::gcra::{ceil_secs, decide, Quota, Standing};
use crate::error::ApiError;

/// How much more an address may try than one (client, address) pair: a shared office
/// NAT has many users, but one address spraying many accounts must still be slowed.
const ADDRESS_FACTOR: u32 = 5;
/// Forget full buckets once a limiter holds this many.
const MAX_KEYS: usize = 100_000;

type Buckets<K> = HashMap<K, Instant>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A bucket map is consistent after any panic (entries are replaced whole).
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn prune<K: Hash + Eq>(buckets: &mut Buckets<K>, now: Instant) {
    if buckets.len() > MAX_KEYS {
        buckets.retain(|_, tat| *tat > now);
    }
}

#[derive(Default)]
struct AuthBuckets {
    account: Buckets<(String, IpAddr)>,
    address: Buckets<IpAddr>,
}

/// Logins and token requests: per (account or client id, address) and per address.
pub struct AuthRateLimiter {
    account: Quota,
    address: Quota,
    buckets: Mutex<AuthBuckets>,
}

impl AuthRateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            account: Quota::per_minute("account", per_minute),
            address: Quota::per_minute("address", per_minute.saturating_mul(ADDRESS_FACTOR)),
            buckets: Mutex::default(),
        }
    }

    /// Counts one attempt by `client` (an email or client id, case-folded) from `address`;
    /// the route's answer carries the limits' headers.
    pub fn check(&self, req: &HttpRequest, client: &str, address: IpAddr) -> Result<(), ApiError> {
        verdict(req, self.decide(client, address, Instant::now()))
    }

    /// Both limits decided together: the attempt is charged to both or, when either
    /// refuses, to neither.
    fn decide(&self, client: &str, address: IpAddr, now: Instant) -> Vec<Standing> {
        let key = (client.to_lowercase(), address);
        let mut b = lock(&self.buckets);
        prune(&mut b.account, now);
        prune(&mut b.address, now);
        let (account, account_tat) = decide(&self.account, b.account.get(&key).copied(), now);
        let (by_address, address_tat) =
            decide(&self.address, b.address.get(&address).copied(), now);
        if let (Some(a), Some(d)) = (account_tat, address_tat) {
            b.account.insert(key, a);
            b.address.insert(address, d);
        }
        vec![account, by_address]
    }
}

/// One bucket per key for look-ups whose answers must not be guessed at speed (share
/// codes): keyed by client address for anyone, by account for agencies.
pub struct LookupRateLimiter {
    quota: Quota,
    buckets: Mutex<Buckets<String>>,
}

impl LookupRateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            quota: Quota::per_minute("share-codes", per_minute),
            buckets: Mutex::default(),
        }
    }

    pub fn check(&self, req: &HttpRequest, key: &str) -> Result<(), ApiError> {
        verdict(req, vec![self.decide(key, Instant::now())])
    }

    fn decide(&self, key: &str, now: Instant) -> Standing {
        let mut buckets = lock(&self.buckets);
        prune(&mut buckets, now);
        let (standing, tat) = decide(&self.quota, buckets.get(key).copied(), now);
        if let Some(tat) = tat {
            buckets.insert(key.to_owned(), tat);
        }
        standing
    }
}

/// The limits' standing, kept with the request until [`headers`] writes it on the answer.
#[derive(Clone)]
struct RateLimitHeaders {
    policy: HeaderValue,
    current: HeaderValue,
}

/// `RateLimit-Policy: "account";q=10;w=60, "address";q=50;w=60` and
/// `RateLimit: "account";r=0;t=42, "address";r=37;t=9`; a refusal answers the longest
/// wait of the limits it met (a client told a shorter one would only be refused again).
fn verdict(req: &HttpRequest, standings: Vec<Standing>) -> Result<(), ApiError> {
    let policy = standings
        .iter()
        .map(|s| {
            format!(
                "\"{}\";q={};w={}",
                s.quota.name,
                s.quota.units,
                s.quota.window.as_secs()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let current = standings
        .iter()
        .map(|s| {
            format!(
                "\"{}\";r={};t={}",
                s.quota.name,
                s.remaining,
                ceil_secs(s.reset)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    if let (Ok(policy), Ok(current)) = (
        HeaderValue::from_str(&policy),
        HeaderValue::from_str(&current),
    ) {
        req.extensions_mut()
            .insert(RateLimitHeaders { policy, current });
    }
    match standings.iter().filter_map(|s| s.retry_after).max() {
        None => Ok(()),
        Some(wait) => Err(ApiError::too_many_requests(ceil_secs(wait))),
    }
}

/// Writes the headers of the limits a route checked on its answer, whatever it is (a
/// success, a refusal, a wrong password).
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let found = res
        .request()
        .extensions()
        .get::<RateLimitHeaders>()
        .cloned();
    if let Some(found) = found {
        let headers = res.headers_mut();
        headers.insert(HeaderName::from_static("ratelimit-policy"), found.policy);
        headers.insert(HeaderName::from_static("ratelimit"), found.current);
    }
    Ok(res)
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
    use std::time::Duration;

    fn refused(standings: &[Standing]) -> Option<Duration> {
        standings.iter().filter_map(|s| s.retry_after).max()
    }

    #[test]
    fn a_client_is_stopped_after_its_quota_and_told_when_to_retry() {
        let limiter = AuthRateLimiter::new(3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let now = Instant::now();
        for _ in 0..3 {
            assert!(refused(&limiter.decide("ana@example.org", ip, now)).is_none());
        }
        assert_eq!(
            refused(&limiter.decide("ANA@example.org", ip, now)),
            Some(Duration::from_secs(20))
        );
    }

    #[test]
    fn another_client_or_address_has_its_own_quota() {
        let limiter = AuthRateLimiter::new(1);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let now = Instant::now();
        assert!(refused(&limiter.decide("a", ip, now)).is_none());
        assert!(refused(&limiter.decide("a", ip, now)).is_some());
        assert!(refused(&limiter.decide("b", ip, now)).is_none());
        assert!(refused(&limiter.decide("a", "192.0.2.2".parse().unwrap(), now)).is_none());
    }

    #[test]
    fn look_ups_are_counted_per_key() {
        let limiter = LookupRateLimiter::new(2);
        let now = Instant::now();
        assert!(limiter.decide("192.0.2.1", now).retry_after.is_none());
        assert!(limiter.decide("192.0.2.1", now).retry_after.is_none());
        assert!(limiter.decide("192.0.2.1", now).retry_after.is_some());
        assert!(limiter.decide("agency:a", now).retry_after.is_none());
    }

    #[test]
    fn one_address_cannot_spray_unlimited_clients() {
        let limiter = AuthRateLimiter::new(1);
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        let now = Instant::now();
        let allowed = (0..50)
            .filter(|i| refused(&limiter.decide(&format!("user{i}"), ip, now)).is_none())
            .count();
        assert_eq!(allowed, ADDRESS_FACTOR as usize);
    }

    /// Both limits hit: the answer names the longer wait, and after it the attempt passes.
    #[test]
    fn when_both_limits_are_hit_the_longest_wait_is_named_and_enough() {
        let limiter = AuthRateLimiter::new(2);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let now = Instant::now();
        // The account's two, then the address's other eight by other accounts.
        for client in ["ana", "ana", "b", "b", "c", "c", "d", "d", "e", "e"] {
            assert!(
                refused(&limiter.decide(client, ip, now)).is_none(),
                "{client}"
            );
        }
        let both = limiter.decide("ana", ip, now);
        assert!(both.iter().all(|s| s.retry_after.is_some()), "{both:?}");
        let wait = refused(&both).unwrap();
        assert_eq!(
            wait,
            Duration::from_secs(30),
            "the account's wait, not the address's 6 s"
        );
        assert!(
            refused(&limiter.decide("ana", ip, now + wait - Duration::from_millis(1))).is_some()
        );
        assert!(refused(&limiter.decide("ana", ip, now + wait)).is_none());
    }

    #[test]
    fn a_refused_attempt_charges_neither_limit() {
        let limiter = AuthRateLimiter::new(1);
        let ip: IpAddr = "192.0.2.8".parse().unwrap();
        let now = Instant::now();
        assert!(refused(&limiter.decide("ana", ip, now)).is_none());
        for _ in 0..10 {
            assert!(refused(&limiter.decide("ana", ip, now)).is_some());
        }
        // The address still has its other four.
        let others = (0..4)
            .filter(|i| refused(&limiter.decide(&format!("u{i}"), ip, now)).is_none())
            .count();
        assert_eq!(others, 4);
    }
}
