//! ID allocation without a counter.
//!
//! An ID is `milliseconds since 2026-01-01 (41 bits) | random (6 bits) | offset (6 bits)`: at most
//! 2^53 - 1, increasing with creation time (to the millisecond) until 2095. One write reserves one
//! block of 64 IDs (same millisecond and random bits, every offset) and proves it is the only
//! holder by creating the block's guard item with `attribute_not_exists` in the same transaction;
//! a collision (1 in 64 for two writes of one tenant in the same millisecond) fails that condition
//! and the write is retried with a fresh block. No counter item, no extra round trip.

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
    pub fn reserve() -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        // Clamped so a wrong clock still yields positive IDs within 53 bits.
        let elapsed = now_ms
            .saturating_sub(EPOCH_MS)
            .clamp(1, (1 << TIME_BITS) - 1);
        let random = fastrand::u64(0..(1 << RANDOM_BITS));
        let candidate = (elapsed << (RANDOM_BITS + OFFSET_BITS)) | (random << OFFSET_BITS);
        let previous = LAST_BASE
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                Some(candidate.max(last + (1 << OFFSET_BITS)))
            })
            .unwrap_or(0);
        IdBlock {
            base: candidate.max(previous + (1 << OFFSET_BITS)),
            used: 0,
        }
    }

    /// The block's own ID (offset 0): the guard's key, and a new end user's ID.
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
        let mut block = IdBlock::reserve();
        assert_eq!(block.base() % 64, 0);
        let ids: Vec<u64> = std::iter::from_fn(|| block.next_id()).collect();
        assert_eq!(ids.len(), IDS_PER_BLOCK);
        assert_eq!(ids.first(), Some(&(block.base() + 1)));
        assert_eq!(ids.last(), Some(&(block.base() + 63)));
        assert!(ids.iter().all(|id| *id <= MAX_ID));
    }

    #[test]
    fn one_process_never_reuses_a_block_and_blocks_increase() {
        let bases: Vec<u64> = (0..2000).map(|_| IdBlock::reserve().base()).collect();
        assert!(
            bases.windows(2).all(|w| w[1] > w[0]),
            "bases not increasing"
        );
    }

    #[test]
    fn ids_carry_the_creation_time() {
        let base = IdBlock::reserve().base();
        let ms = (base >> 12) + EPOCH_MS;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        assert!(now_ms.abs_diff(ms) < 60_000, "{ms} vs {now_ms}");
    }
}
