//! template.yaml declares the table the code expects (keys, index, projection, TTL) and the
//! least privilege of the functions.

use answerpal::store::end_user::BY_TENANT;
use answerpal::store::{EXPIRES_AT, PK, Projection, SK};
use answerpal::vault::KeyContext;

const TEMPLATE: &str = include_str!("../../template.yaml");

fn contains(fragment: &str) -> bool {
    TEMPLATE.contains(fragment)
}

#[test]
fn the_table_matches_the_single_table_design() {
    let index = &BY_TENANT;
    for (name, kind) in [
        (PK, "S"),
        (SK, "S"),
        (index.partition_key, "S"),
        (index.sort_key, "N"),
    ] {
        assert!(
            contains(&format!(
                "- AttributeName: {name}\n          AttributeType: {kind}"
            )),
            "{name} ({kind}) is not defined"
        );
    }
    assert!(contains(&format!("IndexName: {}", index.name)));
    assert!(contains("ProjectionType: INCLUDE"));
    let projected = TEMPLATE
        .split("NonKeyAttributes:")
        .nth(1)
        .expect("NonKeyAttributes")
        .lines()
        .skip(1)
        .map_while(|line| line.trim().strip_prefix("- "))
        .collect::<Vec<_>>();
    assert_eq!(projected, answerpal::store::end_user::LISTED);
    assert!(contains(&format!(
        "AttributeName: {EXPIRES_AT}\n        Enabled: true"
    )));
    assert!(contains("BillingMode: PAY_PER_REQUEST"));
}

#[test]
fn functions_are_arm64_custom_runtimes_without_a_clear_secret() {
    for fragment in [
        "Runtime: provided.al2023",
        "Handler: bootstrap",
        "Architectures: [arm64]",
        "NoEcho: true",
        "Type: AWS::Serverless::HttpApi",
    ] {
        assert!(contains(fragment), "{fragment}");
    }
    assert!(
        contains("JWT_SECRET: !Ref JwtSecret"),
        "the secret comes from the NoEcho parameter"
    );
}

/// The resources of `function` in template.yaml: from its line to the next top-level resource.
fn function(name: &str) -> &'static str {
    let rest = TEMPLATE
        .split_once(&format!("\n  {name}:\n"))
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{name} is not in template.yaml"));
    let end = rest
        .match_indices("\n  ")
        .find(|(at, _)| rest[at + 3..].starts_with(|c: char| c.is_ascii_alphabetic()))
        .map_or(rest.len(), |(at, _)| at);
    &rest[..end]
}

/// The KMS actions `function` is granted on the secrets key.
fn kms_grant(name: &str) -> Option<&'static str> {
    function(name)
        .split_once("Resource: !GetAtt SecretsKey.Arn")
        .and_then(|(before, _)| before.rsplit_once("- Effect: Allow").map(|(_, g)| g))
}

/// Suppression digests (SPEC 9): an HMAC key outside the table; the functions that link or
/// erase addresses may compute MACs with it and nothing else; no other function may use it.
#[test]
fn only_the_functions_that_link_or_erase_addresses_may_mac_with_the_suppression_key() {
    let key = function("SuppressionKey");
    assert!(key.contains("KeySpec: HMAC_256") && key.contains("KeyUsage: GENERATE_VERIFY_MAC"));
    let grant = |name: &str| {
        function(name)
            .split_once("Resource: !GetAtt SuppressionKey.Arn")
            .and_then(|(before, _)| before.rsplit_once("- Effect: Allow").map(|(_, g)| g))
    };
    let users = [
        "EndUsersFunction",
        "EndUserImportsFunction",
        "EndUserLifecycleFunction",
        "EndUserUidsFunction",
        "EndUserSyncFunction",
        "ContactSyncFunction",
        "WebhooksFunction",
    ];
    for name in users {
        let granted = grant(name).unwrap_or_else(|| panic!("{name} has no grant on the key"));
        assert_eq!(granted.matches("kms:").count(), 1, "{name}: {granted}");
        assert!(granted.contains("kms:GenerateMac"), "{name}");
        assert!(function(name).contains("SUPPRESSION_KMS_KEY_ID: !GetAtt SuppressionKey.Arn"));
    }
    for name in [
        "EndUserHygieneFunction",
        "EndUserTimelineFunction",
        "OpenApiFunction",
        "ChangeEventsFunction",
        "CustomersFunction",
        "TicketsFunction",
        "RetentionFunction",
        "ErasureFunction",
    ] {
        assert!(grant(name).is_none(), "{name} may not use the key");
    }
    assert_eq!(
        TEMPLATE
            .matches("Resource: !GetAtt SuppressionKey.Arn")
            .count(),
        users.len()
    );
}

