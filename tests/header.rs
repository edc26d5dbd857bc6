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
