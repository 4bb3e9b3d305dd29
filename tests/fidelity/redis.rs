//! A real `redis-server` for one test, and a minimal RESP2 client to talk to it.
//!
//! [`RedisServer::start`] launches the installed server on a free loopback port with a private
//! working directory, waits until it answers PING, and kills it when dropped, so a failing test
//! never leaks a process. [`Connection`] speaks RESP2 over a `TcpStream` with pipelining: queue
//! commands, then `flush` sends them all and reads one reply per command.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// The failure every test reports when there is no server to compare with.
pub const NOT_FOUND: &str = "redis-server not found: install it with 'apt-get install \
     redis-server' (the fidelity suite compares vanish with a real Redis)";

const BINARY: &str = "redis-server";
/// How long a fresh server may take to answer PING.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// A reply slower than this means the server is stuck; fail instead of hanging the suite.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// The log file in a server's private directory.
const LOG_FILE: &str = "redis.log";

/// `redis-server --version`, checked once per test binary.
fn version() -> &'static str {
    static VERSION: OnceLock<Result<String, String>> = OnceLock::new();
    let version = VERSION.get_or_init(|| {
        let output = match Command::new(BINARY).arg("--version").output() {
            Ok(output) => output,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(NOT_FOUND.to_string())
            }
            Err(error) => return Err(format!("cannot run {BINARY}: {error}")),
        };
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        // "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=…"
        let number = text
            .split_whitespace()
            .find_map(|word| word.strip_prefix("v="))
            .unwrap_or("");
        if !number.starts_with("7.0.") {
            return Err(format!(
                "vanish models Redis 7.0 (7.0.15); the installed server is `{text}`"
            ));
        }
        Ok(text)
    });
    match version {
        Ok(text) => text,
        Err(message) => panic!("{message}"),
    }
}

/// Fails the calling test unless a Redis 7.0 server is installed (call first in tests that
/// start servers from threads, so the failure names the cause once).
pub fn require_server() {
    version();
}

