//! The bounds on what one guest can make the monitor do: [`LineSplitter`] (line length,
//! bounded memory) and [`RateLimit`] (lines per second).

use std::time::Instant;

/// What a chunk of bytes from a guest held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// A complete line, without its newline, at most the limit long.
    Line(Vec<u8>),
    /// A line longer than the limit, dropped (counted once, however long).
    TooLong,
}

/// Splits a guest's byte stream into lines of at most `max` bytes (newline included),
/// holding at most `max` bytes between calls whatever the guest sends.
#[derive(Debug)]
pub struct LineSplitter {
    max: usize,
    partial: Vec<u8>,
    /// Inside a line already too long: everything up to the next newline goes.
    discarding: bool,
}

impl LineSplitter {
    /// A splitter for lines of at most `max` bytes, newline included.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            partial: Vec::new(),
            discarding: false,
        }
    }

    /// Feeds `bytes`; appends what they complete to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<Split>) {
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|&b| b == b'\n');
            let (piece, rest) = match newline {
                Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
                None => (bytes, None),
            };
            if !self.discarding {
                // The line, newline included, must fit in `max`.
                if self.partial.len() + piece.len() < self.max {
                    self.partial.extend_from_slice(piece);
                } else {
                    self.partial.clear();
                    self.discarding = true;
                    out.push(Split::TooLong);
                }
            }
            match rest {
                Some(rest) => {
                    if !self.discarding {
                        out.push(Split::Line(std::mem::take(&mut self.partial)));
                    }
                    self.discarding = false;
                    bytes = rest;
                }
                None => break,
            }
        }
    }

    /// Bytes held for an unfinished line.
    pub fn held(&self) -> usize {
        self.partial.len()
    }
}

/// A token bucket: `burst` lines at once, `rate` lines per second over time.
#[derive(Debug)]
pub struct RateLimit {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    /// A full bucket at `now`.
    pub fn new(rate: f64, burst: u32, now: Instant) -> Self {
        Self {
            rate,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: now,
        }
    }

    /// Whether one more line may pass at `now` (taking a token if so).
    pub fn allow(&mut self, now: Instant) -> bool {
        let secs = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now.max(self.last);
        self.tokens = (self.tokens + secs * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    fn split_all(max: usize, chunks: &[&[u8]]) -> Vec<Split> {
        let mut splitter = LineSplitter::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, &mut out);
        }
        out
    }

    #[test]
    fn lines_are_split_and_long_ones_dropped_once() {
        let line = |s: &str| Split::Line(s.as_bytes().to_vec());
        assert_eq!(
            split_all(8, &[b"ab\ncd", b"e\n\n", b"0123456789abc", b"def\nok\n"]),
            [
                line("ab"),
                line("cde"),
                line(""),
                Split::TooLong,
                line("ok")
            ]
        );
        // Exactly at the limit with its newline: 7 bytes + newline = 8.
        assert_eq!(split_all(8, &[b"1234567\n"]), [line("1234567")]);
        assert_eq!(split_all(8, &[b"12345678\n"]), [Split::TooLong]);
        // Unfinished: nothing yet.
        assert_eq!(split_all(8, &[b"abc"]), []);
    }

    #[test]
    fn the_bucket_refills_at_the_rate() {
        let start = Instant::now();
        let mut limit = RateLimit::new(2.0, 3, start);
        assert_eq!((0..5).filter(|_| limit.allow(start)).count(), 3);
        assert!(!limit.allow(start + Duration::from_millis(400)));
        assert!(limit.allow(start + Duration::from_millis(500)));
        // Never more than the burst, however long the pause.
        let later = start + Duration::from_secs(3600);
        assert_eq!((0..10).filter(|_| limit.allow(later)).count(), 3);
        // A clock that goes back gives nothing.
        assert!(!limit.allow(start));
    }

    proptest! {
        /// However the stream is cut, the same lines come out, and memory stays bounded.
        #[test]
        fn chunking_does_not_matter(
            bytes in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..20),
            max in 2usize..40,
        ) {
            let whole = split_all(max, &[&bytes]);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut splitter = LineSplitter::new(max);
            let mut pieces = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                splitter.push(&bytes[from..cut], &mut pieces);
                prop_assert!(splitter.held() < max);
                from = cut;
            }
            prop_assert_eq!(&pieces, &whole);
            // And they are what splitting on newlines gives, long lines dropped.
            let mut expected = Vec::new();
            let mut parts: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
            // The unfinished tail counts only once it is already too long.
            let tail = parts.pop().unwrap_or_default();
            for part in parts {
                expected.push(if part.len() < max { Split::Line(part.to_vec()) } else { Split::TooLong });
            }
            if tail.len() >= max {
                expected.push(Split::TooLong);
            }
            prop_assert_eq!(whole, expected);
        }

        /// Over any span, at most burst + rate * seconds lines pass.
        #[test]
        fn the_rate_holds(rate in 0.1f64..100.0, burst in 1u32..50, steps in proptest::collection::vec(0u64..2000, 1..200)) {
            let start = Instant::now();
            let mut limit = RateLimit::new(rate, burst, start);
            let mut now = start;
            let mut passed = 0u32;
            for step in steps {
                now += Duration::from_millis(step);
                passed += u32::from(limit.allow(now));
            }
            let bound = f64::from(burst) + rate * (now - start).as_secs_f64();
            prop_assert!(f64::from(passed) <= bound + 1e-9);
        }
    }
}
