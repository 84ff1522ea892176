//! Model-based tests: random sequences of create, update, assign, delete, byUid, inbound
//! messages (e-mail and SMS webhooks from the pool's addresses), ticket closes, merges, undos and
//! anonymizations across two tenants, each step's
//! answer predicted by a plain in-memory model, and after every step the
//! store checked against the model and its own invariants (every UID index item has its live
//! holder, every held value its index item, no value held twice in a tenant, byUid agrees with
//! GET). Run on the embedded table and, with fewer cases, on moto.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use answerpal::domain::TenantId;
use answerpal::domain::uid::{Uid, UidType};
use answerpal_testkit::{TestApi, assert_consistent};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// The UID values steps draw from: few, so that steps collide often.
const POOL: [(UidType, &str); 6] = [
    (UidType::Email, "a@example.com"),
    (UidType::Email, "b@example.com"),
    (UidType::Phone, "+32470000001"),
    (UidType::Phone, "+32470000002"),
    (UidType::External, "crm-1"),
    (UidType::External, "crm-2"),
];
const REFS: [&str; 2] = ["R-1", "R-2"];
const TENANTS: [u64; 2] = [1, 2];

#[derive(Clone, Debug)]
enum Step {
    Create {
        tenant: u64,
        uids: Vec<usize>,
        reference: Option<usize>,
    },
    Update {
        tenant: u64,
        pick: usize,
        remove: Option<usize>,
        add: Option<usize>,
        /// `Some(None)` clears the customerRef.
        reference: Option<Option<usize>>,
    },
    Assign {
        tenant: u64,
        pick: usize,
        uid: usize,
    },
    Delete {
        tenant: u64,
        pick: usize,
    },
    ByUid {
        tenant: u64,
        /// An index into the pool, then the customerRefs.
        value: usize,
    },
    /// A message from pool value `uid` (an e-mail address or a phone number) on its channel.
    Message {
        tenant: u64,
        uid: usize,
    },
    /// The desk closes the picked end user's open ticket on a channel, if it has one.
    Close {
        tenant: u64,
        pick: usize,
        channel: u64,
    },
    /// The picked source is merged into the picked target.
    Merge {
        tenant: u64,
        target: usize,
        source: usize,
    },
    /// The picked merge of the tenant (undone or not) is undone.
    Undo {
        tenant: u64,
        pick: usize,
    },
    Anonymize {
        tenant: u64,
        pick: usize,
    },
}

#[path = "model/lifecycle.rs"]
mod lifecycle;
#[path = "model/tickets.rs"]
mod tickets;

/// The pool values that send messages, and the channel each writes on: e-mail 1, SMS 2.
const SENDERS: [(usize, u64); 4] = [(0, 1), (1, 1), (2, 2), (3, 2)];
const SIGNING_SECRET: &str = "model-signing-secret";
const TWILIO_TOKEN: &str = "model-twilio-token";

fn step() -> impl Strategy<Value = Step> {
    let tenant = prop::sample::select(TENANTS.to_vec());
    let uid = 0..POOL.len();
    let reference = prop::option::of(0..REFS.len());
    prop_oneof![
        (
            tenant.clone(),
            prop::collection::btree_set(uid.clone(), 0..=2),
            reference.clone()
        )
            .prop_map(|(tenant, uids, reference)| Step::Create {
                tenant,
                uids: uids.into_iter().collect(),
                reference,
            }),
        (
            tenant.clone(),
            any::<usize>(),
            prop::option::of(uid.clone()),
            prop::option::of(uid.clone()),
            prop::option::of(reference)
        )
            .prop_map(|(tenant, pick, remove, add, reference)| Step::Update {
                tenant,
                pick,
                remove,
                // One value named twice in a body is a 400 of its own, tested elsewhere.
                add: add.filter(|a| Some(*a) != remove),
                reference,
            }),
        (tenant.clone(), any::<usize>(), uid.clone())
            .prop_map(|(tenant, pick, uid)| Step::Assign { tenant, pick, uid }),
        (tenant.clone(), any::<usize>()).prop_map(|(tenant, pick)| Step::Delete { tenant, pick }),
        (tenant.clone(), 0..POOL.len() + REFS.len())
            .prop_map(|(tenant, value)| Step::ByUid { tenant, value }),
        (tenant.clone(), 0..SENDERS.len()).prop_map(|(tenant, uid)| Step::Message { tenant, uid }),
        (tenant.clone(), any::<usize>(), 1..=2u64).prop_map(|(tenant, pick, channel)| {
            Step::Close {
                tenant,
                pick,
                channel,
            }
        }),
        (tenant.clone(), any::<usize>(), any::<usize>()).prop_map(|(tenant, target, source)| {
            Step::Merge {
                tenant,
                target,
                source,
            }
        }),
        (tenant.clone(), any::<usize>()).prop_map(|(tenant, pick)| Step::Undo { tenant, pick }),
        (tenant, any::<usize>()).prop_map(|(tenant, pick)| Step::Anonymize { tenant, pick }),
    ]
}

