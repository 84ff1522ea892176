//! An inbound message from a channel provider (SPEC 5): its sender resolved to an end user
//! (created as a `Lead` when unknown), the end user's open ticket on the channel (opened when
//! there is none), and the message recorded once per provider message id, all in one
//! transaction. Races are settled by the store: the UID index item makes one end user of
//! concurrent first messages, the open-ticket guard one ticket, the delivery record one message;
//! the losers start again from a fresh read. Everything an attempt read is a condition of its
//! transaction, so a change landing in between (a DELETE, PUT, assign or close) sends it back
//! to a fresh read rather than recording the message on a stale end user or ticket.

mod checks;
mod lead;

pub use checks::{Checked, SenderRead, read_for_checks};

use self::checks::sender_keys;
use self::lead::new_lead;
use super::duplicates;
use super::uids;
use super::unit_of_work::{self, Exhausted, Notes, Plan, Step};
use crate::domain::change::{self, Change, ChangeKind};
use crate::domain::consent::ConsentChange;
use crate::domain::customer::{Channel, Settings};
use crate::domain::end_user::EndUser;
use crate::domain::ids::IdBlock;
use crate::domain::ticket::{Direction, Message, Opening, Ticket};
use crate::domain::timeline;
use crate::domain::uid::Uid;
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::delivery::{self, Delivered};
use crate::store::timeline as records;
use crate::store::{
    Item, Table, Transaction, id_block, message, open_ticket, owner, ticket, uid_index,
};
use crate::vault::suppression::Suppressions;

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
    /// What the message says of the sender's consent (a Twilio STOP or START), recorded in the
    /// same write as the message.
    pub consent: Option<ConsentChange>,
}

/// Records `inbound` on `channel` of `tenant` (whose settings give a new ticket its
/// representative); the same answer for a message recorded before on that channel. `read` is
/// what the checks read of its sender, for the first attempt.
pub async fn record(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    settings: &Settings,
    channel: &Channel,
    inbound: &Inbound,
    read: SenderRead,
) -> Result<Delivered, ApiError> {
    let message = Message {
        id: 0,
        ticket_id: 0,
        direction: Direction::Inbound,
        provider_message_id: Some(inbound.provider_message_id.clone()),
        from: inbound.from.clone(),
        text: inbound.text.clone(),
        subject: inbound.subject.clone(),
        received_at: inbound.received_at,
    };
    let request = Request {
        suppressions,
        tenant,
        settings,
        channel,
        inbound,
        message: &message,
    };
    let exhausted = Exhausted::Unavailable(
        "the message lost every attempt to concurrent changes; deliver it again",
    );
    let mut first_read = read.0;
    unit_of_work::run(table, exhausted, |notes| {
        plan(table, &request, notes, first_read.take())
    })
    .await
}

/// What one delivery is about.
struct Request<'a> {
    /// Screens the addresses a message links (SPEC 9).
    suppressions: &'a Suppressions,
    tenant: TenantId,
    settings: &'a Settings,
    channel: &'a Channel,
    inbound: &'a Inbound,
    /// The message as recorded, before it has its IDs.
    message: &'a Message,
}

/// What one attempt read of the sender's end user.
struct Known {
    /// Its open ticket on the channel, with the ticket's message count.
    open_ticket: Option<open_ticket::Open>,
    /// The end user itself, read only when it is to change: a free e-mail linked to it, or the
    /// consent of the sender's UID.
    record: Option<EndUser>,
}

/// One attempt: the sender resolved (created as a lead when unknown), its open ticket (opened
/// when there is none), the message and its delivery record, in one transaction whose
/// conditions hold everything it read: the sender's UID still held by that end user, the
/// ticket still open, the guard still naming it with the count read (the message's position),
/// the e-mail still free.
async fn plan(
    table: &dyn Table,
    request: &Request<'_>,
    notes: Notes,
    read: Option<Vec<Item>>,
) -> Result<Step<Delivered>, ApiError> {
    let now = Timestamp::now();
    let mut tx = Transaction::new();
    let mut changes = Vec::new();
    let sender = resolve(table, request, read, &mut tx, &mut changes, now).await?;
    let open_ticket = sender.known.as_ref().and_then(|k| k.open_ticket);
    let mut block = match open_ticket {
        Some(_) => IdBlock::for_existing_end_user(),
        // The new ticket's record proves its block.
        None => IdBlock::for_new_end_user(),
    };
    if let Some(record) = sender.known.as_ref().and_then(|k| k.record.as_ref()) {
        let revision = Revision {
            free_email: sender.free_email.as_ref(),
            consent: request.inbound.consent.as_ref(),
        };
        let revised = revise(table, &mut tx, request, record, revision, &mut block, now);
        changes.extend(revised.await?);
    }
    let (message, ticket_change) = add_message(&mut tx, request, &sender, &mut block, &notes)?;
    changes.push(ticket_change);
    if block.needs_guard() {
        tx.push(id_block::claim(request.tenant, &block, now));
    }
    let delivered = Delivered {
        ticket_id: message.ticket_id,
        end_user_id: sender.end_user_id,
        message_id: message.id,
    };
    let id = &request.inbound.provider_message_id;
    let channel = request.channel.id;
    let record = delivery::record(request.tenant, channel, id, &delivered, now)?;
    tx.push_replay(record);
    let plan = Plan::new(tx, delivered)
        .replaying(|earlier| Ok(delivery::from_item(earlier)?))
        .announcing(changes, now);
    Ok(Step::Commit(plan))
}

