//! Counters for Prometheus (`/metrics`, text format 0.0.4): requests by
//! method and status, bytes in and out, request latency, open upload sessions.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Latency buckets, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
    /// Upload sessions started minus those finished or cancelled.
    pub uploads_started: AtomicU64,
    /// Upload sessions finished or cancelled.
    pub uploads_ended: AtomicU64,
}

impl Metrics {
    /// Counts one request.
    pub fn record(&self, method: &str, status: u16, bytes_in: u64, bytes_out: u64, took: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((method.to_owned(), status))
            .or_default() += 1;
        self.bytes_in.fetch_add(bytes_in, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes_out, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP strata_registry_requests_total HTTP requests by method and status."
        );
        let _ = writeln!(out, "# TYPE strata_registry_requests_total counter");
        for ((method, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "strata_registry_requests_total{{method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        for (name, help, v) in [
            (
                "strata_registry_received_bytes_total",
                "Request body bytes received.",
                &self.bytes_in,
            ),
            (
                "strata_registry_sent_bytes_total",
                "Response body bytes sent.",
                &self.bytes_out,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP strata_registry_request_duration_seconds Request latency."
        );
        let _ = writeln!(
            out,
            "# TYPE strata_registry_request_duration_seconds histogram"
        );
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "strata_registry_request_duration_seconds_bucket{{le=\"{le}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "strata_registry_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "strata_registry_request_duration_seconds_sum {}",
            self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "strata_registry_request_duration_seconds_count {count}"
        );
        let open = self
            .uploads_started
            .load(Ordering::Relaxed)
            .saturating_sub(self.uploads_ended.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# HELP strata_registry_upload_sessions Upload sessions open (started by this process).\n# TYPE strata_registry_upload_sessions gauge\nstrata_registry_upload_sessions {open}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counters_and_a_histogram() {
        let m = Metrics::default();
        m.record("GET", 200, 0, 10, Duration::from_millis(3));
        m.record("GET", 200, 0, 5, Duration::from_millis(300));
        m.record("PUT", 201, 7, 0, Duration::from_micros(10));
        let text = m.render();
        assert!(
            text.contains("strata_registry_requests_total{method=\"GET\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("strata_registry_sent_bytes_total 15"),
            "{text}"
        );
        assert!(
            text.contains("strata_registry_request_duration_seconds_bucket{le=\"0.005\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("strata_registry_request_duration_seconds_count 3"),
            "{text}"
        );
    }
}
