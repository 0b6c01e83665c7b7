//! The BuildKit session through which the engine reads the build context, as the docker CLI
//! and buildx send it: the checker opens `POST /session` (upgraded to HTTP/2), serves
//! fsutil's FileSync `DiffCopy` on it, and the build names the session with
//! `remote=client-session`. The engine asks for the folders it needs ("context",
//! "dockerfile") with the patterns it read from the Dockerfile and `.dockerignore`; the
//! answer is `context::Folder::list`, then the content of the files the engine does not
//! have from an earlier build of the same folder.
//!
//! Why not a tar posted with the build: the containerd image store of Docker 26/27 cannot
//! read one with BuildKit (moby/moby#47717), a tar holds the whole context in memory, and it
//! sends files the engine would never ask for. Only `engine` uses this module.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bollard_buildkit_proto::fsutil::types::{packet::PacketType, Packet, Stat};
use bollard_buildkit_proto::health::health_check_response::ServingStatus;
use bollard_buildkit_proto::health::health_server::{Health, HealthServer};
use bollard_buildkit_proto::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};
use bollard_buildkit_proto::moby::buildkit::secrets::v1::secrets_server::{Secrets, SecretsServer};
use bollard_buildkit_proto::moby::buildkit::secrets::v1::{GetSecretRequest, GetSecretResponse};
use bollard_buildkit_proto::moby::filesync::packet::file_sync_server::{FileSync, FileSyncServer};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

use crate::docker::context::{Content, Entry, Folder, Kind, Offered};
use crate::docker::endpoint::{Endpoint, TlsFiles};
use crate::error::CheckerError;

/// The gRPC methods the session offers; the engine only calls what is announced.
const DIFF_COPY: &str = "/moby.filesync.v1.FileSync/DiffCopy";
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
const GET_SECRET: &str = "/moby.buildkit.secrets.v1.Secrets/GetSecret";
/// fsutil's chunk size for file content.
const CHUNK: usize = 32 * 1024;

/// An open session; dropping it closes the connection, which ends the session on the engine.
pub struct Session {
    pub id: String,
    offered: Arc<Mutex<Offered>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Session {
    /// The context files the engine was offered so far (the "context" folder only: the
    /// Dockerfile travels in a folder of its own).
    pub fn offered(&self) -> Offered {
        self.offered.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

/// Opens a session on the engine at `host` serving `folders` by name, and `secrets` by id
/// (what `RUN --mount=type=secret,id=…` reads, as `docker build --secret id=…,src=…` serves
/// it). `shared_key` lets the engine reuse what it kept of an earlier transfer with the same
/// key, so it must change whenever the same paths may hold other content (an overlay).
pub async fn open(
    endpoint: &Endpoint,
    folders: BTreeMap<String, Folder>,
    secrets: BTreeMap<String, Vec<u8>>,
    shared_key: &str,
) -> Result<Session, CheckerError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let io = upgrade(endpoint, &id, shared_key).await?;
    let offered = Arc::new(Mutex::new(Offered::default()));
    let file_sync = FileSyncServer::new(ContextServer {
        folders: Arc::new(folders),
        offered: offered.clone(),
    })
    .max_decoding_message_size(32 << 20);
    let server = tokio::spawn(async move {
        // The engine closes the connection when the build is over; an error here can only
        // mean the connection broke, which the build itself then reports.
        let _ = tonic::transport::Server::builder()
            .add_service(HealthServer::new(AlwaysServing))
            .add_service(file_sync)
            .add_service(SecretsServer::new(SecretStore(secrets)))
            .serve_with_incoming(futures_util::stream::iter([Ok::<_, std::io::Error>(io)]))
            .await;
    });
    Ok(Session {
        id,
        offered,
        server,
    })
}

/// `POST /session` with `Upgrade: h2c`; after `101 Switching Protocols` the engine is the
/// HTTP/2 client on this connection and the checker the server.
async fn upgrade(
    endpoint: &Endpoint,
    id: &str,
    shared_key: &str,
) -> Result<Connection, CheckerError> {
    use hyper::header::{CONNECTION, HOST, UPGRADE};
    let failed = |detail: String| {
        CheckerError::EngineReply(format!(
            "opening a build session on {}: {detail}",
            endpoint.host
        ))
    };
    let stream = dial(endpoint).await.map_err(|e| failed(e.to_string()))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| failed(e.to_string()))?;
    tokio::spawn(connection.with_upgrades());
    let request = hyper::Request::post("/session")
        .header(HOST, "docker")
        .header(CONNECTION, "Upgrade")
        .header(UPGRADE, "h2c")
        .header("X-Docker-Expose-Session-Uuid", id)
        .header("X-Docker-Expose-Session-Name", "workbook-checker")
        .header("X-Docker-Expose-Session-Sharedkey", shared_key)
        .header("X-Docker-Expose-Session-Grpc-Method", DIFF_COPY)
        .header("X-Docker-Expose-Session-Grpc-Method", HEALTH_CHECK)
        .header("X-Docker-Expose-Session-Grpc-Method", GET_SECRET)
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .map_err(|e| failed(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| failed(e.to_string()))?;
    if response.status() != hyper::StatusCode::SWITCHING_PROTOCOLS {
        return Err(failed(format!("the engine answered {}", response.status())));
    }
    let upgraded = hyper::upgrade::on(response)
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(Connection(hyper_util::rt::TokioIo::new(upgraded)))
}

/// A plain `GET` of `path` on a connection of its own: the answer's body, or why there is
/// none. For the few answers whose shape bollard's models no longer read (the build cache
/// records of `/system/df`, a list of their own before API 1.52).
pub async fn get(endpoint: &Endpoint, path: &str) -> Result<Vec<u8>, String> {
    use http_body_util::BodyExt;
    let stream = dial(endpoint).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, "docker")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "the engine answered {status}: {}",
            String::from_utf8_lossy(&body).trim()
        ));
    }
    Ok(body.to_vec())
}

