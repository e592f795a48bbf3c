//! Turns at the CPU-heavy work (Argon2id) for the requests of one isolate.
//!
//! workerd runs an isolate's ready continuations back to back and checks its sockets only
//! when none is left. Sixty-four logins queued behind each other are 64 × 35 ms of Argon2id
//! with no socket check in between: for seconds nothing is read, cheap requests (token
//! refresh, `/v1/me`) wait behind every hash, and the HTTP server's keep-alive timer, read
//! from a clock that only moves at those checks, fires late and closes connections that the
//! client has just reused (wrangler's dev proxy reports that as a 503 "worker restarted
//! mid-request"; 17-86 such errors per 40 s run at 64 users on this machine).
//!
//! So a request about to hash first waits for a timer (`setTimeout(0)`, which fires only after
//! the runtime has checked its sockets) and then runs only if it is first in line and no other
//! hash has started since it armed that timer. That is at most one hash between two socket
//! checks, first come first served; everything else in the isolate runs in between.
//!
//! This file is the bookkeeping only (the timer is the caller's), so it is tested natively.

use std::collections::VecDeque;

/// A waiter whose timer has not fired for this long is gone: its request was cancelled (the
/// runtime cancels a request's timers with it) and it must not hold up the line. A live
/// waiter is woken at every socket check, which is one hash (tens of ms) apart at worst.
pub const STALE_MS: f64 = 5_000.0;

#[derive(Default)]
pub struct Turns {
    next_id: u64,
    /// Hashes started so far: a waiter that sees it unchanged since it armed its timer knows
    /// that no hash ran between that socket check and now.
    started: u64,
    line: VecDeque<Waiter>,
}

struct Waiter {
    id: u64,
    seen_ms: f64,
}

/// One request's place in line.
#[derive(Debug)]
pub struct Ticket {
    id: u64,
    armed: u64,
}

impl Turns {
    /// Joins the back of the line; the caller then arms its timer.
    pub fn join(&mut self, now_ms: f64) -> Ticket {
        let id = self.next_id;
        self.next_id += 1;
        self.line.push_back(Waiter {
            id,
            seen_ms: now_ms,
        });
        Ticket {
            id,
            armed: self.started,
        }
    }

    /// Called when the ticket's timer has fired. True: the caller runs its hash now (and has
    /// left the line). False: it arms another timer and asks again when that fires.
    pub fn poll(&mut self, ticket: &mut Ticket, now_ms: f64) -> bool {
        if let Some(w) = self.line.iter_mut().find(|w| w.id == ticket.id) {
            w.seen_ms = now_ms;
        } else {
            // Dropped as stale while it was in fact only slow: back of the line.
            self.line.push_back(Waiter {
                id: ticket.id,
                seen_ms: now_ms,
            });
        }
        while self
            .line
            .front()
            .is_some_and(|w| w.id != ticket.id && now_ms - w.seen_ms > STALE_MS)
        {
            self.line.pop_front();
        }
        let first = self.line.front().is_some_and(|w| w.id == ticket.id);
        if first && self.started == ticket.armed {
            self.line.pop_front();
            self.started += 1;
            return true;
        }
        ticket.armed = self.started;
        false
    }

    /// Leaves the line without running (the waiting future was dropped).
    pub fn leave(&mut self, ticket: &Ticket) {
        self.line.retain(|w| w.id != ticket.id);
    }

    /// How many computations are waiting for their turn (the one running is not).
    pub fn waiting(&self) -> usize {
        self.line.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_request_runs_when_its_first_timer_fires() {
        let mut turns = Turns::default();
        let mut t = turns.join(0.0);
        assert!(turns.poll(&mut t, 1.0));
        assert_eq!(turns.waiting(), 0);
    }

    #[test]
    fn one_hash_per_socket_check_first_come_first_served() {
        let mut turns = Turns::default();
        let mut a = turns.join(0.0);
        let mut b = turns.join(0.0);
        let mut c = turns.join(0.0);
        // All three timers fire after the same socket check, the latecomers' first.
        assert!(!turns.poll(&mut c, 1.0));
        assert!(!turns.poll(&mut b, 1.0));
        assert!(turns.poll(&mut a, 1.0));
        // b and c armed their timers before a's hash started, so those may fire before the
        // socket check that follows it: they arm again.
        assert!(!turns.poll(&mut c, 40.0));
        assert!(!turns.poll(&mut b, 40.0));
        // Then only b, first in line, runs.
        assert!(!turns.poll(&mut c, 41.0));
        assert!(turns.poll(&mut b, 41.0));
        assert!(!turns.poll(&mut c, 80.0));
        assert!(turns.poll(&mut c, 81.0));
        assert_eq!(turns.waiting(), 0);
    }

    #[test]
    fn the_first_in_line_waits_for_a_timer_armed_after_the_last_hash_started() {
        let mut turns = Turns::default();
        let mut a = turns.join(0.0);
        let mut b = turns.join(0.0);
        // b's timer fires first and it re-arms; then a runs in the same batch.
        assert!(!turns.poll(&mut b, 1.0));
        assert!(turns.poll(&mut a, 1.0));
        // b is first now, but its timer was armed before a's hash started.
        assert!(!turns.poll(&mut b, 2.0));
        // The timer it armed after a's hash started has fired: its turn.
        assert!(turns.poll(&mut b, 40.0));
    }

    #[test]
    fn a_cancelled_request_first_in_line_is_skipped_once_stale() {
        let mut turns = Turns::default();
        let _gone = turns.join(0.0);
        let mut b = turns.join(0.0);
        assert!(!turns.poll(&mut b, 1.0));
        assert!(!turns.poll(&mut b, STALE_MS - 1.0));
        assert!(turns.poll(&mut b, STALE_MS + 1.0));
    }

    #[test]
    fn leaving_lets_the_next_one_run() {
        let mut turns = Turns::default();
        let a = turns.join(0.0);
        let mut b = turns.join(0.0);
        assert!(!turns.poll(&mut b, 1.0));
        turns.leave(&a);
        assert!(turns.poll(&mut b, 2.0));
    }

    #[test]
    fn a_slow_waiter_dropped_as_stale_rejoins_at_the_back() {
        let mut turns = Turns::default();
        let mut slow = turns.join(0.0);
        let mut b = turns.join(0.0);
        assert!(turns.poll(&mut b, STALE_MS + 1.0));
        let mut c = turns.join(STALE_MS + 2.0);
        assert!(!turns.poll(&mut slow, STALE_MS + 3.0));
        assert!(turns.poll(&mut c, STALE_MS + 40.0));
        assert!(!turns.poll(&mut slow, STALE_MS + 40.0));
        assert!(turns.poll(&mut slow, STALE_MS + 80.0));
    }
}
