//! Game servers started per allocation ([`crate::ServerKind::Command`]).
//!
//! Each process runs in its own process group (Unix), with its output read line by line (logged,
//! and the last lines kept for error messages). A watcher thread owns the child: it decides
//! readiness, notices an exit, and on a stop request sends SIGTERM to the group, then SIGKILL
//! after the stop timeout, and reaps it. A process that exits or is not ready within its ready
//! timeout ends as Failed with why; nothing waits on it longer than that.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, ToSocketAddrs, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::config::substitute;
use crate::log::Logger;
use crate::{CommandConfig, CommandLine, Readiness};

/// Output lines kept for error messages.
const KEEP_LINES: usize = 12;

/// Where a game server process stands.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ProcState {
    Starting,
    Ready,
    /// Could not start, exited before it was ready, or was not ready in time; why.
    Failed(String),
    /// Exited by itself after it was ready; how.
    Exited(String),
    /// Stopped by the emulator.
    Stopped,
}

impl ProcState {
    pub fn name(&self) -> &'static str {
        match self {
            ProcState::Starting => "Starting",
            ProcState::Ready => "Ready",
            ProcState::Failed(_) => "Failed",
            ProcState::Exited(_) => "Exited",
            ProcState::Stopped => "Stopped",
        }
    }
}

/// What a process is started for.
pub(crate) struct Launch<'a> {
    pub title: u32,
    pub index: usize,
    /// Session id or ticket id.
    pub session: &'a str,
    pub host: &'a str,
    /// "title 7 server 0", "title 7 session host 1".
    pub label: String,
}

pub(crate) struct GameProcess {
    pub port: u16,
    pub pid: Option<u32>,
    pub label: String,
    /// The command line as run, for display.
    pub command_line: String,
    state: Mutex<ProcState>,
    cond: Condvar,
    stop: AtomicBool,
    line_seen: AtomicBool,
    output: Mutex<VecDeque<String>>,
}

impl GameProcess {
    fn lock(&self) -> MutexGuard<'_, ProcState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn state(&self) -> ProcState {
        self.lock().clone()
    }

    fn set(&self, state: ProcState) {
        *self.lock() = state;
        self.cond.notify_all();
    }

    /// Waits until it is no longer Starting, at most `timeout`; its state then.
    pub fn wait_settled(&self, timeout: Duration) -> ProcState {
        let end = Instant::now() + timeout;
        let mut st = self.lock();
        while *st == ProcState::Starting {
            let now = Instant::now();
            if now >= end {
                break;
            }
            st = self.cond.wait_timeout(st, end - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        st.clone()
    }

    /// Asks the watcher to stop the process (returns at once).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _guard = self.lock();
        self.cond.notify_all();
    }

    fn last_output(&self) -> String {
        let out = self.output.lock().unwrap_or_else(|e| e.into_inner());
        if out.is_empty() {
            "no output".to_string()
        } else {
            format!("last output: {}", out.iter().cloned().collect::<Vec<_>>().join(" | "))
        }
    }
}

/// Owned by the allocation (a lease or a session-host claim): dropping it stops the process.
pub(crate) struct ProcessHandle(pub Arc<GameProcess>);

impl Drop for ProcessHandle {
    fn drop(&mut self) {
        self.0.request_stop();
    }
}

/// Every process started, so that shutdown stops them all and waits for them.
#[derive(Default)]
pub(crate) struct Registry {
    procs: Mutex<Vec<(Arc<GameProcess>, JoinHandle<()>)>>,
}

impl Registry {
    fn add(&self, p: Arc<GameProcess>, watcher: JoinHandle<()>) {
        let mut procs = self.procs.lock().unwrap_or_else(|e| e.into_inner());
        procs.retain(|(_, t)| !t.is_finished());
        procs.push((p, watcher));
    }

    /// Ports of the processes still running (a new one must not be given one of them).
    fn ports_in_use(&self) -> Vec<u16> {
        let procs = self.procs.lock().unwrap_or_else(|e| e.into_inner());
        procs.iter().filter(|(_, t)| !t.is_finished()).map(|(p, _)| p.port).collect()
    }

