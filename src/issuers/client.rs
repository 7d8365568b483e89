//! The outbound client: only registry URLs, no redirects, a timeout, a response-size cap,
//! and private or loopback addresses refused at connect time (unless allowed for tests).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The largest answer read from a body; a JWS answer is a few kilobytes.
pub const RESPONSE_CAP_BYTES: usize = 64 * 1024;

/// What a send came to, as the dispatcher acts on it.
#[derive(Debug)]
pub enum Sent {
    /// 200: the answer JWS.
    Answer(String),
    /// 202: the body will call back.
    Accepted,
    /// Unreachable for now (connection error, timeout, 5xx, 429): try again later.
    Retry(String),
    /// An answer that cannot be trusted (another 4xx, an odd status, an oversized body).
    Refused(String),
}

/// Whether an address is on the public internet (not loopback, private, link-local, …).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

/// Resolves names and drops every non-public address, so a registry URL whose name points
/// inside the network cannot be used to reach it.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[derive(Clone)]
pub struct IssuerClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl IssuerClient {
    pub fn new(timeout: Duration, allow_private: bool) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("certverify/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            http: builder.build()?,
            allow_private,
        })
    }

    /// POSTs a signed request to `{base}/verifications`.
    pub async fn send(&self, base: &str, token: String) -> Sent {
        let url = format!("{}/verifications", base.trim_end_matches('/'));
        if !self.allow_private {
            let literal = url::Url::parse(&url).ok().and_then(|u| match u.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            });
            if literal.is_some_and(|ip| !is_public(ip)) {
                return Sent::Refused(format!("{url} is not a public address"));
            }
        }
        let response = match self
            .http
            .post(&url)
            .header("content-type", "application/jwt")
            .body(token)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) if e.is_builder() => return Sent::Refused(e.to_string()),
            Err(e) => return Sent::Retry(e.to_string()),
        };
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Sent::Retry(format!("the body answered {status}"));
        }
        match status.as_u16() {
            202 => Sent::Accepted,
            200 => match read_capped(response).await {
                Ok(body) => Sent::Answer(body),
                Err(e) => Sent::Refused(e),
            },
            _ => Sent::Refused(format!("the body answered {status}")),
        }
    }
}

async fn read_capped(response: reqwest::Response) -> Result<String, String> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        if body.len() + chunk.len() > RESPONSE_CAP_BYTES {
            return Err(format!("the answer is over {RESPONSE_CAP_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body)
        .map(|s| s.trim().to_owned())
        .map_err(|_| "the answer is not text".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "151.101.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
