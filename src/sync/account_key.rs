//! One 64-bit number per account: the first 64 bits of the SHA-256 of its accountId. The sync keys group
//! memberships by it and the inventory names JiraUsers after it, so that a map over 100,000 accounts holds 8
//! bytes per account where an accountId would take a string of its own. Two accounts of one site sharing a key is
//! out of reach (about 3e-10 at 100,000 accounts).

use sha2::{Digest, Sha256};

/// The key of `account_id`.
pub fn account_key(account_id: &str) -> u64 {
    let hash = Sha256::digest(account_id.as_bytes());
    u64::from_be_bytes(hash[..8].try_into().expect("a SHA-256 hash has 32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_hashs_first_eight_bytes() {
        // SHA-256("abc") = ba7816bf8f01cfea...
        assert_eq!(account_key("abc"), 0xba78_16bf_8f01_cfea);
        assert_ne!(account_key("557058:a"), account_key("557058:b"));
    }
}
