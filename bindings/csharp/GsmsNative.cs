// GsmsNative.cs: raw P/Invoke declarations of include/gsms.h (hand-written; keep in step with it)
// and one SafeHandle per native handle. The safe API is in GsmsClient.cs.
//
// Rules kept here, for Mono, IL2CPP and .NET alike:
// - Strings go in as NUL-terminated UTF-8 byte[] and come out as IntPtr decoded by hand (Utf8);
//   no LPUTF8Str, whose support varies across Mono versions.
// - uint32_t is uint, never bool; size_t is UIntPtr; enums cross as uint.
// - Callbacks are Cdecl delegates; their targets are static methods marked [MonoPInvokeCallback].
using System;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

#if !UNITY_5_3_OR_NEWER
namespace AOT
{
    /// <summary>Marks reverse P/Invoke targets for IL2CPP/Mono AOT. Unity defines its own.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type) { Type = type; }
        public Type Type { get; private set; }
    }
}
#endif

namespace Gsms
{
    internal static class GsmsNative
    {
#if UNITY_IOS && !UNITY_EDITOR
        internal const string Lib = "__Internal";
#else
        internal const string Lib = "gsms";
#endif

        // typedef void (*gsms_cluster_callback)(void *user_data, gsms_status status, const gsms_cluster_result *result);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ClusterCallback(IntPtr userData, uint status, IntPtr result);

        // typedef void (*gsms_progress_callback)(void *user_data, const gsms_cluster_result *queued);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ProgressCallback(IntPtr userData, IntPtr queued);

        // typedef gsms_status (*gsms_token_provider_fn)(void *user_data, uint32_t force_refresh, gsms_token_sink *sink);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate uint TokenProviderFn(IntPtr userData, uint forceRefresh, IntPtr sink);

        // typedef void (*gsms_log_fn)(void *user_data, gsms_log_level level, const char *message);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void LogFn(IntPtr userData, uint level, IntPtr message);

        // The other result types' callbacks (same ABI as the cluster ones; one delegate type per
        // C typedef, so IL2CPP marshals each with its own [MonoPInvokeCallback] signature).
        // typedef void (*gsms_ticket_callback)(void *user_data, gsms_status status, const gsms_ticket_result *result);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void TicketCallback(IntPtr userData, uint status, IntPtr result);

        // typedef void (*gsms_variants_callback)(void *user_data, gsms_status status, const gsms_variants_result *result);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void VariantsCallback(IntPtr userData, uint status, IntPtr result);

        // typedef void (*gsms_qos_servers_callback)(void *user_data, gsms_status status, const gsms_qos_servers_result *result);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void QosServersCallback(IntPtr userData, uint status, IntPtr result);

        // typedef void (*gsms_qos_callback)(void *user_data, gsms_status status, const gsms_qos_result *result);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void QosCallback(IntPtr userData, uint status, IntPtr result);

        // typedef void (*gsms_session_host_callback)(void *user_data, gsms_status status, const gsms_session_host_result *result);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void SessionHostCallback(IntPtr userData, uint status, IntPtr result);

        // typedef void (*gsms_session_host_progress_callback)(void *user_data, const gsms_session_host_result *queued);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void SessionHostProgressCallback(IntPtr userData, IntPtr queued);

        // --- version and status ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_abi_version();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_version_string();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_status_name(uint status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_fulfillment_state_name(uint state);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_last_error_message();

        // --- config ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_config_new();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_config_free(IntPtr cfg);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_base_url(GsmsConfigHandle cfg, byte[] url);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_user_agent(GsmsConfigHandle cfg, byte[] ua);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_timeouts(GsmsConfigHandle cfg, uint connectMs, uint requestMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_connect_timeout(GsmsConfigHandle cfg, uint connectMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_request_timeout(GsmsConfigHandle cfg, uint requestMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_max_attempts(GsmsConfigHandle cfg, uint maxAttempts);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_retry_delays(GsmsConfigHandle cfg, uint baseDelayMs, uint maxDelayMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_discovery_base_url(GsmsConfigHandle cfg, byte[] url);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_retry_policy(GsmsConfigHandle cfg, uint maxAttempts, uint baseDelayMs, uint maxDelayMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_auth_token(GsmsConfigHandle cfg, byte[] authorization);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_xbl_token(GsmsConfigHandle cfg, byte[] userHash, byte[] token);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_token_provider(GsmsConfigHandle cfg, TokenProviderFn fn, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_token_sink_set(IntPtr sink, byte[] authorization);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_token_sink_set_signature(IntPtr sink, byte[] signature);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_token_sink_method(IntPtr sink);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_token_sink_url(IntPtr sink);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_log_callback(GsmsConfigHandle cfg, LogFn fn, IntPtr userData, uint minLevel);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_callback_mode(GsmsConfigHandle cfg, uint mode);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_worker_threads(GsmsConfigHandle cfg, uint n);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_config_set_ca_bundle_path(GsmsConfigHandle cfg, byte[] pemPath);

