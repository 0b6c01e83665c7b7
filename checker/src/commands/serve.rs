//! `checker serve`: the built book on localhost together with the learner's live results.
//! Pages get a `<meta name="workbook-live">` tag on the way out, which tells the book's
//! status script that `/workbook-status.json` exists here; opened as plain files (or served
//! by anything else) the pages have no such tag, so they show no badge and ask for nothing.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};

use crate::error::CheckerError;
use crate::workbook::progress::{ExerciseState, ProgressFile};
use crate::workbook::Workbook;

pub const LIVE_META: &str = "<meta name=\"workbook-live\" content=\"/workbook-status.json\">";

/// Serves `book` on `addr` until the process ends.
pub async fn serve(
    workbook: Workbook,
    book: PathBuf,
    addr: SocketAddr,
) -> Result<(), CheckerError> {
    if !book.join("index.html").is_file() {
        return Err(CheckerError::Usage(format!(
            "{}: no built book here; run `mdbook build` first (or pass --book)",
            book.display()
        )));
    }
    // Every file served must resolve to somewhere under the book's real path.
    let book = book
        .canonicalize()
        .map_err(|e| CheckerError::io(&book, e))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| CheckerError::Listen {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| CheckerError::Listen {
            addr: addr.to_string(),
            source,
        })?;
    eprintln!("serving the book at http://{local}/ (Ctrl-C to stop)");
    serve_on(listener, workbook, book, Limits::default()).await
}

/// What one client may hold of the server. A browser opens a handful of connections; these
/// bounds are for what is not a browser: connections that never send a request, or so many
/// that the process runs out of file descriptors (then `accept` fails at once, again and
/// again, and the loop spun at 68 % of a core, logging each failure: 120 MB).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; the next waits in the kernel's backlog.
    pub connections: usize,
    /// How long a client has to send a request's headers, the first or the next.
    pub headers: std::time::Duration,
    /// How long one connection may stay open at all (a browser opens another).
    pub lifetime: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connections: 256,
            headers: std::time::Duration::from_secs(10),
            lifetime: std::time::Duration::from_secs(120),
        }
    }
}

/// Serves `book` on `listener` within `limits` until the process ends.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    workbook: Workbook,
    book: PathBuf,
    limits: Limits,
) -> Result<(), CheckerError> {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.connections));
    let mut failures = AcceptFailures::default();
    loop {
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore stays open");
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                failures.wait_after(&e).await;
                continue;
            }
        };
        failures.reset();
        let (workbook, book) = (workbook.clone(), book.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req| {
                let (workbook, book) = (workbook.clone(), book.clone());
                async move { Ok::<_, Infallible>(respond(workbook, book, req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.headers)
                .serve_connection(io, service);
            // Dropped at the end of its lifetime, idle or not.
            let _ = tokio::time::timeout(limits.lifetime, connection).await;
        });
    }
}

/// Failed accepts in a row: each waits longer (to a second) before the next try, and only
/// the first of a run, then one every 10 s, is logged.
#[derive(Default)]
struct AcceptFailures {
    in_a_row: u32,
    last_logged: Option<std::time::Instant>,
}

impl AcceptFailures {
    async fn wait_after(&mut self, error: &std::io::Error) {
        self.in_a_row += 1;
        let now = std::time::Instant::now();
        if self
            .last_logged
            .is_none_or(|at| now.duration_since(at) >= std::time::Duration::from_secs(10))
        {
            eprintln!(
                "warning: cannot accept a connection ({error}; {} in a row); retrying",
                self.in_a_row
            );
            self.last_logged = Some(now);
        }
        let millis = (10u64 << self.in_a_row.min(7)).min(1000);
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
    }

    fn reset(&mut self) {
        self.in_a_row = 0;
        self.last_logged = None;
    }
}

/// `checker serve`: the book, and (unless `no_watch`) `checker watch` beside it.
pub async fn serve_command(
    workbook: &Workbook,
    book: PathBuf,
    listen: SocketAddr,
    no_watch: bool,
    poll: bool,
) -> super::Outcome {
    let book = if book.is_absolute() {
        book
    } else {
        workbook.root.join(book)
    };
    let server = tokio::spawn(serve(workbook.clone(), book, listen));
    if no_watch {
        server.await??;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    // The server prints its address; watch's reports go below it, plainly.
    let first = workbook.next_exercise()?.ok_or(CheckerError::NoExercises)?;
    tokio::select! {
        served = server => served?.map(|_| std::process::ExitCode::SUCCESS),
        watched = super::watch::plain(workbook, first, poll, false) => watched,
    }
}

async fn respond(
    workbook: Workbook,
    book: PathBuf,
    req: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    // Files are read on the blocking pool, never on the runtime's few worker threads: a
    // slow disk (or anything that blocks) must not stall every other connection.
    if path == "/workbook-status.json" {
        let status = tokio::task::spawn_blocking(move || status_json(&workbook)).await;
        return match status {
            Ok(Ok(json)) => reply(StatusCode::OK, "application/json", json.into_bytes(), true),
            Ok(Err(e)) => reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                e.to_string().into_bytes(),
                true,
            ),
            Err(e) => reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                e.to_string().into_bytes(),
                true,
            ),
        };
    }
    let read = tokio::task::spawn_blocking(move || {
        let file = resolve(&book, &path)?;
        read_regular(&book, &file).map(|body| (file, body))
    })
    .await;
    match read {
        Ok(Some((file, mut body))) => {
            let kind = content_type(&file);
            if kind == "text/html" {
                body = inject_live_meta(&String::from_utf8_lossy(&body)).into_bytes();
            }
            reply(StatusCode::OK, kind, body, false)
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            b"not found".to_vec(),
            false,
        ),
    }
}

