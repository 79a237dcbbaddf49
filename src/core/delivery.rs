//! What a delivery attempt's answer means, and how long to wait before the next one:
//! exponential backoff with jitter, so that many tabs and many shoppers do not retry
//! in step, and `Retry-After` when the backend asks for it.

use super::ports::Rng;

/// The waits after 1, 2, 3, 4 and 5 or more failures in a row, before jitter.
pub const BACKOFF_MS: [u64; 5] = [1_000, 2_000, 5_000, 15_000, 60_000];
/// The longest `Retry-After` souk honours: an hour.
pub const MAX_RETRY_AFTER_MS: u64 = 3_600_000;

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    /// The backend has it (2xx).
    Delivered,
    /// The backend refused it for good (a 4xx other than 408 and 429): retrying
    /// cannot help, so it is dropped.
    Refused,
    /// No answer, or one that says to try again (408, 429, 5xx), after
    /// `retry_after_ms` if the backend said so.
    Failed {
        /// The backend's `Retry-After`, in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// Handed to the browser on the way out (`sendBeacon`): its fate is unknown, so
    /// it goes again, without counting as a failure.
    Unknown,
}

impl Answer {
    /// The answer an HTTP `status` means (0 for no answer at all), with the
    /// `Retry-After` header's seconds, if any.
    pub fn from_status(status: u16, retry_after_s: Option<f64>) -> Self {
        match status {
            200..=299 => Answer::Delivered,
            408 | 429 => Answer::failed(retry_after_s),
            400..=499 => Answer::Refused,
            _ => Answer::failed(retry_after_s),
        }
    }

    fn failed(retry_after_s: Option<f64>) -> Self {
        let retry_after_ms = retry_after_s
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| ((s * 1000.0) as u64).min(MAX_RETRY_AFTER_MS));
        Answer::Failed { retry_after_ms }
    }

    /// Whether the request's messages leave the queue.
    pub fn is_final(self) -> bool {
        matches!(self, Answer::Delivered | Answer::Refused)
    }
}

/// Failures in a row, for the next wait.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// Notes `answer`; for a failure, the milliseconds to wait before trying again.
    pub fn after(&mut self, answer: Answer, rng: &mut impl Rng) -> Option<u64> {
        let Answer::Failed { retry_after_ms } = answer else {
            if answer == Answer::Delivered {
                self.failures = 0;
            }
            return None;
        };
        self.failures = self.failures.saturating_add(1);
        let step = (self.failures as usize).min(BACKOFF_MS.len()) - 1;
        // Jitter: from half to one and a half times the step.
        let mut bytes = [0u8; 4];
        rng.fill(&mut bytes);
        let fraction = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX);
        let wait = (BACKOFF_MS[step] as f64 * (0.5 + fraction)) as u64;
        Some(wait.max(retry_after_ms.unwrap_or(0)))
    }

    /// The backend may be back (the browser came online): start again from the
    /// shortest wait.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ports::SeededRng;

    #[test]
    fn statuses_mean_delivered_refused_or_try_again() {
        assert_eq!(Answer::from_status(200, None), Answer::Delivered);
        assert_eq!(Answer::from_status(400, None), Answer::Refused);
        assert_eq!(Answer::from_status(413, Some(5.0)), Answer::Refused);
        for status in [0, 408, 429, 500, 502, 503] {
            assert!(!Answer::from_status(status, None).is_final(), "{status}");
        }
        let later = Answer::from_status(429, Some(2.5));
        assert_eq!(
            later,
            Answer::Failed {
                retry_after_ms: Some(2_500)
            }
        );
        let absurd = Answer::from_status(503, Some(1e9));
        assert_eq!(
            absurd,
            Answer::Failed {
                retry_after_ms: Some(MAX_RETRY_AFTER_MS)
            }
        );
        let nonsense = Answer::from_status(503, Some(-1.0));
        assert_eq!(
            nonsense,
            Answer::Failed {
                retry_after_ms: None
            }
        );
    }

    #[test]
    fn waits_grow_with_jitter_up_to_a_minute_and_reset_on_success() {
        let mut rng = SeededRng::new(7);
        let mut backoff = Backoff::default();
        let failed = Answer::Failed {
            retry_after_ms: None,
        };
        for (i, step) in BACKOFF_MS.iter().chain([60_000, 60_000].iter()).enumerate() {
            let wait = backoff.after(failed, &mut rng).unwrap();
            assert!(
                (step / 2..=step * 3 / 2).contains(&wait),
                "failure {}: {wait}",
                i + 1
            );
        }
        assert_eq!(backoff.after(Answer::Refused, &mut rng), None);
        assert!(
            backoff.after(failed, &mut rng).unwrap() > 30_000,
            "a refusal is no success"
        );
        assert_eq!(backoff.after(Answer::Delivered, &mut rng), None);
        assert!(backoff.after(failed, &mut rng).unwrap() <= 1_500);
    }

    #[test]
    fn jitter_spreads_many_tabs_apart() {
        let waits: Vec<u64> = (1..=50)
            .map(|seed| {
                let failed = Answer::Failed {
                    retry_after_ms: None,
                };
                Backoff::default()
                    .after(failed, &mut SeededRng::new(seed))
                    .unwrap()
            })
            .collect();
        let (min, max) = (waits.iter().min().unwrap(), waits.iter().max().unwrap());
        assert!(max - min > 500, "{min}..{max}");
    }

    #[test]
    fn retry_after_is_a_floor() {
        let mut backoff = Backoff::default();
        let asked = Answer::Failed {
            retry_after_ms: Some(30_000),
        };
        assert_eq!(backoff.after(asked, &mut SeededRng::new(1)), Some(30_000));
    }
}
