//! The v2 XML parser on arbitrary bytes: it never panics, never exceeds its caps, and whatever
//! it accepts survives writing and parsing again unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    paydesk_shared::v2xml::check_round_trip(data);
});
