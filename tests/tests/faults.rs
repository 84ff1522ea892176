//! Fault injection at the storage port: every write operation, with each of its store calls
//! failing, failing after it applied, or never answering, leaves the whole change or none of it,
//! and answers 503 (or the change's success when the fault came after it was decided).

use std::sync::Arc;
use std::time::Duration;

use answerpal::domain::TenantId;
use answerpal::domain::uid::{Uid, UidType};
use answerpal::store::Table;
use answerpal::store::memory::MemoryTable;
use answerpal_testkit::{Fault, FaultyTable, TestApi, assert_consistent, fresh_dynamo_table};
use serde_json::json;

/// Long enough for a healthy call on moto, short enough to keep the run quick.
const DEADLINE: Duration = Duration::from_millis(1500);

#[derive(Clone, Copy, Debug)]
enum Operation {
    Create,
    Update,
    Assign,
    Delete,
}

fn uid(uid_type: UidType, value: &str) -> Uid {
    Uid::parse(uid_type, value, None).expect("a valid UID")
}

/// Every value the scenarios use.
fn values() -> Vec<Uid> {
    vec![
        uid(UidType::Email, "held@example.com"),
        uid(UidType::Phone, "+32470000001"),
        uid(UidType::Email, "new@example.com"),
        uid(UidType::Phone, "+32470000002"),
        uid(UidType::Email, "added@example.com"),
    ]
}

const REFS: [&str; 3] = ["R-1", "R-2", "R-3"];

/// Runs `operation` on end user `id` through `api`: its request and the success it expects.
async fn run(api: &TestApi, operation: Operation, id: u64) -> (u16, u16) {
    let path = format!("/api/EndUsers/{id}");
    match operation {
        Operation::Create => {
            let body = json!({"customerRef": "R-2", "uids": [
                {"uidType": "Email", "uid": "new@example.com"},
                {"uidType": "Phone", "uid": "+32470000002"}]});
            (api.post("/api/EndUsers", 1, body).await.status, 201)
        }
        Operation::Update => {
            let body = json!({"firstname": "Changed", "customerRef": "R-3", "uids": [
                {"uidType": "Phone", "uid": "+32470000001", "markAsDeleted": true},
                {"uidType": "Email", "uid": "added@example.com"}]});
            (api.put(&path, 1, body).await.status, 200)
        }
        Operation::Assign => {
            let body = json!({"uid": "added@example.com", "endUserID": id, "uidType": "Email"});
            (
                api.post("/api/EndUserUIDs/assign", 1, body).await.status,
                201,
            )
        }
        Operation::Delete => (api.delete(&path, 1).await.status, 204),
    }
}

/// The end users' UID values and customerRef, as a comparable summary.
fn holdings(
    user: &answerpal::domain::end_user::EndUser,
) -> (Vec<String>, Option<String>, Option<String>) {
    let mut uids: Vec<String> = user.uids.iter().map(|u| u.uid.clone()).collect();
    uids.sort();
    (uids, user.customer_ref.clone(), user.firstname.clone())
}

