// GsmsClient.cs: the safe C# API over libgsms (GsmsNative.cs). C# 7.x; compiles with Mono's mcs,
// Unity (Mono and IL2CPP) and .NET.
//
//   using (var client = new GsmsClient(new GsmsClientOptions { BaseUrl = url, AuthToken = token }))
//   {
//       var task = client.AllocateClusterAsync(ClusterRequest.ForSession(titleId, scid, "quick", name),
//                                              progress: myProgress, cancellationToken: ct);
//       while (!task.IsCompleted) { client.Dispatch(); /* once per frame */ }
//       ClusterResult server = task.Result;   // server.HostName, server.FindPort("GameData")
//   }
//
// Threading: with the default CallbackMode.OnDispatch, progress and completions run only inside
// Dispatch(), on the thread calling it (call it once per frame on the main thread). Tasks are
// completed with RunContinuationsAsynchronously: awaiting code resumes on the awaiter's
// SynchronizationContext (Unity's main thread) or the thread pool, never inside Dispatch().
// Callbacks never run inside the call that starts an operation. Log and token-provider callbacks
// run on library threads.
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Gsms
{
    /// <summary>The outcome of a call (gsms_status). Values are stable.</summary>
    public enum GsmsStatus : uint
    {
        Ok = 0,
        InvalidArgument = 1,
        Unauthorized = 2,
        Forbidden = 3,
        HttpStatus = 4,
        RetriesExhausted = 5,
        Timeout = 6,
        Network = 7,
        Protocol = 8,
        Cancelled = 9,
        Shutdown = 10,
        AuthProvider = 11,
        Internal = 12,
        Pending = 13,
        /// <summary>The allocation ended in error (a ticket's status Error, or its server could not start).</summary>
        AllocationFailed = 14,
    }

    /// <summary>Where an allocation stands (gsms_fulfillment_state).</summary>
    public enum FulfillmentState : uint
    {
        Unknown = 0,
        Fulfilled = 1,
        Queued = 2,
        Aborted = 3,
    }

    /// <summary>Where callbacks run (gsms_callback_mode).</summary>
    public enum CallbackMode : uint
    {
        /// <summary>On a library thread.</summary>
        OnWorker = 0,
        /// <summary>(Default) only inside GsmsClient.Dispatch(), on its caller's thread.</summary>
        OnDispatch = 1,
    }

    /// <summary>Log verbosity (gsms_log_level).</summary>
    public enum LogLevel : uint
    {
        Error = 1,
        Warn = 2,
        Info = 3,
        Debug = 4,
        Trace = 5,
    }

    /// <summary>Where a ticket's host stands (gsms_host_status). Note: Active, not Fulfilled.</summary>
    public enum HostStatus : uint
    {
        Unknown = 0,
        Active = 1,
        Queued = 2,
        Aborted = 3,
        Error = 4,
    }

    /// <summary>One port mapping of an allocated server.</summary>
    public struct PortMapping
    {
        public readonly string Name;
        public readonly uint InternalPort;
        public readonly uint ExternalPort;

        public PortMapping(string name, uint internalPort, uint externalPort)
        {
            Name = name;
            InternalPort = internalPort;
            ExternalPort = externalPort;
        }

        public override string ToString() { return Name + " " + ExternalPort + "->" + InternalPort; }
    }

    /// <summary>
    /// The exchange details every call's result carries (gsms_call_info): final status, last HTTP
    /// status, attempts, correlation id, Retry-After, message and the last body.
    /// </summary>
    public sealed class CallInfo
    {
        public GsmsStatus Status { get; private set; }
        /// <summary>Last HTTP status seen; 0 if none.</summary>
        public int HttpStatus { get; private set; }
        /// <summary>HTTP requests made (retries and polls included; probes sent for a QoS measurement).</summary>
        public uint Attempts { get; private set; }
        /// <summary>X-XblCorrelationId of the last response; quote it to support. "" if none.</summary>
        public string CorrelationId { get; private set; }
        /// <summary>Last Retry-After seen, in ms; 0 if none.</summary>
        public uint RetryAfterMs { get; private set; }
        /// <summary>Human-readable; "" on success.</summary>
        public string ErrorMessage { get; private set; }
        /// <summary>The last response body as received (secrets redacted).</summary>
        public string RawJson { get; private set; }
        /// <summary>The whole outcome in one line (gsms_call_info_describe), for logs.</summary>
        public string Description { get; private set; }

        internal static readonly CallInfo None = new CallInfo
        {
            Status = GsmsStatus.Ok, CorrelationId = "", ErrorMessage = "", RawJson = "", Description = "",
        };

        /// <summary>Copies a borrowed gsms_call_info; None for NULL.</summary>
        internal static CallInfo FromNative(IntPtr i)
        {
            if (i == IntPtr.Zero) return None;
            return new CallInfo
            {
                Status = (GsmsStatus)GsmsNative.gsms_call_info_status(i),
                HttpStatus = GsmsNative.gsms_call_info_http_status(i),
                Attempts = GsmsNative.gsms_call_info_attempts(i),
                CorrelationId = Utf8.Decode(GsmsNative.gsms_call_info_correlation_id(i)),
                RetryAfterMs = GsmsNative.gsms_call_info_retry_after_ms(i),
                ErrorMessage = Utf8.Decode(GsmsNative.gsms_call_info_error_message(i)),
                RawJson = Utf8.Decode(GsmsNative.gsms_call_info_raw_json(i)),
                Description = Utf8.Decode(GsmsNative.gsms_call_info_describe(i)),
            };
        }

        public override string ToString() { return Description; }
    }

    /// <summary>What every result has: the exchange details. Results are immutable managed copies.</summary>
    public abstract class GsmsResult
    {
        /// <summary>Status, HTTP status, attempts, correlation id, message, raw body.</summary>
        public CallInfo Info { get; internal set; }
    }

    /// <summary>A result that names a server: where to connect and its port mappings.</summary>
    public abstract class ServerResult : GsmsResult
    {
        public string HostName { get; internal set; }
        public string Region { get; internal set; }
        public string SecureContext { get; internal set; }
        public IList<PortMapping> Ports { get; internal set; }

        /// <summary>The port mapping called <paramref name="name"/> (e.g. "GameData").</summary>
        public bool TryGetPort(string name, out PortMapping port)
        {
            foreach (var p in Ports)
            {
                if (p.Name == name)
                {
                    port = p;
                    return true;
                }
            }
            port = default(PortMapping);
            return false;
        }

        internal delegate uint PortFn(IntPtr r, UIntPtr index, out IntPtr name, out uint internalPort, out uint externalPort);

        /// <summary>Reads count port mappings with one of the gsms_*_result_port getters.</summary>
        internal static IList<PortMapping> ReadPorts(IntPtr r, UIntPtr count, PortFn port)
        {
            var ports = new List<PortMapping>();
            ulong n = count.ToUInt64();
            for (ulong i = 0; i < n; i++)
            {
                IntPtr name;
                uint internalPort, externalPort;
                if (port(r, new UIntPtr(i), out name, out internalPort, out externalPort) == 0)
                    ports.Add(new PortMapping(Utf8.Decode(name), internalPort, externalPort));
            }
            return new ReadOnlyCollection<PortMapping>(ports);
        }
    }

    /// <summary>
    /// What a clusters or inline clusters call learnt: an immutable managed copy of a
    /// gsms_cluster_result (so it outlives the callback that delivered it).
    /// </summary>
    public sealed class ClusterResult : ServerResult
    {
        public GsmsStatus Status { get; private set; }
        public FulfillmentState State { get; private set; }
        public uint PollIntervalMs { get; private set; }
        public int HttpStatus { get; private set; }
        public uint Attempts { get; private set; }
        public string CorrelationId { get; private set; }
        public uint RetryAfterMs { get; private set; }
        public string ErrorMessage { get; private set; }
        public string RawJson { get; private set; }

        public bool IsFulfilled { get { return State == FulfillmentState.Fulfilled; } }
        public bool IsQueued { get { return State == FulfillmentState.Queued; } }

        /// <summary>Copies a native result (owned or borrowed); the pointer is not kept.</summary>
        public static ClusterResult FromNative(IntPtr r)
        {
            return new ClusterResult
            {
                Info = CallInfo.FromNative(GsmsNative.gsms_cluster_result_info(r)),
                Status = (GsmsStatus)GsmsNative.gsms_cluster_result_status(r),
                State = (FulfillmentState)GsmsNative.gsms_cluster_result_fulfillment_state(r),
                PollIntervalMs = GsmsNative.gsms_cluster_result_poll_interval_ms(r),
                HostName = Utf8.Decode(GsmsNative.gsms_cluster_result_host_name(r)),
                Region = Utf8.Decode(GsmsNative.gsms_cluster_result_region(r)),
                SecureContext = Utf8.Decode(GsmsNative.gsms_cluster_result_secure_context(r)),
                Ports = ReadPorts(r, GsmsNative.gsms_cluster_result_port_count(r),
                    (IntPtr p, UIntPtr i, out IntPtr n, out uint ip, out uint ep) => GsmsNative.gsms_cluster_result_port(p, i, out n, out ip, out ep)),
                HttpStatus = GsmsNative.gsms_cluster_result_http_status(r),
                Attempts = GsmsNative.gsms_cluster_result_attempts(r),
                CorrelationId = Utf8.Decode(GsmsNative.gsms_cluster_result_correlation_id(r)),
                RetryAfterMs = GsmsNative.gsms_cluster_result_retry_after_ms(r),
                ErrorMessage = Utf8.Decode(GsmsNative.gsms_cluster_result_error_message(r)),
                RawJson = Utf8.Decode(GsmsNative.gsms_cluster_result_raw_json(r)),
            };
        }

        public override string ToString()
        {
            return State == FulfillmentState.Fulfilled ? "Fulfilled " + HostName + " (" + Region + ")" : State.ToString();
        }
    }

    /// <summary>A failed gsms call: status, HTTP status, correlation id and the library's message.</summary>
    public sealed class GsmsException : Exception
    {
        public GsmsStatus Status { get; private set; }
        /// <summary>Last HTTP status seen; 0 if none.</summary>
        public int HttpStatus { get; private set; }
        /// <summary>X-XblCorrelationId of the last response; quote it to support. "" if none.</summary>
        public string CorrelationId { get; private set; }
        /// <summary>What the library knew about a clusters / inline clusters call (null otherwise, or when nothing was sent).</summary>
        public ClusterResult Result { get; private set; }
        /// <summary>What the library knew about the call, whatever its kind (null when nothing was sent).</summary>
        public GsmsResult Details { get; private set; }
        /// <summary>The exchange details of <see cref="Details"/> (null when nothing was sent).</summary>
        public CallInfo Info { get { return Details != null ? Details.Info : null; } }

        public GsmsException(GsmsStatus status, string message)
            : this(status, message, 0, "", null) { }

        public GsmsException(GsmsStatus status, string message, int httpStatus, string correlationId, GsmsResult details)
            : base(Describe(status, message, httpStatus, correlationId))
        {
            Status = status;
            HttpStatus = httpStatus;
            CorrelationId = correlationId ?? "";
            Details = details;
            Result = details as ClusterResult;
        }

        /// <summary>"GSMS_ERR_TIMEOUT", ...</summary>
        public static string StatusName(GsmsStatus status)
        {
            try
            {
                return Utf8.Decode(GsmsNative.gsms_status_name((uint)status));
            }
            catch (DllNotFoundException)
            {
                return status.ToString();  // the library is not there: still say what failed
            }
            catch (EntryPointNotFoundException)
            {
                return status.ToString();
            }
        }

        /// <summary>From a failed call (reads this thread's last error when the result says nothing).</summary>
        internal static GsmsException FromCall(uint status, GsmsResult result)
        {
            string message = result != null && result.Info != null ? result.Info.ErrorMessage : "";
            if (string.IsNullOrEmpty(message)) message = Utf8.Decode(GsmsNative.gsms_last_error_message());
            return FromResult(status, result, message);
        }

        /// <summary>From a completion: never reads the thread's last error.</summary>
        internal static GsmsException FromResult(uint status, GsmsResult result, string message = null)
        {
            CallInfo info = result != null ? result.Info : null;
            if (message == null) message = info != null ? info.ErrorMessage : "";
            return new GsmsException((GsmsStatus)status, message,
                info != null ? info.HttpStatus : 0, info != null ? info.CorrelationId : "", result);
        }

        /// <summary>Throws for anything but GSMS_OK, with this thread's last error message.</summary>
        internal static void Check(uint status)
        {
            if (status != 0) throw FromCall(status, null);
        }

        static string Describe(GsmsStatus status, string message, int httpStatus, string correlationId)
        {
            string s = StatusName(status);
            if (httpStatus != 0 || !string.IsNullOrEmpty(correlationId))
            {
                s += " (";
                if (httpStatus != 0) s += "HTTP " + httpStatus;
                if (httpStatus != 0 && !string.IsNullOrEmpty(correlationId)) s += ", ";
                if (!string.IsNullOrEmpty(correlationId)) s += "correlation id " + correlationId;
                s += ")";
            }
            if (!string.IsNullOrEmpty(message)) s += ": " + message;
            return s;
        }
    }

    /// <summary>A request for a server for one MPSD session. Plain data: checked when a call starts.</summary>
    public sealed class ClusterRequest
    {
        public uint TitleId { get; set; }
        /// <summary>"/serviceconfigs/&lt;scid&gt;/sessionTemplates/&lt;template&gt;/sessions/&lt;name&gt;"</summary>
        public string SessionId { get; set; }
        /// <summary>Ask the service not to queue when no server is free (the answer is then Aborted).</summary>
        public bool AbortIfQueued { get; set; }

        string scid, templateName, sessionName;

        public ClusterRequest(uint titleId, string sessionId)
        {
            TitleId = titleId;
            SessionId = sessionId;
        }

        /// <summary>A request whose session id the library builds (and checks) from its parts.</summary>
        public static ClusterRequest ForSession(uint titleId, string scid, string templateName, string sessionName)
        {
            return new ClusterRequest(titleId, null) { scid = scid, templateName = templateName, sessionName = sessionName };
        }

        /// <summary>A native request; throws GsmsException (InvalidArgument) on bad input.</summary>
        public GsmsClusterRequestHandle ToNative()
        {
            var h = new GsmsClusterRequestHandle(GsmsNative.gsms_cluster_request_new(TitleId));
            try
            {
                if (h.IsInvalid) throw new GsmsException(GsmsStatus.Internal, "out of memory");
                if (SessionId == null && (scid != null || templateName != null || sessionName != null))
                    GsmsException.Check(GsmsNative.gsms_cluster_request_set_session(h,
                        Utf8.Encode(scid, "scid"), Utf8.Encode(templateName, "template name"), Utf8.Encode(sessionName, "session name")));
                else
                    GsmsException.Check(GsmsNative.gsms_cluster_request_set_session_id(h, Utf8.Encode(SessionId, "session id")));
                GsmsException.Check(GsmsNative.gsms_cluster_request_set_abort_if_queued(h, AbortIfQueued ? 1u : 0u));
                return h;
            }
            catch
            {
                h.Dispose();
                throw;
            }
        }
    }

    /// <summary>Client settings; null / 0 leaves the library's default.</summary>
    public sealed class GsmsClientOptions
    {
        /// <summary>Default "https://gameserverms.xboxlive.com"; http:// is allowed (the emulator).</summary>
        public string BaseUrl;
        /// <summary>The whole Authorization value, e.g. "XBL3.0 x=&lt;hash&gt;;&lt;token&gt;".</summary>
        public string AuthToken;
        public string UserAgent;
        public uint ConnectTimeoutMs;
        public uint RequestTimeoutMs;
        public uint RetryMaxAttempts;
        public uint RetryBaseDelayMs;
        public uint RetryMaxDelayMs;
        public CallbackMode CallbackMode = CallbackMode.OnDispatch;
        public uint WorkerThreads;
        public string CaBundlePath;
        /// <summary>Called from library threads, concurrently: must be thread-safe.</summary>
        public Action<LogLevel, string> Log;
        public LogLevel LogLevel = LogLevel.Info;
        /// <summary>
        /// (forceRefresh) => the whole Authorization value, or null to fail the call with
        /// AuthProvider. Runs on the thread doing the request (a library thread for async calls).
        /// </summary>
        public Func<bool, string> TokenProvider;
    }

    /// <summary>
    /// A connection to GSMS. Dispose it (on the thread that dispatches) to end: every unfinished
    /// call then completes with GsmsStatus.Shutdown before Dispose returns.
    /// </summary>
    public sealed partial class GsmsClient : IDisposable
    {
        // Static trampolines, kept alive in static fields so the GC never collects the delegates
        // the library holds; [MonoPInvokeCallback] for IL2CPP / AOT.
        static readonly GsmsNative.ClusterCallback s_onDone = OnDone;
        static readonly GsmsNative.ProgressCallback s_onProgress = OnProgress;
        static readonly GsmsNative.LogFn s_onLog = OnLog;
        static readonly GsmsNative.TokenProviderFn s_onToken = OnToken;
        static readonly GsmsNative.TicketCallback s_onTicketDone = OnTicketDone;
        static readonly GsmsNative.VariantsCallback s_onVariantsDone = OnVariantsDone;
        static readonly GsmsNative.QosServersCallback s_onQosServersDone = OnQosServersDone;
        static readonly GsmsNative.QosCallback s_onQosDone = OnQosDone;
        static readonly GsmsNative.SessionHostCallback s_onSessionHostDone = OnSessionHostDone;
        static readonly GsmsNative.SessionHostProgressCallback s_onSessionHostProgress = OnSessionHostProgress;

        // Client-level callbacks are found by id rather than GCHandle: a library thread stuck in a
        // request could still log after gsms_client_free returned, and must then find nothing.
        static readonly Dictionary<long, GsmsClientOptions> s_clients = new Dictionary<long, GsmsClientOptions>();
        static long s_nextId;

        readonly GsmsClientHandle handle;
        readonly long id;

        public GsmsClient(string baseUrl, string authToken)
            : this(new GsmsClientOptions { BaseUrl = baseUrl, AuthToken = authToken }) { }

        public GsmsClient(GsmsClientOptions options)
        {
            if (options == null) throw new GsmsException(GsmsStatus.InvalidArgument, "options must not be null");
            id = Interlocked.Increment(ref s_nextId);
            var callbacks = new GsmsClientOptions { Log = options.Log, TokenProvider = options.TokenProvider };
            using (var cfg = new GsmsConfigHandle(GsmsNative.gsms_config_new()))
            {
                if (cfg.IsInvalid) throw new GsmsException(GsmsStatus.Internal, "out of memory");
                if (options.BaseUrl != null)
                    GsmsException.Check(GsmsNative.gsms_config_set_base_url(cfg, Utf8.Encode(options.BaseUrl, "base URL")));
                if (options.AuthToken != null)
                    GsmsException.Check(GsmsNative.gsms_config_set_auth_token(cfg, Utf8.Encode(options.AuthToken, "auth token")));
                if (options.UserAgent != null)
                    GsmsException.Check(GsmsNative.gsms_config_set_user_agent(cfg, Utf8.Encode(options.UserAgent, "user agent")));
                if (options.ConnectTimeoutMs != 0 || options.RequestTimeoutMs != 0)
                    GsmsException.Check(GsmsNative.gsms_config_set_timeouts(cfg,
                        options.ConnectTimeoutMs != 0 ? options.ConnectTimeoutMs : 5000,
                        options.RequestTimeoutMs != 0 ? options.RequestTimeoutMs : 30000));
                if (options.RetryMaxAttempts != 0)
                    GsmsException.Check(GsmsNative.gsms_config_set_retry_policy(cfg, options.RetryMaxAttempts,
                        options.RetryBaseDelayMs != 0 ? options.RetryBaseDelayMs : 500,
                        options.RetryMaxDelayMs != 0 ? options.RetryMaxDelayMs : 10000));
                GsmsException.Check(GsmsNative.gsms_config_set_callback_mode(cfg, (uint)options.CallbackMode));
                if (options.WorkerThreads != 0)
                    GsmsException.Check(GsmsNative.gsms_config_set_worker_threads(cfg, options.WorkerThreads));
                if (options.CaBundlePath != null)
                    GsmsException.Check(GsmsNative.gsms_config_set_ca_bundle_path(cfg, Utf8.Encode(options.CaBundlePath, "CA bundle path")));
                if (options.Log != null)
                    GsmsException.Check(GsmsNative.gsms_config_set_log_callback(cfg, s_onLog, new IntPtr(id), (uint)options.LogLevel));
                if (options.TokenProvider != null)
                    GsmsException.Check(GsmsNative.gsms_config_set_token_provider(cfg, s_onToken, new IntPtr(id)));

                if (options.Log != null || options.TokenProvider != null)
                    lock (s_clients) s_clients[id] = callbacks;
                IntPtr raw;
                uint st = GsmsNative.gsms_client_new(cfg, out raw);
                if (st != 0)
                {
                    var e = GsmsException.FromCall(st, null);
                    lock (s_clients) s_clients.Remove(id);
                    throw e;
                }
                handle = new GsmsClientHandle(raw);
            }
        }

        /// <summary>The native handle (escape hatch to the C API).</summary>
        public GsmsClientHandle Handle { get { return handle; } }

        /// <summary>The library version, e.g. "0.1.0".</summary>
        public static string Version { get { return Utf8.Decode(GsmsNative.gsms_version_string()); } }

        /// <summary>(major &lt;&lt; 16) | minor of the loaded library's C ABI.</summary>
        public static uint AbiVersion { get { return GsmsNative.gsms_abi_version(); } }

        /// <summary>The C ABI major version these bindings were written for.</summary>
        public const uint AbiMajor = 1;

        /// <summary>
        /// Runs queued progress and completion callbacks on this thread (CallbackMode.OnDispatch).
        /// Call it once per frame on the main thread. 0 = all queued now. Returns how many ran.
        /// </summary>
        public uint Dispatch(uint maxCallbacks = 0)
        {
            return GsmsNative.gsms_client_dispatch(handle, maxCallbacks);
        }

        /// <summary>Replaces the Authorization value for later requests (thread-safe).</summary>
        public void SetAuthToken(string authorization)
        {
            GsmsException.Check(GsmsNative.gsms_client_set_auth_token(handle, Utf8.Encode(authorization, "auth token")));
        }

        /// <summary>Opens a pooled connection in the background; returns at once.</summary>
        public void Warmup()
        {
            GsmsException.Check(GsmsNative.gsms_client_warmup(handle));
        }

        /// <summary>One POST, blocking (never on the main thread). Returns whatever the state.</summary>
        public ClusterResult CreateCluster(ClusterRequest request)
        {
            using (var req = NativeRequest(request))
            {
                IntPtr r;
                uint st = GsmsNative.gsms_client_create_cluster(handle, req, out r);
                return Blocking(ResultKind.Cluster, st, r);
            }
        }

        /// <summary>POST and poll while Queued, blocking (never on the main thread). 0 = no deadline.</summary>
        public ClusterResult AllocateCluster(ClusterRequest request, uint deadlineMs = 0)
        {
            using (var req = NativeRequest(request))
            {
                IntPtr r;
                uint st = GsmsNative.gsms_client_allocate_cluster(handle, req, deadlineMs, out r);
                return Blocking(ResultKind.Cluster, st, r);
            }
        }

        /// <summary>
        /// Starts one POST. Bad arguments throw GsmsException at once; failures of the call fault
        /// the task with GsmsException; the token cancels the call (the task is then cancelled).
        /// </summary>
        public Task<ClusterResult> CreateClusterAsync(ClusterRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(false, request, 0, null, cancellationToken);
        }

        /// <summary>
        /// Starts an allocation (POST, then poll while Queued). <paramref name="progress"/> gets each
        /// Queued answer, inside Dispatch() (OnDispatch) or on the library thread (OnWorker).
        /// </summary>
        public Task<ClusterResult> AllocateClusterAsync(ClusterRequest request, uint deadlineMs = 0,
            IProgress<ClusterResult> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(true, request, deadlineMs, progress, cancellationToken);
        }

        /// <summary>Callback-free start (IL2CPP-proof by construction): poll the operation each frame.</summary>
        public GsmsOperation StartCreateCluster(ClusterRequest request)
        {
            using (var req = NativeRequest(request))
            {
                IntPtr op;
                GsmsException.Check(GsmsNative.gsms_client_create_cluster_async(handle, req, null, IntPtr.Zero, out op));
                return new GsmsOperation(new GsmsOperationHandle(op));
            }
        }

        /// <summary>Callback-free allocation: poll GsmsOperation.TryTakeResult each frame.</summary>
        public GsmsOperation StartAllocateCluster(ClusterRequest request, uint deadlineMs = 0)
        {
            using (var req = NativeRequest(request))
            {
                IntPtr op;
                GsmsException.Check(GsmsNative.gsms_client_allocate_cluster_async(handle, req, deadlineMs, null, null, IntPtr.Zero, out op));
                return new GsmsOperation(new GsmsOperationHandle(op));
            }
        }

        /// <summary>
        /// Frees the client: unfinished calls complete (GsmsStatus.Shutdown) on this thread first.
        /// </summary>
        public void Dispose()
        {
            handle.Dispose();
            lock (s_clients) s_clients.Remove(id);
        }

        static GsmsClusterRequestHandle NativeRequest(ClusterRequest request)
        {
            if (request == null) throw new GsmsException(GsmsStatus.InvalidArgument, "request must not be null");
            return request.ToNative();
        }

        /// <summary>The outcome of a blocking call: its owned result read (and freed), or the exception.</summary>
        static T Blocking<T>(ResultKind<T> kind, uint status, IntPtr r) where T : GsmsResult
        {
            T result = kind.Adopt(r);
            if (status == 0) return result;
            throw GsmsException.FromCall(status, result);
        }

        /// <summary>Starts an operation with no callbacks (on_done = NULL, out_op set).</summary>
        static GsmsOperation<T> StartPolled<T>(ResultKind<T> kind, StartFn start) where T : GsmsResult
        {
            IntPtr op;
            GsmsException.Check(start(IntPtr.Zero, out op));
            return new GsmsOperation<T>(new GsmsOperationHandle(op), kind);
        }

        Task<ClusterResult> Start(bool allocate, ClusterRequest request, uint deadlineMs,
            IProgress<ClusterResult> progress, CancellationToken ct)
        {
            if (ct.IsCancellationRequested) return CancelledTask<ClusterResult>();
            using (var req = NativeRequest(request))
            {
                return StartAsync(ResultKind.Cluster, progress, ct, (IntPtr state, out IntPtr op) => allocate
                    ? GsmsNative.gsms_client_allocate_cluster_async(handle, req, deadlineMs,
                        progress != null ? s_onProgress : null, s_onDone, state, out op)
                    : GsmsNative.gsms_client_create_cluster_async(handle, req, s_onDone, state, out op));
            }
        }

        static Task<T> CancelledTask<T>()
        {
            var cancelled = new TaskCompletionSource<T>();
            cancelled.SetCanceled();
            return cancelled.Task;
        }

        /// <summary>
        /// Starts an async call: <paramref name="start"/> gets the per-call state to pass as
        /// user_data. The state is freed exactly once: in the completion trampoline, or here when
        /// the start call fails (then on_done never comes).
        /// </summary>
        static Task<T> StartAsync<T>(ResultKind<T> kind, IProgress<T> progress, CancellationToken ct, StartFn start)
            where T : GsmsResult
        {
            if (ct.IsCancellationRequested) return CancelledTask<T>();
            var call = new PendingCall<T>(kind, progress, ct);
            GCHandle gc = GCHandle.Alloc(call);
            IntPtr op;
            uint st;
            try
            {
                st = start(GCHandle.ToIntPtr(gc), out op);
            }
            catch
            {
                gc.Free();  // e.g. ObjectDisposedException: the call never reached the library
                throw;
            }
            if (st != 0)
            {
                var e = GsmsException.FromCall(st, null);
                gc.Free();
                throw e;
            }
            call.Started(new GsmsOperationHandle(op));
            return call.Task;
        }

        // One trampoline per C callback type, each marked with its own delegate type (IL2CPP
        // marshals the call by it); they all hand over to Finish / Report.
        [AOT.MonoPInvokeCallback(typeof(GsmsNative.ClusterCallback))]
        static void OnDone(IntPtr userData, uint status, IntPtr result) { Finish(userData, status, result); }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.TicketCallback))]
        static void OnTicketDone(IntPtr userData, uint status, IntPtr result) { Finish(userData, status, result); }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.VariantsCallback))]
        static void OnVariantsDone(IntPtr userData, uint status, IntPtr result) { Finish(userData, status, result); }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.QosServersCallback))]
        static void OnQosServersDone(IntPtr userData, uint status, IntPtr result) { Finish(userData, status, result); }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.QosCallback))]
        static void OnQosDone(IntPtr userData, uint status, IntPtr result) { Finish(userData, status, result); }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.SessionHostCallback))]
        static void OnSessionHostDone(IntPtr userData, uint status, IntPtr result) { Finish(userData, status, result); }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.ProgressCallback))]
        static void OnProgress(IntPtr userData, IntPtr queued) { Report(userData, queued); }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.SessionHostProgressCallback))]
        static void OnSessionHostProgress(IntPtr userData, IntPtr queued) { Report(userData, queued); }

        /// <summary>A completion: frees the call's GCHandle (exactly once) and completes its task.</summary>
        static void Finish(IntPtr state, uint status, IntPtr result)
        {
            try
            {
                GCHandle gc = GCHandle.FromIntPtr(state);
                var call = (IPendingCall)gc.Target;
                gc.Free();
                call.Complete(status, result);
            }
            catch (Exception e)
            {
                Unhandled(e);
            }
        }

        /// <summary>A Queued answer of a following call (the result is borrowed: copied here).</summary>
        static void Report(IntPtr state, IntPtr queued)
        {
            try
            {
                ((IPendingCall)GCHandle.FromIntPtr(state).Target).Progress(queued);
            }
            catch (Exception e)
            {
                Unhandled(e);
            }
        }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.LogFn))]
        static void OnLog(IntPtr userData, uint level, IntPtr message)
        {
            try
            {
                GsmsClientOptions cb;
                lock (s_clients)
                {
                    if (!s_clients.TryGetValue(userData.ToInt64(), out cb)) return;
                }
                if (cb.Log != null) cb.Log((LogLevel)level, Utf8.Decode(message));
            }
            catch (Exception e)
            {
                Unhandled(e);
            }
        }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.TokenProviderFn))]
        static uint OnToken(IntPtr userData, uint forceRefresh, IntPtr sink)
        {
            try
            {
                GsmsClientOptions cb;
                lock (s_clients)
                {
                    if (!s_clients.TryGetValue(userData.ToInt64(), out cb)) return (uint)GsmsStatus.AuthProvider;
                }
                string token = cb.TokenProvider != null ? cb.TokenProvider(forceRefresh != 0) : null;
                if (token == null) return (uint)GsmsStatus.AuthProvider;
                return GsmsNative.gsms_token_sink_set(sink, Utf8.Encode(token, "token"));
            }
            catch (Exception e)
            {
                Unhandled(e);
                return (uint)GsmsStatus.AuthProvider;
            }
        }

        /// <summary>An exception must never unwind into native code: report it and carry on.</summary>
        static void Unhandled(Exception e)
        {
#if UNITY_5_3_OR_NEWER
            UnityEngine.Debug.LogException(e);
#else
            Console.Error.WriteLine("gsms: exception in a callback: " + e);
#endif
        }

        interface IPendingCall
        {
            void Complete(uint status, IntPtr borrowedResult);
            void Progress(IntPtr borrowedQueued);
        }

        /// <summary>The managed side of one async call.</summary>
        sealed class PendingCall<T> : IPendingCall where T : GsmsResult
        {
            readonly TaskCompletionSource<T> tcs =
                new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            readonly ResultKind<T> kind;
            readonly IProgress<T> progress;
            readonly CancellationToken ct;
            readonly object gate = new object();
            GsmsOperationHandle op;
            CancellationTokenRegistration registration;
            bool completed;

            internal PendingCall(ResultKind<T> kind, IProgress<T> progress, CancellationToken ct)
            {
                this.kind = kind;
                this.progress = progress;
                this.ct = ct;
            }

            internal Task<T> Task { get { return tcs.Task; } }

            /// <summary>After the start call returned GSMS_OK (OnWorker: it may have completed already).</summary>
            internal void Started(GsmsOperationHandle handle)
            {
                lock (gate)
                {
                    if (completed)
                    {
                        handle.Dispose();
                        return;
                    }
                    op = handle;
                    if (ct.CanBeCanceled)
                        registration = ct.Register(CancelNative, handle);
                }
            }

            static void CancelNative(object state)
            {
                try
                {
                    GsmsNative.gsms_operation_cancel((GsmsOperationHandle)state);
                }
                catch (ObjectDisposedException)
                {
                    // Already completed.
                }
            }

            public void Progress(IntPtr queued)
            {
                if (progress != null) progress.Report(kind.Convert(queued));
            }

            public void Complete(uint status, IntPtr r)
            {
                T result = r != IntPtr.Zero ? kind.Convert(r) : null;
                GsmsOperationHandle handle;
                CancellationTokenRegistration reg;
                lock (gate)
                {
                    completed = true;
                    handle = op;
                    reg = registration;
                    op = null;
                }
                reg.Dispose();
                if (handle != null) handle.Dispose();
                if (status == 0)
                    tcs.TrySetResult(result);
                else if (status == (uint)GsmsStatus.Cancelled && ct.IsCancellationRequested)
                    tcs.TrySetCanceled(ct);
                else
                    tcs.TrySetException(GsmsException.FromResult(status, result));
            }
        }
    }

    /// <summary>Starts a native async call with the given user_data; writes out_op.</summary>
    internal delegate uint StartFn(IntPtr state, out IntPtr op);
    internal delegate uint TakeFn(GsmsOperationHandle op, out IntPtr result);
    internal delegate uint PeekFn(GsmsOperationHandle op, IntPtr noResult);

    /// <summary>How to take, peek at, copy and free one kind of native result.</summary>
    internal sealed class ResultKind<T> where T : GsmsResult
    {
        internal readonly TakeFn Take;
        internal readonly PeekFn Peek;
        internal readonly Action<IntPtr> Free;
        /// <summary>Copies a native result (owned or borrowed) into its managed form.</summary>
        internal readonly Func<IntPtr, T> Convert;

        internal ResultKind(TakeFn take, PeekFn peek, Action<IntPtr> free, Func<IntPtr, T> convert)
        {
            Take = take;
            Peek = peek;
            Free = free;
            Convert = convert;
        }

        /// <summary>Copies an owned native result and frees it (null for NULL).</summary>
        internal T Adopt(IntPtr r)
        {
            if (r == IntPtr.Zero) return null;
            try
            {
                return Convert(r);
            }
            finally
            {
                Free(r);
            }
        }
    }

    internal static class ResultKind
    {
        // Lambdas rather than method groups of the extern methods: a delegate to an ordinary
        // managed method is what every runtime (Mono, IL2CPP, .NET) handles the same way.
        internal static readonly ResultKind<ClusterResult> Cluster = new ResultKind<ClusterResult>(
            (GsmsOperationHandle op, out IntPtr r) => GsmsNative.gsms_operation_take_result(op, out r),
            (op, none) => GsmsNative.OperationStatusOnly(op, none),
            r => GsmsNative.gsms_cluster_result_free(r), ClusterResult.FromNative);
        internal static readonly ResultKind<TicketResult> Ticket = new ResultKind<TicketResult>(
            (GsmsOperationHandle op, out IntPtr r) => GsmsNative.gsms_operation_take_ticket_result(op, out r),
            (op, none) => GsmsNative.TicketStatusOnly(op, none),
            r => GsmsNative.gsms_ticket_result_free(r), TicketResult.FromNative);
        internal static readonly ResultKind<VariantsResult> Variants = new ResultKind<VariantsResult>(
            (GsmsOperationHandle op, out IntPtr r) => GsmsNative.gsms_operation_take_variants_result(op, out r),
            (op, none) => GsmsNative.VariantsStatusOnly(op, none),
            r => GsmsNative.gsms_variants_result_free(r), VariantsResult.FromNative);
        internal static readonly ResultKind<QosServersResult> QosServers = new ResultKind<QosServersResult>(
            (GsmsOperationHandle op, out IntPtr r) => GsmsNative.gsms_operation_take_qos_servers_result(op, out r),
            (op, none) => GsmsNative.QosServersStatusOnly(op, none),
            r => GsmsNative.gsms_qos_servers_result_free(r), QosServersResult.FromNative);
        internal static readonly ResultKind<QosResult> Qos = new ResultKind<QosResult>(
            (GsmsOperationHandle op, out IntPtr r) => GsmsNative.gsms_operation_take_qos_result(op, out r),
            (op, none) => GsmsNative.QosStatusOnly(op, none),
            r => GsmsNative.gsms_qos_result_free(r), QosResult.FromNative);
        internal static readonly ResultKind<SessionHostResult> SessionHost = new ResultKind<SessionHostResult>(
            (GsmsOperationHandle op, out IntPtr r) => GsmsNative.gsms_operation_take_session_host_result(op, out r),
            (op, none) => GsmsNative.SessionHostStatusOnly(op, none),
            r => GsmsNative.gsms_session_host_result_free(r), SessionHostResult.FromNative);
    }

    /// <summary>
    /// A callback-free async call: ask TryTakeResult (or TakeResult) each frame, or IsCompleted
    /// (which copies nothing). Disposing it releases the handle only; it does not cancel.
    /// </summary>
    public class GsmsOperation<T> : IDisposable where T : GsmsResult
    {
        readonly GsmsOperationHandle handle;
        readonly ResultKind<T> kind;

        internal GsmsOperation(GsmsOperationHandle handle, ResultKind<T> kind)
        {
            this.handle = handle;
            this.kind = kind;
        }

        public GsmsOperationHandle Handle { get { return handle; } }

        /// <summary>True once the call has finished (successfully or not).</summary>
        public bool IsCompleted
        {
            get
            {
                // NULL out_result: no native copy is made, so a game can poll this every frame.
                return kind.Peek(handle, IntPtr.Zero) != (uint)GsmsStatus.Pending;
            }
        }

        /// <summary>Its completion comes later with GsmsStatus.Cancelled; a no-op once completed.</summary>
        public void Cancel()
        {
            GsmsException.Check(GsmsNative.gsms_operation_cancel(handle));
        }

        /// <summary>
        /// Pending while the call runs (result null); then its final status and result (which, on
        /// failure, carries the error details, or is null when nothing is known). Never throws for a
        /// failed call.
        /// </summary>
        public GsmsStatus TakeResult(out T result)
        {
            IntPtr r;
            uint st = kind.Take(handle, out r);
            result = null;
            if (st == (uint)GsmsStatus.Pending) return GsmsStatus.Pending;
            result = kind.Adopt(r);
            return (GsmsStatus)st;
        }

        /// <summary>False while the call runs; true with its result once it succeeded; throws GsmsException if it failed.</summary>
        public bool TryTakeResult(out T result)
        {
            GsmsStatus st = TakeResult(out result);
            if (st == GsmsStatus.Pending) return false;
            if (st == GsmsStatus.Ok) return true;
            var e = GsmsException.FromResult((uint)st, result);
            result = null;
            throw e;
        }

        public void Dispose() { handle.Dispose(); }
    }

    /// <summary>A callback-free clusters or inline clusters call (results are ClusterResult).</summary>
    public sealed class GsmsOperation : GsmsOperation<ClusterResult>
    {
        internal GsmsOperation(GsmsOperationHandle handle) : base(handle, ResultKind.Cluster) { }
    }
}
