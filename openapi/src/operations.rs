//! What each route takes and answers: its query and header parameters, its body and its
//! statuses. The statuses every route of a kind shares (credentials, bodies, keys) are added by
//! `Operation::render` (render.rs), so a route lists only its own.

use serde_json::Value;

use crate::params::{BY_UID, LIST, PAGE, TICKETS, TIMELINE};

/// How a route authenticates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Jwt,
    /// A phone-auth JWT only.
    PhoneJwt,
    /// The tenant's `X-Webhook-Signature` over the body.
    Signature,
    /// Twilio's `X-Twilio-Signature`.
    Twilio,
    /// No credentials.
    Public,
}

/// A query parameter.
#[derive(Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub schema: fn() -> Value,
    pub description: &'static str,
}

/// A request body.
#[derive(Clone, Copy)]
pub enum Body {
    /// `application/json` of the named schema.
    Json(&'static str),
    /// `application/x-www-form-urlencoded` of the named schema.
    Form(&'static str),
}

/// A successful answer.
#[derive(Clone, Copy)]
pub enum Answer {
    /// `application/json` of the named schema.
    Json(&'static str),
    /// The same, with the end user's `ETag`.
    Tagged(&'static str),
    /// The same, with `Location` and `ETag` (a new end user).
    Created(&'static str),
    /// No body.
    Empty,
    /// Twilio's empty TwiML answer.
    Twiml,
}

/// The request headers a route honours.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Header {
    IdempotencyKey,
    IfMatch,
    IfNoneMatch,
}

pub struct Operation {
    pub id: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    pub query: &'static [Param],
    pub headers: &'static [Header],
    pub body: Option<Body>,
    pub answers: &'static [(u16, Answer)],
    /// The problem statuses of the route itself.
    pub problems: &'static [u16],
}

use Answer::*;
use Header::*;

/// The description of `route` (`"METHOD /path"`).
pub fn operation(route: &str) -> Option<Operation> {
    let op = |id, summary, answers, problems| Operation {
        id,
        summary,
        auth: Auth::Jwt,
        query: &[],
        headers: &[],
        body: None,
        answers,
        problems,
    };
    let end_user = Some(Body::Json("EndUserBody"));
    Some(match route {
        "GET /api/EndUsers" => Operation {
            query: LIST,
            ..op(
                "listEndUsers",
                "The tenant's end users, a page at a time",
                &[(200, Json("EndUserPage"))],
                &[],
            )
        },
        "POST /api/EndUsers" => Operation {
            headers: &[IdempotencyKey],
            body: end_user,
            ..op(
                "createEndUser",
                "Create an end user",
                &[(201, Created("EndUserView"))],
                &[409],
            )
        },
        "POST /api/EndUsers/bulk" => Operation {
            headers: &[IdempotencyKey],
            body: Some(Body::Json("BulkRequest")),
            ..op(
                "bulkEndUsers",
                "Apply up to 100 creates, upserts, updates and deletes, each on its own",
                &[(200, Json("BulkResults"))],
                &[],
            )
        },
        "GET /api/EndUsers/byUid" => Operation {
            query: BY_UID,
            ..op(
                "endUserByUid",
                "The end user holding a UID or customerRef",
                &[(200, Tagged("EndUserView"))],
                &[404, 409],
            )
        },
        "GET /api/EndUsers/{id}" => Operation {
            headers: &[IfMatch, IfNoneMatch],
            ..op(
                "getEndUser",
                "Read an end user",
                &[(200, Tagged("EndUserView")), (304, Empty)],
                &[404, 410, 412],
            )
        },
        "PUT /api/EndUsers/{id}" => Operation {
            headers: &[IfMatch],
            body: end_user,
            ..op(
                "updateEndUser",
                "Update an end user partially",
                &[(200, Tagged("EndUserView"))],
                &[404, 409, 410, 412],
            )
        },
        "DELETE /api/EndUsers/{id}" => Operation {
            headers: &[IfMatch],
            ..op(
                "deleteEndUser",
                "Delete an end user, freeing its UIDs",
                &[(204, Empty)],
                &[404, 409, 410, 412],
            )
        },
        "GET /api/EndUsers/{id}/tickets" => Operation {
            query: TICKETS,
            ..op(
                "listEndUserTickets",
                "The end user's tickets",
                &[(200, Json("TicketPage"))],
                &[404, 410],
            )
        },
        "PUT /api/EndUsers/byRef/{customerRef}" => Operation {
            headers: &[IfMatch, IfNoneMatch],
            body: end_user,
            ..op(
                "upsertEndUser",
                "Update the end user holding a customerRef, or create one holding it",
                &[(200, Tagged("EndUserView")), (201, Created("EndUserView"))],
                &[409, 410, 412],
            )
        },
        "POST /api/EndUsers/{id}/merge" => Operation {
            headers: &[IdempotencyKey, IfMatch],
            body: Some(Body::Json("MergeBody")),
            ..op(
                "mergeEndUsers",
                "Merge another end user into this one",
                &[(200, Tagged("MergedView"))],
                &[404, 409, 410, 412],
            )
        },
        "GET /api/EndUsers/{id}/merges" => op(
            "listMerges",
            "The merges into an end user, newest first",
            &[(200, Json("Merges"))],
            &[404, 410],
        ),
        "POST /api/EndUsers/{id}/merges/{mergeID}/undo" => Operation {
            headers: &[IdempotencyKey],
            ..op(
                "undoMerge",
                "Undo a merge within 30 days",
                &[(200, Json("UndoneView"))],
                &[404, 409, 410],
            )
        },
        "GET /api/EndUsers/{id}/consent" => op(
            "listConsent",
            "Every consent change of an end user's UIDs, newest first",
            &[(200, Json("ConsentHistory"))],
            &[404, 410],
        ),
        "GET /api/EndUsers/{id}/timeline" => Operation {
            query: TIMELINE,
            ..op(
                "endUserTimeline",
                "What happened to the end user (and those merged into it), newest first",
                &[(200, Json("TimelinePage"))],
                &[404, 410],
            )
        },
        "GET /api/EndUsers/byRef/{customerRef}/timeline" => Operation {
            query: TIMELINE,
            ..op(
                "endUserTimelineByRef",
                "The timeline of the end user holding a customerRef",
                &[(200, Json("TimelinePage"))],
                &[404, 410],
            )
        },
        "POST /api/EndUsers/{id}/events" => Operation {
            headers: &[IdempotencyKey],
            body: Some(Body::Json("ExternalEventBody")),
            ..op(
                "recordExternalEvent",
                "Record something that happened to the end user elsewhere on its timeline",
                &[(201, Json("ExternalEvent"))],
                &[404, 409, 410],
            )
        },
        "POST /api/EndUsers/byRef/{customerRef}/events" => Operation {
            headers: &[IdempotencyKey],
            body: Some(Body::Json("ExternalEventBody")),
            ..op(
                "recordExternalEventByRef",
                "Record an external event of the end user holding a customerRef",
                &[(201, Json("ExternalEvent"))],
                &[404, 409, 410],
            )
        },
        "POST /api/EndUsers/{id}/sync" => Operation {
            headers: &[IdempotencyKey],
            ..op(
                "syncEndUser",
                "Sync the end user with the tenant's CRM: its fields replaced, its new UIDs added",
                &[(200, Tagged("SyncedView"))],
                &[404, 409, 410, 502],
            )
        },
        "GET /api/EndUsers/{id}/duplicates" => op(
            "listDuplicates",
            "Other end users likely the same person, highest score first, with the reasons",
            &[(200, Json("Duplicates"))],
            &[404, 410],
        ),
        "POST /api/EndUsers/{id}/duplicates/{otherID}/dismiss" => op(
            "dismissDuplicate",
            "Record that two end users are not the same person",
            &[(204, Empty)],
            &[404, 409, 410],
        ),
        "POST /api/EndUsers/{id}/anonymize" => Operation {
            headers: &[IdempotencyKey, IfMatch],
            ..op(
                "anonymizeEndUser",
                "Erase an end user's personal data, keeping its statistics",
                &[(200, Tagged("EndUserView"))],
                &[404, 409, 410, 412],
            )
        },
        "POST /api/EndUserUIDs/assign" => Operation {
            headers: &[IdempotencyKey],
            body: Some(Body::Json("AssignBody")),
            ..op(
                "assignUid",
                "Link a UID to an end user",
                &[(200, Json("Link")), (201, Json("Link"))],
                &[404, 409, 410],
            )
        },
        "GET /api/Tickets/{ticketID}" => op(
            "getTicket",
            "Read a ticket",
            &[(200, Json("TicketView"))],
            &[404],
        ),
        "PUT /api/Tickets/{ticketID}" => Operation {
            body: Some(Body::Json("TicketBody")),
            ..op(
                "updateTicket",
                "Update a ticket partially",
                &[(200, Json("TicketView"))],
                &[404, 409],
            )
        },
        "GET /api/Tickets/{ticketID}/messages" => Operation {
            query: &PAGE,
            ..op(
                "listMessages",
                "A ticket's messages, oldest first",
                &[(200, Json("MessagePage"))],
                &[404],
            )
        },
        "POST /api/Tickets/{ticketID}/messages" => Operation {
            headers: &[IdempotencyKey],
            body: Some(Body::Json("ReplyBody")),
            ..op(
                "replyToTicket",
                "Record an outbound reply",
                &[(201, Json("MessageView"))],
                &[404, 409],
            )
        },
        "POST /webhooks/twilio/{customerID}/{channelID}" => Operation {
            auth: Auth::Twilio,
            body: Some(Body::Form("TwilioMessage")),
            ..op(
                "twilioWebhook",
                "An inbound SMS or WhatsApp message from Twilio",
                &[(200, Twiml)],
                &[404, 409],
            )
        },
        "POST /webhooks/email/{customerID}/{channelID}" => Operation {
            auth: Auth::Signature,
            body: Some(Body::Json("EmailPayload")),
            ..op(
                "emailWebhook",
                "An inbound e-mail",
                &[(200, Json("RecordedView"))],
                &[404, 409],
            )
        },
        "POST /webhooks/webchat/{customerID}/{channelID}" => Operation {
            auth: Auth::Signature,
            body: Some(Body::Json("WebchatPayload")),
            ..op(
                "webchatWebhook",
                "An inbound web chat message",
                &[(200, Json("RecordedView"))],
                &[404, 409],
            )
        },
        "GET /api/Customers/me" => op(
            "getAccount",
            "The tenant's account",
            &[(200, Json("AccountView"))],
            &[409],
        ),
        "PUT /api/Customers/me" => Operation {
            body: Some(Body::Json("AccountUpdate")),
            ..op(
                "updateAccount",
                "Update the tenant's settings and secrets partially",
                &[(200, Json("AccountView"))],
                &[409],
            )
        },
        "GET /api/Customers/models" => op(
            "listModels",
            "The models the tenant may choose",
            &[(200, Json("Models"))],
            &[],
        ),
        "GET /api/Customers/channels" => op(
            "listChannels",
            "The tenant's channels",
            &[(200, Json("Channels"))],
            &[],
        ),
        "PUT /api/Customers/channels/{channelID}" => Operation {
            body: Some(Body::Json("ChannelBody")),
            ..op(
                "putChannel",
                "Create or replace a channel",
                &[(200, Json("ChannelView")), (201, Json("ChannelView"))],
                &[409],
            )
        },
        "DELETE /api/Customers/channels/{channelID}" => {
            op("deleteChannel", "Delete a channel", &[(204, Empty)], &[404])
        }
        "GET /api/Customers/my-secrets" => Operation {
            auth: Auth::PhoneJwt,
            ..op(
                "getProviderSecrets",
                "The provider secrets a phone client needs",
                &[(200, Json("ProviderSecrets"))],
                &[409],
            )
        },
        "GET /api/openapi.json" => Operation {
            auth: Auth::Public,
            ..op(
                "getOpenApi",
                "This document",
                &[(200, Json("OpenApiDocument"))],
                &[],
            )
        },
        _ => return None,
    })
}
