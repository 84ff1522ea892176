//! The identity lifecycle steps of the model (SPEC 7): merge, undo and anonymize, each answer
//! predicted from the model's end users, and merged or gone end users answering 410 or 404.

use std::collections::BTreeSet;

use answerpal_testkit::TestApi;
use serde_json::json;

use super::{Model, ModelUser, Step};

/// A merge the model saw succeed.
#[derive(Clone, Debug)]
pub struct ModelMerge {
    merge_id: u64,
    target: u64,
    /// The source as it was.
    source: ModelUser,
    undone: bool,
}

/// Merges the picked source into the picked target: 400 into itself, 409 when either was
/// anonymized or both hold a customerRef, else 200 and the target holds the source's UIDs.
pub async fn apply_merge(
    api: &TestApi,
    model: &mut Model,
    step: &Step,
    tenant: u64,
    target: usize,
    source: usize,
) {
    let (Some(mut target), Some(source)) =
        (model.picked(tenant, target), model.picked(tenant, source))
    else {
        return;
    };
    let path = format!("/api/EndUsers/{}/merge", target.id);
    let response = api
        .post(&path, tenant, json!({"sourceEndUserID": source.id}))
        .await;
    let expected = if target.id == source.id {
        400
    } else if target.anonymized
        || source.anonymized
        || (target.reference.is_some() && source.reference.is_some())
    {
        409
    } else {
        200
    };
    assert_eq!(response.status, expected, "{step:?}: {}", response.body);
    if expected != 200 {
        return;
    }
    let merge_id = response.body["mergeID"].as_u64().expect("a mergeID");
    target.uids.extend(source.uids.iter().copied());
    target.reference = target.reference.or(source.reference);
    target.merged_from.insert(source.id);
    target
        .merged_from
        .extend(source.merged_from.iter().copied());
    for id in source.merged_from.iter().chain([&source.id]) {
        model.gone.insert((tenant, *id), Some(target.id));
    }
    model
        .users
        .entry(tenant)
        .or_default()
        .retain(|u| u.id != source.id);
    model.replace(tenant, target.clone());
    model.merges.entry(tenant).or_default().push(ModelMerge {
        merge_id,
        target: target.id,
        source,
        undone: false,
    });
}

/// What undoing `merge` answers, given the model: the target gone (404) or merged (410), the
/// merge undone already or the target anonymized (409), a moved value no longer on the target
/// (409); else 200.
fn undo_status(model: &Model, tenant: u64, merge: &ModelMerge) -> u16 {
    let Some(target) = model.users(tenant).iter().find(|u| u.id == merge.target) else {
        return match model.gone.get(&(tenant, merge.target)) {
            Some(Some(_)) => 410,
            _ => 404,
        };
    };
    let moved_held = merge.source.uids.is_subset(&target.uids)
        && merge
            .source
            .reference
            .is_none_or(|r| target.reference == Some(r));
    if merge.undone || target.anonymized || !moved_held {
        409
    } else {
        200
    }
}

/// Undoes the picked merge of `tenant`.
pub async fn apply_undo(api: &TestApi, model: &mut Model, step: &Step, tenant: u64, pick: usize) {
    let merges = model.merges.get(&tenant).cloned().unwrap_or_default();
    if merges.is_empty() {
        return;
    }
    let index = pick % merges.len();
    let merge = &merges[index];
    let path = format!(
        "/api/EndUsers/{}/merges/{}/undo",
        merge.target, merge.merge_id
    );
    let response = api.post(&path, tenant, json!({})).await;
    let expected = undo_status(model, tenant, merge);
    assert_eq!(response.status, expected, "{step:?}: {}", response.body);
    if expected != 200 {
        return;
    }
    let Some(mut target) = model
        .users(tenant)
        .iter()
        .find(|u| u.id == merge.target)
        .cloned()
    else {
        return;
    };
    let source = &merge.source;
    target.uids = &target.uids - &source.uids;
    if source.reference.is_some() {
        target.reference = None;
    }
    let back: BTreeSet<u64> = source
        .merged_from
        .iter()
        .copied()
        .chain([source.id])
        .collect();
    target.merged_from = &target.merged_from - &back;
    model.replace(tenant, target);
    model.users.entry(tenant).or_default().push(source.clone());
    model.gone.remove(&(tenant, source.id));
    for id in &source.merged_from {
        model.gone.insert((tenant, *id), Some(source.id));
    }
    if let Some(merges) = model.merges.get_mut(&tenant) {
        merges[index].undone = true;
    }
}

/// Anonymizes the picked end user: its UIDs and customerRef freed.
pub async fn apply_anonymize(
    api: &TestApi,
    model: &mut Model,
    step: &Step,
    tenant: u64,
    pick: usize,
) {
    let Some(mut user) = model.picked(tenant, pick) else {
        return;
    };
    let path = format!("/api/EndUsers/{}/anonymize", user.id);
    let response = api.post(&path, tenant, json!({})).await;
    assert_eq!(response.status, 200, "{step:?}: {}", response.body);
    assert_eq!(response.body["uids"], json!([]), "{step:?}");
    user.uids.clear();
    user.reference = None;
    user.anonymized = true;
    model.replace(tenant, user);
}

/// Every merged end user answers 410 naming where it went, every gone one 404.
pub async fn check_gone(api: &TestApi, model: &Model, tenant: u64) {
    for ((of, id), into) in &model.gone {
        if *of != tenant {
            continue;
        }
        let read = api.get(&format!("/api/EndUsers/{id}"), tenant).await;
        match into {
            Some(target) => {
                assert_eq!(read.status, 410, "{id}: {}", read.body);
                assert_eq!(read.body["mergedInto"], *target, "{id}");
            }
            None => assert_eq!(read.status, 404, "{id}: {}", read.body),
        }
    }
}