    /// Stops every process and waits until each is gone.
    pub fn stop_all(&self) {
        let procs = std::mem::take(&mut *self.procs.lock().unwrap_or_else(|e| e.into_inner()));
        for (p, _) in &procs {
            p.request_stop();
        }
        for (_, t) in procs {
            let _ = t.join();
        }
    }
}

/// Picks a port free for both TCP and UDP on `host`, and not in `taken`.
pub(crate) fn free_port(host: &str, taken: &[u16]) -> std::io::Result<u16> {
    let addr = (host, 0u16).to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, format!("{host:?} resolves to no address"))
    })?;
    let mut last = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(addr)?;
        let port = udp.local_addr()?.port();
        if taken.contains(&port) {
            continue;
        }
        let mut tcp_addr = addr;
        tcp_addr.set_port(port);
        match TcpListener::bind(tcp_addr) {
            Ok(_) => return Ok(port),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port")))
}

/// What a placeholder becomes in a shell command line: a reference to the environment variable
/// that holds its value, so that no value is ever parsed as shell code.
fn shell_reference(name: &str) -> String {
    let var = format!("GSMS_EMULATOR_{}", name.to_ascii_uppercase());
    if cfg!(windows) {
        format!("%{var}%")
    } else {
        format!("${{{var}}}")
    }
}

impl GameProcess {
    /// Starts the command; never fails: a process that cannot be spawned is Failed at once.
    pub fn start(
        cmd: &CommandConfig,
        launch: &Launch<'_>,
        logger: &Arc<Logger>,
        registry: &Registry,
    ) -> Arc<GameProcess> {
        // Allocations start one at a time (under the state lock), so a port handed to a process
        // still starting is never handed out twice.
        let port = free_port(launch.host, &registry.ports_in_use());
        let port_value = port.as_ref().map(|p| *p).unwrap_or(0);
        let value = |quote: bool| {
            let port_s = port_value.to_string();
            let title = launch.title.to_string();
            let index = launch.index.to_string();
            let host = launch.host.to_string();
            let session = launch.session.to_string();
            move |name: &str| {
                let v = match name {
                    "port" => port_s.clone(),
                    "host" => host.clone(),
                    "title" => title.clone(),
                    "session" => session.clone(),
                    "index" => index.clone(),
                    _ => return None,
                };
                Some(if quote { shell_reference(name) } else { v })
            }
        };
        let argv: Result<Vec<String>, String> = match &cmd.command {
            CommandLine::Argv(a) => a.iter().map(|s| substitute(s, &value(false))).collect(),
            CommandLine::Shell(s) => {
                let line = substitute(s, &value(true));
                let shell = if cfg!(windows) { ["cmd", "/C"] } else { ["sh", "-c"] };
                line.map(|l| vec![shell[0].to_string(), shell[1].to_string(), l])
            }
        };
        let failed = |why: String, command_line: String| {
            logger.event("serverFailed", &launch.label, &[("reason", json!(why))], &format!("failed to start: {why}"));
            Arc::new(GameProcess {
                port: port_value,
                pid: None,
                label: launch.label.clone(),
                command_line,
                state: Mutex::new(ProcState::Failed(why)),
                cond: Condvar::new(),
                stop: AtomicBool::new(false),
                line_seen: AtomicBool::new(false),
                output: Mutex::new(VecDeque::new()),
            })
        };
        let argv = match (argv, port) {
            (Ok(a), Ok(_)) => a,
            (Err(e), _) => return failed(e, String::new()),
            (_, Err(e)) => return failed(format!("no free port on {}: {e}", launch.host), String::new()),
        };
        let command_line = match &cmd.command {
            CommandLine::Argv(_) => argv.join(" "),
            CommandLine::Shell(_) => argv[2].clone(),
        };
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(dir) = &cmd.cwd {
            command.current_dir(dir);
        }
        let env_value = value(false);
        for (k, v) in &cmd.env {
            command.env(k, substitute(v, &env_value).unwrap_or_default());
        }
        command
            .env("GSMS_EMULATOR_PORT", port_value.to_string())
            .env("GSMS_EMULATOR_HOST", launch.host)
            .env("GSMS_EMULATOR_TITLE", launch.title.to_string())
            .env("GSMS_EMULATOR_SESSION", launch.session)
            .env("GSMS_EMULATOR_INDEX", launch.index.to_string());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Its own group: Ctrl-C in the emulator's terminal reaches the emulator only, and a
            // stop reaches whatever the command started (a shell's children too).
            command.process_group(0);
        }
        let mut child = match command.spawn() {
            Ok(c) => c,
            Err(e) => {
                let cwd = cmd.cwd.as_ref().map(|d| format!(" in {}", d.display())).unwrap_or_default();
                return failed(format!("cannot run {:?}{cwd}: {e}", argv[0]), command_line);
            }
        };
        let p = Arc::new(GameProcess {
            port: port_value,
            pid: Some(child.id()),
            label: launch.label.clone(),
            command_line,
            state: Mutex::new(ProcState::Starting),
            cond: Condvar::new(),
            stop: AtomicBool::new(false),
            line_seen: AtomicBool::new(false),
            output: Mutex::new(VecDeque::new()),
        });
        logger.event(
            "serverStarted",
            &p.label,
            &[("pid", json!(p.pid)), ("port", json!(port_value)), ("command", json!(p.command_line))],
            &format!("started pid {} on port {port_value}: {}", child.id(), p.command_line),
        );
        let ready_text = match &cmd.ready {
            Readiness::Line(t) => Some(t.clone()),
            _ => None,
        };
        for (stream, reader) in [
            ("stdout", child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>)),
            ("stderr", child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>)),
        ] {
            let Some(reader) = reader else { continue };
            let (p2, logger2, ready_text) = (p.clone(), logger.clone(), ready_text.clone());
            let _ = std::thread::Builder::new()
                .name(format!("gsms-emu-out-{port_value}"))
                .spawn(move || read_output(reader, stream, &p2, &logger2, ready_text.as_deref()));
        }
        let (p2, logger2, cmd2, host) = (p.clone(), logger.clone(), cmd.clone(), launch.host.to_string());
        let started = Instant::now();
        match std::thread::Builder::new()
            .name(format!("gsms-emu-proc-{port_value}"))
            .spawn(move || watch(&p2, child, &cmd2, &host, started, &logger2))
        {
            Ok(t) => registry.add(p.clone(), t),
            Err(e) => {
                // No watcher: the child cannot be managed; say so (the child is killed by drop below).
                p.set(ProcState::Failed(format!("cannot start a watcher thread: {e}")));
            }
        }
        p
    }
}

