//! The real-engine tier: every test that needs a Docker engine, in one binary with a runner
//! of its own (libtest-mimic, so `cargo test` filters and reports as usual).
//!
//! Why a runner of its own, and not one test binary per file as before:
//! - **Several tests at once.** The tests mostly wait on the engine, each in a workbook (and
//!   so an image scope) of its own, so on engines newer than 20.10 they run
//!   [`PARALLEL_TESTS`] at a time. Docker 20.10's BuildKit can panic on concurrent builds
//!   that share steps ("failed to get edge", moby/buildkit#2303): there, one at a time.
//!   A test that needs the engine to itself is marked `alone`: those run last, one at a
//!   time, once the others are done.
//! - **Clean-up once.** A temporary workbook's images are removed when the whole run ends
//!   (or when the disk runs low), not when its test does: on the containerd store, images
//!   and the build cache share their content (moby/moby#48700), and one test's clean-up
//!   made the next test rebuild what it had just built, or miss the cache a probe judges.
//! - **A failure among others is run again alone.** The engine's own races under four
//!   builds at once (moby/moby#48700; BuildKit's "failed to calculate checksum … context
//!   canceled") fail tests no learner's single check would; each test that fails in the run
//!   with the others runs again, alone, and fails the run only if it fails there too. Both
//!   runs' output stays in the log, and the tests that passed only alone are named.
//! - One binary links once.
//!
//! `cargo test -- --test-threads N` still chooses the number of tests at once.

#[path = "../common/mod.rs"]
mod common;

mod bad_input_matrix;
mod broken_input;
mod cache_probes;
mod cheats;
mod cheats_probes;
mod classroom;
mod context;
mod distroless;
mod dockerignore_engine;
mod endpoint;
mod hardening;
mod interrupts;
mod probes;
mod red_team;
mod result_cache;
mod secret_forms;
mod users;
mod verify;
mod watch_app;
mod workbook;

use libtest_mimic::{Arguments, Failed, Trial};

/// Tests at once on an engine newer than 20.10: enough to keep the engine busy while other
/// tests wait on containers and timeouts, few enough for a 2-core machine's builds.
const PARALLEL_TESTS: usize = 4;

/// Whether a test can share the engine with others.
#[derive(Clone, Copy, PartialEq)]
enum Turn {
    Shared,
    /// Runs with no other test: it changes what every test builds on.
    Alone,
}

/// The tests that failed while others ran beside them, to be run again alone.
static FAILED_BESIDE_OTHERS: std::sync::Mutex<Vec<&'static str>> =
    std::sync::Mutex::new(Vec::new());

fn trial(name: &'static str, turn: Turn, test: fn()) -> (Turn, Trial) {
    let trial = Trial::test(name, move || {
        let started = std::time::Instant::now();
        if let Err(panic) = std::panic::catch_unwind(test) {
            FAILED_BESIDE_OTHERS
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(name);
            std::panic::resume_unwind(panic);
        }
        // Where the suite's minutes go, for whoever makes it faster.
        let seconds = started.elapsed().as_secs();
        if seconds >= 20 {
            eprintln!("engine tests: {name} took {seconds} s");
        }
        Ok::<(), Failed>(())
    });
    (turn, trial)
}

/// `module { tests… } @alone { tests… }`: the trials, named `module::test`.
macro_rules! trials {
    ($($module:ident { $($test:ident),* $(,)? } $(@alone { $($alone:ident),* $(,)? })?)*) => {{
        vec![
            $(
                $(trial(
                    concat!(stringify!($module), "::", stringify!($test)),
                    Turn::Shared,
                    $module::$test,
                ),)*
                $($(trial(
                    concat!(stringify!($module), "::", stringify!($alone)),
                    Turn::Alone,
                    $module::$alone,
                ),)*)?
            )*
        ]
    }};
}

