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
    /// What a call learnt: an immutable managed copy of a gsms_cluster_result (so it outlives the
    /// callback that delivered it).
    /// </summary>
    public sealed class ClusterResult
    {
        public GsmsStatus Status { get; private set; }
        public FulfillmentState State { get; private set; }
        public uint PollIntervalMs { get; private set; }
        public string HostName { get; private set; }
        public string Region { get; private set; }
        public string SecureContext { get; private set; }
        public IList<PortMapping> Ports { get; private set; }
        public int HttpStatus { get; private set; }
        public uint Attempts { get; private set; }
        public string CorrelationId { get; private set; }
        public uint RetryAfterMs { get; private set; }
        public string ErrorMessage { get; private set; }
        public string RawJson { get; private set; }

        public bool IsFulfilled { get { return State == FulfillmentState.Fulfilled; } }
        public bool IsQueued { get { return State == FulfillmentState.Queued; } }

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

        /// <summary>Copies a native result (owned or borrowed); the pointer is not kept.</summary>
        public static ClusterResult FromNative(IntPtr r)
        {
            var ports = new List<PortMapping>();
            ulong n = GsmsNative.gsms_cluster_result_port_count(r).ToUInt64();
            for (ulong i = 0; i < n; i++)
            {
                IntPtr name;
                uint internalPort, externalPort;
                if (GsmsNative.gsms_cluster_result_port(r, new UIntPtr(i), out name, out internalPort, out externalPort) == 0)
                    ports.Add(new PortMapping(Utf8.Decode(name), internalPort, externalPort));
            }
            return new ClusterResult
            {
                Status = (GsmsStatus)GsmsNative.gsms_cluster_result_status(r),
                State = (FulfillmentState)GsmsNative.gsms_cluster_result_fulfillment_state(r),
                PollIntervalMs = GsmsNative.gsms_cluster_result_poll_interval_ms(r),
                HostName = Utf8.Decode(GsmsNative.gsms_cluster_result_host_name(r)),
                Region = Utf8.Decode(GsmsNative.gsms_cluster_result_region(r)),
                SecureContext = Utf8.Decode(GsmsNative.gsms_cluster_result_secure_context(r)),
                Ports = new ReadOnlyCollection<PortMapping>(ports),
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
        /// <summary>What the library knew about the call (null when nothing was sent).</summary>
        public ClusterResult Result { get; private set; }

        public GsmsException(GsmsStatus status, string message)
            : this(status, message, 0, "", null) { }

        public GsmsException(GsmsStatus status, string message, int httpStatus, string correlationId, ClusterResult result)
            : base(Describe(status, message, httpStatus, correlationId))
        {
            Status = status;
            HttpStatus = httpStatus;
            CorrelationId = correlationId ?? "";
            Result = result;
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
        internal static GsmsException FromCall(uint status, ClusterResult result)
        {
            string message = result != null ? result.ErrorMessage : "";
            if (string.IsNullOrEmpty(message)) message = Utf8.Decode(GsmsNative.gsms_last_error_message());
            return FromResult(status, result, message);
        }

        /// <summary>From a completion: never reads the thread's last error.</summary>
        internal static GsmsException FromResult(uint status, ClusterResult result, string message = null)
        {
            if (message == null) message = result != null ? result.ErrorMessage : "";
            return new GsmsException((GsmsStatus)status, message,
                result != null ? result.HttpStatus : 0, result != null ? result.CorrelationId : "", result);
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
    public sealed class GsmsClient : IDisposable
    {
        // Static trampolines, kept alive in static fields so the GC never collects the delegates
        // the library holds; [MonoPInvokeCallback] for IL2CPP / AOT.
        static readonly GsmsNative.ClusterCallback s_onDone = OnDone;
        static readonly GsmsNative.ProgressCallback s_onProgress = OnProgress;
        static readonly GsmsNative.LogFn s_onLog = OnLog;
        static readonly GsmsNative.TokenProviderFn s_onToken = OnToken;

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
                return BlockingOutcome(st, r);
            }
        }

        /// <summary>POST and poll while Queued, blocking (never on the main thread). 0 = no deadline.</summary>
        public ClusterResult AllocateCluster(ClusterRequest request, uint deadlineMs = 0)
        {
            using (var req = NativeRequest(request))
            {
                IntPtr r;
                uint st = GsmsNative.gsms_client_allocate_cluster(handle, req, deadlineMs, out r);
                return BlockingOutcome(st, r);
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

        static ClusterResult BlockingOutcome(uint status, IntPtr r)
        {
            using (var owned = new GsmsClusterResultHandle(r))
            {
                ClusterResult result = r != IntPtr.Zero ? ClusterResult.FromNative(r) : null;
                if (status == 0) return result;
                throw GsmsException.FromCall(status, result);
            }
        }

        Task<ClusterResult> Start(bool allocate, ClusterRequest request, uint deadlineMs,
            IProgress<ClusterResult> progress, CancellationToken ct)
        {
            if (ct.IsCancellationRequested)
            {
                var cancelled = new TaskCompletionSource<ClusterResult>();
                cancelled.SetCanceled();
                return cancelled.Task;
            }
            var call = new PendingCall(progress, ct);
            using (var req = NativeRequest(request))
            {
                // Per-call state for the trampolines; freed exactly once: in OnDone, or below when
                // the start call fails (then on_done never comes).
                GCHandle gc = GCHandle.Alloc(call);
                IntPtr op;
                uint st;
                try
                {
                    st = allocate
                        ? GsmsNative.gsms_client_allocate_cluster_async(handle, req, deadlineMs,
                            progress != null ? s_onProgress : null, s_onDone, GCHandle.ToIntPtr(gc), out op)
                        : GsmsNative.gsms_client_create_cluster_async(handle, req, s_onDone, GCHandle.ToIntPtr(gc), out op);
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
            }
            return call.Task;
        }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.ClusterCallback))]
        static void OnDone(IntPtr userData, uint status, IntPtr result)
        {
            try
            {
                GCHandle gc = GCHandle.FromIntPtr(userData);
                var call = (PendingCall)gc.Target;
                gc.Free();
                call.Complete(status, result != IntPtr.Zero ? ClusterResult.FromNative(result) : null);
            }
            catch (Exception e)
            {
                Unhandled(e);
            }
        }

        [AOT.MonoPInvokeCallback(typeof(GsmsNative.ProgressCallback))]
        static void OnProgress(IntPtr userData, IntPtr queued)
        {
            try
            {
                var call = (PendingCall)GCHandle.FromIntPtr(userData).Target;
                if (call.Progress != null) call.Progress.Report(ClusterResult.FromNative(queued));
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

        /// <summary>The managed side of one async call.</summary>
        sealed class PendingCall
        {
            readonly TaskCompletionSource<ClusterResult> tcs =
                new TaskCompletionSource<ClusterResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            readonly CancellationToken ct;
            readonly object gate = new object();
            GsmsOperationHandle op;
            CancellationTokenRegistration registration;
            bool completed;

            internal readonly IProgress<ClusterResult> Progress;

            internal PendingCall(IProgress<ClusterResult> progress, CancellationToken ct)
            {
                Progress = progress;
                this.ct = ct;
            }

            internal Task<ClusterResult> Task { get { return tcs.Task; } }

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

            internal void Complete(uint status, ClusterResult result)
            {
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

    /// <summary>
    /// A callback-free async call: ask TryTakeResult (or TakeResult) each frame. Disposing it
    /// releases the handle only; it does not cancel.
    /// </summary>
    public sealed class GsmsOperation : IDisposable
    {
        readonly GsmsOperationHandle handle;

        internal GsmsOperation(GsmsOperationHandle handle) { this.handle = handle; }

        public GsmsOperationHandle Handle { get { return handle; } }

        /// <summary>True once the call has finished (successfully or not).</summary>
        public bool IsCompleted
        {
            get
            {
                // NULL out_result: no native copy is made, so a game can poll this every frame.
                return GsmsNative.OperationStatusOnly(handle, IntPtr.Zero) != (uint)GsmsStatus.Pending;
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
        public GsmsStatus TakeResult(out ClusterResult result)
        {
            IntPtr r;
            uint st = GsmsNative.gsms_operation_take_result(handle, out r);
            result = null;
            if (st == (uint)GsmsStatus.Pending) return GsmsStatus.Pending;
            using (new GsmsClusterResultHandle(r))
            {
                if (r != IntPtr.Zero) result = ClusterResult.FromNative(r);
            }
            return (GsmsStatus)st;
        }

        /// <summary>False while the call runs; true with its result once it succeeded; throws GsmsException if it failed.</summary>
        public bool TryTakeResult(out ClusterResult result)
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
}
