//! Calls as state machines of exchanges, and the one generic follower.
//!
//! A [`Call`] runs one exchange per [`Call::step`] (retries included) and says whether it is
//! [`Step::Done`] or wants to come back after a while ([`Step::PollAfter`]). [`step`] applies the
//! rules every following call shares (poll floor and cap, deadline, logging); [`run`] drives a call
//! to the end on the caller's thread. The async runtime drives the same calls on its workers and
//! timers, so blocking and async calls cannot drift apart.

use std::time::Duration;

use super::client::{CallOptions, Client};
use super::config::LogLevel;
use super::error::{InvalidArgument, Status};
use super::exchange::{CallInfo, Endpoint, HasInfo};
use super::wire;

/// Smallest wait between two polls, whatever the service says.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Largest wait between two polls: a broken answer (say 4294967295 ms) must not park an
/// allocation for weeks when the caller gave no deadline. Five times the peer's recorded 60 s.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(300);

/// How long to wait before the next poll, given the service's `pollIntervalMilliseconds`.
pub fn poll_wait(poll_interval_ms: u32) -> Duration {
    Duration::from_millis(poll_interval_ms.into()).clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL)
}

/// What a call does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Done,
    /// Come back after this long (the service's interval; [`step`] floors and caps it).
    PollAfter(Duration),
}

/// A call: one or more exchanges producing one result.
pub trait Call: Send + 'static {
    type Output: HasInfo;
    /// Runs one exchange (with its retries), updating the result.
    fn step(&mut self, client: &Client, opts: &CallOptions<'_>) -> Step;
    /// The result so far (progress callbacks see it after a `PollAfter`; the final one after `Done`).
    fn result(&self) -> &Self::Output;
    fn result_mut(&mut self) -> &mut Self::Output;
    /// For the poll-wait and deadline log lines: what is being followed. Only a call that returns
    /// `PollAfter` is ever described; one-exchange calls keep this default.
    fn describe(&self) -> String {
        String::new()
    }
    /// Every exchange the call may still make: [`step`] refuses the call when one of them could
    /// never be sent (its URL too long), before anything is sent, and the C layer refuses such a
    /// call when it is made (an async one with no operation). Every call with an endpoint lists it.
    fn endpoints(&self) -> Vec<&Endpoint> {
        Vec::new()
    }
}

/// Refuses `call` when an exchange it may make could never be sent (its URL would be too long for
/// the client's base URL). A following call must not allocate with its POST and only then find
/// that it cannot follow.
pub fn check<C: Call + ?Sized>(call: &C, client: &Client) -> Result<(), InvalidArgument> {
    call.endpoints().into_iter().try_for_each(|ep| client.url_of(ep).map(drop))
}

/// One step of `call` with the shared following rules: `on_poll` sees the result whenever the
/// call is not final yet (a Queued answer: progress), then the wait is floored at 100 ms and capped
/// at 300 s, and a poll that would come after the deadline ends the call now with `Timeout`.
pub fn step<C: Call + ?Sized>(
    call: &mut C,
    client: &Client,
    opts: &CallOptions<'_>,
    on_poll: &mut dyn FnMut(&C::Output),
) -> Step {
    if let Err(e) = check(call, client) {
        call.result_mut().info_mut().fail(Status::InvalidArgument, e.0);
        return Step::Done;
    }
    match call.step(client, opts) {
        Step::Done => Step::Done,
        Step::PollAfter(asked) => {
            on_poll(call.result());
            let what = call.describe();
            follow_rules(asked, &what, client, opts, call.result_mut().info_mut())
        }
    }
}

/// The non-generic half of [`step`] (one copy in the binary, whatever the call).
#[inline(never)]
fn follow_rules(asked: Duration, what: &str, client: &Client, opts: &CallOptions<'_>, info: &mut CallInfo) -> Step {
    let wait = asked.clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL);
    if opts.waits_past_deadline(wait) {
        let msg = format!(
            "still waiting after {} attempts; the next poll (in {} ms) would come after the deadline",
            info.attempts,
            wait.as_millis()
        );
        info.fail(Status::Timeout, msg);
        client.log(LogLevel::Warn, || format!("{what}: {}", info.error_message));
        return Step::Done;
    }
    client.log(LogLevel::Info, || {
        format!(
            "{what}: not final yet; polling again in {} ms (correlation id {})",
            wait.as_millis(),
            info.correlation_id
        )
    });
    Step::PollAfter(wait)
}

/// Runs `call` to the end on this thread (sleeping between polls, waking early on cancel).
pub fn run<C: Call>(call: C, client: &Client, opts: &CallOptions<'_>) -> C::Output {
    run_with_progress(call, client, opts, &mut |_| {})
}