fn all_trials() -> Vec<(Turn, Trial)> {
    trials! {
        workbook {
            every_exercise_verifies_and_the_book_states_its_numbers,
            every_dockerfile_the_book_shows_builds,
        }
        bad_input_matrix { every_bad_input_gets_its_exit_code_and_message }
        broken_input {
            a_dockerfile_that_does_not_parse,
            a_run_step_that_fails_names_the_line_and_shows_its_log,
            a_missing_base_image_that_cannot_be_pulled,
            a_bad_dockerignore_names_its_line,
            an_app_that_never_exits_is_stopped_at_its_limit_and_removed,
            a_server_that_never_listens_times_out_and_is_removed,
            an_app_that_floods_its_output_is_judged_with_the_output_cut,
            a_check_never_modifies_the_learners_files,
        }
        cheats {
            a_dummy_stage_and_a_purged_toolchain_with_its_sources_elsewhere,
            a_jdk_with_javac_and_jmods_deleted,
            recommends_installed_and_their_files_deleted,
            a_messy_stage_flattened_onto_scratch,
            size_advice_names_the_base_to_start_from,
            size_advice_on_03_names_the_slim_base_not_the_jre,
            a_failing_run_on_11_names_the_undeclared_arg,
            the_distroless_program_on_scratch_builds_but_does_not_run,
        }
        cheats_probes {
            a_test_stage_that_greps_for_the_faulty_line_misses,
            a_hard_coded_base_misses_the_base_goal,
            a_hard_coded_version_misses_the_version_goal,
            an_app_failure_names_the_arg_the_stage_never_declared,
            a_secret_copied_into_a_stage_without_a_name_is_found_there,
            a_secret_in_an_env_of_the_final_stage_is_found_in_config_and_history,
        }
        cache_probes {
            a_download_behind_or_true_and_a_silent_build_miss_the_cache_goal,
            a_download_in_another_step_with_goflags_misses_the_cache_goal,
            the_module_cache_on_the_download_alone_names_the_step_that_lacks_it,
            a_download_in_exec_form_meets_the_cache_goal,
            dockers_go_guide_meets_the_cache_goal_and_leaves_no_cache_behind,
            cache_mounts_on_both_steps_meet_the_cache_goal,
            a_cache_other_builds_filled_does_not_pass_a_build_that_cannot_fetch,
            the_solution_meets_the_cache_mount_goal_and_go_proxy_off_misses_it,
            a_proxy_copied_under_another_name_misses_the_cache_mount_goal,
            a_proxy_in_an_archive_the_checker_cannot_empty_still_misses,
            a_proxy_mounted_without_a_module_cache_misses_the_cache_mount_goal,
        }
        // Alone: the other checkout's clean removes images whose content the build cache
        // shares on the containerd store (moby/moby#48700); builds of other tests that were
        // reusing it at that moment failed with "not found".
        @alone { another_checkouts_clean_during_a_probe_changes_no_verdict }
        classroom {
            junit_and_markdown_reports,
            grading_a_class_survives_broken_submissions_and_leaves_nothing_behind,
            grading_keeps_learners_apart_whatever_their_names,
            the_engine_is_reached_over_tcp_with_docker_host,
        }
        // Alone, as the cache probe's clean above: a `clean` beside other tests' builds (the
        // engine's "Error deleting lease … not found" at that moment) was followed by five
        // builds failing at `FROM debian:bookworm` with "not found", three tries each.
        @alone { two_checkouts_on_one_engine_keep_their_own_images }
        context {
            what_is_measured_is_what_the_engine_received,
            the_engine_asks_only_for_what_copy_names,
            a_named_pipe_in_the_context_is_named_and_nothing_hangs,
            a_context_of_a_hundred_thousand_small_files_is_sent_whole,
            a_file_rewritten_with_its_old_size_and_mtime_is_sent_again,
        }
        distroless { a_local_distroless_static_holds_what_the_real_one_holds }
        @alone { the_six_distroless_images_run_as_their_user_and_have_no_shell }
        dockerignore_engine { the_checker_sends_what_docker_itself_sends }
        endpoint {
            a_current_docker_context_chooses_the_engine_and_reports_name_it,
            an_unreachable_context_is_named_with_the_file_that_chose_it,
            a_broken_config_json_is_named,
        }
        hardening {
            reset_replaces_a_symlinked_dockerfile_and_never_writes_through_it,
            serve_refuses_symlinks_out_of_the_book,
            serve_does_not_freeze_on_a_fifo_and_decodes_paths,
            graph_of_dev_zero_fails_fast_naming_the_file,
            an_oversized_dockerfile_is_refused_with_its_name,
            a_dockerfile_of_100000_instructions_is_refused_before_an_engine_sees_it,
            one_broken_exercise_toml_spoils_only_itself,
            exercise_toml_refuses_port_zero_and_non_finite_sizes,
            a_damaged_progress_file_is_reported_and_set_aside_before_building,
            a_damaged_progress_file_costs_no_result,
        }
        interrupts {
            ctrl_c_during_an_app_run_removes_its_container_and_image_and_exits_130,
            ctrl_c_mid_build_leaves_no_image_and_exits_130,
            a_grading_timeout_removes_the_checks_container_and_image,
            a_failing_build_is_a_junit_error_and_the_next_exercise_is_still_checked,
            a_failing_build_is_a_json_error_and_the_next_exercise_is_still_checked,
            verify_junit_with_control_characters_in_the_build_log_is_valid_xml,
        }
        @alone { clean_right_after_a_killed_watch_removes_everything_without_a_warning }
        probes { each_probing_goal_catches_its_wrong_dockerfile }
        red_team {
            a_jdk_under_another_name_or_hidden_from_dpkg_ships,
            a_dummy_stage_and_the_app_compiled_in_the_final_stage,
            busybox_on_distroless_is_a_shell,
            a_passwd_uid_docker_reads_as_zero_is_root,
            a_setuid_root_program_is_root,
            the_typescript_compiler_elsewhere_ships,
            a_shell_that_prints_the_answer_is_no_app,
            a_padding_stage_is_no_parallel_build,
            tini_asked_for_is_no_recommend,
            a_typescript_service_in_another_folder_meets_every_goal,
        }
        result_cache {
            unchanged_inputs_reuse_the_result_and_any_change_checks_afresh,
            a_save_that_keeps_the_image_reuses_its_app_run_and_another_image_runs_again,
        }
        secret_forms {
            the_key_of_15_in_base64_in_data_is_found_in_the_image_and_its_stage,
            the_key_of_15_gzipped_is_found_inside_the_gzip,
            a_fingerprint_of_the_key_of_15_is_no_secret,
            the_token_of_08_in_an_env_is_found_in_config_and_history,
            the_token_of_08_printed_into_env_production_is_found_in_both_stages,
            the_token_of_08_as_od_hex_in_the_build_stage_is_found,
            an_env_file_without_the_token_and_a_deny_list_meet_no_secret,
            the_solutions_of_08_and_15_meet_their_secret_goals,
        }
        users {
            no_user_runs_as_root,
            root_by_name_and_by_number,
            a_user_set_only_in_an_earlier_stage,
            a_name_the_image_lacks,
            names_and_numbers_that_resolve,
        }
        verify {
            a_learners_check_reports_measured_against_target_and_the_biggest_layer,
            watch_rechecks_on_save_with_events_and_with_polling,
        }
        watch_app { watch_is_a_terminal_app_whose_keys_do_what_they_say }
    }
}