/// Who sent the message, as one attempt resolved it.
struct Sender {
    end_user_id: u64,
    /// The end user as read; `None` for a lead this attempt creates.
    known: Option<Known>,
    /// The web chat e-mail, when no one holds it.
    free_email: Option<Uid>,
}

/// The sender's end user from its UID index item (in `read`, or read now), with a check in `tx`
/// that it still holds the UID; a lead in `tx` (and its events in `changes`) for an unknown
/// sender.
async fn resolve(
    table: &dyn Table,
    request: &Request<'_>,
    read: Option<Vec<Item>>,
    tx: &mut Transaction,
    changes: &mut Vec<Change>,
    now: Timestamp,
) -> Result<Sender, ApiError> {
    let Request {
        tenant, inbound, ..
    } = *request;
    let found = match read {
        Some(found) => found,
        None => table.batch_get(&sender_keys(tenant, inbound)).await?,
    };
    let holder_of = |uid: &Uid| {
        uid_index::key(tenant, uid)
            .find_in(&found)
            .and_then(owner::of)
    };
    let free_email = inbound
        .email
        .clone()
        .filter(|email| holder_of(email).is_none());
    if let Some(id) = holder_of(&inbound.sender) {
        let changing = free_email.is_some() || inbound.consent.is_some();
        let known = read_known(table, request, id, changing).await?;
        tx.push(uid_index::held(tenant, &inbound.sender, id));
        return Ok(Sender {
            end_user_id: id,
            known: Some(known),
            free_email,
        });
    }
    let mut block = IdBlock::for_new_end_user();
    let mut revision = new_lead(inbound, free_email.as_ref(), &mut block, now)?;
    if let Some(consent) = &inbound.consent {
        revision.user.set_consent(&inbound.sender, consent.clone());
    }
    let suppressions = request.suppressions;
    let lead = &mut revision.user;
    let (checks, suspected) =
        duplicates::screened(table, suppressions, tenant, None, lead, now).await?;
    let mut writes = crate::store::end_user::created(tenant, &revision, &block, now)?;
    writes.push_all(checks);
    // A UID taken meanwhile is a lost race here, not a conflict: the next attempt finds its
    // holder.
    tx.push_races(writes);
    let channel = request.channel.id;
    changes.extend(change::of_lead(tenant, &revision.user, channel, now));
    changes.extend(suspected);
    Ok(Sender {
        end_user_id: revision.user.id,
        known: None,
        free_email: None,
    })
}

/// The message in `tx` at its position of the sender's open ticket (counted there), or of the
/// ticket it opens; with the ticket's event.
fn add_message(
    tx: &mut Transaction,
    request: &Request<'_>,
    sender: &Sender,
    block: &mut IdBlock,
    notes: &Notes,
) -> Result<(Message, Change), ApiError> {
    let tenant = request.tenant;
    let end_user_id = sender.end_user_id;
    let mut message = request.message.clone();
    message.id = next_id(block)?;
    let open_ticket = sender.known.as_ref().and_then(|k| k.open_ticket);
    let now = message.received_at;
    let (position, event) = match open_ticket {
        Some(open) => {
            message.ticket_id = open.ticket_id;
            let channel = request.channel.id;
            // Fails when the ticket closed or another message took this position meanwhile.
            tx.push(open_ticket::count(tenant, end_user_id, channel, open));
            let count = ticket::count_message(tenant, &message, notes.met(ticket::COUNTED));
            tx.push_noted(count, ticket::COUNTED);
            let position = open.message_count + 1;
            let (ticket_id, id) = (open.ticket_id, message.id);
            let added =
                change::message_added(tenant, end_user_id, ticket_id, channel, id, position, now);
            (position, added)
        }
        None => {
            message.ticket_id = block.base();
            let opened = open(request, end_user_id, &message);
            tx.push(ticket::create(tenant, &opened)?);
            tx.push(open_ticket::claim(tenant, &opened));
            tx.push(ticket::count_tickets(tenant, end_user_id, 1));
            tx.push(records::put(tenant, &timeline::ticket_opened(&opened))?);
            let kind = ChangeKind::TicketCreated;
            let created = change::of_ticket(kind, tenant, &opened, message.id, now);
            (opened.message_count, created)
        }
    };
    tx.push(message::create(tenant, &message, position)?);
    let channel_type = request.channel.channel_type;
    let entry = timeline::message(end_user_id, channel_type, &message);
    tx.push(records::put(tenant, &entry)?);
    Ok((message, event))
}