async fn every_write_is_whole_or_nothing_under_faults<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Table>>,
{
    let tenant = TenantId::new(1).expect("tenant");
    let mut scenarios = 0;
    for operation in [
        Operation::Create,
        Operation::Update,
        Operation::Assign,
        Operation::Delete,
    ] {
        for fault in [Fault::Fail, Fault::FailAfterApplying, Fault::Hang] {
            for at in 0.. {
                let table = make().await;
                let setup = TestApi::with_table(table.clone(), Duration::from_secs(10));
                let holder = setup
                    .create(
                        1,
                        json!({"firstname": "Jane", "customerRef": "R-1", "uids": [
                        {"uidType": "Email", "uid": "held@example.com"},
                        {"uidType": "Phone", "uid": "+32470000001"}]}),
                    )
                    .await;
                let id = holder["endUserID"].as_u64().expect("id");
                let before =
                    assert_consistent(table.as_ref(), tenant, &[id], &values(), &REFS).await;

                let faulty = Arc::new(FaultyTable::new(table.clone(), at, fault));
                let api = TestApi::with_table(faulty.clone(), DEADLINE);
                let (status, success) = run(&api, operation, id).await;
                let reached = faulty.calls() > at;
                let case = format!("{operation:?} with {fault:?} at call {at}: {status}");
                assert!(status == success || (reached && status == 503), "{case}");

                // Whatever was written is consistent, and is all of the change or none of it.
                let created = setup
                    .get("/api/EndUsers/byUid?uid=new@example.com", 1)
                    .await;
                let mut users = vec![id];
                users.extend(created.body["endUserID"].as_u64());
                let after =
                    assert_consistent(table.as_ref(), tenant, &users, &values(), &REFS).await;
                match operation {
                    Operation::Create => {
                        let new: Vec<_> = after.values().filter(|u| u.id != id).collect();
                        let whole = new.len() == 1
                            && holdings(new[0])
                                == (
                                    vec!["+32470000002".into(), "new@example.com".into()],
                                    Some("R-2".into()),
                                    None,
                                );
                        assert!(new.is_empty() || whole, "{case}: {new:?}");
                    }
                    Operation::Update | Operation::Assign | Operation::Delete => {
                        let was = before.get(&id).map(holdings);
                        let now = after.get(&id).map(holdings);
                        let changed = match operation {
                            Operation::Update => Some((
                                vec!["added@example.com".into(), "held@example.com".into()],
                                Some("R-3".into()),
                                Some("Changed".into()),
                            )),
                            Operation::Assign => Some((
                                vec![
                                    "+32470000001".into(),
                                    "added@example.com".into(),
                                    "held@example.com".into(),
                                ],
                                Some("R-1".into()),
                                Some("Jane".into()),
                            )),
                            _ => None,
                        };
                        assert!(now == was || now == changed, "{case}: {now:?}");
                    }
                }
                scenarios += 1;
                if !reached {
                    // The operation made fewer calls than `at`: every call has had its fault.
                    break;
                }
            }
        }
    }
    assert!(scenarios >= 24, "only {scenarios} scenarios ran");
}

async fn memory() -> Arc<dyn Table> {
    Arc::new(MemoryTable::new())
}

async fn dynamodb() -> Arc<dyn Table> {
    Arc::new(fresh_dynamo_table().await.0)
}

