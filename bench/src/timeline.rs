//! A page of 10 of one end user's timeline at 10 and at 10,000 entries on the embedded table:
//! the first page, the last (by the cursor past all but its last 5 entries) and a page of one kind,
//! beside a read of the same end user by ID, alternated, medians of 31 runs each. The DynamoDB
//! calls are 2 a page at any history (`tests/tests/call_budget.rs`).

use std::time::Instant;

use answerpal::domain::TenantId;
use answerpal::domain::timeline::EntryKind;
use answerpal::service::end_users;
use answerpal::service::timeline::{self, After};
use answerpal::store::memory::MemoryTable;

use crate::paging::median;

const RUNS: usize = 31;
const PAGE: usize = 10;
const PERSON: u64 = 1000;

/// Tenant 1's end user 1000 with `n` entries: its e-mail linked, then `n - 1` external events.
async fn seeded(n: usize) -> MemoryTable {
    let table = MemoryTable::new();
    let user = serde_json::from_value(serde_json::json!({
        "endUserID": PERSON, "name": "Pat Doe", "customerType": "Lead",
        "uids": [{"endUserUIDID": 1001, "uidType": "Email", "uid": "pat@example.com", "isPrimary": true}],
        "createdAt": "2026-11-22T10:15:30Z", "updatedAt": "2026-11-22T10:15:30Z", "version": 1
    }))
    .expect("an end user");
    answerpal_testkit::store_new_end_user(&table, &user).await;
    let tenant = TenantId::new(1).expect("tenant 1");
    for i in 1..n {
        let body = serde_json::json!({"type": "order.placed", "message": format!("Order {i}"),
            "initiatedBy": "webshop", "occurredAt": format!("2026-{:02}-{:02}T{:02}:{:02}:00Z",
                1 + i % 12, 1 + i % 28, i % 24, i % 60)});
        let body = body.as_object().cloned().expect("an object");
        timeline::record_external(&table, tenant, PERSON, &body, None)
            .await
            .expect("an event");
    }
    table
}

/// Where the page after the first `skip` entries starts.
async fn deep_start(table: &MemoryTable, skip: usize) -> Option<After> {
    let tenant = TenantId::new(1).expect("tenant 1");
    let mut after = None;
    let mut seen = 0;
    while seen < skip {
        let size = (skip - seen).min(100);
        let (entries, next) = timeline::page(table, tenant, PERSON, &[], size, after)
            .await
            .expect("a page");
        seen += entries.len();
        after = next;
        if after.is_none() {
            break;
        }
    }
    after
}

/// Prints the median time of each page and of a read by ID at each history.
pub async fn page_figures() {
    let tenant = TenantId::new(1).expect("tenant 1");
    println!(
        "A page of {PAGE} of one end user's timeline on the embedded table (medians of {RUNS}, alternated):"
    );
    let mut firsts = Vec::new();
    for n in [10, 10_000] {
        let table = seeded(n).await;
        let last = deep_start(&table, n - 5).await;
        let external = [EntryKind::External];
        let cases: [(&str, &[EntryKind], Option<After>); 3] = [
            ("first page", &[], None),
            ("last page", &[], last),
            ("kinds=external", &external, None),
        ];
        let mut times = vec![Vec::new(); cases.len() + 1];
        for _ in 0..RUNS {
            for (i, (_, kinds, after)) in cases.iter().enumerate() {
                let started = Instant::now();
                let (entries, _) = timeline::page(&table, tenant, PERSON, kinds, PAGE, *after)
                    .await
                    .expect("a page");
                times[i].push(started.elapsed());
                assert!(!entries.is_empty() && entries.len() <= PAGE);
            }
            let started = Instant::now();
            end_users::get(&table, tenant, PERSON)
                .await
                .expect("the end user");
            times[cases.len()].push(started.elapsed());
        }
        let medians: Vec<f64> = times.into_iter().map(median).collect();
        let read = medians[cases.len()];
        for (i, (name, _, _)) in cases.iter().enumerate() {
            println!(
                "  {n:>6} entries, {name:<15} {:7.3} ms ({:.1}x a read by ID, {read:.3} ms)",
                medians[i],
                medians[i] / read
            );
        }
        firsts.push(medians[0]);
    }
    println!(
        "  first page at 10,000 / at 10 entries: {:.2}x",
        firsts[1] / firsts[0]
    );
}
