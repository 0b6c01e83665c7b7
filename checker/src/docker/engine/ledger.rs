//! What this run made on the engine and has neither removed nor kept yet: containers (from
//! the moment their creation is asked, under the name the checker gives them) and images
//! being built (with the image their tag pointed at before).
//!
//! A check can stop anywhere: `grade --timeout` drops its future, Ctrl-C drops the whole run.
//! Clean-up therefore never depends on the interrupted code running on: every entry is
//! written before the engine is asked to make the thing, its [`Pending`] guard undoes it
//! when dropped unsettled (on a task of its own), and [`undo_everything`] undoes whatever is
//! still listed before the process exits.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use bollard::query_parameters::{
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use bollard::Docker;
use tokio_util::task::TaskTracker;

/// One thing the run asked the engine to make.
#[derive(Clone)]
enum Made {
    Container {
        name: String,
    },
    /// An image being built under `tag`; `before` is what the tag pointed at until then.
    Image {
        tag: String,
        before: Option<String>,
    },
}

#[derive(Clone)]
struct Entry {
    docker: Docker,
    made: Made,
}

struct Ledger {
    entries: Mutex<BTreeMap<u64, Entry>>,
    next: AtomicU64,
    /// The undoing started by dropped guards, so the run can wait for it before it exits.
    undoing: TaskTracker,
}

static LEDGER: LazyLock<Ledger> = LazyLock::new(|| Ledger {
    entries: Mutex::new(BTreeMap::new()),
    next: AtomicU64::new(0),
    undoing: TaskTracker::new(),
});

fn entries() -> std::sync::MutexGuard<'static, BTreeMap<u64, Entry>> {
    // A panic while holding the lock leaves a map that is still whole.
    LEDGER
        .entries
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Undoes its entry when dropped before being settled: what was made is removed, a tag
/// moved by an unfinished build goes back where it was.
#[must_use = "dropping the guard undoes what it stands for"]
pub struct Pending {
    id: u64,
}

impl Pending {
    /// What the entry stands for is dealt with (removed already, or kept as the run's
    /// result): nothing to undo.
    pub fn settle(&self) {
        entries().remove(&self.id);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(entry) = entries().get(&self.id).cloned() else {
            return;
        };
        let id = self.id;
        // Outside a runtime there is nothing to run the undoing on; `undo_everything` still
        // finds the entry.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // Counted before the task starts: a build that waits for `images_undone` must
            // not read (or move) the tag while this undoing may still remove what it finds.
            let image = matches!(entry.made, Made::Image { .. });
            if image {
                IMAGE_UNDOS.send_modify(|n| *n += 1);
            }
            LEDGER.undoing.spawn_on(
                async move {
                    undo(&entry).await;
                    entries().remove(&id);
                    if image {
                        IMAGE_UNDOS.send_modify(|n| *n -= 1);
                    }
                },
                &runtime,
            );
        }
    }
}

/// How many undoings of unfinished builds dropped guards have started and not finished.
static IMAGE_UNDOS: LazyLock<tokio::sync::watch::Sender<usize>> =
    LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// Waits until no undoing of an unfinished build is running: such an undoing removes what
/// its tag points at, which would be the next build's image if that build came first.
pub(super) async fn images_undone() {
    let mut undos = IMAGE_UNDOS.subscribe();
    // The sender lives in a static: the channel never closes.
    let _ = undos.wait_for(|n| *n == 0).await;
}

fn record(docker: &Docker, made: Made) -> Pending {
    let id = LEDGER.next.fetch_add(1, Ordering::Relaxed);
    entries().insert(
        id,
        Entry {
            docker: docker.clone(),
            made,
        },
    );
    Pending { id }
}

/// Records a container about to be created under `name`.
pub(super) fn container(docker: &Docker, name: &str) -> Pending {
    record(
        docker,
        Made::Container {
            name: name.to_string(),
        },
    )
}

/// Records a build about to (re)tag `tag`, which points at `before` now.
pub(super) fn image(docker: &Docker, tag: &str, before: Option<String>) -> Pending {
    record(
        docker,
        Made::Image {
            tag: tag.to_string(),
            before,
        },
    )
}

/// `tag` was removed: nothing of its builds is left to undo.
pub(super) fn image_removed(tag: &str) {
    entries().retain(|_, e| !matches!(&e.made, Made::Image { tag: t, .. } if t == tag));
}

