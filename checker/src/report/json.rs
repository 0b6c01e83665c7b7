//! The JSON report: a stable, documented schema (docs/json-schema.md). Fields are only ever
//! added; a breaking change bumps the `schema` string.

use serde::Serialize;

use super::{Exporter, RunInfo};
use crate::check::{CheckResult, Checked, CouldNotCheck, VerifyResult};

pub const CHECK_SCHEMA: &str = "workbook-checker/check/v1";
pub const VERIFY_SCHEMA: &str = "workbook-checker/verify/v1";

pub struct Json;

#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    schema: &'static str,
    #[serde(flatten)]
    info: &'a RunInfo,
    all_met: bool,
    results: &'a [T],
}

/// The check report: the exercises checked in `results`, those that could not be in
/// `errors` (each in the order named).
#[derive(Serialize)]
struct CheckDocument<'a> {
    #[serde(flatten)]
    document: Document<'a, &'a CheckResult>,
    errors: Vec<&'a CouldNotCheck>,
}

impl Exporter for Json {
    fn check(&self, info: &RunInfo, outcomes: &[Checked]) -> String {
        let results: Vec<&CheckResult> = outcomes.iter().flatten().collect();
        let errors: Vec<&CouldNotCheck> =
            outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
        to_string(&CheckDocument {
            document: Document {
                schema: CHECK_SCHEMA,
                info,
                all_met: errors.is_empty() && results.iter().all(|r| r.all_met()),
                results: &results,
            },
            errors,
        })
    }

    fn verify(&self, info: &RunInfo, results: &[VerifyResult]) -> String {
        let all_met = results.iter().all(VerifyResult::ok);
        to_string(&Document {
            schema: VERIFY_SCHEMA,
            info,
            all_met,
            results,
        })
    }
}

fn to_string<T: Serialize>(value: &T) -> String {
    // Serializing plain data structs cannot fail.
    serde_json::to_string_pretty(value).expect("report serializes") + "\n"
}
