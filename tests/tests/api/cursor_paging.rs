//! Cursor paging of the end-user list (SPEC 7): `cursor=` starts, `nextCursor` goes on, every
//! end user once in ID order; a forged, truncated or other tenant's cursor is a 400.

use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    cursors_walk_the_whole_list_once,
    cursors_walk_it_backwards_too,
    cursors_that_are_not_this_lists_are_refused,
);

/// Follows `nextCursor` from the first page of `first` (a path with `cursor=`): every ID seen.
async fn walk(api: &TestApi, tenant: u64, first: &str) -> (Vec<u64>, usize) {
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
                .map(id_of),
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
