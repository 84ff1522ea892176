//! ID allocation without a counter.
//!
//! An ID is `milliseconds since 2026-01-01 (41 bits) | random (6 bits) | offset (6 bits)`: at most
//! 2^53 - 1, increasing with creation time (to the millisecond) until 2095. One write reserves one
//! block of 64 IDs (same millisecond and random bits, every offset) and proves in its own
//! transaction that it is the block's only holder, by creating an item under the block's base
//! with `attribute_not_exists`: a new end user's record (its ID is the base), or for UIDs added to
//! an existing end user the block's guard item. The last random bit keeps the two kinds apart
//! (even for new end users, odd for guarded blocks), so each kind is proven against its own
//! kind. A collision (1 in 32 for two writes of one kind and tenant in the same millisecond)
//! fails that condition and the write is retried with a fresh block. No counter item, no extra
//! round trip, and a create writes no guard.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const EPOCH_MS: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const RANDOM_BITS: u32 = 6;
const OFFSET_BITS: u32 = 6;
const TIME_BITS: u32 = 41;

/// IDs one block hands out after its base (offsets 1..=63).
pub const IDS_PER_BLOCK: usize = (1 << OFFSET_BITS) - 1;

/// The last base this process handed out, so one process never collides with itself.
static LAST_BASE: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
pub struct IdBlock {
    base: u64,
    used: u64,
}

impl IdBlock {
    /// A block whose base becomes a new end user's ID: that record proves the block.
    pub fn for_new_end_user() -> Self {
        Self::reserve(0)
    }

    /// A block for UIDs added to an existing end user: its guard item proves it.
    pub fn for_existing_end_user() -> Self {
        Self::reserve(1)
    }

    /// A block whose last random bit is `kind`, after every block this process handed out.
    fn reserve(kind: u64) -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        // Clamped so a wrong clock still yields positive IDs within 53 bits.
        let elapsed = now_ms
            .saturating_sub(EPOCH_MS)
            .clamp(1, (1 << TIME_BITS) - 1);
        let random = (fastrand::u64(0..(1 << (RANDOM_BITS - 1))) << 1) | kind;
        let candidate = (elapsed << (RANDOM_BITS + OFFSET_BITS)) | (random << OFFSET_BITS);
        // The first base of this kind after `last`.
        let after = |last: u64| {
            let next = last + (1 << OFFSET_BITS);
            if (next >> OFFSET_BITS) & 1 == kind {
                next
            } else {
                next + (1 << OFFSET_BITS)
            }
        };
        let previous = LAST_BASE
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                Some(candidate.max(after(last)))
            })
            .unwrap_or(0);
        IdBlock {
            base: candidate.max(after(previous)),
            used: 0,
        }
    }

    /// Whether the block needs its guard item to prove it (see the module's notes).
    pub fn needs_guard(&self) -> bool {
        (self.base >> OFFSET_BITS) & 1 == 1
    }

    /// The block's own ID (offset 0): a new end user's ID, or the guard's key.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The next unused ID of the block; `None` once all 63 are taken.
    pub fn next_id(&mut self) -> Option<u64> {
        if self.used as usize >= IDS_PER_BLOCK {
            return None;
        }
        self.used += 1;
        Some(self.base + self.used)
    }

    /// Whether any ID besides the base was handed out.
    pub fn is_used(&self) -> bool {
        self.used > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MAX_ID;

    #[test]
    fn blocks_hold_63_ids_after_their_base() {
        let mut block = IdBlock::for_existing_end_user();
        assert_eq!(block.base() % 64, 0);
        let ids: Vec<u64> = std::iter::from_fn(|| block.next_id()).collect();
        assert_eq!(ids.len(), IDS_PER_BLOCK);
        assert_eq!(ids.first(), Some(&(block.base() + 1)));
        assert_eq!(ids.last(), Some(&(block.base() + 63)));
        assert!(ids.iter().all(|id| *id <= MAX_ID));
    }

    #[test]
    fn one_process_never_reuses_a_block_and_blocks_increase() {
        let blocks: Vec<IdBlock> = (0..2000)
            .map(|n| match n % 3 {
                0 => IdBlock::for_new_end_user(),
                _ => IdBlock::for_existing_end_user(),
            })
            .collect();
        assert!(
            blocks.windows(2).all(|w| w[1].base() > w[0].base()),
            "bases not increasing"
        );
        for (n, block) in blocks.iter().enumerate() {
            assert_eq!(
                block.needs_guard(),
                n % 3 != 0,
                "block {n} of the wrong kind"
            );
        }
    }

    #[test]
    fn ids_carry_the_creation_time() {
        let base = IdBlock::for_new_end_user().base();
        let ms = (base >> 12) + EPOCH_MS;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        assert!(now_ms.abs_diff(ms) < 60_000, "{ms} vs {now_ms}");
    }
}
