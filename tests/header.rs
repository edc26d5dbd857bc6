//! The committed include/gsms.h is exactly what build.rs generates from src/ffi.

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/gsms.h"));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/gsms.h")).expect("include/gsms.h exists");
    assert!(
        committed == generated,
        "include/gsms.h differs from what build.rs generates: run `cargo build` and commit include/gsms.h"
    );
}

#[test]
fn header_declares_every_function_of_the_contract() {
    let h = include_str!(concat!(env!("OUT_DIR"), "/gsms.h"));
    for f in [
        "gsms_abi_version",
        "gsms_version_string",
        "gsms_status_name",
        "gsms_config_new",
        "gsms_config_free",
        "gsms_config_set_base_url",
        "gsms_config_set_user_agent",
        "gsms_config_set_timeouts",
        "gsms_config_set_retry_policy",
        "gsms_config_set_auth_token",
        "gsms_config_set_xbl_token",
        "gsms_config_set_token_provider",
        "gsms_config_set_log_callback",
        "gsms_config_set_callback_mode",
        "gsms_config_set_worker_threads",
        "gsms_config_set_ca_bundle_path",
        "gsms_token_sink_set",
        "gsms_client_new",
        "gsms_client_free",
        "gsms_client_set_auth_token",
        "gsms_client_dispatch",
        "gsms_client_warmup",
        "gsms_cluster_request_new",
        "gsms_cluster_request_free",
        "gsms_cluster_request_set_session_id",
        "gsms_cluster_request_set_session",
        "gsms_cluster_request_set_abort_if_queued",
        "gsms_client_create_cluster",
        "gsms_client_allocate_cluster",
        "gsms_client_create_cluster_async",
        "gsms_client_allocate_cluster_async",
        "gsms_operation_cancel",
        "gsms_operation_free",
        "gsms_operation_take_result",
        "gsms_cluster_result_status",
        "gsms_cluster_result_fulfillment_state",
        "gsms_cluster_result_poll_interval_ms",
        "gsms_cluster_result_host_name",
        "gsms_cluster_result_region",
        "gsms_cluster_result_secure_context",
        "gsms_cluster_result_port_count",
        "gsms_cluster_result_port",
        "gsms_cluster_result_http_status",
        "gsms_cluster_result_attempts",
        "gsms_cluster_result_correlation_id",
        "gsms_cluster_result_retry_after_ms",
        "gsms_cluster_result_error_message",
        "gsms_cluster_result_raw_json",
        "gsms_cluster_result_clone",
        "gsms_cluster_result_free",
        // The family (FAMILY.md's names).
        "gsms_call_info_attempts",
        "gsms_call_info_correlation_id",
        "gsms_call_info_error_message",
        "gsms_call_info_http_status",
        "gsms_call_info_raw_json",
        "gsms_call_info_retry_after_ms",
        "gsms_call_info_status",
        "gsms_client_allocate_inline_cluster",
        "gsms_client_allocate_inline_cluster_async",
        "gsms_client_allocate_session_host",
        "gsms_client_create_inline_cluster",
        "gsms_client_create_session_host",
        "gsms_client_get_allocation_status",
        "gsms_client_get_qos_servers",
        "gsms_client_get_ticket_status",
        "gsms_client_get_ticket_status_async",
        "gsms_client_get_variants",
        "gsms_client_measure_qos",
        "gsms_cluster_result_info",
        "gsms_inline_cluster_request_new",
        "gsms_qos_probe_add_servers",
        "gsms_qos_probe_add_target",
        "gsms_qos_probe_new",
        "gsms_qos_probe_set_options",
        "gsms_qos_result_best_region",
        "gsms_qos_result_region",
        "gsms_qos_servers_result_server",
        "gsms_session_host_request_new",
        "gsms_ticket_result_port",
        "gsms_ticket_result_status",
        "gsms_ticket_result_title_id",
        "gsms_token_sink_method",
        "gsms_token_sink_set_signature",
        "gsms_token_sink_url",
        "gsms_variants_request_new",
        "gsms_variants_result_gsi_set",
        "gsms_variants_result_gsi_set_tag",
        "gsms_variants_result_schema",
        "gsms_variants_result_variant",
    ] {
        assert!(h.contains(&format!(" {f}(")) || h.contains(&format!("*{f}(")), "{f} missing from gsms.h");
    }
    for t in [
        "gsms_status",
        "gsms_fulfillment_state",
        "gsms_callback_mode",
        "gsms_log_level",
        "gsms_log_fn",
        "gsms_token_provider_fn",
        "gsms_cluster_callback",
        "gsms_progress_callback",
    ] {
        assert!(h.contains(t), "{t} missing");
    }
    assert!(h.contains("typedef gsms_status (*gsms_token_provider_fn)("));
}

/// Every name the header defines is in the library's namespace: `gsms_` / `GSMS_` (a Rust type
/// or constant leaking in, say `InlineField`, would clash with a game's own names).
#[test]
fn every_name_the_header_defines_is_prefixed() {
    let h = include_str!(concat!(env!("OUT_DIR"), "/gsms.h"));
    let ident = |s: &str| s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("").to_string();
    let last_ident = |s: &str| {
        let s = s.trim_end_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        let start = s.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        s[start..].to_string()
    };
    let (mut names, mut in_comment, mut in_enum) = (Vec::new(), false, false);
    for line in h.lines() {
        let t = line.trim();
        if in_comment || t.starts_with("/*") {
            in_comment = !t.contains("*/");
            continue;
        }
        if t.is_empty()
            || t.starts_with("//")
            || t.starts_with("#if")
            || t.starts_with("#endif")
            || t.starts_with("#include")
        {
            continue;
        }
        if let Some(rest) = t.strip_prefix("#define ") {
            names.push(ident(rest));
        } else if let Some(rest) = t.strip_prefix("enum ") {
            names.push(ident(rest));
            in_enum = true;
        } else if in_enum {
            if t.starts_with('}') {
                in_enum = false;
            } else if t.starts_with(|c: char| c.is_ascii_alphabetic()) {
                names.push(ident(t));
            }
        } else if let Some(rest) = t.strip_prefix("typedef struct ").or_else(|| t.strip_prefix("typedef enum ")) {
            names.extend(rest.trim_end_matches(';').split_whitespace().map(&ident));
        } else if let Some(i) = t.find("(*") {
            names.push(ident(&t[i + 2..]));
        } else if let Some(i) = t.find('(') {
            // A function declaration: the identifier right before its '('.
            names.push(last_ident(&t[..i]));
        }
    }
    names.retain(|n| !n.is_empty() && n != "extern");
    assert!(names.len() > 200, "parsed only {} names: {names:?}", names.len());
    assert!(names.iter().any(|n| n == "GSMS_ERR_ALLOCATION_FAILED") && names.iter().any(|n| n == "gsms_qos_probe_new"));
    let stray: Vec<&String> = names.iter().filter(|n| !n.starts_with("gsms_") && !n.starts_with("GSMS_")).collect();
    assert!(stray.is_empty(), "names outside gsms_/GSMS_ in include/gsms.h: {stray:?}");
}
