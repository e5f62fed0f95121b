//! The open connections of one server, watched by one thread: the idle timeout, graceful shutdown
//! and the shutdown deadline, at no cost per request beyond a few plain stores.
//!
//! Why not hyper's header-read timer, hyper-util's `GracefulShutdown` and a watch channel, as
//! before: hyper makes, registers in tokio's timer wheel and drops a boxed `Sleep` for every
//! request head (~1,600 instructions of a ~15,000-instruction request by bench/callgrind.sh), and
//! the two shutdown signals were polled on every wake of every connection (~400 more). Here each
//! connection shares a [`Conn`] with the watcher: its service counts the requests it starts and
//! has in flight, its socket counts the writes that sent bytes, and the watcher, every quarter of
//! the timeout, closes a connection that had no request in flight, no new request and nothing
//! written for the whole timeout: a client that connects and sends nothing, sends its head a
//! byte at a time, or stops reading an answer. Shutdown sets a flag on every connection and wakes
//! its task, which asks hyper to finish gracefully (or, at the deadline, drops the connection).
//!
//! The counters are written only by the connection's own task (service, socket and connection
//! future all run there), so they are plain load-and-store, never read-modify-write.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Finish the requests in flight, then close.
const GRACEFUL: u8 = 1;
/// Close now.
const CUT: u8 = 2;

/// The idle watcher's thread ([`Conns::watch_idle`]): dropping this stops it.
#[derive(Debug)]
pub(crate) struct IdleWatch {
    stop: Arc<(Mutex<bool>, Condvar)>,
}

impl Drop for IdleWatch {
    fn drop(&mut self) {
        let (flag, woken) = &*self.stop;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        woken.notify_one();
    }
}

/// What a connection's task and the watcher share.
#[derive(Debug, Default)]
pub(crate) struct Conn {
    /// Requests started plus writes that sent bytes: what the watcher sees as progress.
    progress: AtomicU64,
    /// Requests in the service now.
    busy: AtomicU32,
    /// [`GRACEFUL`] | [`CUT`].
    stop: AtomicU8,
    waker: AtomicWaker,
}

impl Conn {
    /// One more unit of progress (only the connection's task calls it, see the module docs).
    fn step(&self) {
        let p = self.progress.load(Ordering::Relaxed);
        self.progress.store(p.wrapping_add(1), Ordering::Relaxed);
    }

    fn add_busy(&self, by: i32) {
        let b = self.busy.load(Ordering::Relaxed);
        self.busy
            .store(b.wrapping_add_signed(by), Ordering::Relaxed);
    }

    fn signal(&self, flag: u8) {
        self.stop.fetch_or(flag, Ordering::Release);
        self.waker.wake();
    }
}

/// The watcher's own view of a connection.
#[derive(Debug)]
struct Seen {
    conn: Arc<Conn>,
    progress: u64,
    idle_since: Option<Instant>,
}

#[derive(Debug, Default)]
struct Inner {
    open: Mutex<Open>,
    /// Woken when the last connection closes.
    empty: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct Open {
    next: u64,
    conns: HashMap<u64, Seen>,
}

/// The registry of a server's open connections (cheap to clone).
#[derive(Debug, Clone, Default)]
pub(crate) struct Conns {
    inner: Arc<Inner>,
}

impl Conns {
    /// Registers a new connection; dropping the guard (when its task ends) unregisters it.
    pub(crate) fn open(&self) -> (Arc<Conn>, OpenGuard) {
        let conn = Arc::new(Conn::default());
        let mut open = self.lock();
        let id = open.next;
        open.next += 1;
        open.conns.insert(
            id,
            Seen {
                conn: conn.clone(),
                progress: 0,
                idle_since: None,
            },
        );
        (
            conn,
            OpenGuard {
                conns: self.clone(),
                id,
            },
        )
    }

    /// Connections open now.
    pub(crate) fn len(&self) -> usize {
        self.lock().conns.len()
    }

    /// Asks every open connection to finish its requests in flight and close.
    pub(crate) fn shut_down(&self) {
        self.signal_all(GRACEFUL);
    }

    /// Closes every open connection now; returns how many there were.
    pub(crate) fn cut_all(&self) -> usize {
        self.signal_all(CUT)
    }

    fn signal_all(&self, flag: u8) -> usize {
        let open = self.lock();
        for seen in open.conns.values() {
            seen.conn.signal(flag);
        }
        open.conns.len()
    }

