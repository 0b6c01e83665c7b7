//! The JSON report: a stable, documented schema (docs/json-schema.md). Fields are only ever
//! added; a breaking change bumps the `schema` string.

use serde::Serialize;

use super::{Exporter, RunInfo};
use crate::check::{CheckResult, VerifyResult};

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

impl Exporter for Json {
    fn check(&self, info: &RunInfo, results: &[CheckResult]) -> String {
        let all_met = results.iter().all(CheckResult::all_met);
        to_string(&Document {
            schema: CHECK_SCHEMA,
            info,
            all_met,
            results,
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