        // --- client ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_new(GsmsConfigHandle cfg, out IntPtr outClient);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_client_free(IntPtr client);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_set_auth_token(GsmsClientHandle client, byte[] authorization);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_dispatch(GsmsClientHandle client, uint maxCallbacks);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_warmup(GsmsClientHandle client);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_create_cluster(GsmsClientHandle client, GsmsClusterRequestHandle req, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_allocate_cluster(GsmsClientHandle client, GsmsClusterRequestHandle req, uint deadlineMs, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_create_cluster_async(GsmsClientHandle client, GsmsClusterRequestHandle req,
            ClusterCallback onDone, IntPtr userData, out IntPtr outOp);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_allocate_cluster_async(GsmsClientHandle client, GsmsClusterRequestHandle req,
            uint deadlineMs, ProgressCallback onProgress, ClusterCallback onDone, IntPtr userData, out IntPtr outOp);

        // --- operation ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_operation_cancel(GsmsOperationHandle op);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_operation_free(IntPtr op);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_operation_take_result(GsmsOperationHandle op, out IntPtr outResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_operation_take_cluster_result(GsmsOperationHandle op, out IntPtr outResult);
        /// <summary>gsms_operation_take_result with out_result = NULL: the status only, no copy to free.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, EntryPoint = "gsms_operation_take_result")]
        internal static extern uint OperationStatusOnly(GsmsOperationHandle op, IntPtr noResult);

        // --- request ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_cluster_request_new(uint titleId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_cluster_request_free(IntPtr req);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_cluster_request_set_session_id(GsmsClusterRequestHandle req, byte[] sessionId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_cluster_request_set_session(GsmsClusterRequestHandle req, byte[] scid, byte[] templateName, byte[] sessionName);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_cluster_request_set_abort_if_queued(GsmsClusterRequestHandle req, uint abortIfQueued);

        // --- result (IntPtr: read both owned results and the borrowed ones handed to callbacks) ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_cluster_result_status(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_cluster_result_fulfillment_state(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_cluster_result_poll_interval_ms(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_cluster_result_host_name(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_cluster_result_region(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_cluster_result_secure_context(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_cluster_result_port_count(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_cluster_result_port(IntPtr r, UIntPtr index, out IntPtr name, out uint internalPort, out uint externalPort);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern ushort gsms_cluster_result_http_status(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_cluster_result_attempts(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_cluster_result_correlation_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_cluster_result_retry_after_ms(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_cluster_result_error_message(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_cluster_result_raw_json(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_cluster_result_info(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_call_info_status(IntPtr info);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern ushort gsms_call_info_http_status(IntPtr info);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_call_info_attempts(IntPtr info);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_call_info_retry_after_ms(IntPtr info);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_call_info_correlation_id(IntPtr info);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_call_info_error_message(IntPtr info);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_call_info_raw_json(IntPtr info);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_call_info_describe(IntPtr info);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_cluster_result_clone(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_cluster_result_free(IntPtr r);

        // --- names ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_host_status_name(uint status);