    /// Waits until no connection is open.
    pub(crate) async fn drained(&self) {
        loop {
            let notified = self.inner.empty.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.len() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Closes the connections idle for `timeout` (see the module docs), looking every quarter of
    /// it, on a thread of its own, until the returned [`IdleWatch`] is dropped.
    ///
    /// A thread rather than a tokio interval: while any tokio timer is pending, a worker reads the
    /// clock once more each time it parks (to know how long it may sleep), which a server
    /// answering one request per wake-up pays on every request (~230 instructions of ~12,000 by
    /// bench/callgrind.sh). The default configuration then has no tokio timer at all.
    pub(crate) fn watch_idle(&self, timeout: Duration) -> io::Result<IdleWatch> {
        let tick = (timeout / 4).max(Duration::from_millis(1));
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (conns, stopped) = (self.clone(), stop.clone());
        std::thread::Builder::new()
            .name("idle-watch".into())
            .spawn(move || {
                let (flag, woken) = &*stopped;
                loop {
                    let stop = flag.lock().unwrap_or_else(|e| e.into_inner());
                    let (stop, _) = woken
                        .wait_timeout_while(stop, tick, |stop| !*stop)
                        .unwrap_or_else(|e| e.into_inner());
                    if *stop {
                        return;
                    }
                    drop(stop);
                    conns.close_idle(timeout, Instant::now());
                }
            })?;
        Ok(IdleWatch { stop })
    }

    /// One look of the watcher at `now`; returns how many connections it closed.
    fn close_idle(&self, timeout: Duration, now: Instant) -> usize {
        let mut closed = 0;
        for seen in self.lock().conns.values_mut() {
            let progress = seen.conn.progress.load(Ordering::Relaxed);
            if seen.conn.busy.load(Ordering::Relaxed) > 0 || progress != seen.progress {
                seen.progress = progress;
                seen.idle_since = None;
                continue;
            }
            let since = *seen.idle_since.get_or_insert(now);
            if now.duration_since(since) >= timeout
                && seen.conn.stop.load(Ordering::Relaxed) & CUT == 0
            {
                seen.conn.signal(CUT);
                closed += 1;
            }
        }
        if closed > 0 {
            tracing::debug!(closed, "closed idle connection(s)");
        }
        closed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.inner.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Unregisters a connection when its task ends.
#[derive(Debug)]
pub(crate) struct OpenGuard {
    conns: Conns,
    id: u64,
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        let mut open = self.conns.lock();
        open.conns.remove(&self.id);
        if open.conns.is_empty() {
            self.conns.inner.empty.notify_waiters();
        }
    }
}

/// A connection's service: counts the requests it starts and has in flight.
#[derive(Debug, Clone)]
pub(crate) struct Counted<S> {
    pub(crate) inner: S,
    pub(crate) conn: Arc<Conn>,
}

impl<S, R> hyper::service::Service<R> for Counted<S>
where
    S: hyper::service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = InFlight<S::Future>;

    fn call(&self, req: R) -> Self::Future {
        self.conn.step();
        self.conn.add_busy(1);
        InFlight {
            inner: self.inner.call(req),
            busy: Busy(self.conn.clone()),
        }
    }
}

/// Counts one request in flight until dropped.
#[derive(Debug)]
struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.add_busy(-1);
    }
}

pin_project_lite::pin_project! {
    /// A request's answer, counted as in flight until it is ready or dropped.
    pub(crate) struct InFlight<F> {
        #[pin]
        inner: F,
        busy: Busy,
    }
}

impl<F: Future> Future for InFlight<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

/// A connection's socket: counts the writes that sent bytes.
#[derive(Debug)]
pub(crate) struct Tracked<T> {
    pub(crate) io: T,
    pub(crate) conn: Arc<Conn>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> Tracked<T> {
    fn count(&self, wrote: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(n)) = wrote {
            if n > 0 {
                self.conn.step();
            }
        }
        wrote
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let wrote = Pin::new(&mut self.io).poll_write(cx, buf);
        self.count(wrote)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let wrote = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.count(wrote)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

pin_project_lite::pin_project! {
    /// A connection's task: hyper's connection, stopped gracefully or cut when the server says so.
    pub(crate) struct Served<C> {
        #[pin]
        connection: C,
        conn: Arc<Conn>,
        graceful_asked: bool,
        // The waker last registered with `conn`: a task's waker rarely changes, and registering
        // the same one again costs two atomic operations per poll.
        registered: Option<std::task::Waker>,
        _open: OpenGuard,
    }
}

impl<C> Served<C> {
    pub(crate) fn new(connection: C, conn: Arc<Conn>, open: OpenGuard) -> Served<C> {
        Served {
            connection,
            conn,
            graceful_asked: false,
            registered: None,
            _open: open,
        }
    }
}

/// What [`Served`] needs of hyper's connection types.
pub(crate) trait GracefulConnection: Future {
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> GracefulConnection for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: http_body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http1::Connection::graceful_shutdown(self);
    }
}

impl<C: GracefulConnection> Future for Served<C> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        // The waker is registered again only when it changed or a signal came (a signal's wake
        // takes the registered waker out): then registered before the flags are read again, so
        // a signal in between still wakes the task. Without a signal, the waker registered last
        // is still there for the next one.
        let fresh = this
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()));
        let mut stop = this.conn.stop.load(Ordering::Acquire);
        if !fresh || stop != 0 {
            this.conn.waker.register(cx.waker());
            if !fresh {
                *this.registered = Some(cx.waker().clone());
            }
            stop = this.conn.stop.load(Ordering::Acquire);
        }
        if stop & CUT != 0 {
            return Poll::Ready(());
        }
        if stop & GRACEFUL != 0 && !*this.graceful_asked {
            *this.graceful_asked = true;
            this.connection.as_mut().graceful_shutdown();
        }
        // A connection's own failure (reset, bad request head) concerns only it.
        this.connection.poll(cx).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn stopped(conn: &Conn) -> bool {
        conn.stop.load(Ordering::Relaxed) & CUT != 0
    }

    #[test]
    fn a_connection_without_progress_is_closed_after_the_timeout_not_before() {
        let conns = Conns::default();
        let (conn, _open) = conns.open();
        let t0 = Instant::now();
        assert_eq!(conns.close_idle(TIMEOUT, t0), 0);
        assert_eq!(conns.close_idle(TIMEOUT, t0 + TIMEOUT / 2), 0);
        assert!(!stopped(&conn));
        assert_eq!(conns.close_idle(TIMEOUT, t0 + TIMEOUT), 1);
        assert!(stopped(&conn));
    }

    #[test]
    fn a_request_in_flight_keeps_its_connection_open() {
        let conns = Conns::default();
        let (conn, _open) = conns.open();
        conn.add_busy(1);
        let t0 = Instant::now();
        for k in 0..5 {
            assert_eq!(conns.close_idle(TIMEOUT, t0 + TIMEOUT * k), 0);
        }
        conn.add_busy(-1);
        assert_eq!(conns.close_idle(TIMEOUT, t0 + TIMEOUT * 5), 0);
        assert_eq!(conns.close_idle(TIMEOUT, t0 + TIMEOUT * 6), 1);
    }

    #[test]
    fn progress_between_looks_restarts_the_idle_time() {
        let conns = Conns::default();
        let (conn, _open) = conns.open();
        let t0 = Instant::now();
        conns.close_idle(TIMEOUT, t0);
        conn.step();
        assert_eq!(
            conns.close_idle(TIMEOUT, t0 + TIMEOUT),
            0,
            "a write was seen"
        );
        assert_eq!(conns.close_idle(TIMEOUT, t0 + TIMEOUT * 3 / 2), 0);
        assert_eq!(conns.close_idle(TIMEOUT, t0 + TIMEOUT * 2), 0);
        assert_eq!(conns.close_idle(TIMEOUT, t0 + TIMEOUT * 5 / 2), 1);
    }

    #[test]
    fn the_idle_watcher_closes_an_idle_connection_and_stops_when_its_watch_is_dropped() {
        let conns = Conns::default();
        let (conn, _open) = conns.open();
        let holders = Arc::strong_count(&conns.inner);
        let watch = conns.watch_idle(Duration::from_millis(20)).unwrap();
        // Its thread holds the registry; it cuts the idle connection within a few looks.
        assert_eq!(Arc::strong_count(&conns.inner), holders + 1);
        let give_up = Instant::now() + Duration::from_secs(10);
        while conn.stop.load(Ordering::Relaxed) & CUT == 0 {
            assert!(
                Instant::now() < give_up,
                "the idle connection was never cut"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(watch);
        while Arc::strong_count(&conns.inner) > holders {
            assert!(
                Instant::now() < give_up,
                "the watcher's thread did not stop"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_closed_task_leaves_the_registry_and_drained_returns() {
        let conns = Conns::default();
        let (_conn, open) = conns.open();
        assert_eq!(conns.len(), 1);
        assert_eq!(conns.cut_all(), 1);
        drop(open);
        assert_eq!(conns.len(), 0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), conns.drained())
                .await
                .expect("drained with no connection open");
        });
    }
}