/// The sender's open ticket on the channel, and its end user when it is to change: one read.
async fn read_known(
    table: &dyn Table,
    request: &Request<'_>,
    id: u64,
    changing: bool,
) -> Result<Known, ApiError> {
    let guard = open_ticket::key(request.tenant, id, request.channel.id);
    if !changing {
        let open_ticket = table
            .get(&guard)
            .await?
            .as_ref()
            .and_then(open_ticket::open_of);
        return Ok(Known {
            open_ticket,
            record: None,
        });
    }
    let profile = crate::store::end_user::key(request.tenant, id);
    let items = table.batch_get(&[guard.clone(), profile.clone()]).await?;
    // A tombstone (merged since the sender was resolved) links nothing; the message's check of
    // the sender's UID index item fails, and the next attempt resolves the merge's target.
    let record = profile
        .find_in(&items)
        .cloned()
        .map(crate::store::end_user::live_from_item)
        .transpose()?
        .flatten();
    Ok(Known {
        open_ticket: guard.find_in(&items).and_then(open_ticket::open_of),
        record,
    })
}

/// What a message changes of its sender's end user.
struct Revision<'a> {
    /// A web chat's e-mail no one holds, to link.
    free_email: Option<&'a Uid>,
    /// The consent of the sender's UID.
    consent: Option<&'a ConsentChange>,
}

/// `record` as the message changes it, in `tx` with its events: the free e-mail linked under an
/// ID of `block` (unless it holds the most UIDs allowed), the sender's consent set. Nothing when
/// that changes nothing (a STOP from an address opted out already).
async fn revise(
    table: &dyn Table,
    tx: &mut Transaction,
    request: &Request<'_>,
    record: &EndUser,
    revision: Revision<'_>,
    block: &mut IdBlock,
    now: Timestamp,
) -> Result<Vec<Change>, ApiError> {
    let tenant = request.tenant;
    let mut next = record.next_version(now);
    if let Some(email) = revision.free_email {
        match uids::with_new_uid(record, email, false, block, now)? {
            Some(linked) => next = linked,
            None => tracing::info!(
                end_user_id = record.id,
                "the web chat's e-mail was not linked: too many UIDs"
            ),
        }
    }
    if let Some(consent) = revision.consent {
        next.set_consent(&request.inbound.sender, consent.clone());
    }
    if next.uids == record.uids {
        return Ok(Vec::new());
    }
    let suppressions = request.suppressions;
    let (checks, suspected) =
        duplicates::screened(table, suppressions, tenant, Some(record), &mut next, now).await?;
    // The end user's version and the e-mail's index item are conditions: a change of either
    // since the read is a lost race, and the next attempt reads again.
    let mut writes = crate::store::end_user::changes(
        tenant,
        Some(record),
        Some(&next),
        None,
        &std::collections::HashMap::new(),
        now,
    )?;
    writes.push_all(checks);
    tx.push_races(writes);
    let mut changes = change::of_end_user(tenant, Some(record), Some(&next), now);
    changes.extend(suspected);
    Ok(changes)
}

/// The ticket `message` opens for `end_user_id`, counting it.
fn open(request: &Request<'_>, end_user_id: u64, message: &Message) -> Ticket {
    let inbound = request.inbound;
    let mut opened = Ticket::open(Opening {
        id: message.ticket_id,
        end_user_id,
        channel_type: request.channel.channel_type,
        channel_id: request.channel.id,
        uid: inbound.sender.value(),
        subject: inbound.subject.as_deref(),
        text: &inbound.text,
        customer_rep_id: request.settings.default_customer_rep_id,
        at: message.received_at,
    });
    opened.record_message(message);
    opened
}

fn next_id(block: &mut IdBlock) -> Result<u64, ApiError> {
    block
        .next_id()
        .ok_or_else(|| ApiError::Internal("an empty ID block".into()))
}
