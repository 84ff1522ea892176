//! The ticket steps of the model: an inbound message lands on its address's holder (or a new
//! lead), on that end user's open ticket on the channel; the desk closes one.

use std::collections::BTreeSet;

use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use super::{Model, ModelUser, POOL, SENDERS, SIGNING_SECRET, Step, TWILIO_TOKEN};

/// Sends a message from pool value `uid` to `tenant`'s channel for it; the end user it landed on.
async fn send(api: &TestApi, model: &mut Model, tenant: u64, uid: usize, channel: u64) -> u64 {
    model.messages_sent += 1;
    let id = format!("model-{}", model.messages_sent);
    let (_, value) = POOL[uid];
    let response = match channel {
        1 => {
            let body = json!({"from": {"email": value}, "messageID": id, "textBody": "hi"});
            api.signed_webhook("email", tenant, 1, &body, SIGNING_SECRET)
                .await
        }
        _ => {
            let params = [("From", value), ("Body", "hi"), ("MessageSid", id.as_str())];
            api.twilio(tenant, 2, &params, TWILIO_TOKEN).await
        }
    };
    assert_eq!(
        response.status, 200,
        "a message from {value}: {:?}",
        response.body
    );
    let found = api
        .get(
            &format!("/api/EndUsers/byUid?uid={}", value.replace('+', "%2B")),
            tenant,
        )
        .await;
    assert_eq!(found.status, 200, "{value} resolves after its message");
    let holder = found.body["endUserID"].as_u64().expect("an id");
    if channel == 1 {
        assert_eq!(
            response.body["endUserID"], holder,
            "the answer names its end user"
        );
    }
    holder
}

/// A message from a known address lands on its holder's open ticket on the channel (one
/// opened at the first); from an unknown one it makes a lead holding the address.
pub async fn apply_message(
    api: &TestApi,
    model: &mut Model,
    step: &Step,
    tenant: u64,
    sender: usize,
) {
    let (uid, channel) = SENDERS[sender];
    let holder = model.holder_of_uid(tenant, uid, None);
    let landed = send(api, model, tenant, uid, channel).await;
    match holder {
        Some(id) => assert_eq!(landed, id, "{step:?}: not on the address's holder"),
        None => {
            model.users.entry(tenant).or_default().push(ModelUser {
                id: landed,
                uids: BTreeSet::from([uid]),
                ..ModelUser::default()
            });
            model.ever.entry(tenant).or_default().push(landed);
        }
    }
    let count = model
        .open_tickets
        .entry((tenant, landed, channel))
        .or_default();
    *count += 1;
    let expected = *count;
    let open = api
        .get(
            &format!("/api/EndUsers/{landed}/tickets?channelIDs={channel}&isClosed=false"),
            tenant,
        )
        .await;
    assert_eq!(open.status, 200, "{step:?}: {}", open.body);
    let tickets = open.body["items"].as_array().cloned().unwrap_or_default();
    let listed = model.open_listed(tenant, landed, channel);
    assert_eq!(tickets.len(), listed, "{step:?}: open tickets {tickets:?}");
    let own: Vec<&Value> = tickets
        .iter()
        .filter(|t| t["endUserID"] == landed)
        .collect();
    assert_eq!(own.len(), 1, "{step:?}: open tickets {tickets:?}");
    assert_eq!(own[0]["messageCount"], expected, "{step:?}");
}

/// Closes the picked end user's open ticket on `channel`; the next message there opens another.
pub async fn apply_close(
    api: &TestApi,
    model: &mut Model,
    step: &Step,
    tenant: u64,
    pick: usize,
    channel: u64,
) {
    let Some(user) = model.picked(tenant, pick) else {
        return;
    };
    let path = format!(
        "/api/EndUsers/{}/tickets?channelIDs={channel}&isClosed=false",
        user.id
    );
    let open = api.get(&path, tenant).await;
    assert_eq!(open.status, 200, "{step:?}: {}", open.body);
    let tickets = open.body["items"].as_array().cloned().unwrap_or_default();
    let expected = model.open_listed(tenant, user.id, channel);
    assert_eq!(tickets.len(), expected, "{step:?}: {tickets:?}");
    let Some(ticket) = tickets.first() else {
        return;
    };
    let owner = ticket["endUserID"].as_u64().expect("the ticket's end user");
    let closed = api
        .put(
            &format!("/api/Tickets/{}", ticket["ticketID"]),
            tenant,
            json!({"status": "Closed"}),
        )
        .await;
    assert_eq!(closed.status, 200, "{step:?}: {}", closed.body);
    model.open_tickets.remove(&(tenant, owner, channel));
}
