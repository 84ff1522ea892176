//! The duplicate candidates of one end user at 1,000 and at 100,000 end users of its tenant on
//! the embedded table, beside a read of the same end user by ID (one record), alternated, medians
//! of 31 runs each. The probe shares a number with one end user, its e-mail (tags aside) with two
//! and its name and company with five, at both sizes: the work is its own keys' partitions, not
//! the tenant. The DynamoDB calls are 1 + its keys at any size (`tests/tests/call_budget.rs`).

use std::time::Instant;

use answerpal::domain::TenantId;
use answerpal::domain::end_user::EndUser;
use answerpal::service::{duplicates, end_users};
use answerpal::store::memory::MemoryTable;

use crate::paging::median;

const RUNS: usize = 31;
/// The probe's ID: past every other.
const PROBE: u64 = 1 << 40;

fn end_user(id: u64, name: &str, company: &str, uids: serde_json::Value) -> EndUser {
    serde_json::from_value(serde_json::json!({
        "endUserID": id, "name": name, "company": company, "customerType": "Lead", "uids": uids,
        "createdAt": "2026-11-22T10:15:30Z", "updatedAt": "2026-11-22T10:15:30Z", "version": 1
    }))
    .expect("an end user")
}

fn uid(id: u64, uid_type: &str, value: &str) -> serde_json::Value {
    serde_json::json!({"endUserUIDID": id, "uidType": uid_type, "uid": value, "isPrimary": false})
}

/// `n` end users of tenant 1 as a create writes them, each with its own e-mail at one of 100
/// company domains and a name of its own at Acme, then the probe's eight likely duplicates and
/// the probe.
async fn seeded(n: u64) -> MemoryTable {
    let table = MemoryTable::new();
    let store = |user: EndUser| {
        let table = &table;
        async move { answerpal_testkit::store_new_end_user(table, &user).await }
    };
    for i in 1..=n {
        let email = format!("person{i}@company{}.example", i % 100);
        let uids = serde_json::json!([uid(i * 64 + 1, "Email", &email)]);
        store(end_user(i * 64, &format!("Person {i}"), "Acme", uids)).await;
    }
    let base = (n + 1) * 64;
    let phone = serde_json::json!([uid(base + 1, "WhatsApp", "+32470123456")]);
    store(end_user(base, "Someone", "Other", phone)).await;
    for k in 1..=2 {
        let tagged = format!("pat+{k}@shop.example");
        let uids = serde_json::json!([uid(base + 64 * k + 1, "Email", &tagged)]);
        store(end_user(base + 64 * k, "Anyone", "Other", uids)).await;
    }
    for k in 3..=7 {
        store(end_user(
            base + 64 * k,
            "Pat Doe",
            "ACME",
            serde_json::json!([]),
        ))
        .await;
    }
    let own = serde_json::json!([
        uid(PROBE + 1, "Phone", "+32470123456"),
        uid(PROBE + 2, "Email", "pat@shop.example")
    ]);
    store(end_user(PROBE, "Pat Doe", "Acme", own)).await;
    table
}

/// Prints the median time of the candidates and of a read by ID at each size.
pub async fn candidate_figures() {
    let tenant = TenantId::new(1).expect("tenant 1");
    println!(
        "Duplicate candidates of one end user on the embedded table (medians of {RUNS}, alternated):"
    );
    let mut at_sizes = Vec::new();
    for n in [1_000, 100_000] {
        let table = seeded(n).await;
        let (mut listed, mut read) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let started = Instant::now();
            let found = duplicates::candidates(&table, tenant, PROBE)
                .await
                .expect("the candidates");
            listed.push(started.elapsed());
            assert_eq!(found.items.len(), 8, "the probe's eight");
            let started = Instant::now();
            end_users::get(&table, tenant, PROBE)
                .await
                .expect("the probe");
            read.push(started.elapsed());
        }
        let (listed, read) = (median(listed), median(read));
        println!(
            "  {n:>7} end users: candidates {listed:7.3} ms, read by ID {read:7.3} ms ({:.1}x)",
            listed / read
        );
        at_sizes.push(listed);
    }
    println!(
        "  candidates at 100,000 / at 1,000: {:.2}x",
        at_sizes[1] / at_sizes[0]
    );
}
