//! HMAC-SHA256 (RFC 2104) over SHA-256's compression function, with the key prepared once.
//!
//! An HMAC is two hashes: the inner one of `key ^ ipad` then the message, the outer one of
//! `key ^ opad` then the inner digest. Both pad blocks depend only on the key, so [`MacKey`] keeps
//! the state after each; a MAC then costs the message's blocks plus one outer block. Done here
//! rather than through the `hmac` crate, whose per-call state copies and buffering cost more than
//! a compression on the short messages that are signed on every request (`shared/benches/`).

use sha2::block_api::compress256;

/// SHA-256's initial state (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A key made ready for HMAC-SHA256: the SHA-256 states after its inner and outer pad blocks.
/// Callers that check many MACs under one key (a merchant's API key, the edge's token key) keep
/// one of these instead of the raw key.
#[derive(Clone)]
pub struct MacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl MacKey {
    pub fn new(key: &[u8]) -> MacKey {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&super::sha256(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let pad = |byte: u8| {
            let mut state = IV;
            compress256(&mut state, &[k.map(|b| b ^ byte)]);
            state
        };
        MacKey {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// HMAC-SHA256 of `parts` concatenated.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len <= SHORT {
            return outer(self.outer, &self.inner_short(parts, len));
        }
        let mut h = Blocks::after_pad(self.inner);
        for p in parts {
            h.update(p);
        }
        outer(self.outer, &h.finish())
    }

    /// The inner hash of a message that fits, with its padding, in two blocks (a checkout
    /// token's, most requests' string to sign): laid out once on the stack and compressed in one
    /// call, where the streaming path copies each part into a block and compresses per block.
    fn inner_short(&self, parts: &[&[u8]], len: usize) -> [u8; 32] {
        let mut buf = [[0u8; 64]; 2];
        let flat = buf.as_flattened_mut();
        let mut at = 0;
        for p in parts {
            flat[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        flat[len] = 0x80;
        let blocks = if len < 56 { 1 } else { 2 };
        // The pad block and the message, in bits.
        flat[blocks * 64 - 8..blocks * 64].copy_from_slice(&((64 + len as u64) * 8).to_be_bytes());
        let mut state = self.inner;
        compress256(&mut state, &buf[..blocks]);
        digest(&state)
    }

    /// Checks `expected` against HMAC-SHA256 of `parts` in constant time.
    pub fn verify(&self, parts: &[&[u8]], expected: &[u8]) -> bool {
        super::ct_eq(&self.mac(parts), expected)
    }
}

/// The longest message whose padding (0x80 and the 8-byte length) still fits in two blocks.
const SHORT: usize = 128 - 9;

/// A SHA-256 in progress after one 64-byte pad block.
struct Blocks {
    state: [u32; 8],
    /// The block being filled, and room for the padding to spill into a second.
    buf: [[u8; 64]; 2],
    fill: usize,
    /// Bytes hashed, the pad block included.
    total: u64,
}

impl Blocks {
    fn after_pad(state: [u32; 8]) -> Blocks {
        Blocks {
            state,
            buf: [[0; 64]; 2],
            fill: 0,
            total: 64,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        while !data.is_empty() {
            let take = data.len().min(64 - self.fill);
            self.buf[0][self.fill..self.fill + take].copy_from_slice(&data[..take]);
            self.fill += take;
            data = &data[take..];
            if self.fill == 64 {
                compress256(&mut self.state, &self.buf[..1]);
                self.fill = 0;
            }
        }
    }

    /// The padding (0x80, zeros, the length in bits) and the last compression, in one call.
    fn finish(&mut self) -> [u8; 32] {
        let blocks = if self.fill < 56 { 1 } else { 2 };
        let flat = self.buf.as_flattened_mut();
        flat[self.fill] = 0x80;
        flat[self.fill + 1..blocks * 64 - 8].fill(0);
        flat[blocks * 64 - 8..blocks * 64].copy_from_slice(&(self.total * 8).to_be_bytes());
        compress256(&mut self.state, &self.buf[..blocks]);
        digest(&self.state)
    }
}

/// The outer hash: the outer pad's state, then the inner digest and its padding, one block.
fn outer(mut state: [u32; 8], inner: &[u8; 32]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(inner);
    block[32] = 0x80;
    // 64 bytes of pad and 32 of digest, in bits.
    block[62..].copy_from_slice(&768u16.to_be_bytes());
    compress256(&mut state, &[block]);
    digest(&state)
}

fn digest(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{KeyInit, Mac};
    use proptest::prelude::*;

    proptest! {
        /// Against the `hmac` crate, for every split of a message into parts and every key length
        /// (short, one block, longer than a block).
        #[test]
        fn agrees_with_the_reference(
            key in proptest::collection::vec(any::<u8>(), 0..150),
            msg in proptest::collection::vec(any::<u8>(), 0..1200),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..4),
        ) {
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(msg.len() + 1)).collect();
            at.sort_unstable();
            let mut parts = Vec::new();
            let mut from = 0;
            for c in at.into_iter().chain([msg.len()]) {
                parts.push(&msg[from..c]);
                from = c;
            }
            let mut reference = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
            reference.update(&msg);
            let want: [u8; 32] = reference.finalize().into_bytes().into();
            let k = MacKey::new(&key);
            prop_assert_eq!(k.mac(&parts), want);
            prop_assert!(k.verify(&parts, &want));
            let mut wrong = want;
            wrong[0] ^= 1;
            prop_assert!(!k.verify(&parts, &wrong));
        }
    }
}