/// Tenant secrets: a KMS key outside the table; the customers function seals and opens them,
/// the webhooks and both sync functions only open them, no other function may use the key, and
/// only for data keys of tenant secrets.
#[test]
fn only_the_functions_that_need_them_may_use_the_secrets_key() {
    assert!(contains("Type: AWS::KMS::Key") && contains("EnableKeyRotation: true"));
    let customers = kms_grant("CustomersFunction").expect("the customers grant");
    assert!(customers.contains("kms:GenerateDataKey") && customers.contains("kms:Decrypt"));
    let mut grants = vec![customers];
    let openers = [
        "WebhooksFunction",
        "EndUserSyncFunction",
        "ContactSyncFunction",
    ];
    for name in openers {
        let opens = kms_grant(name).unwrap_or_else(|| panic!("the grant of {name}"));
        assert!(opens.contains("kms:Decrypt") && !opens.contains("kms:GenerateDataKey"));
        grants.push(opens);
    }
    for grant in grants {
        assert!(!grant.contains("kms:Encrypt") && !grant.contains("kms:*"));
    }
    for name in std::iter::once("CustomersFunction").chain(openers) {
        assert!(function(name).contains("SECRETS_KMS_KEY_ID: !GetAtt SecretsKey.Arn"));
        assert!(function(name).contains(&format!(
            "\"kms:EncryptionContext:purpose\": {}",
            KeyContext::PURPOSE
        )));
    }
    for name in [
        "EndUsersFunction",
        "EndUserImportsFunction",
        "EndUserLifecycleFunction",
        "EndUserHygieneFunction",
        "EndUserTimelineFunction",
        "EndUserUidsFunction",
        "OpenApiFunction",
        "ChangeEventsFunction",
        "TicketsFunction",
        "RetentionFunction",
        "ErasureFunction",
    ] {
        assert!(kms_grant(name).is_none(), "{name} may not use the key");
    }
    assert_eq!(
        TEMPLATE.matches("Resource: !GetAtt SecretsKey.Arn").count(),
        1 + openers.len()
    );
}

/// The change events: the table streams new images to the change-events function, filtered to
/// new outbox items; a failed batch is retried from the record the function reports, a record
/// still failing goes to an SQS queue; the function may publish to its bus and send to that
/// queue, and touch nothing else.
#[test]
fn the_outbox_streams_to_the_change_events_function() {
    assert!(contains(
        "StreamSpecification:\n        StreamViewType: NEW_IMAGE"
    ));
    let events = function("ChangeEventsFunction");
    for fragment in [
        "Binary: change-events",
        "Type: DynamoDB",
        "Stream: !GetAtt EndUsersTable.StreamArn",
        "StartingPosition: TRIM_HORIZON",
        "- ReportBatchItemFailures",
        "MaximumRetryAttempts: 10",
        "BisectBatchOnFunctionError: true",
        "Type: SQS\n                Destination: !GetAtt ChangeEventsFailures.Arn",
        "EVENT_BUS_NAME: !Ref ChangeEventsBus",
        "- events:PutEvents\n              Resource: !GetAtt ChangeEventsBus.Arn",
        "- sqs:SendMessage\n              Resource: !GetAtt ChangeEventsFailures.Arn",
    ] {
        assert!(events.contains(fragment), "{fragment}");
    }
    let filter = format!(
        r#"{{"eventName": ["INSERT"], "dynamodb": {{"NewImage": {{"{}": {{"S": ["{}"]}}}}}}}}"#,
        answerpal::store::item::KIND,
        answerpal::store::Kind::Outbox.as_str()
    );
    assert!(events.contains(&filter), "{filter}");
    assert!(!events.contains("dynamodb:") && !events.contains("kms:"));
    assert!(contains("Type: AWS::Events::EventBus") && contains("Type: AWS::SQS::Queue"));
}

