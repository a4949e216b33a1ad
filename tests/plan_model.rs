//! The typed plan model: every shape the issue lists, one scenario each.

use planguard::plan::{parse, Actions, ConfigResource, Expression, InstanceKey, Mode, PlanError};

fn rc(actions: &str, extra: &str) -> String {
    format!(r#"{{"address":"x.y","type":"x","name":"y","change":{{"actions":{actions}{extra}}}}}"#)
}

fn plan_with(rcs: &[String]) -> String {
    format!(
        r#"{{"format_version":"1.2","resource_changes":[{}]}}"#,
        rcs.join(",")
    )
}

#[test]
fn every_action_list_is_typed() {
    let cases = [
        (r#"["no-op"]"#, Actions::NoOp),
        (r#"["create"]"#, Actions::Create),
        (r#"["read"]"#, Actions::Read),
        (r#"["update"]"#, Actions::Update),
        (r#"["delete"]"#, Actions::Delete),
        (r#"["delete","create"]"#, Actions::DeleteThenCreate),
        (r#"["create","delete"]"#, Actions::CreateThenDelete),
        (r#"["forget"]"#, Actions::Forget),
        (r#"["create","forget"]"#, Actions::CreateThenForget),
        (r#"["forget","create"]"#, Actions::ForgetThenCreate),
    ];
    let json = plan_with(&cases.iter().map(|(a, _)| rc(a, "")).collect::<Vec<_>>());
    let plan = parse("p", &json).unwrap();
    for (rc, (_, expected)) in plan.resource_changes.iter().zip(cases) {
        assert_eq!(rc.change.actions, expected);
    }
    let counts = plan.change_counts();
    assert_eq!(
        (counts.create, counts.replace, counts.forget, counts.no_op),
        (1, 2, 3, 1)
    );
    assert!(Actions::DeleteThenCreate.destroys() && !Actions::Forget.destroys());
    assert_eq!(Actions::DeleteThenCreate.symbol(), "-/+");
}

#[test]
fn bad_action_lists_name_the_path() {
    let err = parse(
        "plan.json",
        &plan_with(&[rc(r#"["create"]"#, ""), rc(r#"["update","delete"]"#, "")]),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "plan.json: resource_changes[1].change.actions: unsupported action combination"
        ),
        "{msg}"
    );
    let err = parse(
        "plan.json",
        &plan_with(&[
            rc(r#"["create"]"#, ""),
            rc(r#"["create"]"#, ""),
            rc(r#"["create"]"#, ""),
            rc(r#"["explode"]"#, ""),
        ]),
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::Invalid { .. }));
    assert!(
        err.to_string().starts_with(
            "plan.json: resource_changes[3].change.actions[0]: unknown action \"explode\""
        ),
        "{err}"
    );
}

#[test]
fn planned_values_and_configuration_resources_are_checked_though_not_kept() {
    let planned = |second: &str| {
        format!(
            r#"{{"format_version":"1.2","planned_values":{{"root_module":{{"resources":[
            {{"address":"a.b","mode":"managed","type":"a","name":"b","values":{{}}}},{second}]}}}}}}"#
        )
    };
    let text = planned(r#"{"address":"c.d","mode":"data","type":"c","name":"d"}"#);
    let ok = parse("plan.json", &text).expect("a well-formed planned_values parses");
    let root = ok
        .planned_values
        .as_ref()
        .and_then(|v| v.root_module.as_ref());
    assert_eq!(root.map(|m| m.resources.len), Some(2));
    let refused_at = |text: String, path: &str| {
        let err = parse("plan.json", &text).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("plan.json: {path}:")),
            "{err}"
        );
    };
    let sideways = r#"{"address":"c.d","mode":"sideways","type":"c","name":"d"}"#;
    refused_at(
        planned(sideways),
        "planned_values.root_module.resources[1].mode",
    );
    refused_at(
        planned(r#""not a resource""#),
        "planned_values.root_module.resources[1]",
    );
    let configured = |second: &str| {
        format!(
            r#"{{"format_version":"1.2","configuration":{{"root_module":{{"resources":[
            {{"address":"a.b","mode":"managed","type":"a","name":"b"}},{second}]}}}}}}"#
        )
    };
    refused_at(
        configured(sideways),
        "configuration.root_module.resources[1].mode",
    );
}

#[test]
fn index_modes_modules_markers_and_unknowns() {
    let json = r#"{"format_version":"1.1","terraform_version":"1.6.0",
      "resource_changes":[
        {"address":"module.a[0].aws_s3_bucket.b[\"k\"]","module_address":"module.a[0]","mode":"managed","type":"aws_s3_bucket","name":"b","index":"k",
         "change":{"actions":["create"],"after":{"bucket":"n"},"after_unknown":{"id":true},"before_sensitive":false,"after_sensitive":{"tags":{}}}},
        {"address":"data.aws_caller_identity.c","mode":"data","type":"aws_caller_identity","name":"c","index":3,
         "change":{"actions":["read"],"after_unknown":true,"after_sensitive":true}},
        {"address":"ephemeral.random_password.p","mode":"ephemeral","type":"random_password","name":"p",
         "change":{"actions":["open"]}}
      ]}"#;
    // `open` is not a plan action: the third entry makes the plan invalid, naming it.
    let err = parse("p", json).unwrap_err();
    assert!(
        err.to_string()
            .contains("resource_changes[2].change.actions[0]: unknown action \"open\""),
        "{err}"
    );

    let json = json.replace(r#""actions":["open"]"#, r#""actions":["no-op"]"#);
    let plan = parse("p", &json).unwrap();
    let [b, c, p] = &plan.resource_changes[..] else {
        panic!()
    };
    assert_eq!(b.index, Some(InstanceKey::Str("k".into())));
    assert_eq!(b.module_address.as_deref(), Some("module.a[0]"));
    assert_eq!(c.index, Some(InstanceKey::Int(3)));
    assert_eq!(
        (b.mode, c.mode, p.mode),
        (Mode::Managed, Mode::Data, Mode::Ephemeral)
    );
    assert_eq!(b.change.after_unknown.unwrap().get(), r#"{"id":true}"#);
    assert_eq!(c.change.after_unknown.unwrap().get(), "true");
    assert_eq!(b.change.before_sensitive.unwrap().get(), "false");
    assert_eq!(c.change.after_sensitive.unwrap().get(), "true");
    assert!(p.change.after.is_none(), "absent keys are None");
}

#[test]
fn configuration_provider_config_and_expressions() {
    let json = r#"{"format_version":"1.2",
      "configuration":{
        "provider_config":{"aws":{"name":"aws","full_name":"registry.terraform.io/hashicorp/aws",
          "expressions":{
            "region":{"constant_value":"eu-west-1"},
            "allowed_account_ids":{"constant_value":["111111111111"]},
            "assume_role":[{"role_arn":{"references":["var.role_arn"]}}],
            "default_tags":[{"tags":{"constant_value":{"Owner":"platform"}}}]}}},
        "root_module":{
          "resources":[{"address":"aws_s3_bucket_public_access_block.b","mode":"managed","type":"aws_s3_bucket_public_access_block","name":"b",
            "expressions":{"bucket":{"references":["aws_s3_bucket.b.id","aws_s3_bucket.b"]},"block_public_acls":{"constant_value":true}}}],
          "module_calls":{"net":{"source":"./net","module":{"resources":[{"address":"aws_vpc.v","type":"aws_vpc","name":"v"}]}}}}},
      "prior_state":{"format_version":"1.0","values":{"root_module":{"resources":[]}}},
      "resource_drift":[{"mode":"managed","type":"aws_vpc","name":"v","module_address":"module.net","change":{"actions":["update"]}}],
      "output_changes":{"id":{"actions":["create"],"after_unknown":true}},
      "checks":[{"address":{"kind":"check","name":"health","to_display":"check.health"},"status":"unknown"}]}"#;
    let plan = parse("p", json).unwrap();
    let config = plan.configuration.as_ref().unwrap();
    let aws = &config.provider_config["aws"];
    assert_eq!(
        aws.expressions["region"].constant(),
        Some(&serde_json::json!("eu-west-1"))
    );
    assert_eq!(
        aws.expressions["allowed_account_ids"].constant(),
        Some(&serde_json::json!(["111111111111"]))
    );
    let Expression::Blocks(roles) = &aws.expressions["assume_role"] else {
        panic!("assume_role is a block list")
    };
    assert_eq!(roles[0]["role_arn"].references(), ["var.role_arn"]);
    let Expression::Blocks(tags) = &aws.expressions["default_tags"] else {
        panic!()
    };
    assert_eq!(
        tags[0]["tags"].constant(),
        Some(&serde_json::json!({"Owner": "platform"}))
    );
    let root = config.root_module.as_ref().unwrap();
    assert_eq!(root.resources.len, 1);
    assert_eq!(
        root.module_calls["net"]
            .module
            .as_ref()
            .unwrap()
            .resources
            .len,
        1
    );
    // Blocks are checked, not kept; one block's expressions are typed on demand.
    let block: ConfigResource = serde_json::from_str(
        r#"{"address":"aws_s3_bucket_public_access_block.b","type":"aws_s3_bucket_public_access_block",
            "name":"b","expressions":{"bucket":{"references":["aws_s3_bucket.b.id","aws_s3_bucket.b"]}}}"#,
    )
    .unwrap();
    assert_eq!(
        block.expressions().unwrap()["bucket"].references(),
        ["aws_s3_bucket.b.id", "aws_s3_bucket.b"]
    );
    assert!(plan.prior_state.is_some());
    assert_eq!(
        plan.resource_drift[0].address, "module.net.aws_vpc.v",
        "derived when Terraform 1.0 left it out"
    );
    assert_eq!(plan.output_changes["id"].actions, Actions::Create);
    assert_eq!(plan.checks[0].status, "unknown");
}

#[test]
fn format_versions_zero_one_to_one_x_are_accepted_and_unknown_fields_ignored() {
    for v in ["0.1", "0.2", "1.0", "1.2", "1.9"] {
        let json = format!(
            r#"{{"format_version":"{v}","some_future_field":{{"x":1}},"resource_changes":[]}}"#
        );
        assert!(parse("p", &json).is_ok(), "{v}");
    }
    assert!(parse("p", r#"{"format_version":"2.0"}"#)
        .unwrap_err()
        .to_string()
        .contains("newer than planguard understands"));
}