/// A `redis-server` child process, killed on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts a server with Redis's defaults plus `config` (`("maxmemory", "10mb")`, …), no
    /// persistence, DEBUG allowed from loopback. Panics with [`NOT_FOUND`] if there is no
    /// server installed.
    pub fn start(config: &[(&str, &str)]) -> RedisServer {
        version();
        let mut last_error = String::new();
        for _attempt in 0..5 {
            match RedisServer::try_start(config) {
                Ok(server) => return server,
                // Most likely another process took the port between probe and bind: retry.
                Err(error) => last_error = error,
            }
        }
        panic!("could not start {BINARY}: {last_error}");
    }

    fn try_start(config: &[(&str, &str)]) -> Result<RedisServer, String> {
        let (port, dir) = private_place()?;
        let mut command = Command::new(BINARY);
        command
            .arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--enable-debug-command", "local"])
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(dir.join(LOG_FILE));
        for (name, value) in config {
            command.arg(format!("--{name}")).arg(value);
        }
        RedisServer::launch(command, port, dir)
    }

    /// Starts a Redis Sentinel (`redis-server <file> --sentinel`) on a free loopback port.
    /// Sentinel rewrites its configuration file, so each gets its own in a private directory:
    /// `port`, `bind`, `dir` and `logfile` are written here, `lines` (`sentinel monitor …`)
    /// follow them.
    pub fn start_sentinel(lines: &[String]) -> RedisServer {
        version();
        let mut last_error = String::new();
        for _attempt in 0..5 {
            match RedisServer::try_start_sentinel(lines) {
                Ok(server) => return server,
                Err(error) => last_error = error,
            }
        }
        panic!("could not start a Sentinel: {last_error}");
    }

    fn try_start_sentinel(lines: &[String]) -> Result<RedisServer, String> {
        let (port, dir) = private_place()?;
        let file = dir.join("sentinel.conf");
        let mut text = format!(
            "port {port}\nbind 127.0.0.1\ndaemonize no\ndir \"{}\"\nlogfile \"{}\"\n",
            dir.display(),
            dir.join(LOG_FILE).display()
        );
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut command = Command::new(BINARY);
        command.arg(&file).arg("--sentinel");
        RedisServer::launch(command, port, dir)
    }

    /// Spawns `command` (a server told to listen on `port` and to log into `dir`) and waits
    /// until it answers PING.
    fn launch(mut command: Command, port: u16, dir: PathBuf) -> Result<RedisServer, String> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = match command.spawn() {
            Ok(child) => child,
            Err(error) if error.kind() == io::ErrorKind::NotFound => panic!("{NOT_FOUND}"),
            Err(error) => return Err(format!("spawn: {error}")),
        };
        // From here on the guard owns the child: any early return kills it.
        let mut server = RedisServer { child, port, dir };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("exited at startup ({status}):\n{}", server.log()));
            }
            if let Ok(mut connection) = Connection::open(port) {
                if let Ok(Reply::Simple(pong)) = connection.call(&["PING"]) {
                    if pong == "PONG" {
                        // Another test's server may hold the port (both probed it free before
                        // either bound it; ours then fails to bind): answering is not enough,
                        // the answer must come from our process, or two tests share a server
                        // and mix their figures.
                        let ours = server.child.id().to_string();
                        return match connection.call(&["INFO", "server"]) {
                            Ok(Reply::Bulk(Some(text))) => {
                                let info = Info::parse(&String::from_utf8_lossy(&text));
                                if info.get("process_id") == Some(ours.as_str()) {
                                    Ok(server)
                                } else {
                                    Err(format!("port {port} is another server's"))
                                }
                            }
                            other => Err(format!("INFO server on port {port}: {other:?}")),
                        };
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(format!("no PONG on port {port} within {STARTUP_TIMEOUT:?}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's log file so far (empty if it cannot be read).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(LOG_FILE)).unwrap_or_default()
    }

    pub fn connect(&self) -> Connection {
        Connection::open(self.port)
            .unwrap_or_else(|e| panic!("connect to redis-server on port {}: {e}", self.port))
    }

    /// The version line of the server under test, for failure tables.
    pub fn version(&self) -> &'static str {
        version()
    }

    /// The server's process id, for signals (`kill -STOP`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL now (a machine failure: nothing is flushed), and reap the process. Dropping
    /// the server afterwards only removes its directory.
    pub fn kill(&mut self) {
        self.child
            .kill()
            .unwrap_or_else(|e| panic!("kill redis-server on port {}: {e}", self.port));
        let _ = self.child.wait();
    }
}

impl RedisServer {
    /// Waits until the process exits on its own (after SHUTDOWN); false if it is still running
    /// after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            thread::sleep(Duration::from_millis(5));
        }
        false
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free loopback port and a fresh private directory for a server to run in.
fn private_place() -> Result<(u16, PathBuf), String> {
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let port = free_port().map_err(|e| format!("no free port: {e}"))?;
    let dir = std::env::temp_dir().join(format!(
        "vanish-fidelity-{}-{}-{port}",
        std::process::id(),
        STARTED.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok((port, dir))
}

fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// A bulk string as text (INFO's reply).
    pub fn text(&self) -> String {
        match self {
            Reply::Bulk(Some(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
            Reply::Simple(text) | Reply::Error(text) => text.clone(),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }

    pub fn integer(&self) -> i64 {
        match self {
            Reply::Integer(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }
}

/// One client connection with a pipeline of queued commands.
pub struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    queued: Vec<u8>,
    pending: usize,
}

impl Connection {
    pub fn open(port: u16) -> io::Result<Connection> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        Ok(Connection {
            reader: BufReader::with_capacity(64 * 1024, stream.try_clone()?),
            writer: stream,
            queued: Vec::with_capacity(64 * 1024),
            pending: 0,
        })
    }

    /// Appends one command to the pipeline.
    pub fn queue<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.queued
            .extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for arg in args {
            let arg = arg.as_ref();
            self.queued
                .extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            self.queued.extend_from_slice(arg);
            self.queued.extend_from_slice(b"\r\n");
        }
        self.pending += 1;
    }

    /// Sends the pipeline and reads one reply per queued command.
    pub fn flush(&mut self) -> io::Result<Vec<Reply>> {
        self.send()?;
        self.receive()
    }

    /// Sends the pipeline without reading the replies (the server may be stopped); a later
    /// [`Connection::receive`] reads them.
    pub fn send(&mut self) -> io::Result<()> {
        self.writer.write_all(&self.queued)?;
        self.queued.clear();
        Ok(())
    }

    /// Reads one reply per command sent and not yet answered.
    pub fn receive(&mut self) -> io::Result<Vec<Reply>> {
        let count = std::mem::take(&mut self.pending);
        (0..count).map(|_| self.read_reply()).collect()
    }

    /// The next message the server pushes on a subscribed connection (`SUBSCRIBE`,
    /// `PSUBSCRIBE`): blocks until one arrives, the connection closes, or the reply timeout.
    pub fn next_message(&mut self) -> io::Result<Reply> {
        self.read_reply()
    }

    /// One command, one reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Reply> {
        self.queue(args);
        Ok(self.flush()?.pop().expect("one reply per command"))
    }

    /// One command that must succeed; panics with the command on an error or I/O failure.
    pub fn must<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let shown: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
            .collect();
        match self.call(args) {
            Ok(Reply::Error(error)) => panic!("{shown:?} → -{error}"),
            Ok(reply) => reply,
            Err(error) => panic!("{shown:?}: {error}"),
        }
    }

    /// `INFO <section>` as name → value (every section's lines merged).
    pub fn info(&mut self, section: &str) -> Info {
        Info::parse(&self.must(&["INFO", section]).text())
    }

    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        while line.ends_with('\n') || line.ends_with('\r') {
            line.pop();
        }
        Ok(line)
    }

    fn read_reply(&mut self) -> io::Result<Reply> {
        let line = self.read_line()?;
        let bad =
            |line: &str| io::Error::new(io::ErrorKind::InvalidData, format!("RESP: {line:?}"));
        let (kind, rest) = line.split_at(1.min(line.len()));
        let number = || rest.parse::<i64>().map_err(|_| bad(&line));
        Ok(match kind {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Integer(number()?),
            "$" => match number()? {
                -1 => Reply::Bulk(None),
                len => {
                    let mut bytes = vec![0; len as usize + 2];
                    self.reader.read_exact(&mut bytes)?;
                    bytes.truncate(len as usize);
                    Reply::Bulk(Some(bytes))
                }
            },
            "*" => match number()? {
                -1 => Reply::Array(None),
                len => Reply::Array(Some(
                    (0..len)
                        .map(|_| self.read_reply())
                        .collect::<io::Result<_>>()?,
                )),
            },
            _ => return Err(bad(&line)),
        })
    }
}

/// A parsed INFO reply: sections in order, each with its `name:value` lines in order.
#[derive(Debug, Clone, Default)]
pub struct Info {
    pub sections: Vec<(String, Vec<(String, String)>)>,
}

impl Info {
    pub fn parse(text: &str) -> Info {
        let mut info = Info::default();
        for line in text.split("\r\n").flat_map(|l| l.split('\n')) {
            if let Some(title) = line.strip_prefix("# ") {
                info.sections.push((title.trim().to_string(), Vec::new()));
            } else if let Some((name, value)) = line.split_once(':') {
                if info.sections.is_empty() {
                    info.sections.push((String::new(), Vec::new()));
                }
                let lines = &mut info.sections.last_mut().expect("a section").1;
                lines.push((name.to_string(), value.to_string()));
            }
        }
        info
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.sections
            .iter()
            .flat_map(|(_, lines)| lines.iter())
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// A numeric field; panics with the field name if absent.
    pub fn u64(&self, name: &str) -> u64 {
        let value = self
            .get(name)
            .unwrap_or_else(|| panic!("INFO has no field {name}"));
        value
            .parse()
            .unwrap_or_else(|_| panic!("INFO {name}:{value} is not a number"))
    }

    /// The field names of one section, in order.
    pub fn names(&self, section: &str) -> Vec<String> {
        self.sections
            .iter()
            .find(|(title, _)| title == section)
            .map(|(_, lines)| lines.iter().map(|(name, _)| name.clone()).collect())
            .unwrap_or_default()
    }

    /// A `k=v,k=v` field (keyspace, commandstats) as a map.
    pub fn subfields(&self, name: &str) -> BTreeMap<String, String> {
        self.get(name)
            .unwrap_or("")
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}
