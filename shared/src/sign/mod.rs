//! The signing schemes (`docs/architecture.md`, "Signing"): merchant request signatures, webhook
//! signatures, WeChat-Pay-v2 style parameter signatures, and checkout tokens. Every comparison of
//! a secret-derived value is constant-time (`Mac::verify_slice` or [`ct_eq`]).

mod mac_key;
pub mod params;
pub mod request;
pub mod token;
pub mod webhook;

pub use mac_key::MacKey;
use sha2::Sha256;

/// HMAC-SHA256 of `parts` concatenated, without building the concatenation.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    MacKey::new(key).mac(parts)
}

/// Checks `expected` (a received MAC) against HMAC-SHA256 of `parts` in constant time.
pub fn hmac_sha256_verify(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    MacKey::new(key).verify(parts, expected)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// SHA-256 of bytes that arrive in pieces (a streamed export's seal).
#[derive(Default, Clone)]
pub struct Sha256Stream(Sha256);

impl Sha256Stream {
    pub fn update(&mut self, piece: &[u8]) {
        sha2::Digest::update(&mut self.0, piece);
    }

    /// The digest so far, lowercase hex.
    pub fn hex(&self) -> String {
        hex_lower(&sha2::Digest::finalize(self.0.clone()))
    }
}

/// Constant-time equality for byte strings of public length.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // Keep the optimiser from turning the loop into an early exit.
    core::hint::black_box(diff) == 0
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

pub fn hex_lower(bytes: &[u8]) -> String {
    hex_with(bytes, HEX_LOWER)
}

pub fn hex_upper(bytes: &[u8]) -> String {
    hex_with(bytes, HEX_UPPER)
}

fn hex_with(bytes: &[u8], table: &[u8; 16]) -> String {
    // Into a byte buffer, then one ASCII check: on every signed request, so no per-char pushes.
    let mut out = vec![0u8; bytes.len() * 2];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = table[usize::from(b >> 4)];
        pair[1] = table[usize::from(b & 15)];
    }
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// Decodes exactly 64 lowercase hex digits into a MAC, without allocating (every signed request
/// does this). Anything else is not one of our signatures.
pub fn hex_decode_mac(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (o, p) in out.iter_mut().zip(b.chunks_exact(2)) {
        let (hi, e1) = nibble(p[0]);
        let (lo, e2) = nibble(p[1]);
        *o = hi << 4 | lo;
        bad |= e1 | e2;
    }
    (bad == 0).then_some(out)
}

/// A lowercase hex digit's value, and 1 if it was not one.
fn nibble(c: u8) -> (u8, u8) {
    match c {
        b'0'..=b'9' => (c - b'0', 0),
        b'a'..=b'f' => (c - b'a' + 10, 0),
        _ => (0, 1),
    }
}

/// Decodes lowercase hex only: a signature in another spelling is not ours.
pub fn hex_decode_lower(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = Vec::with_capacity(b.len() / 2);
    for p in b.chunks_exact(2) {
        out.push(nib(p[0])? << 4 | nib(p[1])?);
    }
    Some(out)
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 §5).
pub fn b64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(B64URL[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Strict base64url decoding without padding; refuses non-canonical trailing bits.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = vec![0u8; s.len() * 3 / 4];
    let n = b64url_decode_into(s, &mut out)?;
    out.truncate(n);
    Some(out)
}

/// [`b64url_decode`] into `out` (at least `s.len() * 3 / 4` bytes), returning how many bytes it
/// wrote: tokens are decoded on every pay page request, onto the stack.
pub fn b64url_decode_into(s: &str, out: &mut [u8]) -> Option<usize> {
    let b = s.as_bytes();
    let full = b.len() / 4;
    let (rest, need) = (b.len() % 4, b.len() * 3 / 4);
    if rest == 1 || out.len() < need {
        return None;
    }
    // Whole groups first, through a table and with one validity check per group: this is what
    // most of a token is, and the crate is built for size (opt-level "z"), so the loop is plain.
    let mut bad = 0u8;
    let mut wrong = 0u32;
    for (g, o) in b.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let n = B64URL_SHIFTED[0][g[0] as usize]
            | B64URL_SHIFTED[1][g[1] as usize]
            | B64URL_SHIFTED[2][g[2] as usize]
            | B64URL_SHIFTED[3][g[3] as usize];
        wrong |= n;
        o.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    if wrong & INVALID != 0 {
        return None;
    }
    if rest > 0 {
        let tail = &b[full * 4..];
        let mut n = 0u32;
        for (i, &c) in tail.iter().enumerate() {
            let v = B64URL_VALUE[c as usize];
            bad |= v & 0x80;
            n |= u32::from(v & 63) << (18 - 6 * i);
        }
        let keep = rest - 1;
        // Bits below the last kept byte must be zero, so each byte string has one encoding.
        if n & ((1u32 << (24 - 8 * keep)) - 1) != 0 {
            return None;
        }
        out[full * 3..need].copy_from_slice(&[(n >> 16) as u8, (n >> 8) as u8][..keep]);
    }
    (bad == 0).then_some(need)
}

/// A byte outside the alphabet, in [`B64URL_SHIFTED`].
const INVALID: u32 = 1 << 31;

/// Each byte's value in [`B64URL`] already shifted to its place in a group of four characters
/// (18, 12, 6 and 0 bits), or [`INVALID`]: a group is then four lookups OR-ed together.
const B64URL_SHIFTED: [[u32; 256]; 4] = {
    let mut t = [[INVALID; 256]; 4];
    let mut i = 0;
    while i < 64 {
        let mut at = 0;
        while at < 4 {
            t[at][B64URL[i] as usize] = (i as u32) << (18 - 6 * at);
            at += 1;
        }
        i += 1;
    }
    t
};

/// Each byte's value in [`B64URL`], or 0x80 for bytes outside the alphabet.
const B64URL_VALUE: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut i = 0;
    while i < 64 {
        t[B64URL[i] as usize] = i as u8;
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_streamed_digest_is_the_digest_of_the_whole() {
        let mut st = Sha256Stream::default();
        st.update(b"a");
        st.update(b"bc");
        assert_eq!(st.hex(), hex_lower(&sha256(b"abc")));
        assert_eq!(
            st.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (case 5 is a truncated MAC).
    #[test]
    fn hmac_sha256_matches_rfc4231() {
        let cases: [(Vec<u8>, Vec<u8>, &str); 6] = [
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 20],
                vec![0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            ),
            (
                (1..=25).collect(),
                vec![0xcd; 50],
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                vec![0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, data, want) in cases {
            let mac = hmac_sha256(&key, &[&data]);
            assert_eq!(hex_lower(&mac), want);
            assert!(hmac_sha256_verify(&key, &[&data], &mac));
            let mut wrong = mac;
            wrong[31] ^= 1;
            assert!(!hmac_sha256_verify(&key, &[&data], &wrong));
        }
    }

    #[test]
    fn base64url_known_values() {
        assert_eq!(b64url_encode(b""), "");
        assert_eq!(b64url_encode(b"f"), "Zg");
        assert_eq!(b64url_encode(b"fo"), "Zm8");
        assert_eq!(b64url_encode(b"foo"), "Zm9v");
        assert_eq!(b64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(b64url_decode("Zm8").unwrap(), b"fo");
        assert_eq!(b64url_decode("Zm9"), None, "non-canonical trailing bits");
        assert_eq!(b64url_decode("Z"), None);
        assert_eq!(
            b64url_decode("Zm8="),
            None,
            "padding is not part of the form"
        );
    }

    proptest! {
        #[test]
        fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(b64url_decode(&b64url_encode(&bytes)), Some(bytes));
        }

        #[test]
        fn base64url_decoding_reads_the_alphabet_and_nothing_else(s in "[A-Za-z0-9_+/=. -]{0,24}") {
            // The decoder's ranges against the alphabet itself, on valid and invalid text.
            let reference = |s: &str| -> Option<Vec<u8>> {
                let vals: Option<Vec<u32>> = s.bytes()
                    .map(|c| B64URL.iter().position(|&x| x == c).map(|p| p as u32))
                    .collect();
                let vals = vals?;
                if vals.len() % 4 == 1 {
                    return None;
                }
                let mut out = Vec::new();
                for chunk in vals.chunks(4) {
                    let n = chunk.iter().enumerate().fold(0u32, |n, (i, v)| n | v << (18 - 6 * i));
                    let keep = chunk.len() - 1;
                    if n & ((1u32 << (24 - 8 * keep)) - 1) != 0 {
                        return None;
                    }
                    out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8][..keep]);
                }
                Some(out)
            };
            prop_assert_eq!(b64url_decode(&s), reference(&s));
        }

        #[test]
        fn a_mac_decodes_as_any_lowercase_hex_does(s in "[0-9a-fA-Fg ]{62,66}") {
            let general = hex_decode_lower(&s).filter(|m| m.len() == 32);
            prop_assert_eq!(hex_decode_mac(&s).map(|m| m.to_vec()), general);
        }

        #[test]
        fn a_mac_in_lowercase_hex_decodes(bytes in any::<[u8; 32]>()) {
            prop_assert_eq!(hex_decode_mac(&hex_lower(&bytes)), Some(bytes));
        }

        #[test]
        fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(hex_decode_lower(&hex_lower(&bytes)), Some(bytes.clone()));
            prop_assert_eq!(hex_upper(&bytes), hex_lower(&bytes).to_uppercase());
        }
    }
}
