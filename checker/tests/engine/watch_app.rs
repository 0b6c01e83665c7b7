//! `checker watch` as a terminal app, driven in a real terminal (tmux): it checks at once,
//! shows the goals, answers h, l and ?, re-checks on save and says what changed, asks before
//! `r` resets, and `q` puts the terminal back as it was.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        let session = format!("checker-watch-{}", std::process::id());
        let mut new = Command::new("tmux");
        new.args(["new-session", "-d", "-s", &session, "-x", "110", "-y", "50"]);
        if let Ok(host) = std::env::var("DOCKER_HOST") {
            new.args(["-e", &format!("DOCKER_HOST={host}")]);
        }
        let status = new
            .arg(command)
            .status()
            .expect("tmux runs (the watch test drives a real terminal: apt-get install tmux)");
        assert!(status.success());
        Tmux { session }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        text(&out.stdout)
    }

    fn keys(&self, keys: &str) {
        Command::new("tmux")
            .args(["send-keys", "-t", &self.session, keys])
            .status()
            .unwrap();
    }

    /// Waits until the screen shows `needle`; the screen, or a panic with it.
    fn wait_for(&self, needle: &str, seconds: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("no {needle:?} on the screen after {seconds} s:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

pub(crate) fn watch_is_a_terminal_app_whose_keys_do_what_they_say() {
    require_engine();
    let dir = TempWorkbook::new();
    let exercise = dir.path().join("exercises/01-static-binary");
    copy_tree(
        &workbook_root().join("exercises/01-static-binary"),
        &exercise,
    );
    let checker = env!("CARGO_BIN_EXE_checker");
    let tmux = Tmux::start(&format!(
        "printf 'before the app\\n'; {checker} --root {} watch 01 --fresh; echo \"watch exited with $?\"; sleep 600",
        dir.path().display()
    ));
    let screen = tmux.wait_for("1 of 6 goals met", 600);
    assert!(
        screen.contains("checker watch · 01-static-binary"),
        "{screen}"
    );
    assert!(screen.contains("goals ██░░░░░░░░ 1/6 met"), "{screen}");
    assert!(screen.contains("✘ size"), "{screen}");
    assert!(screen.contains("h hint · l list"), "{screen}");
    assert!(
        !screen.contains("before the app"),
        "the app has a screen of its own"
    );

    tmux.keys("h");
    tmux.wait_for("Hint 1 of 3", 10);
    tmux.keys("h");
    tmux.wait_for("Hint 2 of 3", 10);
    tmux.keys("l");
    let screen = tmux.wait_for("next →   01-static-binary", 10);
    assert!(!screen.contains("Hint 2 of 3"), "{screen}");
    tmux.keys("?");
    tmux.wait_for("r  reset this exercise's Dockerfile", 10);
    tmux.keys("Escape");

    // The learner saves a fixed Dockerfile: a re-check, and what changed since.
    save_solution(&exercise);
    let screen = tmux.wait_for("All 6 goals met", 600);
    assert!(
        screen.contains("since the attempt before: size"),
        "{screen}"
    );
    assert!(screen.contains("now met:"), "{screen}");
    assert!(screen.contains("exercises ██████████ 1/1 done"), "{screen}");

    // r asks first; n keeps the file; y puts the starter back (keeping a backup), and the
    // save is checked again.
    tmux.keys("r");
    tmux.wait_for("Reset the Dockerfile to the starter?", 10);
    tmux.keys("n");
    tmux.wait_for("Not reset", 10);
    assert_ne!(
        std::fs::read(exercise.join("Dockerfile")).unwrap(),
        std::fs::read(exercise.join("starter/Dockerfile")).unwrap()
    );
    tmux.keys("r");
    tmux.wait_for("Reset the Dockerfile to the starter?", 10);
    tmux.keys("y");
    tmux.wait_for("is the starter again", 10);
    tmux.wait_for("1 of 6 goals met", 300);
    assert_eq!(
        std::fs::read(exercise.join("Dockerfile")).unwrap(),
        std::fs::read(exercise.join("starter/Dockerfile")).unwrap()
    );

    tmux.keys("q");
    let screen = tmux.wait_for("watch exited with 0", 30);
    assert!(
        screen.contains("before the app") && !screen.contains("checker watch ·"),
        "q leaves the terminal as it found it:\n{screen}"
    );
}