/// Held (shared) by every container removal running on its own: removing an image waits
/// for them (see [`removals_done`]), since the engine refuses to remove an image a container
/// of it is still made from.
static REMOVING: LazyLock<std::sync::Arc<tokio::sync::RwLock<()>>> =
    LazyLock::new(|| std::sync::Arc::new(tokio::sync::RwLock::new(())));

/// Runs `removal` (of what `pending` stands for) on a task of its own, then settles
/// `pending`: the caller has what it needs from the container and goes on, while the engine
/// takes its time removing it. The run waits for these tasks before it exits (see
/// [`wait_for_undoing`]); a run interrupted meanwhile still finds the entry and removes it.
pub(super) async fn remove_later(
    pending: Pending,
    removal: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let held = REMOVING.clone().read_owned().await;
    LEDGER.undoing.spawn(async move {
        removal.await;
        pending.settle();
        drop(held);
    });
}

/// Waits until no container removal started by [`remove_later`] is running.
pub(super) async fn removals_done() {
    drop(REMOVING.write().await);
}

/// Held (shared) by every removal of an image a build replaced, running on its own (see
/// [`replacements_done`]).
static REPLACING: LazyLock<std::sync::Arc<tokio::sync::RwLock<()>>> =
    LazyLock::new(|| std::sync::Arc::new(tokio::sync::RwLock::new(())));

/// Runs `removal` of an image a build replaced on a task of its own, which the run waits
/// for before it exits (see [`wait_for_undoing`]).
pub(super) async fn replace_later(removal: impl std::future::Future<Output = ()> + Send + 'static) {
    let held = REPLACING.clone().read_owned().await;
    LEDGER.undoing.spawn(async move {
        removal.await;
        drop(held);
    });
}

/// Waits until no removal started by [`replace_later`] is running.
pub(super) async fn replacements_done() {
    drop(REPLACING.write().await);
}

/// Waits for the undoing that dropped guards started (a grading timeout's, say).
pub async fn wait_for_undoing() {
    LEDGER.undoing.close();
    LEDGER.undoing.wait().await;
    LEDGER.undoing.reopen();
}

/// Undoes everything still listed, containers first (an image in use cannot be removed):
/// what an interrupted run calls before it exits. Returns how many things it undid.
pub async fn undo_everything() -> usize {
    let listed: Vec<(u64, Entry)> = entries().iter().map(|(k, v)| (*k, v.clone())).collect();
    let (containers, images): (Vec<_>, Vec<_>) = listed
        .into_iter()
        .partition(|(_, e)| matches!(e.made, Made::Container { .. }));
    let count = containers.len() + images.len();
    for batch in [containers, images] {
        futures_util::future::join_all(batch.iter().map(|(id, entry)| async move {
            undo(entry).await;
            entries().remove(id);
        }))
        .await;
    }
    wait_for_undoing().await;
    count
}

async fn undo(entry: &Entry) {
    match &entry.made {
        Made::Container { name } => remove_container(&entry.docker, name).await,
        Made::Image { tag, before } => restore_tag(&entry.docker, tag, before.as_deref()).await,
    }
}

/// Removes the container, whatever its state. Its creation may have been asked an instant
/// before the run was dropped and land after this first attempt: one more, a moment later.
async fn remove_container(docker: &Docker, name: &str) {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    for attempt in 0..2 {
        match docker.remove_container(name, Some(options.clone())).await {
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) if attempt == 0 => tokio::time::sleep(Duration::from_millis(500)).await,
            // Removed, already gone, or an engine that refuses: nothing more to try.
            _ => return,
        }
    }
}

/// Puts `tag` back where it pointed before an unfinished build: the image the build made
/// is removed (once the containers of it are gone), and the earlier image tagged again.
async fn restore_tag(docker: &Docker, tag: &str, before: Option<&str>) {
    let now = match docker.inspect_image(tag).await {
        Ok(info) => info.id,
        Err(_) => None,
    };
    if now.as_deref() == before {
        return;
    }
    if now.is_some() {
        let options = RemoveImageOptionsBuilder::default().force(false).build();
        // 409: a container of the image is still being removed (its own guard's undoing).
        for _ in 0..40 {
            match docker.remove_image(tag, Some(options.clone()), None).await {
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                }) => tokio::time::sleep(Duration::from_millis(250)).await,
                _ => break,
            }
        }
    }
    if let Some(before) = before {
        let (repo, version) = super::split_tag(tag);
        let options = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(version)
            .build();
        let _ = docker.tag_image(before, Some(options)).await;
    }
}
