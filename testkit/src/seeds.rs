//! The data the committed `events/` expect, written as the services write it: the example end
//! user, channels, secrets, ticket and merge (see events/README.md).

use std::collections::HashMap;

use answerpal::domain::customer::{Channel, ChannelType};
use answerpal::domain::end_user::{self, EndUser};
use answerpal::domain::ticket::{Direction, Message, Opening, Ticket};
use answerpal::domain::{TenantId, Timestamp};
use answerpal::store::{self, Table};
use answerpal::vault::Vault;

/// The end user the committed `events/` expect: ID 1000 of tenant 1, with UIDs 1001 and 1002
/// (the phone opted in, then out by a Twilio STOP), written as the services write a new end user (its index items in the same transaction).
pub async fn seed_example_end_user(table: &dyn Table) {
    let user: EndUser = serde_json::from_value(serde_json::json!({
        "endUserID": 1000, "firstname": "Jane", "lastname": "Doe", "customerRef": "ERP-3049353",
        "customerType": "Customer", "country": "BE", "lang": "nl",
        "uids": [
            {"endUserUIDID": 1001, "uidType": "Email", "uid": "jane@example.com", "isPrimary": true},
            {"endUserUIDID": 1002, "uidType": "Phone", "uid": "+32470000000", "isPrimary": false,
             "consentHistory": [
                {"status": "optedIn", "at": "2026-11-22T10:15:30Z", "source": "api"},
                {"status": "optedOut", "at": "2026-11-23T08:00:00Z",
                 "source": "twilio:SM0123456789abcdef0123456789abcdef"}
             ]}
        ],
        "createdAt": "2026-11-22T10:15:30Z", "updatedAt": "2026-11-22T10:15:30Z", "version": 1
    }))
    .expect("example end user");
    store_new_end_user(table, &user).await;
}

/// The channels the committed `events/` expect for tenant 1: e-mail 1, SMS 2, phone 3 (the one
/// the phone-auth event names), WhatsApp 4, web chat 5.
pub async fn seed_example_channels(table: &dyn Table) {
    let channels = serde_json::json!([
        {"channelID": 1, "channelType": "Email", "address": "support@example.com", "name": "Support"},
        {"channelID": 2, "channelType": "SMS", "address": "+32470999001", "name": null},
        {"channelID": 3, "channelType": "Phone", "address": "+3236416685", "name": "Desk line"},
        {"channelID": 4, "channelType": "WhatsApp", "address": "+32470999002", "name": null},
        {"channelID": 5, "channelType": "Webchat", "address": "answerpal.eu widget", "name": null}
    ]);
    let tenant = TenantId::new(1).expect("tenant 1");
    let channels: Vec<Channel> = serde_json::from_value(channels).expect("example channels");
    for channel in &channels {
        let item = store::channel::item(tenant, channel).expect("a channel item");
        table.replace(item).await.expect("seed a channel");
    }
}

/// The secrets the committed webhook events are signed with (see events/README.md) and a CRM
/// connector, saved for tenant 1 through the account service, sealed by `vault`.
pub async fn seed_example_secrets(table: &dyn Table, vault: &Vault) {
    let body = serde_json::json!({
        "twilioAuthToken": "events-twilio-auth-token",
        "webhookSigningSecret": "events-webhook-signing-secret",
        "defaultCustomerRepID": 12,
        "apiBaseUrl": "https://crm.example.com",
        "apiAuthenticationType": "Bearer",
        "apiToken": "events-crm-token"
    });
    let body = body.as_object().expect("an object").clone();
    let tenant = TenantId::new(1).expect("tenant 1");
    let connector = answerpal::domain::customer::ConnectorPolicy::PublicOnly;
    answerpal::service::account::update(table, vault, tenant, &body, connector)
        .await
        .expect("seed the example secrets");
}