/// The content of `file` if it is a regular file whose real path is inside `book`: a
/// symlink out of the book, a FIFO (whose opening would block), a device or a socket is
/// `None` (see `learner_file`).
fn read_regular(book: &Path, file: &Path) -> Option<Vec<u8>> {
    // The book's largest files, mermaid.min.js and the search index, are a few MB.
    const MAX_SERVED_BYTES: u64 = 64 * 1024 * 1024;
    crate::learner_file::read_inside(book, file, MAX_SERVED_BYTES)
        .ok()
        .flatten()
}

fn reply(status: StatusCode, kind: &str, body: Vec<u8>, no_store: bool) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", kind);
    if no_store {
        builder = builder.header("cache-control", "no-store");
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

/// The file under `book` a URL path names, never outside it: each segment is
/// percent-decoded (browsers send `my%20page.html`) and then refused if it is `.` or `..`,
/// holds a slash or a backslash (`..%2f`), a NUL, or is not UTF-8. Symlinks are judged later,
/// by where they really lead.
fn resolve(book: &Path, url_path: &str) -> Option<PathBuf> {
    let mut file = book.to_path_buf();
    for part in url_path.split('/').filter(|p| !p.is_empty()) {
        let part = percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .ok()?;
        if part == ".." || part == "." || part.contains(['/', '\\', '\0']) {
            return None;
        }
        file.push(part.as_ref());
    }
    if file.is_dir() {
        file.push("index.html");
    }
    Some(file)
}

fn content_type(file: &Path) -> &'static str {
    match file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html",
        "js" => "text/javascript",
        "css" => "text/css",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        _ => "application/octet-stream",
    }
}

fn inject_live_meta(html: &str) -> String {
    match html.find("</head>") {
        Some(i) => format!("{}{LIVE_META}\n{}", &html[..i], &html[i..]),
        None => html.to_string(),
    }
}

/// Per exercise: done, goals met of total, when last checked — from the progress file, read
/// afresh on every request so a re-check by `watch` shows at once.
fn status_json(workbook: &Workbook) -> Result<String, CheckerError> {
    let progress = ProgressFile::load(&workbook.root)?;
    let mut exercises = serde_json::Map::new();
    // A broken exercise.toml leaves its page without a badge; `checker list` names it.
    for exercise in workbook.each_exercise()?.into_iter().flatten() {
        let p = progress
            .progress
            .exercises
            .get(&exercise.name)
            .cloned()
            .unwrap_or_default();
        exercises.insert(
            exercise.name.clone(),
            serde_json::json!({
                "done": p.state() == ExerciseState::Passing,
                "done_before": p.done,
                "goals_met": p.goals_met,
                "goals_total": if p.goals_total > 0 { p.goals_total } else { exercise.file.goals.len() },
                "checked": p.last_checked.is_some(),
                "last_checked": p.last_checked,
            }),
        );
    }
    Ok(serde_json::json!({ "exercises": exercises }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_book() {
        let book = Path::new("/srv/book");
        assert_eq!(
            resolve(book, "/exercises/01.html"),
            Some(PathBuf::from("/srv/book/exercises/01.html"))
        );
        assert_eq!(resolve(book, "/../etc/passwd"), None);
        assert_eq!(resolve(book, "/a/../../x"), None);
        assert_eq!(
            resolve(book, "/my%20page.html"),
            Some(PathBuf::from("/srv/book/my page.html"))
        );
        for bad in [
            "/%2e%2e/x",
            "/%2E%2E/x",
            "/a/..%2f..%2fx",
            "/a%5c..%5cx",
            "/a%00",
            "/%ff",
            "/./x",
        ] {
            assert_eq!(resolve(book, bad), None, "{bad}");
        }
    }

    /// Issue 21: idle connections never timed out, and there was no cap. With a cap of 4
    /// and a 1 s header timeout: 4 idle clients are dropped, and a real request after them
    /// is answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_clients_are_dropped_and_a_real_one_is_served() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (_folder, workbook) = crate::docker::fake::exercises::workbook_with(&[]);
        let book = tempfile::tempdir().unwrap();
        std::fs::write(
            book.path().join("index.html"),
            "<html><head></head>hi</html>",
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = Limits {
            connections: 4,
            headers: std::time::Duration::from_secs(1),
            lifetime: std::time::Duration::from_secs(30),
        };
        let book_path = book.path().canonicalize().unwrap();
        let server = tokio::spawn(serve_on(listener, workbook, book_path, limits));
        let mut idle = Vec::new();
        for _ in 0..4 {
            idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        let started = std::time::Instant::now();
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            client.read_to_end(&mut answer),
        );
        read.await
            .expect("answered once the idle ones are dropped")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(started.elapsed() >= std::time::Duration::from_millis(900));
        // The idle ones were closed by the server.
        for mut stream in idle {
            let mut byte = [0u8; 1];
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut byte))
                .await
                .expect("closed, not left open");
            assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
        }
        server.abort();
    }

    #[test]
    fn the_live_marker_goes_into_the_head() {
        let html = inject_live_meta("<html><head><title>x</title></head><body></body></html>");
        assert!(html.contains(&format!("{LIVE_META}\n</head>")), "{html}");
        assert_eq!(inject_live_meta("no head"), "no head");
    }
}
