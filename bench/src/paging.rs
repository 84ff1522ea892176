//! A page of the end-user list at 1,000 and at 100,000 end users of one tenant on the embedded
//! table: by cursor (one query that stops at the page) against by page number (the whole list
//! index read to count and sort), alternated, medians of 15 runs each. The DynamoDB calls of a
//! cursor page are 2 at any size (`tests/tests/call_budget.rs` counts them).

use std::time::{Duration, Instant};

use answerpal::domain::TenantId;
use answerpal::domain::end_user::EndUser;
use answerpal::domain::page::{PageRequest, SortOrder};
use answerpal::service::end_users;
use answerpal::store::memory::MemoryTable;

const RUNS: usize = 15;

/// `n` end users of tenant 1 written as a create writes them (a few UIDs' worth of fields).
async fn seeded(n: u64) -> MemoryTable {
    let table = MemoryTable::new();
    for id in 1..=n {
        let user: EndUser = serde_json::from_value(serde_json::json!({
            "endUserID": id * 64, "firstname": format!("user {id}"), "customerType": "Lead",
            "uids": [{"endUserUIDID": id * 64 + 1, "uidType": "Email",
                      "uid": format!("user{id}@example.com"), "isPrimary": true}],
            "createdAt": "2026-11-22T10:15:30Z", "updatedAt": "2026-11-22T10:15:30Z", "version": 1
        }))
        .expect("an end user");
        answerpal_testkit::store_new_end_user(&table, &user).await;
    }
    table
}

/// The median of `times`, in milliseconds.
pub fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e3
}

/// Prints the median time of a cursor page and of a numbered page at each size.
pub async fn cursor_page_figures() {
    let tenant = TenantId::new(1).expect("tenant 1");
    println!("End-user list, a page of 25 on the embedded table (medians of {RUNS}, alternated):");
    for n in [1_000, 100_000] {
        let table = seeded(n).await;
        let deep = Some(n / 2 * 64);
        let query = answerpal::domain::end_user::ListQuery {
            page: PageRequest {
                number: 2,
                size: 25,
            },
            sort_by: answerpal::domain::end_user::SORT_FIELDS[0].1,
            order: SortOrder::Asc,
            search: None,
            attributes: Vec::new(),
            consent: None,
        };
        let (mut by_cursor, mut by_number) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let started = Instant::now();
            let (page, _) = end_users::list_after(&table, tenant, 25, SortOrder::Asc, deep)
                .await
                .expect("a cursor page");
            by_cursor.push(started.elapsed());
            assert_eq!(page.len(), 25);
            let started = Instant::now();
            let page = end_users::list(&table, tenant, &query)
                .await
                .expect("a page");
            by_number.push(started.elapsed());
            assert_eq!(page.items.len(), 25);
        }
        let (cursor, number) = (median(by_cursor), median(by_number));
        println!(
            "  {n:>7} end users: by cursor {cursor:8.3} ms, by page number {number:9.3} ms ({:.0}x)",
            number / cursor
        );
    }
}
