//! A scan of the whole table, for the suites that check what a copy of the table reveals
//! (nothing in the service scans).

use super::DynamoTable;
use crate::store::{Item, StoreError};

impl DynamoTable {
    /// Every item the table holds, scanned: what a copy of the table would reveal (for the
    /// suites that check erasure; nothing in the service scans).
    pub async fn snapshot(&self) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.name)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.failure(e))?;
            items.extend(output.items.into_iter().flatten().map(Item::from));
            match output.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(next) => start = Some(next),
                None => return Ok(items),
            }
        }
    }
}
