//! Running the server: [`serve`] for `backprop serve` (binds, says where it listens, runs until
//! SIGINT or SIGTERM) and [`spawn`] for tests and tools (a server on its own thread, on a
//! listener the caller bound, stopped by [`RunningServer::stop`]).
//!
//! Both run the same [`run`]: the router, the idle reaper, and a graceful shutdown that first
//! ends every event stream (they would otherwise hold their connections open forever).

use crate::limits::Limits;
use crate::registry::Registry;
use crate::routes::router;
use crate::WebError;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// How often the reaper looks for idle sessions.
const REAP_INTERVAL: Duration = Duration::from_millis(500);
/// How long a stopping server waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Where and how to serve.
#[derive(Clone, Debug, PartialEq)]
pub struct ServeOptions {
    /// The host or address to bind (127.0.0.1 by default).
    pub host: String,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// The caps.
    pub limits: Limits,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            limits: Limits::default(),
        }
    }
}

/// Why the server stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Stopped {
    /// The signal's number (2 or 15); a command exits with 128 plus it.
    pub fn signal_number(self) -> i32 {
        match self {
            Self::Interrupt => 2,
            Self::Terminate => 15,
        }
    }
}

/// Serves on `listener` until `shutdown` completes, then stops gracefully.
pub async fn run(
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    let registry = Registry::new(limits);
    let reaper = tokio::spawn(reap(Arc::clone(&registry)));
    let stopping = Arc::clone(&registry);
    let graceful = async move {
        shutdown.await;
        stopping.shut_down();
    };
    let served = axum::serve(listener, router(registry))
        .with_graceful_shutdown(graceful)
        .await;
    reaper.abort();
    served.map_err(|source| WebError::Io {
        context: "serving HTTP",
        source,
    })
}

async fn reap(registry: Arc<Registry>) {
    let mut ticks = tokio::time::interval(REAP_INTERVAL);
    loop {
        ticks.tick().await;
        registry.reap(Instant::now());
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, WebError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| WebError::Io {
            context: "starting the async runtime",
            source,
        })
}

/// Binds `host:port`; returns the listener and the address it got.
pub(crate) async fn bind(host: &str, port: u16) -> Result<(TcpListener, SocketAddr), WebError> {
    let address = format!("{host}:{port}");
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|source| WebError::Bind {
            address: address.clone(),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| WebError::Io {
        context: "reading the bound address",
        source,
    })?;
    Ok((listener, bound))
}

/// Binds `options.host:options.port`, calls `on_listening` with the bound address, and serves
/// until SIGINT or SIGTERM; returns which one stopped it.
pub fn serve(
    options: &ServeOptions,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<Stopped, WebError> {
    let runtime = runtime()?;
    let stopped = runtime.block_on(async {
        let (listener, bound) = bind(&options.host, options.port).await?;
        let (signal_sender, signal_receiver) = tokio::sync::oneshot::channel();
        let signals = signal_stop()?;
        tokio::spawn(async move {
            let stopped = signals.await;
            let _ = signal_sender.send(stopped);
        });
        let (stop_sender, stop_receiver) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(run(listener, options.limits.clone(), async move {
            let _ = stop_receiver.await;
        }));
        on_listening(bound);
        let stopped = signal_receiver.await.unwrap_or(Stopped::Interrupt);
        let _ = stop_sender.send(());
        // Requests in flight get a moment; then the runtime drops whatever is left.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
        Ok(stopped)
    });
    // Work still on the blocking pool (a long `step` request) is not waited for.
    runtime.shutdown_timeout(Duration::from_millis(100));
    stopped
}

/// Waits for SIGINT or SIGTERM (set up now, so a signal right after binding is not lost).
pub(crate) fn signal_stop() -> Result<impl Future<Output = Stopped>, WebError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let io = |source| WebError::Io {
            context: "installing the signal handlers",
            source,
        };
        let mut interrupt = signal(SignalKind::interrupt()).map_err(io)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(io)?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => Stopped::Interrupt,
                _ = terminate.recv() => Stopped::Terminate,
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            Stopped::Interrupt
        })
    }
}

/// A server running on its own thread.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens.
    pub address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), WebError>>>,
}

impl RunningServer {
    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) -> Result<(), WebError> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), WebError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(WebError::Io {
                context: "the server thread",
                source: std::io::Error::other("it panicked"),
            }),
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}

/// Serves on `listener` (already bound, e.g. to 127.0.0.1:0) from a new thread with its own
/// runtime.
pub fn spawn(listener: std::net::TcpListener, limits: Limits) -> Result<RunningServer, WebError> {
    spawn_with(
        listener,
        "backprop-web",
        move |listener, stopped| async move {
            let (done, finished) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(run(listener, limits, async move {
                let _ = stopped.await;
                let _ = done.send(());
            }));
            let _ = finished.await;
            match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
                Ok(Ok(result)) => result,
                // Requests still in flight after the grace period are dropped.
                Ok(Err(_)) | Err(_) => Ok(()),
            }
        },
    )
}

/// Serves `app` on `listener` (already bound) from a new thread with its own runtime, until
/// [`RunningServer::stop`]: the prediction server's `spawn`.
pub(crate) fn spawn_router(
    listener: std::net::TcpListener,
    app: axum::Router,
) -> Result<RunningServer, WebError> {
    spawn_with(
        listener,
        "backprop-predict",
        move |listener, stopped| async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .map_err(|source| WebError::Io {
                    context: "serving HTTP",
                    source,
                })
        },
    )
}

/// Runs `serve(listener, stop)` on a new thread named `name` with its own runtime; the
/// [`RunningServer`] it returns sends `stop` and joins the thread.
fn spawn_with<F, Fut>(
    listener: std::net::TcpListener,
    name: &str,
    serve: F,
) -> Result<RunningServer, WebError>
where
    F: FnOnce(TcpListener, tokio::sync::oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), WebError>>,
{
    let io = |context| move |source| WebError::Io { context, source };
    let address = listener
        .local_addr()
        .map_err(io("reading the bound address"))?;
    listener
        .set_nonblocking(true)
        .map_err(io("configuring the listener"))?;
    let runtime = runtime()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener =
                    TcpListener::from_std(listener).map_err(io("adopting the listener"))?;
                serve(listener, stopped).await
            })
        })
        .map_err(io("starting the server thread"))?;
    Ok(RunningServer {
        address,
        stop: Some(stop),
        thread: Some(thread),
    })
}