/// The ticket the committed ticket events expect: 5000 of end user 1000 on e-mail channel 1,
/// open, with its first message 5001.
pub async fn seed_example_ticket(table: &dyn Table) {
    let tenant = TenantId::new(1).expect("tenant 1");
    let at = Timestamp::try_from("2026-11-22T10:20:00Z".to_owned()).expect("a time");
    let mut ticket = Ticket::open(Opening {
        id: 5000,
        end_user_id: 1000,
        channel_type: ChannelType::Email,
        channel_id: 1,
        uid: "jane@example.com",
        subject: Some("Where is my order?"),
        text: "Order 1234 has not arrived.",
        customer_rep_id: Some(12),
        at,
    });
    let message = Message {
        id: 5001,
        ticket_id: 5000,
        direction: Direction::Inbound,
        provider_message_id: Some("<order-1234@example.com>".into()),
        from: "jane@example.com".into(),
        text: "Order 1234 has not arrived.".into(),
        subject: Some("Where is my order?".into()),
        received_at: at,
    };
    ticket.record_message(&message);
    let writes = vec![
        store::ticket::create(tenant, &ticket).expect("the ticket item"),
        store::open_ticket::claim(tenant, &ticket),
        store::message::create(tenant, &message, 1).expect("the message item"),
    ];
    table.write(writes).await.expect("seed the example ticket");
}

/// An end user from the example data: ID `id` of tenant 1 with `uids` (`[ID, type, value]`).
fn example(id: u64, firstname: &str, uids: &[(u64, &str, &str)]) -> EndUser {
    let uids: Vec<serde_json::Value> = uids
        .iter()
        .map(|(uid_id, uid_type, uid)| {
            serde_json::json!({"endUserUIDID": uid_id, "uidType": uid_type, "uid": uid, "isPrimary": false})
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "endUserID": id, "firstname": firstname, "customerType": "Lead", "uids": uids,
        "createdAt": "2026-11-23T09:00:00Z", "updatedAt": "2026-11-23T09:00:00Z", "version": 1
    }))
    .expect("an example end user")
}

/// The duplicate events' end user: 1300, Jane Doe again under a tagged address of 1000's e-mail
/// (a candidate of 1000 by e-mail and by name and domain).
pub async fn seed_example_duplicate(table: &dyn Table) {
    let mut user = example(1300, "Jane", &[(1301, "Email", "jane+shop@example.com")]);
    user.lastname = Some("Doe".into());
    store_new_end_user(table, &user).await;
}

/// The sync event's end user: 1400, Ola, created by name with nothing to look her up by in the
/// CRM (no customerRef, no UID), so the event syncs without asking the CRM.
pub async fn seed_example_unlinked(table: &dyn Table) {
    store_new_end_user(table, &example(1400, "Ola", &[])).await;
}

/// `user`, a new end user of tenant 1, written with its index items in one transaction, as a
/// create writes it.
pub async fn store_new_end_user(table: &dyn Table, user: &EndUser) {
    let tenant = TenantId::new(1).expect("tenant 1");
    let tx = store::end_user::changes(
        tenant,
        None,
        Some(user),
        None,
        &HashMap::new(),
        Timestamp::now(),
    )
    .expect("a new end user's items");
    table.write(tx.writes).await.expect("store a new end user");
}

/// The merge events' end users: 1100 (Piet, a phone) to merge into 1000, and 1201 (Mia, an
/// e-mail) merged into 1200 (Max) by merge 7000, made now (within its undo window).
pub async fn seed_example_merge(table: &dyn Table) {
    store_new_end_user(
        table,
        &example(1100, "Piet", &[(1101, "Phone", "+32470001100")]),
    )
    .await;
    let target = example(1200, "Max", &[(1202, "Email", "max@example.com")]);
    let source = example(1201, "Mia", &[(1203, "Email", "mia@example.com")]);
    store_new_end_user(table, &target).await;
    store_new_end_user(table, &source).await;
    let tenant = TenantId::new(1).expect("tenant 1");
    let now = Timestamp::now();
    let folded =
        end_user::fold(&target, &source, 7000, Some("events".into()), now).expect("a merge");
    let tx =
        store::merge::merged(tenant, &target, &source, &folded, now).expect("the merge's items");
    table
        .write(tx.writes)
        .await
        .expect("seed the example merge");
}
