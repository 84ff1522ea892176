//! template.yaml declares the table the code expects (keys, index, projection, TTL).

use answerpal::store::end_user::BY_TENANT;
use answerpal::store::{EXPIRES_AT, PK, SK};

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
    assert_eq!(projected, index.projected);
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