        // --- inline clusters (POST /inlineclusters; results are gsms_cluster_result) ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_inline_cluster_request_new(uint titleId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_inline_cluster_request_free(IntPtr req);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_inline_cluster_request_set_service_config_id(GsmsInlineClusterRequestHandle req, byte[] serviceConfigId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_inline_cluster_request_set_sandbox_id(GsmsInlineClusterRequestHandle req, byte[] sandboxId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_inline_cluster_request_set_ticket_id(GsmsInlineClusterRequestHandle req, byte[] ticketId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_inline_cluster_request_set_gsi_set_id(GsmsInlineClusterRequestHandle req, byte[] gsiSetId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_inline_cluster_request_set_game_variant_id(GsmsInlineClusterRequestHandle req, byte[] gameVariantId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_inline_cluster_request_set_location(GsmsInlineClusterRequestHandle req, byte[] location);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_inline_cluster_request_set_max_allowed_players(GsmsInlineClusterRequestHandle req, uint maxAllowedPlayers);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_inline_cluster_request_set_abort_if_queued(GsmsInlineClusterRequestHandle req, uint abortIfQueued);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_create_inline_cluster(GsmsClientHandle client, GsmsInlineClusterRequestHandle req, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_allocate_inline_cluster(GsmsClientHandle client, GsmsInlineClusterRequestHandle req, uint deadlineMs, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_create_inline_cluster_async(GsmsClientHandle client, GsmsInlineClusterRequestHandle req,
            ClusterCallback onDone, IntPtr userData, out IntPtr outOp);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_allocate_inline_cluster_async(GsmsClientHandle client, GsmsInlineClusterRequestHandle req,
            uint deadlineMs, ProgressCallback onProgress, ClusterCallback onDone, IntPtr userData, out IntPtr outOp);

        // --- ticket status (GET /tickets/{ticketId}/status) ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_get_ticket_status(GsmsClientHandle client, uint titleId, byte[] ticketId, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_get_ticket_status_async(GsmsClientHandle client, uint titleId, byte[] ticketId,
            TicketCallback onDone, IntPtr userData, out IntPtr outOp);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_operation_take_ticket_result(GsmsOperationHandle op, out IntPtr outResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_ticket_result_info(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_ticket_result_status(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_ticket_result_title_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_ticket_result_ticket_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_ticket_result_cluster_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_ticket_result_host_name(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_ticket_result_description(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_ticket_result_secure_context(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_ticket_result_game_host_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_ticket_result_region(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_ticket_result_port_count(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_ticket_result_port(IntPtr r, UIntPtr index, out IntPtr name, out uint internalPort, out uint externalPort);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_ticket_result_clone(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_ticket_result_free(IntPtr r);

        // --- variants (POST /variants on the discovery host) ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_variants_request_new(uint titleId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_variants_request_free(IntPtr req);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_variants_request_set_locale(GsmsVariantsRequestHandle req, byte[] locale);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_variants_request_set_max_allowed_players(GsmsVariantsRequestHandle req, uint n);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_variants_request_set_max_variants(GsmsVariantsRequestHandle req, uint n);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_variants_request_set_publisher_only(GsmsVariantsRequestHandle req, uint publisherOnly);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_variants_request_add_tag(GsmsVariantsRequestHandle req, byte[] name, byte[] value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_get_variants(GsmsClientHandle client, GsmsVariantsRequestHandle req, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_get_variants_async(GsmsClientHandle client, GsmsVariantsRequestHandle req,
            VariantsCallback onDone, IntPtr userData, out IntPtr outOp);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_operation_take_variants_result(GsmsOperationHandle op, out IntPtr outResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_variants_result_info(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_variants_result_variant_count(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_variants_result_variant(IntPtr r, UIntPtr index, out IntPtr id, out IntPtr name, out uint isPublisher,
            out ulong rank, out IntPtr schemaId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_variants_result_schema_count(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_variants_result_schema(IntPtr r, UIntPtr index, out IntPtr id, out IntPtr name, out IntPtr content);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_variants_result_gsi_set_count(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_variants_result_gsi_set(IntPtr r, UIntPtr index, out IntPtr id, out IntPtr name, out ulong minPlayers,
            out ulong maxPlayers, out ulong selectionOrder, out IntPtr schemaId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_variants_result_gsi_set_tag_count(IntPtr r, UIntPtr set);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_variants_result_gsi_set_tag(IntPtr r, UIntPtr set, UIntPtr index, out IntPtr name, out IntPtr value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_variants_result_clone(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_variants_result_free(IntPtr r);

        // --- QoS servers (GET /xplatqosservers or /qosservers on the discovery host) ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_get_qos_servers(GsmsClientHandle client, uint crossPlatform, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_get_qos_servers_async(GsmsClientHandle client, uint crossPlatform,
            QosServersCallback onDone, IntPtr userData, out IntPtr outOp);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_operation_take_qos_servers_result(GsmsOperationHandle op, out IntPtr outResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_qos_servers_result_info(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_qos_servers_result_count(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_qos_servers_result_server(IntPtr r, UIntPtr index, out IntPtr fqdn, out IntPtr secureDeviceAddress,
            out IntPtr targetLocation);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_qos_servers_result_clone(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_qos_servers_result_free(IntPtr r);

        // --- QoS measurement (UDP beacons) ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_qos_probe_new();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_qos_probe_free(IntPtr probe);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_qos_probe_add_target(GsmsQosProbeHandle probe, byte[] region, byte[] host, uint port);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_qos_probe_add_servers(GsmsQosProbeHandle probe, GsmsQosServersResultHandle servers);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_qos_probe_set_options(GsmsQosProbeHandle probe, uint probesPerRegion, uint parallelism, uint timeoutMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_qos_probe_target_count(GsmsQosProbeHandle probe);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_measure_qos(GsmsClientHandle client, GsmsQosProbeHandle probe, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_measure_qos_async(GsmsClientHandle client, GsmsQosProbeHandle probe,
            QosCallback onDone, IntPtr userData, out IntPtr outOp);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_operation_take_qos_result(GsmsOperationHandle op, out IntPtr outResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_qos_result_info(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_qos_result_region_count(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_qos_result_region(IntPtr r, UIntPtr index, out IntPtr name, out uint latencyUs, out uint sent, out uint received);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_qos_result_region_message(IntPtr r, UIntPtr index);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_qos_result_region_address(IntPtr r, UIntPtr index);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_qos_result_best_region(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_qos_result_clone(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_qos_result_free(IntPtr r);

        // --- session hosts (POST /sessionhosts) and allocation status (GET .../allocationStatus) ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_request_new(uint titleId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_session_host_request_free(IntPtr req);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_session_host_request_set_session_id(GsmsSessionHostRequestHandle req, byte[] sessionId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_session_host_request_set_cloud_game_id(GsmsSessionHostRequestHandle req, byte[] cloudGameId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_session_host_request_add_location(GsmsSessionHostRequestHandle req, byte[] location);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_session_host_request_set_session_cookie(GsmsSessionHostRequestHandle req, byte[] sessionCookie);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_session_host_request_set_game_mode_id(GsmsSessionHostRequestHandle req, byte[] gameModeId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_session_host_request_set_sandbox_id(GsmsSessionHostRequestHandle req, byte[] sandboxId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_create_session_host(GsmsClientHandle client, GsmsSessionHostRequestHandle req, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_allocate_session_host(GsmsClientHandle client, GsmsSessionHostRequestHandle req, uint deadlineMs, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_get_allocation_status(GsmsClientHandle client, uint titleId, byte[] sessionId, out IntPtr result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_create_session_host_async(GsmsClientHandle client, GsmsSessionHostRequestHandle req,
            SessionHostCallback onDone, IntPtr userData, out IntPtr outOp);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_allocate_session_host_async(GsmsClientHandle client, GsmsSessionHostRequestHandle req, uint deadlineMs,
            SessionHostProgressCallback onProgress, SessionHostCallback onDone, IntPtr userData, out IntPtr outOp);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_client_get_allocation_status_async(GsmsClientHandle client, uint titleId, byte[] sessionId,
            SessionHostCallback onDone, IntPtr userData, out IntPtr outOp);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_operation_take_session_host_result(GsmsOperationHandle op, out IntPtr outResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_info(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_session_host_result_fulfillment_state(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_host_name(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_region(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_secure_context(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_session_host_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_session_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_description(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_cluster_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_ticket_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_game_host_id(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr gsms_session_host_result_port_count(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint gsms_session_host_result_port(IntPtr r, UIntPtr index, out IntPtr name, out uint internalPort, out uint externalPort);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr gsms_session_host_result_clone(IntPtr r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void gsms_session_host_result_free(IntPtr r);

        // take_<kind>_result with out_result = NULL: the status only, no copy to free (what
        // GsmsOperation.IsCompleted polls every frame).
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, EntryPoint = "gsms_operation_take_ticket_result")]
        internal static extern uint TicketStatusOnly(GsmsOperationHandle op, IntPtr noResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, EntryPoint = "gsms_operation_take_variants_result")]
        internal static extern uint VariantsStatusOnly(GsmsOperationHandle op, IntPtr noResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, EntryPoint = "gsms_operation_take_qos_servers_result")]
        internal static extern uint QosServersStatusOnly(GsmsOperationHandle op, IntPtr noResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, EntryPoint = "gsms_operation_take_qos_result")]
        internal static extern uint QosStatusOnly(GsmsOperationHandle op, IntPtr noResult);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, EntryPoint = "gsms_operation_take_session_host_result")]
        internal static extern uint SessionHostStatusOnly(GsmsOperationHandle op, IntPtr noResult);
    }

    /// <summary>UTF-8 by hand: NUL-terminated byte[] in, IntPtr out.</summary>
    internal static class Utf8
    {
        /// <summary>NUL-terminated UTF-8, or null for null (the library then answers INVALID_ARGUMENT).</summary>
        internal static byte[] Encode(string s, string what)
        {
            if (s == null) return null;
            if (s.IndexOf('\0') >= 0)
                throw new GsmsException(GsmsStatus.InvalidArgument, what + " contains a NUL character");
            int n = Encoding.UTF8.GetByteCount(s);
            var bytes = new byte[n + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Copies a NUL-terminated UTF-8 string; "" for NULL.</summary>
        internal static string Decode(IntPtr p)
        {
            if (p == IntPtr.Zero) return "";
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0) len++;
            if (len == 0) return "";
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }
    }

    /// <summary>An owned gsms_config (freed with gsms_config_free).</summary>
    public sealed class GsmsConfigHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsConfigHandle() : base(true) { }
        internal GsmsConfigHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_config_free(handle); return true; }
    }

    /// <summary>An owned gsms_client (freed with gsms_client_free, which runs the remaining completions).</summary>
    public sealed class GsmsClientHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsClientHandle() : base(true) { }
        internal GsmsClientHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_client_free(handle); return true; }
    }

    /// <summary>An owned gsms_cluster_request (freed with gsms_cluster_request_free).</summary>
    public sealed class GsmsClusterRequestHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsClusterRequestHandle() : base(true) { }
        internal GsmsClusterRequestHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_cluster_request_free(handle); return true; }
    }

    /// <summary>An owned gsms_cluster_result (freed with gsms_cluster_result_free). Never wrap a borrowed one.</summary>
    public sealed class GsmsClusterResultHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsClusterResultHandle() : base(true) { }
        internal GsmsClusterResultHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_cluster_result_free(handle); return true; }
    }

    /// <summary>An owned gsms_operation (freed with gsms_operation_free, which does not cancel).</summary>
    public sealed class GsmsOperationHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsOperationHandle() : base(true) { }
        internal GsmsOperationHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_operation_free(handle); return true; }
    }

    /// <summary>An owned gsms_inline_cluster_request (freed with gsms_inline_cluster_request_free).</summary>
    public sealed class GsmsInlineClusterRequestHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsInlineClusterRequestHandle() : base(true) { }
        internal GsmsInlineClusterRequestHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_inline_cluster_request_free(handle); return true; }
    }

    /// <summary>An owned gsms_variants_request (freed with gsms_variants_request_free).</summary>
    public sealed class GsmsVariantsRequestHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsVariantsRequestHandle() : base(true) { }
        internal GsmsVariantsRequestHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_variants_request_free(handle); return true; }
    }

    /// <summary>An owned gsms_session_host_request (freed with gsms_session_host_request_free).</summary>
    public sealed class GsmsSessionHostRequestHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsSessionHostRequestHandle() : base(true) { }
        internal GsmsSessionHostRequestHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_session_host_request_free(handle); return true; }
    }

    /// <summary>An owned gsms_qos_probe (freed with gsms_qos_probe_free).</summary>
    public sealed class GsmsQosProbeHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsQosProbeHandle() : base(true) { }
        internal GsmsQosProbeHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_qos_probe_free(handle); return true; }
    }

    /// <summary>An owned gsms_qos_servers_result (never wrap a borrowed one) (freed with gsms_qos_servers_result_free).</summary>
    public sealed class GsmsQosServersResultHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public GsmsQosServersResultHandle() : base(true) { }
        internal GsmsQosServersResultHandle(IntPtr h) : base(true) { SetHandle(h); }
        protected override bool ReleaseHandle() { GsmsNative.gsms_qos_servers_result_free(handle); return true; }
    }
}
