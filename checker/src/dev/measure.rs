//! `checker measure`: build every starter and solution and write (or compare) the numbers
//! the book prints, `src/measurements.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::numbers::*;
use crate::commands::images::RUNTIME_BASES;
use crate::commands::Outcome;
use crate::error::CheckerError;
use crate::workbook::Workbook;

pub async fn measure(
    workbook: &Workbook,
    write: Option<PathBuf>,
    compare: Option<PathBuf>,
) -> Outcome {
    let engine = crate::commands::connect()
        .await?
        .with_size_cache(&workbook.root);
    let mut fresh = measure_all(&engine, workbook).await?;
    // Pull times come from `checker pulls`, which needs a second engine, and the classroom
    // figures from `bench/classroom.sh`, which grades a synthetic class: keep both.
    if let Some(old) = write.as_ref().and_then(|p| MeasuredResults::load(p).ok()) {
        fresh.classroom = old.classroom;
        for (name, e) in fresh.exercises.iter_mut() {
            if let Some(o) = old.exercises.get(name) {
                e.starter.pull_seconds = o.starter.pull_seconds;
                e.solution.pull_seconds = o.solution.pull_seconds;
            }
        }
    }
    let text = serde_json::to_string_pretty(&fresh).expect("measurements serialize") + "\n";
    if let Some(committed) = compare {
        let old = MeasuredResults::load(&committed)?;
        let drift = old.drift(&fresh, 0.10);
        for d in &drift {
            println!("drifted: {d}");
        }
        if drift.is_empty() {
            println!("every committed size and count is within 10 % of a fresh measurement, every start time within a factor of two");
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "regenerate with `checker measure --output {}`",
            MEASUREMENTS_FILE
        );
        return Ok(ExitCode::from(1));
    }
    match write {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| CheckerError::io(&path, e))?;
            println!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `checker measure`: builds every exercise's starter and solution and records the numbers
/// the book prints.
pub async fn measure_all(
    engine: &dyn crate::docker::api::EngineApi,
    workbook: &Workbook,
) -> Result<MeasuredResults, CheckerError> {
    use crate::workbook::exercise::Variant;
    let mut results = MeasuredResults::new(engine.describe().await);
    // The committed file says which engine and store measured it, not which socket.
    results.engine_info = engine.info().await.ok().map(|i| i.without_endpoint());
    for base in [
        "debian:bookworm",
        "debian:bookworm-slim",
        "gcr.io/distroless/static-debian12",
        "gcr.io/distroless/base-debian12",
        "gcr.io/distroless/cc-debian12",
    ] {
        if engine.image_exists(base).await? {
            results
                .bases
                .insert(base.to_string(), engine.inspect(base).await?.size);
        }
    }
    let cache = crate::workbook::result_cache::ResultCache::in_workbook(&workbook.root);
    for exercise in workbook.exercises()? {
        let mut numbers = Vec::new();
        for variant in [Variant::Starter, Variant::Solution] {
            let mut progress = crate::ui::TerminalProgress::new(&format!(
                "{} ({})",
                exercise.name,
                variant.as_str()
            ));
            // A check with the same inputs (a `verify` just before) gives its stored result.
            let result = crate::check::check_stored(
                engine,
                &exercise,
                variant,
                &mut progress,
                &cache,
                false,
            )
            .await?;
            drop(progress);
            let files = count_files(engine, &result.image).await?;
            let layer_sizes = engine
                .layers(&result.image)
                .await?
                .iter()
                .map(|l| l.size)
                .collect();
            let mut variant_numbers = VariantNumbers::from_check(&result, files, layer_sizes);
            if let Some(first) = variant_numbers.start_seconds {
                variant_numbers.start_seconds =
                    Some(fastest_start(engine, &exercise, &result, first).await?);
            }
            numbers.push(variant_numbers);
        }
        let solution = numbers.pop().expect("two variants");
        let starter = numbers.pop().expect("two variants");
        results.exercises.insert(
            exercise.name.clone(),
            ExerciseNumbers {
                title: exercise.title().to_string(),
                starter,
                solution,
            },
        );
    }
    results.runtime_bases = measure_runtime_bases(engine, workbook).await?;
    Ok(results)
}

/// The runtime-base chapter's comparison: exercise 14's build stage as its solution has it,
/// then a final stage of only `FROM <base>`, the binary and its ENTRYPOINT, for each of
/// `RUNTIME_BASES`. Each image runs as its base's default user and is removed once measured.
async fn measure_runtime_bases(
    engine: &dyn crate::docker::api::EngineApi,
    workbook: &Workbook,
) -> Result<Vec<RuntimeBase>, CheckerError> {
    use crate::workbook::exercise::Variant;
    let exercise = workbook.exercise(RUNTIME_BASE_EXERCISE)?;
    let file = exercise.dockerfile_path(Variant::Solution);
    let solution = crate::docker::dockerfile::read_dockerfile(&exercise.dir, &file)?;
    let build_stage = build_stages(&solution).ok_or_else(|| {
        CheckerError::Usage(format!(
            "{}: expected a build stage before the final FROM",
            file.display()
        ))
    })?;
    let labels = crate::build::labels(&exercise, Variant::Solution);
    let probe_paths: Vec<String> = SHELL_PATHS
        .iter()
        .chain(PACKAGE_MANAGER_PATHS.iter())
        .map(|p| p.to_string())
        .collect();
    let mut rows = Vec::new();
    for base in RUNTIME_BASES {
        let dockerfile = format!(
            "{build_stage}FROM {base}\nCOPY --from=build /worldclock /worldclock\nENTRYPOINT [\"/worldclock\"]\n"
        );
        let slug: String = base
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let plan = crate::build::Plan {
            replacements: std::collections::BTreeMap::from([(
                Variant::Solution.dockerfile().to_string(),
                dockerfile.into_bytes(),
            )]),
            tag_suffix: Some(format!("on-{slug}")),
            ..Default::default()
        };
        let mut progress =
            crate::ui::TerminalProgress::new(&format!("{} on {base}", exercise.name));
        let built =
            crate::build::build_plan(engine, &exercise, Variant::Solution, &plan, &mut progress)
                .await?;
        drop(progress);
        let tag = plan.tag(&exercise.image_tag(Variant::Solution));
        let measured = measure_one_base(engine, &exercise, &tag, &labels, &probe_paths, base).await;
        // Measured or not, the image is not kept: only its numbers are.
        engine.remove_image(&tag).await?;
        built.image.settle();
        rows.push(measured?);
    }
    Ok(rows)
}

async fn measure_one_base(
    engine: &dyn crate::docker::api::EngineApi,
    exercise: &crate::workbook::exercise::Exercise,
    tag: &str,
    labels: &std::collections::BTreeMap<String, String>,
    probe_paths: &[String],
    base: &str,
) -> Result<RuntimeBase, CheckerError> {
    let size = engine.inspect(tag).await?.size;
    let files = count_files(engine, tag).await?;
    let (_, present) = engine.inspect_files(tag, labels, probe_paths).await?;
    let found = |paths: &[&str]| {
        paths
            .iter()
            .filter(|p| present.get(**p).copied().unwrap_or(false))
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
    };
    let apps = crate::goals::run_apps(engine, &exercise.file.goals, tag, labels).await?;
    let (runs, missing) = match apps.values().next() {
        Some(crate::facts::AppOutcome::Exited {
            exit_code, stdout, ..
        }) => (*exit_code == 0, RuntimeBase::missing_in(stdout)),
        _ => (false, vec![]),
    };
    Ok(RuntimeBase {
        base: base.to_string(),
        size,
        files,
        shell: found(&SHELL_PATHS),
        package_manager: found(&PACKAGE_MANAGER_PATHS),
        runs,
        missing,
    })
}

/// Every line of a Dockerfile before its last `FROM`: the stages the final one copies from.
fn build_stages(dockerfile: &str) -> Option<String> {
    let lines: Vec<&str> = dockerfile.lines().collect();
    let last_from = lines
        .iter()
        .rposition(|l| l.trim_start().to_ascii_uppercase().starts_with("FROM "))?;
    (last_from > 0).then(|| lines[..last_from].join("\n") + "\n")
}

/// How many times the app is started for the start time the book prints: one start on a
/// busy engine can take seconds (the engine sets up the container's network and mounts).
const STARTS: usize = 5;

/// The fastest of `STARTS` start times of the checked image's app, `first` (the check's own)
/// among them. Load on the machine (a build beside it, another test) only ever adds time, so
/// the fastest start is the figure two machines of the same kind agree on; a median of five
/// still moved from 0.40 s to 0.90 s for the JVM when two builds ran beside it.
async fn fastest_start(
    engine: &dyn crate::docker::api::EngineApi,
    exercise: &crate::workbook::exercise::Exercise,
    result: &crate::check::CheckResult,
    first: f64,
) -> Result<f64, CheckerError> {
    let labels = crate::build::labels(exercise, result.variant);
    let mut times = vec![first];
    for _ in 1..STARTS {
        let apps =
            crate::goals::run_apps(engine, &exercise.file.goals, &result.image, &labels).await?;
        times.extend(super::numbers::start_seconds(&apps));
    }
    Ok(fastest(&times))
}

fn fastest(times: &[f64]) -> f64 {
    times.iter().copied().fold(f64::INFINITY, f64::min)
}

async fn count_files(
    engine: &dyn crate::docker::api::EngineApi,
    image: &str,
) -> Result<usize, CheckerError> {
    use crate::docker::contents::{contents_of, Entry};
    use crate::docker::waste;
    let contents = contents_of(engine, image).await?;
    let changes = waste::changes(&contents.layers, Entry::change);
    Ok(waste::visible_files(&changes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_build_stages_are_everything_before_the_last_from() {
        assert_eq!(
            super::build_stages("FROM a AS build\nRUN x\n# final\nfrom scratch\nCOPY y /\n")
                .as_deref(),
            Some("FROM a AS build\nRUN x\n# final\n")
        );
        assert_eq!(super::build_stages("FROM scratch\nCOPY y /\n"), None);
    }

    #[test]
    fn the_fastest_start_ignores_slow_ones() {
        assert_eq!(super::fastest(&[0.34, 0.35, 2.56, 0.33, 0.36]), 0.33);
        assert_eq!(super::fastest(&[0.4]), 0.4);
    }
}