fn main() -> std::process::ExitCode {
    let mut args = Arguments::from_args();
    let (alone, shared): (Vec<_>, Vec<_>) = all_trials()
        .into_iter()
        .partition(|(turn, _)| *turn == Turn::Alone);
    let untag = |trials: Vec<(Turn, Trial)>| trials.into_iter().map(|(_, t)| t).collect();
    if !args.list {
        // Fails every test with how to start an engine when none answers, as before.
        let engine = common::engine_version();
        if args.test_threads.is_none() {
            args.test_threads = Some(match &engine {
                Some(version) if version.starts_with("20.") => 1,
                _ => PARALLEL_TESTS,
            });
        }
        eprintln!(
            "engine tests: Docker {} ({} at a time)",
            engine.as_deref().unwrap_or("(none answers)"),
            args.test_threads.unwrap_or(1)
        );
    }
    // The others together, then those that need the engine alone, one at a time: on the
    // containerd store a `clean` while another build reuses the same layers can make that
    // build fail ("not found", moby/moby#48700), so the test that does it on purpose runs
    // when no other test builds.
    let together = libtest_mimic::run(&args, untag(shared));
    // A test that failed beside others runs again, alone, before the alone ones: four
    // tests at once on the containerd store meet the engine's own races (an image removed
    // by one test takes build cache or a snapshot another relies on, moby/moby#48700;
    // BuildKit's "failed to calculate checksum … context canceled"), which no learner's
    // single check meets. What fails alone too fails the run; what passes alone is named.
    let failed: Vec<&str> = std::mem::take(
        &mut *FAILED_BESIDE_OTHERS
            .lock()
            .unwrap_or_else(|p| p.into_inner()),
    );
    let again = (together.has_failed() && !failed.is_empty()).then(|| {
        eprintln!(
            "engine tests: {} failed beside other tests; running them again, alone: {}",
            failed.len(),
            failed.join(", ")
        );
        let trials = all_trials()
            .into_iter()
            .filter(|(_, trial)| failed.contains(&trial.name()))
            .map(|(_, trial)| trial)
            .collect();
        libtest_mimic::run(
            &Arguments {
                test_threads: Some(1),
                filter: None,
                ..args.clone()
            },
            trials,
        )
    });
    let alone = libtest_mimic::run(
        &Arguments {
            test_threads: Some(1),
            ..args.clone()
        },
        untag(alone),
    );
    common::clean_up_temporary_workbooks();
    let together_failed = match &again {
        // Every failure was among those run again, and each passed alone.
        Some(again) => {
            let passed_alone = !again.has_failed()
                && again.num_passed as usize == failed.len()
                && together.num_failed as usize == failed.len();
            if passed_alone {
                eprintln!(
                    "engine tests: each passed alone (they failed beside other tests: {})",
                    failed.join(", ")
                );
            }
            !passed_alone
        }
        None => together.has_failed(),
    };
    if together_failed {
        std::process::ExitCode::FAILURE
    } else {
        alone.exit_code()
    }
}
