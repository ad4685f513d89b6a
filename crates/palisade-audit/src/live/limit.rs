//! A client-side rate limit shared by every request of one audit: at most
//! `qps` requests per second, evenly spaced (the API server's priority and
//! fairness still has the last word, through 429).

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Spaces requests `1/qps` apart.
#[derive(Debug)]
pub struct RateLimit {
    gap: Duration,
    next: Mutex<Instant>,
}

impl RateLimit {
    /// At most `qps` requests per second (`qps <= 0`: no limit).
    pub fn new(qps: f64) -> RateLimit {
        let gap = if qps > 0.0 && qps.is_finite() {
            Duration::from_secs_f64(1.0 / qps)
        } else {
            Duration::ZERO
        };
        RateLimit {
            gap,
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this request's turn.
    pub async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + self.gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_by_the_rate() {
        let limit = RateLimit::new(10.0);
        let start = Instant::now();
        for _ in 0..5 {
            limit.wait().await;
        }
        // the first goes at once, the next four 100 ms apart
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }
}