/// Sync on contact (SPEC 10): a rule on the change events' bus queues the `EndUserCreated`
/// events that name a channel; the contact-sync function reads that queue only, reports failed
/// messages, and a message failing 4 times goes to a dead-letter queue; only the rule may send
/// to the queue.
#[test]
fn webhook_leads_are_queued_for_the_contact_sync_function() {
    let rule = function("ContactSyncRule");
    for fragment in [
        "EventBusName: !Ref ChangeEventsBus",
        "source: [answerpal.endusers]",
        "detail-type: [EndUserCreated]",
        "channelID: [{exists: true}]",
        "Arn: !GetAtt ContactSyncQueue.Arn",
    ] {
        assert!(rule.contains(fragment), "{fragment}");
    }
    let queue = function("ContactSyncQueue");
    let attempts = answerpal::service::contact_sync::ATTEMPTS;
    for fragment in [
        "deadLetterTargetArn: !GetAtt ContactSyncFailures.Arn".to_owned(),
        format!("maxReceiveCount: {attempts}"),
        "VisibilityTimeout: 60".to_owned(),
    ] {
        assert!(queue.contains(&fragment), "{fragment}");
    }
    let policy = function("ContactSyncQueuePolicy");
    assert!(policy.contains("Service: events.amazonaws.com"));
    assert!(policy.contains("\"aws:SourceArn\": !GetAtt ContactSyncRule.Arn"));
    let sync = function("ContactSyncFunction");
    for fragment in [
        "Binary: contact-sync",
        "Type: SQS",
        "Queue: !GetAtt ContactSyncQueue.Arn",
        "- ReportBatchItemFailures",
        "- sqs:GetQueueAttributes\n              Resource: !GetAtt ContactSyncQueue.Arn",
    ] {
        assert!(sync.contains(fragment), "{fragment}");
    }
    assert_eq!(
        sync.matches("sqs:").count(),
        4,
        "receive, delete, visibility, attributes"
    );
    assert!(!sync.contains("sqs:SendMessage") && !sync.contains("dynamodb:Scan"));
    assert!(!sync.contains("HttpApi"), "no route reaches it");
}

/// The OpenAPI document's function serves a compiled-in file: it may touch nothing.
#[test]
fn the_document_function_has_no_grant() {
    let document = function("OpenApiFunction");
    assert!(document.contains("Binary: openapi"));
    assert!(!document.contains("Policies:") && !document.contains("dynamodb:"));
}

/// Every index of the code, with its keys and projection; the retention sweep and the erasure
/// jobs on their schedules.
#[test]
fn every_index_and_the_retention_schedule_are_declared() {
    for index in answerpal::store::INDEXES {
        for (name, kind) in [(index.partition_key, "S"), (index.sort_key, "N")] {
            assert!(
                contains(&format!(
                    "- AttributeName: {name}\n          AttributeType: {kind}"
                )),
                "{name} ({kind}) is not defined"
            );
        }
        let declared = TEMPLATE
            .split_once(&format!("IndexName: {}\n", index.name))
            .map(|(_, rest)| rest.split("- IndexName").next().unwrap_or(rest))
            .unwrap_or_else(|| panic!("{} is not declared", index.name));
        assert!(declared.contains(&format!(
            "AttributeName: {}\n              KeyType: HASH",
            index.partition_key
        )));
        assert!(declared.contains(&format!(
            "AttributeName: {}\n              KeyType: RANGE",
            index.sort_key
        )));
        let projection = match index.projection {
            Projection::All => "ProjectionType: ALL",
            Projection::KeysOnly => "ProjectionType: KEYS_ONLY",
            Projection::Include(_) => "ProjectionType: INCLUDE",
        };
        assert!(declared.contains(projection), "{}", index.name);
    }
    let retention = function("RetentionFunction");
    assert!(retention.contains("Type: Schedule") && retention.contains("Schedule: rate(1 hour)"));
    assert!(retention.contains("index/GSI3"));
    let erasure = function("ErasureFunction");
    assert!(erasure.contains("Type: Schedule") && erasure.contains("Schedule: rate(5 minutes)"));
    assert!(erasure.contains("index/GSI2") && erasure.contains("index/GSI3"));
}

/// Every variable the functions read is declared (SAM passes `--env-vars` only for declared
/// ones), but those Lambda sets itself.
#[test]
fn every_setting_is_declared_for_the_functions() {
    let read = std::sync::Mutex::new(Vec::new());
    let _ = answerpal::config::Settings::from_lookup(|name| {
        read.lock().expect("names").push(name.to_owned());
        None
    });
    let read = read.into_inner().expect("names");
    assert!(read.len() > 10, "{read:?}");
    let globals = TEMPLATE
        .split_once("Globals:")
        .and_then(|(_, rest)| rest.split_once("\nResources:"))
        .map(|(globals, _)| globals)
        .expect("Globals");
    for name in read {
        let set_by_lambda = name.starts_with("AWS_");
        let local_server_only = name == "PORT";
        if !set_by_lambda && !local_server_only {
            assert!(
                globals.contains(&format!("\n        {name}: ")),
                "{name} is not declared"
            );
        }
    }
}
