//! Random ids in the live service's format, UUID v4 (`6f0c2d8e-…`): call ids of made calls, agent
//! and action ids, and the `request_id` of error bodies. The bytes come from the operating system
//! (`getrandom`, already in the tree through `rand` and `tempfile`); the format is RFC 9562's:
//! version 4 in the high nibble of byte 6, variant `10` in the top bits of byte 8, lowercase hex
//! in 8-4-4-4-12 groups. Written here rather than with the `uuid` crate: six lines instead of a
//! package in the first command's build (issue 29, item 7).

/// A UUID v4 from 16 random bytes (what `uuid::Builder::from_random_bytes` writes).
pub fn uuid_v4_from(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A fresh random UUID v4.
pub fn new_uuid() -> String {
    let mut b = [0u8; 16];
    // The OS random source does not fail on a supported Linux; a zeroed id is still unique
    // enough for a mock if it ever did (the counter makes it so).
    if getrandom::fill(&mut b).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(1);
        b[..8].copy_from_slice(&N.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    uuid_v4_from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_a_version_4_rfc_uuid() {
        assert_eq!(
            uuid_v4_from([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_eq!(
            uuid_v4_from([0; 16]),
            "00000000-0000-4000-8000-000000000000"
        );
        let a = new_uuid();
        assert_eq!(a.len(), 36);
        assert_ne!(a, new_uuid());
        assert_eq!(&a[14..15], "4");
    }
}
