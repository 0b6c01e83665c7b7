//! What this run made on the engine and has neither removed nor kept yet: containers (from
//! the moment their creation is asked, under the name the checker gives them) and images
//! being built (with the image their tag pointed at before).
//!
//! A check can stop anywhere: `grade --timeout` drops its future, Ctrl-C drops the whole run.
//! Clean-up therefore never depends on the interrupted code running on: every entry is
//! written before the engine is asked to make the thing, its [`Pending`] guard undoes it
//! when dropped unsettled (on a task of its own), and [`undo_everything`] undoes whatever is
//! still listed before the process exits.
//!
//! The ledger knows no engine: each entry keeps the [`Undo`] of the engine that made it (the
//! bollard engine's, or the fake one's in tests), so the same bookkeeping, and the same waits
//! between builds and undoings, serve both.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use tokio_util::task::TaskTracker;

/// How the engine that made something takes it back, when the ledger undoes an entry.
#[async_trait::async_trait]
pub trait Undo: Send + Sync {
    /// Removes the container named `name`, whatever its state; failing to is no error.
    async fn remove_container(&self, name: &str);
    /// Puts `tag` back where it pointed before an unfinished build (`before`; None: nowhere),
    /// the image that build made removed.
    async fn restore_tag(&self, tag: &str, before: Option<&str>);
}

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
    undo: Arc<dyn Undo>,
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
            // (Built only for an image: a `CountedUndo` made and dropped would uncount one
            // that was never counted.)
            let counted = match entry.made {
                Made::Image { .. } => {
                    IMAGE_UNDOS.send_modify(|n| *n += 1);
                    Some(CountedUndo)
                }
                Made::Container { .. } => None,
            };
            LEDGER.undoing.spawn_on(
                async move {
                    undo(&entry).await;
                    entries().remove(&id);
                    drop(counted);
                },
                &runtime,
            );
        }
    }
}

/// One undoing of an unfinished build counted in [`IMAGE_UNDOS`], uncounted when dropped:
/// also when its task never finishes (its runtime shut down first), or every later build
/// would wait for it for ever.
struct CountedUndo;

impl Drop for CountedUndo {
    fn drop(&mut self) {
        IMAGE_UNDOS.send_modify(|n| *n -= 1);
    }
}

/// How many undoings of unfinished builds dropped guards have started and not finished.
static IMAGE_UNDOS: LazyLock<tokio::sync::watch::Sender<usize>> =
    LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// Waits until no undoing of an unfinished build is running: such an undoing removes what
/// its tag points at, which would be the next build's image if that build came first.
pub(in crate::docker) async fn images_undone() {
    let mut undos = IMAGE_UNDOS.subscribe();
    // The sender lives in a static: the channel never closes.
    let _ = undos.wait_for(|n| *n == 0).await;
}

fn record(undo: &Arc<dyn Undo>, made: Made) -> Pending {
    let id = LEDGER.next.fetch_add(1, Ordering::Relaxed);
    entries().insert(
        id,
        Entry {
            undo: undo.clone(),
            made,
        },
    );
    Pending { id }
}

/// Records a container about to be created under `name`, which `undo` removes if need be.
pub(in crate::docker) fn container(undo: &Arc<dyn Undo>, name: &str) -> Pending {
    record(
        undo,
        Made::Container {
            name: name.to_string(),
        },
    )
}

/// Records a build about to (re)tag `tag`, which points at `before` now.
pub(in crate::docker) fn image(undo: &Arc<dyn Undo>, tag: &str, before: Option<String>) -> Pending {
    record(
        undo,
        Made::Image {
            tag: tag.to_string(),
            before,
        },
    )
}

/// `tag` was removed: nothing of its builds is left to undo.
pub(in crate::docker) fn image_removed(tag: &str) {
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
pub(in crate::docker) async fn remove_later(
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
pub(in crate::docker) async fn removals_done() {
    drop(REMOVING.write().await);
}

/// Held (shared) by every removal of an image a build replaced, running on its own (see
/// [`replacements_done`]).
static REPLACING: LazyLock<std::sync::Arc<tokio::sync::RwLock<()>>> =
    LazyLock::new(|| std::sync::Arc::new(tokio::sync::RwLock::new(())));

/// Runs `removal` of an image a build replaced on a task of its own, which the run waits
/// for before it exits (see [`wait_for_undoing`]).
pub(in crate::docker) async fn replace_later(
    removal: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let held = REPLACING.clone().read_owned().await;
    LEDGER.undoing.spawn(async move {
        removal.await;
        drop(held);
    });
}

/// Waits until no removal started by [`replace_later`] is running.
pub(in crate::docker) async fn replacements_done() {
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
        Made::Container { name } => entry.undo.remove_container(name).await,
        Made::Image { tag, before } => entry.undo.restore_tag(tag, before.as_deref()).await,
    }
}

#[cfg(test)]
mod counting {
    use super::*;

    struct Forgets;

    #[async_trait::async_trait]
    impl Undo for Forgets {
        async fn remove_container(&self, _: &str) {}
        async fn restore_tag(&self, _: &str, _: Option<&str>) {}
    }

    /// A container's guard dropped unsettled is undone without touching the count of
    /// unfinished builds' undoings: uncounting one that was never counted underflowed, and
    /// the checker panicked on every interrupted app run (a grading timeout, Ctrl-C).
    #[tokio::test]
    async fn a_containers_undoing_leaves_the_builds_count_alone() {
        let undo: Arc<dyn Undo> = Arc::new(Forgets);
        drop(container(&undo, "workbook-test-container"));
        wait_for_undoing().await;
        assert_eq!(*IMAGE_UNDOS.borrow(), 0);
        drop(image(&undo, "workbook-test/x:learner", None));
        images_undone().await;
        assert_eq!(*IMAGE_UNDOS.borrow(), 0);
    }
}
