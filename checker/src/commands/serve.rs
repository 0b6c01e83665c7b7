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
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("warning: accept failed: {e}");
                continue;
            }
        };
        let (workbook, book) = (workbook.clone(), book.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let (workbook, book) = (workbook.clone(), book.clone());
                async move { Ok::<_, Infallible>(respond(workbook, book, req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
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

/// The content of `file` if it is a regular file whose real path is inside `book` (which
/// is canonical). A symlink out of the book, a FIFO, a device or a socket is `None`: the
/// type is checked before opening, as opening a FIFO blocks until a writer comes, and again
/// on the opened file, in case the path was swapped in between.
fn read_regular(book: &Path, file: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let real = file.canonicalize().ok()?;
    if !real.starts_with(book) || !std::fs::metadata(&real).ok()?.is_file() {
        return None;
    }
    let mut opened = std::fs::File::open(&real).ok()?;
    let meta = opened.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut body = Vec::with_capacity(meta.len() as usize);
    opened.read_to_end(&mut body).ok()?;
    Some(body)
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

    #[test]
    fn the_live_marker_goes_into_the_head() {
        let html = inject_live_meta("<html><head><title>x</title></head><body></body></html>");
        assert!(html.contains(&format!("{LIVE_META}\n</head>")), "{html}");
        assert_eq!(inject_live_meta("no head"), "no head");
    }
}
