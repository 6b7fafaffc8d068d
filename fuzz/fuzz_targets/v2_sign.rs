//! The v2 parameter signer on whatever the parser accepts: signing never panics, a signature
//! verifies under its own key and type, and not under another key or the other type.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    paydesk_shared::sign::params::check_sign_verify(data);
});
