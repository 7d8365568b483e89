//! What the simulator saw, for tests and demos that check the platform from the body's side.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct SimStats {
    requests: AtomicU64,
    callbacks_delivered: AtomicU64,
    callbacks_refused: AtomicU64,
    callbacks_lost: AtomicU64,
}

/// A snapshot of [`SimStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimCounts {
    /// Verification requests that verified and were answered (200 or 202).
    pub requests: u64,
    /// Callbacks the platform took (2xx).
    pub callbacks_delivered: u64,
    /// Callbacks the platform answered with 4xx: it found them forged, replayed or contradicting.
    pub callbacks_refused: u64,
    /// Callbacks given up on after every attempt failed to connect or met a 5xx/429.
    pub callbacks_lost: u64,
}

impl SimStats {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn delivered(&self) {
        self.callbacks_delivered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self) {
        self.callbacks_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn lost(&self) {
        self.callbacks_lost.fetch_add(1, Ordering::Relaxed);
    }

    pub fn counts(&self) -> SimCounts {
        SimCounts {
            requests: self.requests.load(Ordering::Relaxed),
            callbacks_delivered: self.callbacks_delivered.load(Ordering::Relaxed),
            callbacks_refused: self.callbacks_refused.load(Ordering::Relaxed),
            callbacks_lost: self.callbacks_lost.load(Ordering::Relaxed),
        }
    }
}
