//! The JSON copy of the vendored OpenAPI document (what the contract checks read) is the YAML
//! original, parsed: converting it cannot have changed a value.
#![cfg(feature = "contract")]

#[test]
fn the_json_spec_equals_the_yaml_spec_parsed() {
    let from_yaml: serde_json::Value =
        serde_yaml::from_str(synthflow::contract::SPEC_YAML).expect("the YAML original parses");
    let from_json: serde_json::Value =
        serde_json::from_str(synthflow::contract::SPEC_JSON).expect("the JSON copy parses");
    assert_eq!(from_json, from_yaml);
}
