//! Cursor paging of the end-user list and of an end user's tickets (SPEC 7): `cursor=` starts,
//! `nextCursor` goes on, every end user once in ID order, every ticket once by `lastMessageAt`
//! (with those of a merged end user); a forged, truncated, other list's or other tenant's cursor
//! is a 400.

use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks::{SIGNING_SECRET, set_up};

on_both_stores!(
    cursors_walk_the_whole_list_once,
    cursors_walk_it_backwards_too,
    cursors_that_are_not_this_lists_are_refused,
    ticket_cursors_walk_an_end_users_tickets_with_the_merged_ones,
    ticket_cursors_of_another_list_or_with_filters_are_refused,
);

/// Follows `nextCursor` from the first page of `first` (a path with `cursor=`): every end user's
/// ID seen, and the pages.
async fn walk(api: &TestApi, tenant: u64, first: &str) -> (Vec<u64>, usize) {
    walk_by(api, tenant, first, "endUserID").await
}

/// As [`walk`], the `id` field of every item seen.
async fn walk_by(api: &TestApi, tenant: u64, first: &str, id: &str) -> (Vec<u64>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut path = first.to_owned();
    loop {
        let page = api.get(&path, tenant).await;
        assert_eq!(page.status, 200, "{path}: {:?}", page.body);
        assert_eq!(
            page.body.get("totalCount"),
            None,
            "no totals: {:?}",
            page.body
        );
        pages += 1;
        ids.extend(
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|item| item[id].as_u64().expect("an id")),
        );
        match &page.body["nextCursor"] {
            Value::String(cursor) => {
                let base = first.split("cursor=").next().expect("a path");
                path = format!("{base}cursor={cursor}");
            }
            Value::Null => return (ids, pages),
            other => panic!("nextCursor {other:?}"),
        }
    }
}

async fn seven(api: &TestApi) -> Vec<u64> {
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(id_of(
            &api.create(1, json!({"firstname": format!("p{n}")})).await,
        ));
    }
    api.create(2, json!({"firstname": "other tenant"})).await;
    ids.sort();
    ids
}

async fn cursors_walk_the_whole_list_once(api: TestApi) {
    let ids = seven(&api).await;
    let (seen, pages) = walk(&api, 1, "/api/EndUsers?pageSize=3&cursor=").await;
    assert_eq!(seen, ids);
    assert_eq!(pages, 3);
    let (seen, pages) = walk(&api, 1, "/api/EndUsers?pageSize=7&cursor=").await;
    assert_eq!(
        (seen, pages),
        (ids.clone(), 1),
        "an exact last page has no next cursor"
    );
    let first = api.get("/api/EndUsers?pageSize=2&cursor=", 1).await;
    assert_eq!(first.body["pageSize"], 2);
    let (seen, _) = walk(&api, 2, "/api/EndUsers?cursor=").await;
    assert_eq!(seen.len(), 1, "only tenant 2's");
}

async fn cursors_walk_it_backwards_too(api: TestApi) {
    let ids = seven(&api).await;
    let (seen, _) = walk(&api, 1, "/api/EndUsers?pageSize=2&sortOrder=desc&cursor=").await;
    assert_eq!(seen, ids.iter().rev().copied().collect::<Vec<_>>());
}