fn read_output(reader: Box<dyn Read + Send>, stream: &str, p: &GameProcess, logger: &Logger, ready: Option<&str>) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_string();
        if ready.is_some_and(|t| line.contains(t)) {
            p.line_seen.store(true, Ordering::SeqCst);
            let _guard = p.lock();
            p.cond.notify_all();
        }
        {
            let mut out = p.output.lock().unwrap_or_else(|e| e.into_inner());
            if out.len() >= KEEP_LINES {
                out.pop_front();
            }
            out.push_back(line.clone());
        }
        logger.event(
            "serverOutput",
            &p.label,
            &[("stream", json!(stream)), ("pid", json!(p.pid)), ("line", json!(line))],
            &format!("{stream}: {line}"),
        );
    }
}

fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "exited".to_string(),
    }
}

#[cfg(unix)]
fn signal_group(pid: u32, kill: bool) {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    let sig = if kill { Signal::SIGKILL } else { Signal::SIGTERM };
    if let Ok(pid) = i32::try_from(pid) {
        let _ = killpg(Pid::from_raw(pid), sig);
    }
}

/// SIGTERM to the group, SIGKILL after `grace`, then reaps the child.
fn terminate(child: &mut Child, grace: Duration) {
    #[cfg(unix)]
    signal_group(child.id(), false);
    #[cfg(not(unix))]
    let _ = child.kill();
    let end = Instant::now() + grace;
    while Instant::now() < end {
        if let Ok(Some(_)) = child.try_wait() {
            #[cfg(unix)]
            signal_group(child.id(), true); // whatever of the group is left
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    #[cfg(unix)]
    signal_group(child.id(), true);
    let _ = child.kill();
    let _ = child.wait();
}

/// Whether something listens on TCP `port` or has bound UDP `port`.
fn port_bound(host: &str, port: u16) -> bool {
    #[cfg(target_os = "linux")]
    {
        let _ = host;
        ["/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
            let tcp = f.contains("tcp");
            std::fs::read_to_string(f).is_ok_and(|text| {
                text.lines().skip(1).any(|l| {
                    let cols: Vec<&str> = l.split_whitespace().collect();
                    let local_port =
                        cols.get(1).and_then(|a| a.rsplit(':').next()).and_then(|p| u16::from_str_radix(p, 16).ok());
                    // TCP: LISTEN (0A) only; UDP: any bound socket.
                    local_port == Some(port) && (!tcp || cols.get(3) == Some(&"0A"))
                })
            })
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_millis(200)).is_ok())
    }
}

fn watch(p: &Arc<GameProcess>, mut child: Child, cmd: &CommandConfig, host: &str, started: Instant, logger: &Logger) {
    let deadline = started + cmd.ready_timeout;
    let what = match &cmd.ready {
        Readiness::Port => format!("nothing listened on port {} (TCP) or bound it (UDP)", p.port),
        Readiness::Line(t) => format!("no output line contained {t:?}"),
        Readiness::After(d) => format!("it did not keep running for {} ms", d.as_millis()),
    };
    let log = |event: &str, text: String, reason: Option<&str>| {
        let mut fields = vec![("pid", json!(p.pid))];
        if let Some(r) = reason {
            fields.push(("reason", json!(r)));
        }
        logger.event(event, &p.label, &fields, &text);
    };
    loop {
        if p.stop.load(Ordering::SeqCst) {
            terminate(&mut child, cmd.stop_timeout);
            let was = p.state();
            if matches!(was, ProcState::Starting | ProcState::Ready) {
                p.set(ProcState::Stopped);
            }
            log("serverStopped", format!("stopped pid {}", child.id()), None);
            return;
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                #[cfg(unix)]
                signal_group(child.id(), true);
                let how = format!("{} ({})", describe(status), p.last_output());
                if p.state() == ProcState::Starting {
                    let why = format!("the game server exited before it was ready: {how}");
                    log("serverFailed", why.clone(), Some(&why));
                    p.set(ProcState::Failed(why));
                } else {
                    log("serverExited", format!("exited: {how}"), Some(&how));
                    p.set(ProcState::Exited(how));
                }
                return;
            }
            Ok(None) => {}
            Err(e) => {
                terminate(&mut child, cmd.stop_timeout);
                p.set(ProcState::Failed(format!("cannot watch the game server: {e}")));
                return;
            }
        }
        let starting = p.state() == ProcState::Starting;
        if starting {
            let ready = match &cmd.ready {
                Readiness::Port => port_bound(host, p.port),
                Readiness::Line(_) => p.line_seen.load(Ordering::SeqCst),
                Readiness::After(d) => started.elapsed() >= *d,
            };
            if ready {
                log("serverReady", format!("ready after {} ms", started.elapsed().as_millis()), None);
                p.set(ProcState::Ready);
            } else if Instant::now() >= deadline {
                terminate(&mut child, cmd.stop_timeout);
                let why = format!(
                    "the game server was not ready after {} ms: {what} ({}); it was stopped",
                    cmd.ready_timeout.as_millis(),
                    p.last_output()
                );
                log("serverFailed", why.clone(), Some(&why));
                p.set(ProcState::Failed(why));
                return;
            }
        }
        let interval = if starting { Duration::from_millis(20) } else { Duration::from_millis(100) };
        let st = p.lock();
        if !p.stop.load(Ordering::SeqCst) {
            let _ = p.cond.wait_timeout(st, interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_placeholders_are_variable_references() {
        if cfg!(unix) {
            assert_eq!(shell_reference("session"), "${GSMS_EMULATOR_SESSION}");
        }
    }

    #[test]
    fn free_ports_are_free() {
        let p = free_port("127.0.0.1", &[]).unwrap();
        assert!(p > 0);
        UdpSocket::bind(("127.0.0.1", p)).unwrap();
        assert!(!port_bound("127.0.0.1", free_port("127.0.0.1", &[p]).unwrap()));
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(port_bound("127.0.0.1", l.local_addr().unwrap().port()));
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        let up = u.local_addr().unwrap().port();
        if cfg!(target_os = "linux") {
            assert!(port_bound("127.0.0.1", up));
        }
    }
}
