//! Phone identification from the request path and User-Agent; see
//! `deskprov::fuzzing::identify`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| deskprov::fuzzing::identify(data));