async fn cursors_that_are_not_this_lists_are_refused(api: TestApi) {
    seven(&api).await;
    let page = api.get("/api/EndUsers?pageSize=2&cursor=", 1).await;
    let cursor = page.body["nextCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let mut forged: Vec<char> = cursor.chars().collect();
    forged[2] = if forged[2] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    for bad in [
        forged.as_str(),
        &cursor[..cursor.len() - 3],
        "bm90LWEtY3Vyc29y",
        "%%%",
    ] {
        let refused = api.get(&format!("/api/EndUsers?cursor={bad}"), 1).await;
        assert_field_error(&refused, "cursor");
    }
    let foreign = api.get(&format!("/api/EndUsers?cursor={cursor}"), 2).await;
    assert_field_error(&foreign, "cursor");
    let reversed = api
        .get(&format!("/api/EndUsers?sortOrder=desc&cursor={cursor}"), 1)
        .await;
    assert_field_error(&reversed, "cursor");
    for combined in [
        "search=p",
        "sortBy=name",
        "pageNumber=2",
        "pageNumber=1&pageNumber=2",
        "attributes.plan=x",
    ] {
        let refused = api
            .get(&format!("/api/EndUsers?{combined}&cursor="), 1)
            .await;
        let name = combined.split('=').next().expect("a name");
        let name = if name.starts_with("attributes") {
            "attributes"
        } else {
            name
        };
        assert_field_error(&refused, name);
    }
    assert_eq!(
        api.get(
            &format!("/api/EndUsers?sortBy=endUserID&search=%20&cursor={cursor}"),
            1
        )
        .await
        .status,
        200
    );
}

/// Closed e-mail tickets of the person at `from`, one per minute of `minutes` (10:mm on one
/// day): their end user, and (minute, ticketID) of each.
async fn tickets_at(api: &TestApi, from: &str, minutes: &[u32]) -> (u64, Vec<(u32, u64)>) {
    let mut end_user = 0;
    let mut tickets = Vec::new();
    for (n, minute) in minutes.iter().enumerate() {
        let body = json!({"from": {"email": from}, "to": "support@example.com",
            "subject": "Order", "messageID": format!("{from}-{n}"), "textBody": "Where is it?",
            "receivedAt": format!("2026-11-30T10:{minute:02}:00Z")});
        let mailed = api
            .signed_webhook("email", 1, 1, &body, SIGNING_SECRET)
            .await;
        assert_eq!(mailed.status, 200, "{:?}", mailed.body);
        end_user = mailed.body["endUserID"].as_u64().expect("endUserID");
        let ticket = mailed.body["ticketID"].as_u64().expect("ticketID");
        let closed = json!({"status": "Closed"});
        let path = format!("/api/Tickets/{ticket}");
        assert_eq!(api.put(&path, 1, closed).await.status, 200);
        tickets.push((*minute, ticket));
    }
    (end_user, tickets)
}

async fn ticket_cursors_walk_an_end_users_tickets_with_the_merged_ones(api: TestApi) {
    set_up(&api, 1).await;
    // Later tickets received earlier, and ties of one minute: the order is by time, then ID.
    let (target, mut expected) = tickets_at(&api, "a@example.com", &[5, 3, 3, 1]).await;
    let (source, theirs) = tickets_at(&api, "b@example.com", &[4, 3, 0]).await;
    let merge = format!("/api/EndUsers/{target}/merge");
    let merged = api
        .post(&merge, 1, json!({"sourceEndUserID": source}))
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    expected.extend(theirs);
    expected.sort();
    let oldest_first: Vec<u64> = expected.iter().map(|(_, id)| *id).collect();
    let newest_first: Vec<u64> = oldest_first.iter().rev().copied().collect();
    let path = format!("/api/EndUsers/{target}/tickets?pageSize=2&cursor=");
    let (seen, pages) = walk_by(&api, 1, &path, "ticketID").await;
    assert_eq!((seen, pages), (newest_first.clone(), 4), "newest first");
    let path = format!("/api/EndUsers/{target}/tickets?pageSize=3&sortOrder=asc&cursor=");
    let (seen, pages) = walk_by(&api, 1, &path, "ticketID").await;
    assert_eq!((seen, pages), (oldest_first, 3), "oldest first");
    let path = format!("/api/EndUsers/{target}/tickets?pageSize=7&cursor=");
    let (seen, pages) = walk_by(&api, 1, &path, "ticketID").await;
    assert_eq!((seen, pages), (newest_first.clone(), 1), "one exact page");
    let by_number = api
        .get(&format!("/api/EndUsers/{target}/tickets?pageSize=100"), 1)
        .await;
    let listed: Vec<u64> = by_number.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["ticketID"].as_u64().expect("ticketID"))
        .collect();
    assert_eq!(listed, newest_first, "the same order as paging by number");
}

async fn ticket_cursors_of_another_list_or_with_filters_are_refused(api: TestApi) {
    set_up(&api, 1).await;
    let (first, _) = tickets_at(&api, "c@example.com", &[1, 2, 3]).await;
    let (second, _) = tickets_at(&api, "d@example.com", &[4]).await;
    let tickets = |id: u64| format!("/api/EndUsers/{id}/tickets?pageSize=1");
    let page = api.get(&format!("{}&cursor=", tickets(first)), 1).await;
    let cursor = page.body["nextCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let next = api
        .get(&format!("{}&cursor={cursor}", tickets(first)), 1)
        .await;
    assert_eq!(next.status, 200, "{:?}", next.body);
    let others = [
        format!("{}&cursor={cursor}", tickets(second)),
        format!("{}&sortOrder=asc&cursor={cursor}", tickets(first)),
        format!("/api/EndUsers?cursor={cursor}"),
    ];
    for other in &others {
        assert_field_error(&api.get(other, 1).await, "cursor");
    }
    let users = api.get("/api/EndUsers?pageSize=1&cursor=", 1).await;
    let user_cursor = users.body["nextCursor"].as_str().expect("a cursor");
    let path = format!("{}&cursor={user_cursor}", tickets(first));
    assert_field_error(&api.get(&path, 1).await, "cursor");
    let foreign = api
        .get(&format!("{}&cursor={cursor}", tickets(first)), 2)
        .await;
    assert_field_error(&foreign, "cursor");
    for filter in [
        "status=Open",
        "customerRepID=12",
        "channelType=Email",
        "channelIDs=1",
        "uid=c@example.com",
        "isClosed=true",
        "isSpam=false",
        "search=order",
        "sortBy=createdAt",
        "pageNumber=1",
    ] {
        let path = format!("{}&{filter}&cursor=", tickets(first));
        let name = filter.split('=').next().expect("a name");
        assert_field_error(&api.get(&path, 1).await, name);
    }
    let sorted = format!("{}&sortBy=lastMessageAt&cursor=", tickets(first));
    assert_eq!(api.get(&sorted, 1).await.status, 200);
    assert_problem(
        &api.get("/api/EndUsers/999999/tickets?cursor=", 1).await,
        404,
    );
}