#[derive(Clone, Debug, Default, PartialEq)]
struct ModelUser {
    id: u64,
    uids: BTreeSet<usize>,
    reference: Option<usize>,
    /// The end users merged into it (their tickets list under it).
    merged_from: BTreeSet<u64>,
    anonymized: bool,
}

/// The end users of each tenant, in creation order, every ID a tenant ever had, and how many
/// messages each end user's open ticket on a channel holds.
#[derive(Default)]
struct Model {
    users: BTreeMap<u64, Vec<ModelUser>>,
    ever: BTreeMap<u64, Vec<u64>>,
    /// (tenant, end user, channel) -> messages of its open ticket there.
    open_tickets: BTreeMap<(u64, u64, u64), u64>,
    messages_sent: u64,
    /// The merges of each tenant, in order.
    merges: BTreeMap<u64, Vec<lifecycle::ModelMerge>>,
    /// (tenant, end user) no longer live -> the end user it was merged into, `None` when gone.
    gone: BTreeMap<(u64, u64), Option<u64>>,
}

impl Model {
    fn users(&self, tenant: u64) -> &[ModelUser] {
        self.users.get(&tenant).map_or(&[], Vec::as_slice)
    }

    /// The end user of `tenant` holding pool value `uid`, other than `except`.
    fn holder_of_uid(&self, tenant: u64, uid: usize, except: Option<u64>) -> Option<u64> {
        self.users(tenant)
            .iter()
            .find(|u| u.uids.contains(&uid) && Some(u.id) != except)
            .map(|u| u.id)
    }

    fn holder_of_ref(&self, tenant: u64, reference: usize, except: Option<u64>) -> Option<u64> {
        self.users(tenant)
            .iter()
            .find(|u| u.reference == Some(reference) && Some(u.id) != except)
            .map(|u| u.id)
    }

    fn picked(&self, tenant: u64, pick: usize) -> Option<ModelUser> {
        let users = self.users(tenant);
        (!users.is_empty()).then(|| users[pick % users.len()].clone())
    }

    /// How many open tickets on `channel` the tickets list of end user `id` shows: its own and
    /// those of the end users merged into it.
    fn open_listed(&self, tenant: u64, id: u64, channel: u64) -> usize {
        let merged = self.users(tenant).iter().find(|u| u.id == id);
        let owners = [id].into_iter().chain(
            merged
                .into_iter()
                .flat_map(|u| u.merged_from.iter().copied()),
        );
        owners
            .filter(|owner| self.open_tickets.contains_key(&(tenant, *owner, channel)))
            .count()
    }

    fn replace(&mut self, tenant: u64, user: ModelUser) {
        if let Some(slot) = self
            .users
            .entry(tenant)
            .or_default()
            .iter_mut()
            .find(|u| u.id == user.id)
        {
            *slot = user;
        }
    }
}

fn entry(uid: usize) -> Value {
    json!({"uidType": POOL[uid].0.as_str(), "uid": POOL[uid].1})
}