type Stream = Box<dyn AsyncStream>;
trait AsyncStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> AsyncStream for T {}

/// A new connection to the engine's API, the way the docker CLI opens one for each scheme
/// (bollard's own connections cannot be taken over for the session).
async fn dial(endpoint: &Endpoint) -> std::io::Result<Stream> {
    let host = endpoint.host.as_str();
    if let Some(path) = host.strip_prefix("unix://") {
        return Ok(Box::new(tokio::net::UnixStream::connect(path).await?));
    }
    if let Some(target) = host.strip_prefix("ssh://") {
        return ssh_dial_stdio(target);
    }
    if let Some(address) = ["tcp://", "http://", "https://"]
        .iter()
        .find_map(|scheme| host.strip_prefix(scheme))
    {
        let address = address.split('/').next().unwrap_or(address);
        let tcp = tokio::net::TcpStream::connect(address).await?;
        return match &endpoint.tls {
            None => Ok(Box::new(tcp)),
            Some(files) => Ok(Box::new(tls_connect(tcp, address, files).await?)),
        };
    }
    Err(std::io::Error::other(format!(
        "builds need a connection of their own to the engine, which the checker opens over unix://, tcp:// (with or without TLS) and ssh:// only, not {host}"
    )))
}

/// TLS with the endpoint's CA, client certificate and key (a context's, or
/// DOCKER_CERT_PATH's), as bollard's own TLS connections use them.
async fn tls_connect(
    tcp: tokio::net::TcpStream,
    address: &str,
    files: &TlsFiles,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let invalid = |path: &std::path::Path, e: &dyn std::fmt::Display| {
        std::io::Error::other(format!("{}: {e}", path.display()))
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&files.ca).map_err(|e| invalid(&files.ca, &e))? {
        roots
            .add(cert.map_err(|e| invalid(&files.ca, &e))?)
            .map_err(|e| invalid(&files.ca, &e))?;
    }
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| invalid(&files.cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&files.cert, &e))?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| invalid(&files.key, &e))?;
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| invalid(&files.cert, &e))?;
    let name = address
        .rsplit_once(':')
        .map_or(address, |(name, _)| name)
        .trim_matches(['[', ']']);
    let name = ServerName::try_from(name.to_string()).map_err(std::io::Error::other)?;
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
}

