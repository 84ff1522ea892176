//! An inbound message from a channel provider (SPEC 5): its sender resolved to an end user
//! (created as a `Lead` when unknown), the end user's open ticket on the channel (opened when
//! there is none), and the message recorded once per provider message id, all in one
//! transaction. Races are settled by the store: the UID index item makes one end user of
//! concurrent first messages, the open-ticket guard one ticket, the delivery record one message;
//! the losers start again from a fresh read.

use super::{ATTEMPTS, pause_before_attempt, uids};
use crate::domain::customer::{Channel, Settings};
use crate::domain::end_user::{self, EndUserBody};
use crate::domain::ids::IdBlock;
use crate::domain::ticket::{Direction, Message, Opening, Ticket};
use crate::domain::uid::{Uid, UidType};
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::delivery::{self, Delivered};
use crate::store::{
    Table, Transaction, WriteError, id_block, message, open_ticket, owner, ticket, uid_index,
};

/// Longest name taken from a provider's display name.
const MAX_NAME_CHARS: usize = 200;

/// A message as a webhook read it from its provider.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The sender's UID on the channel.
    pub sender: Uid,
    /// The provider's display name of the sender, for a new end user.
    pub display_name: Option<String>,
    /// An e-mail address the sender gave besides (web chat), linked when no one holds it.
    pub email: Option<Uid>,
    pub provider_message_id: String,
    pub from: String,
    pub text: String,
    pub subject: Option<String>,
    pub received_at: Timestamp,
}

/// Records `inbound` on `channel` of `tenant` (whose settings give a new ticket its
/// representative and retention); the same answer for a message recorded before.
pub async fn record(
    table: &dyn Table,
    tenant: TenantId,
    settings: &Settings,
    channel: &Channel,
    inbound: &Inbound,
) -> Result<Delivered, ApiError> {
    for n in 0..ATTEMPTS {
        pause_before_attempt(n).await;
        let plan = plan(table, tenant, settings, channel, inbound).await?;
        let delivery_write = plan.tx.writes.len() - 1;
        match table.write(plan.tx.writes).await {
            Ok(()) => {
                if let Some(email) = plan.email_to_link {
                    link_email(table, tenant, plan.delivered.end_user_id, email).await;
                }
                return Ok(plan.delivered);
            }
            Err(WriteError::Contention) => continue,
            Err(WriteError::Store(e)) => return Err(e.into()),
            Err(WriteError::ConditionFailed { failed }) => {
                // Delivered already, by a racing delivery of the same message: its answer.
                let earlier = failed
                    .into_iter()
                    .find(|f| f.index == delivery_write)
                    .and_then(|f| f.existing);
                if let Some(item) = earlier {
                    return Ok(delivery::from_item(item)?);
                }
            }
        }
    }
    // A 5xx, so that the provider delivers the message again later (a 409 would drop it).
    Err(ApiError::Unavailable(
        "the message lost every attempt to concurrent changes; deliver it again".into(),
    ))
}

/// One attempt's transaction (the delivery record last) and its answer.
struct Plan {
    tx: Transaction,
    delivered: Delivered,
    /// The sender's e-mail, to link to a known end user once the message is recorded.
    email_to_link: Option<Uid>,
}

