//! libFuzzer target: any bytes as a spec (YAML and JSON) through load, check, compile and
//! diagnostic rendering, in a folder with hostile neighbours (see `aibc_fuzz::Scene`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    aibc_fuzz::exercise(aibc_fuzz::Scene::shared(), data);
});
