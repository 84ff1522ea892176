//! template.yaml declares the table the code expects (keys, index, projection, TTL) and the
//! least privilege of the functions.

use answerpal::store::end_user::BY_TENANT;
use answerpal::store::{EXPIRES_AT, PK, SK};
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

/// Tenant secrets: a KMS key outside the table, usable only by the customers function, and only
/// for data keys of tenant secrets.
#[test]
fn only_the_customers_function_may_use_the_secrets_key() {
    assert!(contains("Type: AWS::KMS::Key") && contains("EnableKeyRotation: true"));
    assert!(contains("SECRETS_KMS_KEY_ID: !GetAtt SecretsKey.Arn"));
    let uses = TEMPLATE.matches("Resource: !GetAtt SecretsKey.Arn").count();
    assert_eq!(uses, 1, "one function is granted the key");
    let customers = TEMPLATE
        .split_once("  CustomersFunction:")
        .map(|(_, rest)| rest)
        .expect("the customers function");
    let grant = customers
        .split_once("Resource: !GetAtt SecretsKey.Arn")
        .and_then(|(before, _)| before.rsplit_once("- Effect: Allow").map(|(_, g)| g))
        .expect("its KMS grant");
    assert!(grant.contains("kms:GenerateDataKey") && grant.contains("kms:Decrypt"));
    assert!(!grant.contains("kms:Encrypt") && !grant.contains("kms:*"));
    assert!(customers.contains(&format!(
        "\"kms:EncryptionContext:purpose\": {}",
        KeyContext::PURPOSE
    )));
}