async fn plan(
    table: &dyn Table,
    tenant: TenantId,
    settings: &Settings,
    channel: &Channel,
    inbound: &Inbound,
) -> Result<Plan, ApiError> {
    let now = Timestamp::now();
    let mut keys = vec![uid_index::key(tenant, &inbound.sender)];
    keys.extend(
        inbound
            .email
            .iter()
            .map(|email| uid_index::key(tenant, email)),
    );
    let found = table.batch_get(&keys).await?;
    let holder_of = |uid: &Uid| {
        uid_index::key(tenant, uid)
            .find_in(&found)
            .and_then(owner::of)
    };
    let sender = holder_of(&inbound.sender);
    let free_email = inbound
        .email
        .clone()
        .filter(|email| holder_of(email).is_none());

    let mut tx = Transaction::new(0);
    let (end_user_id, email_to_link) = match sender {
        Some(id) => (id, free_email),
        None => {
            let mut block = IdBlock::for_new_end_user();
            let revision = new_lead(inbound, free_email.as_ref(), &mut block, now)?;
            let writes = crate::store::end_user::changes(
                tenant,
                None,
                Some(&revision.user),
                Some(&block),
                &revision.uid_paths,
                now,
            )?;
            // A UID taken meanwhile is a lost race here, not a conflict: the next attempt finds
            // its holder.
            for write in writes.writes {
                tx.push(write, None);
            }
            (revision.user.id, None)
        }
    };

    let open = match sender {
        Some(id) => table
            .get(&open_ticket::key(tenant, id, channel.id))
            .await?
            .as_ref()
            .and_then(open_ticket::ticket_of),
        None => None,
    };
    let mut message = Message {
        id: 0,
        ticket_id: 0,
        direction: Direction::Inbound,
        provider_message_id: Some(inbound.provider_message_id.clone()),
        from: inbound.from.clone(),
        text: inbound.text.clone(),
        subject: inbound.subject.clone(),
        received_at: inbound.received_at,
    };
    match open {
        Some(ticket_id) => {
            let mut block = IdBlock::for_existing_end_user();
            message.id = next_id(&mut block)?;
            message.ticket_id = ticket_id;
            tx.push(id_block::claim(tenant, &block, now), None);
            tx.push(ticket::count_message(tenant, &message), None);
        }
        None => {
            // The ticket's record proves its block; the message takes the block's next ID.
            let mut block = IdBlock::for_new_end_user();
            message.id = next_id(&mut block)?;
            message.ticket_id = block.base();
            let mut opened = Ticket::open(Opening {
                id: block.base(),
                end_user_id,
                channel_type: channel.channel_type,
                channel_id: channel.id,
                uid: inbound.sender.value(),
                subject: inbound.subject.as_deref(),
                text: &inbound.text,
                customer_rep_id: settings.default_customer_rep_id,
                at: message.received_at,
            });
            opened.record_message(&message);
            tx.push(
                ticket::create(tenant, &opened, settings.ticket_cleanup_retention_days)?,
                None,
            );
            tx.push(open_ticket::claim(tenant, &opened), None);
        }
    }
    tx.push(message::create(tenant, &message)?, None);
    let delivered = Delivered {
        ticket_id: message.ticket_id,
        end_user_id,
        message_id: message.id,
    };
    tx.push(
        delivery::record(tenant, &inbound.provider_message_id, &delivered, now)?,
        None,
    );
    Ok(Plan {
        tx,
        delivered,
        email_to_link,
    })
}

fn next_id(block: &mut IdBlock) -> Result<u64, ApiError> {
    block
        .next_id()
        .ok_or_else(|| ApiError::Internal("an empty ID block".into()))
}

/// A new `Lead` holding the sender's UID (primary), and its e-mail when free, named by the
/// provider's display name when that is a valid name.
fn new_lead(
    inbound: &Inbound,
    email: Option<&Uid>,
    block: &mut IdBlock,
    now: Timestamp,
) -> Result<end_user::Revision, ApiError> {
    let mut uids = vec![serde_json::json!({
        "uidType": inbound.sender.uid_type().as_str(),
        "uid": inbound.sender.value(),
        "isPrimary": true,
    })];
    uids.extend(email.map(
        |email| serde_json::json!({"uidType": UidType::Email.as_str(), "uid": email.value()}),
    ));
    let name: Option<String> = inbound
        .display_name
        .as_deref()
        .map(|name| {
            name.chars()
                .filter(|c| !c.is_control())
                .take(MAX_NAME_CHARS)
                .collect::<String>()
        })
        .filter(|name| !name.trim().is_empty());
    let body = |name: Option<&String>| -> Result<EndUserBody, ApiError> {
        serde_json::from_value(serde_json::json!({"name": name, "uids": uids}))
            .map_err(|e| ApiError::Internal(format!("a new end user's body: {e}")))
    };
    match end_user::create(&body(name.as_ref())?, block, now) {
        Ok(revision) => Ok(revision),
        // A display name the end user rules refuse is left out rather than losing the message.
        Err(_) if name.is_some() => end_user::create(&body(None)?, block, now)
            .map_err(|errors| ApiError::Internal(format!("a new end user: {errors:?}"))),
        Err(errors) => Err(ApiError::Internal(format!("a new end user: {errors:?}"))),
    }
}

/// Links `email` to a known end user after its message is recorded; a failure (someone took
/// the address meanwhile, the end user is at its UID limit) leaves the message as recorded.
async fn link_email(table: &dyn Table, tenant: TenantId, end_user_id: u64, email: Uid) {
    let request = uids::AssignRequest::for_uid(email, end_user_id);
    if let Err(error) = uids::assign(table, tenant, &request).await {
        tracing::info!(%error, end_user_id, "the web chat's e-mail was not linked");
    }
}