/// As [`run`], calling `on_progress` with the result so far each time the call waits to poll.
pub fn run_with_progress<C: Call>(
    mut call: C,
    client: &Client,
    opts: &CallOptions<'_>,
    on_progress: &mut dyn FnMut(&C::Output),
) -> C::Output {
    loop {
        match step(&mut call, client, opts, on_progress) {
            Step::Done => break,
            Step::PollAfter(wait) => {
                if opts.sleep(wait) {
                    call.result_mut().info_mut().fail(Status::Cancelled, "cancelled while waiting to poll");
                    break;
                }
            }
        }
    }
    std::mem::take(call.result_mut())
}

/// A result type decoded from a 2xx body.
pub trait Decode: HasInfo {
    fn decode(body: &[u8]) -> Result<Self, String>;
}

/// Sends `ep` and decodes its 2xx answer into `out` (keeping `out`'s info: attempts accumulate
/// over the exchanges of one call). On a non-2xx or a transport failure, `out`'s own fields are
/// kept and its info says what happened; on a body that is not the documented JSON, `Protocol`.
#[inline(never)]
pub fn exchange<T: Decode>(client: &Client, ep: &Endpoint, opts: &CallOptions<'_>, out: &mut T) {
    let Some(body) = client.send(ep, opts, out.info_mut()) else { return };
    // Decoded from the text cleaned of the attempt's secrets: every field kept on the result (a
    // ticket's description, which becomes an error message, say) is as clean as raw_json. A body
    // that is not UTF-8 is decoded as is, and refused.
    let decoded = match std::str::from_utf8(&body.bytes) {
        Ok(text) => T::decode(body.redact(text).as_bytes()),
        Err(_) => T::decode(&body.bytes),
    };
    match decoded {
        Ok(mut fresh) => {
            let mut info = std::mem::take(out.info_mut());
            info.raw_json = body.into_text();
            *fresh.info_mut() = info;
            *out = fresh;
        }
        Err(msg) => protocol_error(client, ep, body, msg, out.info_mut()),
    }
}

/// A 2xx whose body is not the documented JSON (non-generic: one copy in the binary).
#[inline(never)]
fn protocol_error(client: &Client, ep: &Endpoint, body: super::client::Body, msg: String, info: &mut CallInfo) {
    info.raw_json = body.into_text();
    let status = info.http_status;
    info.fail(Status::Protocol, format!("HTTP {status}: {msg}"));
    client.log(LogLevel::Error, || format!("{} {}: {}", ep.method.as_str(), ep.path, info.error_message));
}

/// Text of a body that may not be UTF-8 (NUL replaced: it reaches C as a C string).
pub fn lossy_text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace('\0', "\u{FFFD}")
}

/// A call of one exchange (with its retries): most calls are this.
pub struct Once<T: Decode> {
    /// `None`: the call failed before anything could be sent (its result says why).
    endpoint: Option<Endpoint>,
    out: T,
}

impl<T: Decode> Once<T> {
    pub fn new(endpoint: Endpoint) -> Self {
        Once { endpoint: Some(endpoint), out: T::default() }
    }

    /// A call that ends at once with `status` (invalid arguments found when it was built).
    pub fn failed(status: Status, message: impl Into<String>) -> Self {
        Once { endpoint: None, out: T::failure(status, message) }
    }

    /// `Ok(endpoint)` or a call failed with InvalidArgument.
    pub fn checked(endpoint: Result<Endpoint, InvalidArgument>) -> Self {
        match endpoint {
            Ok(e) => Once::new(e),
            Err(e) => Once::failed(Status::InvalidArgument, e.0),
        }
    }
}

impl<T: Decode> Call for Once<T> {
    type Output = T;
    fn step(&mut self, client: &Client, opts: &CallOptions<'_>) -> Step {
        if let Some(ep) = &self.endpoint {
            exchange(client, ep, opts, &mut self.out);
        }
        Step::Done
    }
    fn result(&self) -> &T {
        &self.out
    }
    fn result_mut(&mut self) -> &mut T {
        &mut self.out
    }
    fn endpoints(&self) -> Vec<&Endpoint> {
        self.endpoint.iter().collect()
    }
}

/// Decodes with the wire rules (used by `impl Decode` of result types that derive Deserialize).
pub fn decode_json<T: HasInfo + for<'de> serde::Deserialize<'de>>(body: &[u8]) -> Result<T, String> {
    wire::decode(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_waits_are_floored_and_capped() {
        assert_eq!(poll_wait(0), MIN_POLL_INTERVAL);
        assert_eq!(poll_wait(99), MIN_POLL_INTERVAL);
        assert_eq!(poll_wait(1000), Duration::from_millis(1000));
        assert_eq!(poll_wait(60_000), Duration::from_secs(60));
        assert_eq!(poll_wait(u32::MAX), MAX_POLL_INTERVAL);
    }
}