/// Applies `step` to the API and the model; fails when the API answers otherwise than the model
/// predicts.
async fn apply(api: &TestApi, model: &mut Model, step: &Step) {
    match step {
        Step::Create {
            tenant,
            uids,
            reference,
        } => {
            let mut body = json!({"uids": uids.iter().map(|u| entry(*u)).collect::<Vec<_>>()});
            if let Some(r) = reference {
                body["customerRef"] = json!(REFS[*r]);
            }
            let taken = uids
                .iter()
                .any(|u| model.holder_of_uid(*tenant, *u, None).is_some())
                || reference.is_some_and(|r| model.holder_of_ref(*tenant, r, None).is_some());
            let response = api.post("/api/EndUsers", *tenant, body).await;
            if taken {
                assert_eq!(response.status, 409, "{step:?}: {}", response.body);
                return;
            }
            assert_eq!(response.status, 201, "{step:?}: {}", response.body);
            let id = response.body["endUserID"].as_u64().expect("id");
            model.users.entry(*tenant).or_default().push(ModelUser {
                id,
                uids: uids.iter().copied().collect(),
                reference: *reference,
                ..ModelUser::default()
            });
            model.ever.entry(*tenant).or_default().push(id);
        }
        Step::Update {
            tenant,
            pick,
            remove,
            add,
            reference,
        } => {
            let Some(user) = model.picked(*tenant, *pick) else {
                return;
            };
            let mut entries = Vec::new();
            let mut next = user.clone();
            if let Some(r) = remove {
                let mut removal = entry(*r);
                removal["markAsDeleted"] = json!(true);
                entries.push(removal);
                next.uids.remove(r);
            }
            if let Some(a) = add {
                entries.push(entry(*a));
                next.uids.insert(*a);
            }
            let mut body = json!({"uids": entries});
            if let Some(change) = reference {
                body["customerRef"] = json!(change.map_or("", |r| REFS[r]));
                next.reference = *change;
            }
            let taken = add
                .is_some_and(|a| model.holder_of_uid(*tenant, a, Some(user.id)).is_some())
                || reference
                    .flatten()
                    .is_some_and(|r| model.holder_of_ref(*tenant, r, Some(user.id)).is_some());
            let response = api
                .put(&format!("/api/EndUsers/{}", user.id), *tenant, body)
                .await;
            if taken {
                assert_eq!(response.status, 409, "{step:?}: {}", response.body);
                return;
            }
            assert_eq!(response.status, 200, "{step:?}: {}", response.body);
            model.replace(*tenant, next);
        }
        Step::Assign { tenant, pick, uid } => {
            let Some(mut user) = model.picked(*tenant, *pick) else {
                return;
            };
            let body = json!({"uid": POOL[*uid].1, "uidType": POOL[*uid].0.as_str(), "endUserID": user.id});
            let response = api.post("/api/EndUserUIDs/assign", *tenant, body).await;
            let expected = if user.uids.contains(uid) {
                200
            } else if model.holder_of_uid(*tenant, *uid, None).is_some() {
                409
            } else {
                201
            };
            assert_eq!(response.status, expected, "{step:?}: {}", response.body);
            if expected == 201 {
                user.uids.insert(*uid);
                model.replace(*tenant, user);
            }
        }
        Step::Delete { tenant, pick } => {
            let Some(user) = model.picked(*tenant, *pick) else {
                return;
            };
            let response = api
                .delete(&format!("/api/EndUsers/{}", user.id), *tenant)
                .await;
            assert_eq!(response.status, 204, "{step:?}: {}", response.body);
            model
                .users
                .entry(*tenant)
                .or_default()
                .retain(|u| u.id != user.id);
            // What its merges left goes with it.
            for id in user.merged_from.iter().chain([&user.id]) {
                model.gone.insert((*tenant, *id), None);
            }
        }
        Step::Message { tenant, uid } => {
            tickets::apply_message(api, model, step, *tenant, *uid).await
        }
        Step::Close {
            tenant,
            pick,
            channel,
        } => tickets::apply_close(api, model, step, *tenant, *pick, *channel).await,
        Step::Merge {
            tenant,
            target,
            source,
        } => lifecycle::apply_merge(api, model, step, *tenant, *target, *source).await,
        Step::Undo { tenant, pick } => {
            lifecycle::apply_undo(api, model, step, *tenant, *pick).await
        }
        Step::Anonymize { tenant, pick } => {
            lifecycle::apply_anonymize(api, model, step, *tenant, *pick).await
        }
        Step::ByUid { tenant, value } => {
            let (raw, holder) = match POOL.get(*value) {
                Some((_, raw)) => (*raw, model.holder_of_uid(*tenant, *value, None)),
                None => {
                    let r = value - POOL.len();
                    (REFS[r], model.holder_of_ref(*tenant, r, None))
                }
            };
            let query = raw.replace('+', "%2B");
            let response = api
                .get(&format!("/api/EndUsers/byUid?uid={query}"), *tenant)
                .await;
            match holder {
                None => assert_eq!(response.status, 404, "{step:?}: {}", response.body),
                Some(id) => {
                    assert_eq!(response.status, 200, "{step:?}: {}", response.body);
                    let read = api.get(&format!("/api/EndUsers/{id}"), *tenant).await;
                    assert_eq!(response.body, read.body, "byUid and GET disagree");
                }
            }
        }
    }
}

