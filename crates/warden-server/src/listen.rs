//! Accepting connections: at most `max_connections` open at once (beyond
//! that, new ones wait in the kernel's backlog), and, with a certificate,
//! TLS 1.3 only, handshakes run on their own tasks so a slow client cannot
//! hold up the others.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// The longest a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection, holding its place among the connections allowed.
pub struct Conn<S> {
    io: S,
    _permit: OwnedSemaphorePermit,
}

impl<S: AsyncRead + Unpin> AsyncRead for Conn<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Conn<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Connections ready to serve, from the accepting task.
pub struct Incoming<S> {
    rx: mpsc::Receiver<Conn<S>>,
}

impl<S> tonic::transport::server::Connected for Conn<S> {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Incoming<S> {
    /// The connections as a stream, as tonic takes them.
    pub fn into_stream(
        self,
    ) -> impl futures_util::Stream<Item = Result<Conn<S>, io::Error>> + Send + 'static {
        futures_util::stream::unfold(self, |mut incoming| async move {
            let conn = incoming.next().await;
            Some((Ok(conn), incoming))
        })
    }

    /// The next connection ready to serve.
    pub async fn next(&mut self) -> Conn<S> {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accepting task ended: nothing more will come.
            None => std::future::pending().await,
        }
    }
}

/// Accepts plain TCP connections, `max` at a time; a client that sends
/// nothing within `first_byte` is disconnected (it would hold a place).
pub fn plain(
    listener: TcpListener,
    max: usize,
    first_byte: Duration,
) -> io::Result<Incoming<TcpStream>> {
    accepting(listener, max, move |stream| async move {
        match tokio::time::timeout(first_byte, stream.readable()).await {
            Ok(Ok(())) => Some(stream),
            _ => {
                tracing::debug!("a client sent nothing; disconnected");
                None
            }
        }
    })
}

/// Accepts TLS 1.3 connections, `max` at a time.
pub fn tls(
    listener: TcpListener,
    max: usize,
    config: Arc<rustls::ServerConfig>,
) -> io::Result<Incoming<tokio_rustls::server::TlsStream<TcpStream>>> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    accepting(listener, max, move |stream| {
        let acceptor = acceptor.clone();
        async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => Some(tls),
                Ok(Err(e)) => {
                    tracing::debug!("TLS handshake refused: {e}");
                    None
                }
                Err(_) => {
                    tracing::debug!("TLS handshake timed out");
                    None
                }
            }
        }
    })
}

fn accepting<S, F, Fut>(listener: TcpListener, max: usize, prepare: F) -> io::Result<Incoming<S>>
where
    S: Send + 'static,
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<S>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(64);
    let permits = Arc::new(Semaphore::new(max.max(1)));
    let prepare = Arc::new(prepare);
    tokio::spawn(async move {
        loop {
            // Once the server stops taking connections, stop accepting and
            // close the socket: nothing accepted is left unanswered.
            let accepted = tokio::select! {
                () = tx.closed() => return,
                accepted = async {
                    let permit = Arc::clone(&permits).acquire_owned().await;
                    (permit, listener.accept().await)
                } => accepted,
            };
            let (Ok(permit), accepted) = accepted else {
                return;
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let (ready, prepare) = (tx.clone(), Arc::clone(&prepare));
            tokio::spawn(async move {
                if let Some(io) = prepare(stream).await {
                    let _ = ready
                        .send(Conn {
                            io,
                            _permit: permit,
                        })
                        .await;
                }
            });
        }
    });
    Ok(Incoming { rx })
}

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read `{path}`: {why}")]
    Read { path: PathBuf, why: String },
    #[error("{0}")]
    Config(#[from] rustls::Error),
    #[error("the client CA file: {0}")]
    ClientCa(String),
}

/// A TLS 1.3-only server configuration from PEM files; with `client_ca`,
/// clients must present a certificate it signed.
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read = |path: &Path, why: String| TlsError::Read {
        path: path.to_path_buf(),
        why,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| read(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| read(cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(read(cert, "no certificate in it".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| read(key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for ca in CertificateDer::pem_file_iter(path).map_err(|e| read(path, e.to_string()))? {
                roots
                    .add(ca.map_err(|e| read(path, e.to_string()))?)
                    .map_err(|e| TlsError::ClientCa(e.to_string()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| TlsError::ClientCa(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