#[tokio::test]
async fn embedded_writes_are_whole_or_nothing_under_faults() {
    every_write_is_whole_or_nothing_under_faults(memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_writes_are_whole_or_nothing_under_faults() {
    every_write_is_whole_or_nothing_under_faults(dynamodb).await;
}

/// A webhook under each fault at each of its store calls answers success or 5xx (so the provider
/// retries) and records the whole message or nothing of it; the provider's retry then records it
/// exactly once.
async fn webhooks_record_all_or_nothing_under_faults<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Table>>,
{
    let mut scenarios = 0;
    for fault in [Fault::Fail, Fault::FailAfterApplying, Fault::Hang] {
        for at in 0.. {
            let table = make().await;
            let setup = TestApi::with_table(table.clone(), Duration::from_secs(10));
            setup
                .put(
                    "/api/Customers/me",
                    1,
                    json!({"webhookSigningSecret": "faults"}),
                )
                .await;
            let channel = json!({"channelType": "Email", "address": "desk@example.com"});
            setup.put("/api/Customers/channels/1", 1, channel).await;
            let message = json!({"from": {"email": "fault@example.com"}, "messageID": "f-1",
                "textBody": "Does this arrive once?"});

            let faulty = Arc::new(FaultyTable::new(table.clone(), at, fault));
            let api = TestApi::with_table(faulty.clone(), DEADLINE);
            let status = api
                .signed_webhook("email", 1, 1, &message, "faults")
                .await
                .status;
            let reached = faulty.calls() > at;
            let case = format!("webhook with {fault:?} at call {at}: {status}");
            assert!(status == 200 || (reached && status == 503), "{case}");

            let sender = setup
                .get("/api/EndUsers/byUid?uid=fault@example.com", 1)
                .await;
            if sender.status == 200 {
                let id = sender.body["endUserID"].as_u64().expect("id");
                let tickets = setup
                    .get(&format!("/api/EndUsers/{id}/tickets"), 1)
                    .await
                    .body;
                assert_eq!(tickets["items"][0]["messageCount"], 1, "{case}: {tickets}");
            } else {
                assert_eq!(sender.status, 404, "{case}");
            }
            // The provider retries: the message is there once.
            let retried = setup
                .signed_webhook("email", 1, 1, &message, "faults")
                .await;
            assert_eq!(retried.status, 200, "{case}");
            let ticket = retried.body["ticketID"].as_u64().expect("ticketID");
            let read = setup.get(&format!("/api/Tickets/{ticket}"), 1).await.body;
            assert_eq!(read["messageCount"], 1, "{case}: {read}");
            scenarios += 1;
            if !reached {
                break;
            }
        }
    }
    assert!(scenarios >= 9, "only {scenarios} scenarios ran");
}

#[tokio::test]
async fn embedded_webhooks_record_all_or_nothing_under_faults() {
    webhooks_record_all_or_nothing_under_faults(memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_webhooks_record_all_or_nothing_under_faults() {
    webhooks_record_all_or_nothing_under_faults(dynamodb).await;
}

/// A keyed create under each fault at each of its store calls, then its retry with the same key
/// on a healthy store: the retry answers 201 with the one end user the two made, never a 409 on
/// its own values (a create cut off after it applied replays its response). A retry while the
/// cut-off request's key is still held is told so (409 in flight) until its lease ends.
async fn a_keyed_create_cut_off_anywhere_is_created_once_by_its_retry<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Table>>,
{
    let body =
        json!({"customerRef": "R-9", "uids": [{"uidType": "Email", "uid": "once@example.com"}]});
    let headers = [("idempotency-key", "create-once")];
    let mut scenarios = 0;
    for fault in [Fault::Fail, Fault::FailAfterApplying, Fault::Hang] {
        for at in 0.. {
            let table = make().await;
            let faulty = Arc::new(FaultyTable::new(table.clone(), at, fault));
            let api = TestApi::with_table(faulty.clone(), DEADLINE);
            let first = api
                .with_headers("POST", "/api/EndUsers", 1, &headers, body.clone())
                .await;
            let reached = faulty.calls() > at;
            let case = format!("keyed create with {fault:?} at call {at}: {}", first.status);
            assert!(
                first.status == 201 || (reached && first.status == 503),
                "{case}"
            );

            let healthy = TestApi::with_table(table.clone(), Duration::from_secs(10));
            let mut retry = healthy
                .with_headers("POST", "/api/EndUsers", 1, &headers, body.clone())
                .await;
            if retry.status == 409 && retry.body["type"] == "/problems/idempotency-in-flight" {
                assert_eq!(
                    fault,
                    Fault::Hang,
                    "{case}: only a cut-off request holds its key"
                );
                tokio::time::sleep(DEADLINE + Duration::from_secs(2)).await;
                retry = healthy
                    .with_headers("POST", "/api/EndUsers", 1, &headers, body.clone())
                    .await;
            }
            assert_eq!(retry.status, 201, "{case}: the retry {:?}", retry.body);
            if first.status == 201 {
                assert_eq!(retry.body, first.body, "{case}");
            }
            let list = healthy.get("/api/EndUsers", 1).await;
            assert_eq!(list.body["totalCount"], 1, "{case}: {:?}", list.body);
            scenarios += 1;
            if !reached {
                break;
            }
        }
    }
    assert!(scenarios >= 6, "only {scenarios} scenarios ran");
}

#[tokio::test]
async fn embedded_keyed_creates_are_created_once_under_faults() {
    a_keyed_create_cut_off_anywhere_is_created_once_by_its_retry(memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_keyed_creates_are_created_once_under_faults() {
    a_keyed_create_cut_off_anywhere_is_created_once_by_its_retry(dynamodb).await;
}