/// Both tenants with their webhook secrets and an e-mail (1) and SMS (2) channel.
async fn set_up_channels(api: &TestApi) {
    for tenant in TENANTS {
        let secrets =
            json!({"webhookSigningSecret": SIGNING_SECRET, "twilioAuthToken": TWILIO_TOKEN});
        assert_eq!(
            api.put("/api/Customers/me", tenant, secrets).await.status,
            200
        );
        for (id, kind, address) in [
            (1, "Email", "support@example.com"),
            (2, "SMS", "+32470999001"),
        ] {
            let channel = json!({"channelType": kind, "address": address});
            let path = format!("/api/Customers/channels/{id}");
            assert!(api.put(&path, tenant, channel).await.status < 300);
        }
    }
}

/// The store holds exactly what the model says, and its invariants hold.
async fn check(api: &TestApi, model: &Model) {
    let values: Vec<Uid> = POOL
        .iter()
        .map(|(t, v)| Uid::parse(*t, v, None).expect("a pool value"))
        .collect();
    for tenant in TENANTS {
        let ever = model.ever.get(&tenant).cloned().unwrap_or_default();
        let id = TenantId::new(tenant).expect("tenant");
        let live = assert_consistent(api.table().as_ref(), id, &ever, &values, &REFS).await;
        let stored: Vec<ModelUser> = live
            .values()
            .map(|user| ModelUser {
                id: user.id,
                uids: user
                    .uids
                    .iter()
                    .map(|u| {
                        POOL.iter()
                            .position(|(_, v)| *v == u.uid)
                            .expect("a pool value")
                    })
                    .collect(),
                reference: user
                    .customer_ref
                    .as_deref()
                    .and_then(|r| REFS.iter().position(|known| *known == r)),
                merged_from: user.merged_from.iter().copied().collect(),
                anonymized: user.is_anonymized(),
            })
            .collect();
        let mut expected = model.users(tenant).to_vec();
        expected.sort_by_key(|u| u.id);
        assert_eq!(stored, expected, "tenant {tenant}");
        lifecycle::check_gone(api, model, tenant).await;
    }
}

/// Runs `cases` random sequences of up to `max_steps` steps, each on a fresh API from `make`.
fn run_model<F, Fut>(cases: u32, max_steps: usize, make: F) -> usize
where
    F: Fn() -> Fut,
    Fut: Future<Output = TestApi>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let config = Config {
        cases,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    };
    let ran = AtomicUsize::new(0);
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&prop::collection::vec(step(), 1..=max_steps), |steps| {
        runtime.block_on(async {
            let api = make().await;
            set_up_channels(&api).await;
            let mut model = Model::default();
            for step in &steps {
                apply(&api, &mut model, step).await;
                check(&api, &model).await;
            }
        });
        ran.fetch_add(1, Ordering::Relaxed);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    ran.into_inner()
}

#[test]
fn the_embedded_table_follows_the_model() {
    let cases = run_model(64, 40, TestApi::memory);
    eprintln!("model-based cases on the embedded table: {cases}");
    assert!(cases >= 64);
}

#[test]
fn dynamodb_follows_the_model() {
    let cases = run_model(8, 20, TestApi::dynamodb);
    eprintln!("model-based cases on moto: {cases}");
    assert!(cases >= 8);
}