/// `ssh://[user@]host[:port]`: what the docker CLI runs for such an endpoint, `docker system
/// dial-stdio` on the engine's machine, whose standard input and output are the connection.
fn ssh_dial_stdio(target: &str) -> std::io::Result<Stream> {
    let target = target.trim_end_matches('/');
    let (destination, port) = match target.rsplit_once(':') {
        Some((d, p)) if p.chars().all(|c| c.is_ascii_digit()) => (d, Some(p)),
        _ => (target, None),
    };
    let mut command = tokio::process::Command::new("ssh");
    if let Some(port) = port {
        command.args(["-p", port]);
    }
    let mut child = command
        .args([
            "-o",
            "BatchMode=yes",
            "--",
            destination,
            "docker",
            "system",
            "dial-stdio",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
        return Err(std::io::Error::other("ssh started without its pipes"));
    };
    Ok(Box::new(SshStream {
        io: tokio::io::join(stdout, stdin),
        _child: child,
    }))
}

/// The pipes of `ssh … dial-stdio`; the process ends when the stream is dropped.
struct SshStream {
    io: tokio::io::Join<tokio::process::ChildStdout, tokio::process::ChildStdin>,
    _child: tokio::process::Child,
}

impl AsyncRead for SshStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The upgraded connection, as tonic's server takes one.
struct Connection(hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>);

impl tonic::transport::server::Connected for Connection {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The engine checks that the session is alive before it uses it.
struct AlwaysServing;

#[tonic::async_trait]
impl Health for AlwaysServing {
    type WatchStream = futures_util::stream::Empty<Result<HealthCheckResponse, Status>>;

    async fn check(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }

    async fn list(
        &self,
        _: Request<HealthListRequest>,
    ) -> Result<Response<HealthListResponse>, Status> {
        Err(Status::unimplemented("not offered"))
    }

    async fn watch(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("not offered"))
    }
}

/// The secrets of a build by id. An id it does not hold is NotFound, which BuildKit reads
/// as "no such secret": a `required=true` mount then fails the build, any other is skipped.
struct SecretStore(BTreeMap<String, Vec<u8>>);

#[tonic::async_trait]
impl Secrets for SecretStore {
    async fn get_secret(
        &self,
        request: Request<GetSecretRequest>,
    ) -> Result<Response<GetSecretResponse>, Status> {
        let id = &request.get_ref().id;
        match self.0.get(id) {
            Some(data) => Ok(Response::new(GetSecretResponse { data: data.clone() })),
            None => Err(Status::not_found(format!("secret {id} not found"))),
        }
    }
}

struct ContextServer {
    folders: Arc<BTreeMap<String, Folder>>,
    offered: Arc<Mutex<Offered>>,
}

type PacketStream = tokio_stream::wrappers::ReceiverStream<Result<Packet, Status>>;

#[tonic::async_trait]
impl FileSync for ContextServer {
    type DiffCopyStream = PacketStream;
    type TarStreamStream = PacketStream;

    /// fsutil's sender: every entry's stat, an empty stat to end the listing, then the
    /// content of each file the engine requests by its index; its FIN is answered with ours.
    async fn diff_copy(
        &self,
        request: Request<Streaming<Packet>>,
    ) -> Result<Response<Self::DiffCopyStream>, Status> {
        let metadata = request.metadata();
        let dir_name = values(metadata, "dir-name")
            .into_iter()
            .next()
            .unwrap_or_default();
        let wanted = crate::docker::context::Request {
            include: values(metadata, "include-patterns"),
            exclude: values(metadata, "exclude-patterns"),
            follow: values(metadata, "followpaths"),
        };
        let folder =
            self.folders.get(&dir_name).cloned().ok_or_else(|| {
                Status::not_found(format!("no folder named {dir_name:?} is shared"))
            })?;
        let listing = tokio::task::spawn_blocking({
            let folder = folder.clone();
            move || folder.list(&wanted)
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
        if dir_name == "context" {
            if let Ok(mut offered) = self.offered.lock() {
                offered.add(&listing);
            }
        }

        let (tx, rx) = mpsc::channel(128);
        let incoming = request.into_inner();
        tokio::spawn(async move {
            let requests = read_ahead(incoming);
            if let Err(status) = send(&folder, Arc::new(listing), requests, &tx).await {
                let _ = tx.send(Err(status)).await;
            }
        });
        Ok(Response::new(PacketStream::new(rx)))
    }

    async fn tar_stream(
        &self,
        _: Request<Streaming<Packet>>,
    ) -> Result<Response<Self::TarStreamStream>, Status> {
        Err(Status::unimplemented("only DiffCopy is offered"))
    }
}

/// Files sent at once, as fsutil's sender does (4 workers): the engine asks for every file
/// as soon as it has its stat, and one at a time left a context of thousands of small files
/// waiting on round trips.
const FILES_AT_ONCE: usize = 4;

/// fsutil's sender on one transfer: `listing`'s stats, and the files the engine asks for in
/// `requests` (its messages, read off the stream by `read_ahead`), onto `tx`.
async fn send(
    folder: &Folder,
    listing: Arc<Vec<Entry>>,
    mut requests: mpsc::UnboundedReceiver<Result<Packet, Status>>,
    tx: &mpsc::Sender<Result<Packet, Status>>,
) -> Result<(), Status> {
    // The listing goes out while the files it names are being asked for and sent, as
    // fsutil's sender walks beside its workers: the engine asks for a file as soon as it
    // has its stat, and a listing of 100,000 entries sent first kept it waiting.
    let stats = async {
        for entry in listing.iter() {
            let stat = packet(PacketType::PacketStat, 0, Some(stat(entry)), Vec::new());
            tx.send(Ok(stat)).await?;
        }
        tx.send(Ok(packet(PacketType::PacketStat, 0, None, Vec::new())))
            .await
    };
    tokio::pin!(stats);
    let mut listed = false;
    let workers = Workers::start(folder, &listing, tx);
    loop {
        tokio::select! {
            sent = &mut stats, if !listed => {
                sent.map_err(closed)?;
                listed = true;
            }
            message = requests.recv() => {
                let Some(message) = message else { break };
                let message = message?;
                match PacketType::try_from(message.r#type) {
                    Ok(PacketType::PacketReq) => {
                        listing
                            .get(message.id as usize)
                            .filter(|e| e.kind == Kind::File)
                            .ok_or_else(|| {
                                Status::invalid_argument(format!("invalid file id {}", message.id))
                            })?;
                        workers.send(message.id)?;
                    }
                    Ok(PacketType::PacketFin) => {
                        // The engine ends once it has every file; what is still being
                        // sent finishes first all the same.
                        if !listed {
                            (&mut stats).await.map_err(closed)?;
                        }
                        workers.finish().await?;
                        tx.send(Ok(packet(PacketType::PacketFin, 0, None, Vec::new())))
                            .await
                            .map_err(closed)?;
                        return Ok(());
                    }
                    Ok(PacketType::PacketErr) => {
                        return Err(Status::aborted(format!(
                            "the engine stopped the transfer: {}",
                            String::from_utf8_lossy(&message.data)
                        )))
                    }
                    _ => {}
                }
            }
        }
    }
    workers.finish().await
}

/// The engine's messages, read off the stream as they arrive by a task of their own (ended
/// with the stream, or when the receiver is dropped): they are read whatever is being sent,
/// because h2 counts the small DATA frames it holds unread against a budget, and a context
/// of 5,000 files (requests piling up during the listing and the sending) ended the session
/// with GOAWAY ENHANCE_YOUR_CALM "too_many_data_frames" on 28.5, "context canceled" on 20.10.
fn read_ahead(mut incoming: Streaming<Packet>) -> mpsc::UnboundedReceiver<Result<Packet, Status>> {
    let (requests, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = incoming.next().await {
            if requests.send(message).is_err() {
                break;
            }
        }
    });
    received
}

/// fsutil's sender's workers: threads that each take the id of a file asked for, read it
/// from open to end and send its content, then take the next. Threads of their own rather
/// than a blocking task per file: a `node_modules` is tens of thousands of files of a few
/// bytes, and each task cost two hand-offs between threads.
struct Workers {
    asked: std::sync::mpsc::Sender<u32>,
    running: Vec<tokio::task::JoinHandle<Result<(), Status>>>,
}

impl Workers {
    fn start(
        folder: &Folder,
        listing: &Arc<Vec<Entry>>,
        tx: &mpsc::Sender<Result<Packet, Status>>,
    ) -> Workers {
        let (asked, queue) = std::sync::mpsc::channel::<u32>();
        let queue = Arc::new(Mutex::new(queue));
        let running = (0..FILES_AT_ONCE)
            .map(|_| {
                let (queue, folder, listing, tx) =
                    (queue.clone(), folder.clone(), listing.clone(), tx.clone());
                tokio::task::spawn_blocking(move || loop {
                    // One worker at a time waits on the queue, holding the lock; the others
                    // wait for the lock.
                    let next = queue.lock().map(|q| q.recv());
                    let Ok(Ok(id)) = next else { return Ok(()) };
                    if let Err(status) = send_file(&folder, &listing[id as usize], id, &tx) {
                        // Ends the stream now: the engine would wait for this file forever.
                        let _ = tx.blocking_send(Err(status.clone()));
                        return Err(status);
                    }
                })
            })
            .collect();
        Workers { asked, running }
    }

    /// Queues file `id` for the next free worker.
    fn send(&self, id: u32) -> Result<(), Status> {
        self.asked
            .send(id)
            .map_err(|_| Status::internal("the session's file senders stopped"))
    }

    /// Waits until every file asked for is sent, or one could not be.
    async fn finish(self) -> Result<(), Status> {
        drop(self.asked);
        for worker in self.running {
            worker
                .await
                .map_err(|e| Status::internal(e.to_string()))??;
        }
        Ok(())
    }
}

/// The file's content as data packets of file `id`, then an empty one for its end, on a
/// thread that may block. A file on disk is opened as the walk saw it: a regular file, not
/// a link (a link or FIFO swapped in since would lead outside the folder or block).
fn send_file(
    folder: &Folder,
    entry: &Entry,
    id: u32,
    tx: &mpsc::Sender<Result<Packet, Status>>,
) -> Result<(), Status> {
    match &entry.content {
        Content::Overlay(key) => {
            let bytes = folder
                .overlay
                .get(key)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for chunk in bytes.chunks(CHUNK) {
                tx.blocking_send(Ok(packet(PacketType::PacketData, id, None, chunk.to_vec())))
                    .map_err(closed)?;
            }
        }
        Content::Disk(path) => read_into(path, entry.size, id, tx)?,
        Content::None => {}
    }
    tx.blocking_send(Ok(packet(PacketType::PacketData, id, None, Vec::new())))
        .map_err(closed)
}

/// Sends the file at `path` (`size` bytes when it was listed) as data packets of file `id`.
fn read_into(
    path: &std::path::Path,
    size: u64,
    id: u32,
    tx: &mpsc::Sender<Result<Packet, Status>>,
) -> Result<(), Status> {
    use std::io::Read;
    let mut file = crate::learner_file::open_regular_not_a_link(path)
        .map_err(|e| Status::not_found(format!("{}: {e}", path.display())))?;
    // Most context files are far smaller than a chunk: the buffer is the file's size, not a
    // zeroed 32 KiB per file.
    let mut capacity = size.min(CHUNK as u64) as usize;
    loop {
        let mut chunk = Vec::with_capacity(capacity);
        (&mut file)
            .take(CHUNK as u64)
            .read_to_end(&mut chunk)
            .map_err(|e| Status::internal(format!("{}: {e}", path.display())))?;
        let last = chunk.len() < CHUNK;
        if !chunk.is_empty() {
            tx.blocking_send(Ok(packet(PacketType::PacketData, id, None, chunk)))
                .map_err(closed)?;
        }
        if last {
            return Ok(());
        }
        capacity = CHUNK;
    }
}

/// The send failed because the engine's side of the stream is gone.
fn closed<T>(_: mpsc::error::SendError<T>) -> Status {
    Status::cancelled("the engine closed the session")
}

fn packet(kind: PacketType, id: u32, stat: Option<Stat>, data: Vec<u8>) -> Packet {
    Packet {
        r#type: kind as i32,
        stat,
        id,
        data,
    }
}

/// fsutil's `Stat`: the mode is Go's `os.FileMode` (type in the high bits), and owners are
/// root, as the docker CLI resets them (what a COPY without --chown gives).
fn stat(entry: &Entry) -> Stat {
    const MODE_DIR: u32 = 1 << 31;
    const MODE_SYMLINK: u32 = 1 << 27;
    const MODE_SETUID: u32 = 1 << 23;
    const MODE_SETGID: u32 = 1 << 22;
    const MODE_STICKY: u32 = 1 << 20;
    let mut mode = entry.mode & 0o777;
    for (unix, go) in [
        (0o4000, MODE_SETUID),
        (0o2000, MODE_SETGID),
        (0o1000, MODE_STICKY),
    ] {
        if entry.mode & unix != 0 {
            mode |= go;
        }
    }
    let (linkname, size) = match &entry.kind {
        Kind::Dir => {
            mode |= MODE_DIR;
            (String::new(), 0)
        }
        Kind::Symlink { target } => {
            mode |= MODE_SYMLINK;
            (target.clone(), entry.size as i64)
        }
        Kind::File => (String::new(), entry.size as i64),
    };
    Stat {
        path: entry.path.clone(),
        mode,
        uid: 0,
        gid: 0,
        size,
        mod_time: entry.modified_ns,
        linkname,
        devmajor: 0,
        devminor: 0,
        xattrs: Default::default(),
    }
}

/// A metadata key's values; BuildKit percent-encodes them (and says so with `<key>-encoded`)
/// when they hold characters a header cannot.
fn values(metadata: &tonic::metadata::MetadataMap, key: &str) -> Vec<String> {
    let encoded = metadata
        .get(format!("{key}-encoded"))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v, "1" | "t" | "T" | "true" | "TRUE" | "True"));
    metadata
        .get_all(key)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| {
            if encoded {
                percent_encoding::percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            } else {
                v.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: Kind, mode: u32) -> Entry {
        Entry {
            path: path.into(),
            kind,
            mode,
            size: 3,
            modified_ns: 7,
            content: Content::None,
        }
    }

    #[test]
    fn stats_carry_go_file_modes_and_root_owners() {
        let dir = stat(&entry("d", Kind::Dir, 0o755));
        assert_eq!(dir.mode, (1 << 31) | 0o755);
        assert_eq!(dir.size, 0);
        let link = stat(&entry("l", Kind::Symlink { target: "t".into() }, 0o777));
        assert_eq!(link.mode, (1 << 27) | 0o777);
        assert_eq!(link.linkname, "t");
        let suid = stat(&entry("f", Kind::File, 0o4755));
        assert_eq!(suid.mode, (1 << 23) | 0o755);
        assert_eq!((suid.uid, suid.gid, suid.size, suid.mod_time), (0, 0, 3, 7));
    }

    #[test]
    fn encoded_metadata_values_are_decoded() {
        let mut md = tonic::metadata::MetadataMap::new();
        md.append("exclude-patterns", "caf%C3%A9+bar".parse().unwrap());
        md.append("exclude-patterns", "plain".parse().unwrap());
        md.insert("exclude-patterns-encoded", "1".parse().unwrap());
        md.append("followpaths", "a%20b".parse().unwrap());
        assert_eq!(values(&md, "exclude-patterns"), vec!["café bar", "plain"]);
        assert_eq!(values(&md, "followpaths"), vec!["a%20b"]);
        assert!(values(&md, "include-patterns").is_empty());
    }

    /// Reads a file as `read_into` does and returns its data packets' sizes.
    fn chunks_sent(path: &std::path::Path, size: u64) -> Result<Vec<usize>, Status> {
        let (tx, mut rx) = mpsc::channel(64);
        read_into(path, size, 9, &tx)?;
        drop(tx);
        let mut sizes = Vec::new();
        while let Ok(Ok(p)) = rx.try_recv() {
            assert_eq!(p.id, 9);
            sizes.push(p.data.len());
        }
        Ok(sizes)
    }

    #[test]
    fn a_file_goes_out_in_chunks_and_an_empty_file_in_none() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, vec![7u8; 2 * CHUNK + 5]).unwrap();
        assert_eq!(chunks_sent(&file, 10).unwrap(), vec![CHUNK, CHUNK, 5]);
        std::fs::write(&file, vec![7u8; CHUNK]).unwrap();
        assert_eq!(chunks_sent(&file, CHUNK as u64).unwrap(), vec![CHUNK]);
        std::fs::write(&file, b"").unwrap();
        assert!(chunks_sent(&file, 0).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_or_fifo_swapped_in_after_the_walk_is_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, b"outside").unwrap();
        let file = dir.path().join("f");
        std::os::unix::fs::symlink(&secret, &file).unwrap();
        let refused = chunks_sent(&file, 7).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::NotFound, "{refused:?}");
        std::fs::remove_file(&file).unwrap();
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &file,
            rustix::fs::Mode::from_raw_mode(0o644),
        )
        .unwrap();
        // Returns at once (no writer is ever coming) with an error naming the FIFO.
        let refused = chunks_sent(&file, 7).unwrap_err();
        assert!(refused.message().contains("FIFO"), "{refused:?}");
    }

    fn request(kind: PacketType, id: u32) -> Result<Packet, Status> {
        Ok(packet(kind, id, None, Vec::new()))
    }

    /// Runs `send` on a listing of the files `names` (on disk in `dir`) with the engine's
    /// `asked` messages, the request channel left open as the engine leaves it while it
    /// waits; returns what was sent, up to the stream's end or an error.
    async fn transfer(
        dir: &std::path::Path,
        names: &[&str],
        asked: Vec<Result<Packet, Status>>,
    ) -> Vec<Result<Packet, Status>> {
        let listing: Vec<Entry> = names
            .iter()
            .map(|name| Entry {
                path: name.to_string(),
                kind: Kind::File,
                mode: 0o644,
                size: 5,
                modified_ns: 0,
                content: Content::Disk(dir.join(name)),
            })
            .collect();
        let (engine, requests) = mpsc::unbounded_channel();
        for message in asked {
            engine.send(message).unwrap();
        }
        let (tx, mut rx) = mpsc::channel(128);
        let folder = Folder::new(dir);
        let sender = tokio::spawn(async move {
            let _ = send(&folder, Arc::new(listing), requests, &tx).await;
        });
        let mut sent = Vec::new();
        while let Ok(Some(packet)) =
            tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await
        {
            let end = packet.is_err()
                || packet
                    .as_ref()
                    .is_ok_and(|p| p.r#type == PacketType::PacketFin as i32);
            sent.push(packet);
            if end {
                break;
            }
        }
        drop(engine);
        sender.abort();
        sent
    }

    #[tokio::test]
    async fn every_file_asked_for_is_sent_before_the_fin() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["a", "b", "c", "d", "e", "f"];
        for name in names {
            std::fs::write(dir.path().join(name), name.repeat(5)).unwrap();
        }
        let mut asked: Vec<_> = (0..6)
            .map(|id| request(PacketType::PacketReq, id))
            .collect();
        asked.push(request(PacketType::PacketFin, 0));
        let sent = transfer(dir.path(), &names, asked).await;
        let sent: Vec<Packet> = sent.into_iter().map(Result::unwrap).collect();
        assert_eq!(sent.last().unwrap().r#type, PacketType::PacketFin as i32);
        for (id, name) in names.iter().enumerate() {
            let data: Vec<u8> = sent
                .iter()
                .filter(|p| p.r#type == PacketType::PacketData as i32 && p.id == id as u32)
                .flat_map(|p| p.data.clone())
                .collect();
            assert_eq!(data, name.repeat(5).into_bytes(), "file {name}");
        }
    }

    #[tokio::test]
    async fn a_file_gone_since_the_walk_ends_the_transfer_with_its_name_at_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("here"), b"12345").unwrap();
        // The engine asks for both and waits for them: the missing one must end the stream,
        // not leave the engine waiting for its data.
        let asked = vec![
            request(PacketType::PacketReq, 0),
            request(PacketType::PacketReq, 1),
        ];
        let sent = transfer(dir.path(), &["gone", "here"], asked).await;
        let error = sent
            .iter()
            .find_map(|p| p.as_ref().err())
            .unwrap_or_else(|| panic!("no error was sent: {sent:?}"));
        assert!(error.message().contains("gone"), "{error:?}");
    }
}
