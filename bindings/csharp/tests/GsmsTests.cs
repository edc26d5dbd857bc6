// Tests of the C# layer against a running emulator (scripts/test_samples.sh starts one):
//   mcs -out:tests.exe GsmsTests.cs ../*.cs && GSMS_BASE_URL=http://127.0.0.1:PORT mono tests.exe
// Each test uses its own title id: the emulator keeps a separate server pool per title.
// Prints "ok - <name>", "not ok - <name>: <why>" or "SKIPPED - <name>: <why>" per test (a skipped
// test is never counted as passed) and exits non-zero on any failure.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Gsms;

/// Thrown by a test that cannot run here: reported as SKIPPED, never as passed.
sealed class SkipException : Exception
{
    public SkipException(string why) : base(why) { }
}

static class GsmsTests
{
    static string baseUrl;
    const string Token = "XBL3.0 x=dev;dev-token";
    const string Scid = "00000000-0000-0000-0000-000000000000";

    static ClusterRequest Session(uint title, string name)
    {
        return ClusterRequest.ForSession(title, Scid, "quick", name);
    }

    static GsmsClient NewClient(CallbackMode mode = CallbackMode.OnDispatch)
    {
        return new GsmsClient(new GsmsClientOptions { BaseUrl = baseUrl, AuthToken = Token, CallbackMode = mode });
    }

    static void Check(bool condition, string what)
    {
        if (!condition) throw new Exception("check failed: " + what);
    }

    static void DispatchUntil(GsmsClient client, Func<bool> done, int timeoutMs = 10000)
    {
        var sw = Stopwatch.StartNew();
        while (!done())
        {
            client.Dispatch();
            if (sw.ElapsedMilliseconds > timeoutMs) throw new TimeoutException("not done after " + timeoutMs + " ms");
            Thread.Sleep(10);
        }
    }

    static GsmsException Throws(Action action)
    {
        try
        {
            action();
        }
        catch (GsmsException e)
        {
            return e;
        }
        throw new Exception("no GsmsException");
    }

    // --- tests ---

    static void VersionAndAbi()
    {
        Check(GsmsClient.Version.Length > 0, "version string");
        Check((GsmsClient.AbiVersion >> 16) == GsmsClient.AbiMajor, "ABI major");
        Check(GsmsException.StatusName(GsmsStatus.InvalidArgument) == "GSMS_ERR_INVALID_ARGUMENT", "status name");
    }

    static void BadArgumentThrowsInvalidArgument()
    {
        using (var client = NewClient())
        {
            var e = Throws(() => client.AllocateClusterAsync(new ClusterRequest(1001, "")));
            Check(e.Status == GsmsStatus.InvalidArgument, "empty session id: " + e.Status);
            Check(e.Message.StartsWith("GSMS_ERR_INVALID_ARGUMENT"), "message names the status: " + e.Message);
            Check(e.Message.Length > "GSMS_ERR_INVALID_ARGUMENT".Length + 2, "message says why: " + e.Message);
            Check(e.HttpStatus == 0 && e.CorrelationId == "", "nothing was sent");

            e = Throws(() => client.CreateCluster(Session(1001, "has/slash")));
            Check(e.Status == GsmsStatus.InvalidArgument, "'/' in a session name: " + e.Status);
            e = Throws(() => client.StartAllocateCluster(new ClusterRequest(1001, null)));
            Check(e.Status == GsmsStatus.InvalidArgument, "null session id: " + e.Status);
            e = Throws(() => client.SetAuthToken("XBL3.0 x=a;b\r\nX-Evil: 1"));
            Check(e.Status == GsmsStatus.InvalidArgument, "CR LF in a header value: " + e.Status);
            e = Throws(() => client.SetAuthToken("nul\0inside"));
            Check(e.Status == GsmsStatus.InvalidArgument, "NUL in a string: " + e.Status);
        }
        var e2 = Throws(() => new GsmsClient(new GsmsClientOptions { BaseUrl = "ftp://example.com", AuthToken = Token }));
        Check(e2.Status == GsmsStatus.InvalidArgument, "bad base URL: " + e2.Status);
        e2 = Throws(() => new GsmsClient(new GsmsClientOptions { BaseUrl = baseUrl, WorkerThreads = 1000 }));
        Check(e2.Status == GsmsStatus.InvalidArgument, "1000 worker threads: " + e2.Status);
    }

    static void HttpErrorCarriesStatusAndCorrelationId()
    {
        using (var client = new GsmsClient(baseUrl, "XBL3.0 x=dev;revoked"))
        {
            client.SetAuthToken("garbage");
            var e = Throws(() => client.AllocateCluster(Session(1002, "unauthorized"), 5000));
            Check(e.Status == GsmsStatus.Unauthorized, "status " + e.Status);
            Check(e.HttpStatus == 401, "HTTP status " + e.HttpStatus);
            Check(e.CorrelationId.Length > 0, "correlation id");
            Check(e.Result != null && e.Result.Status == GsmsStatus.Unauthorized, "result with details");
        }
    }

    static void TakeResultWithoutCallbacks()
    {
        using (var client = NewClient())
        using (var op = client.StartAllocateCluster(Session(1003, "poll"), 10000))
        {
            ClusterResult result = null;
            var sw = Stopwatch.StartNew();
            // No Dispatch() at all: the callback-free path must not need it.
            while (!op.TryTakeResult(out result))
            {
                if (sw.ElapsedMilliseconds > 10000) throw new TimeoutException("still pending");
                Thread.Sleep(10);
            }
            Check(result.IsFulfilled, "fulfilled: " + result.State);
            PortMapping game;
            Check(result.TryGetPort("GameData", out game) && game.ExternalPort != 0, "GameData port");
            Check(result.HostName == "127.0.0.1", "host name " + result.HostName);
            Check(op.IsCompleted, "IsCompleted");
            ClusterResult again;
            Check(op.TakeResult(out again) == GsmsStatus.Ok && again.HostName == result.HostName, "second take: same outcome");
        }
    }

    static long ResidentBytes()
    {
        using (var p = Process.GetCurrentProcess())
        {
            p.Refresh();
            return p.WorkingSet64;
        }
    }

    // A game polls IsCompleted every frame: 200,000 polls (about an hour at 60 fps) must not grow
    // memory. (Each poll used to copy the native result and never free it: +150 MB.)
    static void IsCompletedPolledEveryFrameKeepsMemoryFlat()
    {
        using (var client = NewClient())
        using (var op = client.StartAllocateCluster(Session(1011, "poll-memory"), 10000))
        {
            var sw = Stopwatch.StartNew();
            while (!op.IsCompleted)
            {
                if (sw.ElapsedMilliseconds > 10000) throw new TimeoutException("still pending");
                Thread.Sleep(10);
            }
            for (int i = 0; i < 20000; i++) Check(op.IsCompleted, "completed");  // warm up
            long before = ResidentBytes();
            for (int i = 0; i < 200000; i++)
            {
                if (!op.IsCompleted) throw new Exception("IsCompleted went back to false");
            }
            long grown = ResidentBytes() - before;
            Console.WriteLine("# IsCompleted x 200000: resident memory {0:+0.0;-0.0} MiB", grown / 1048576.0);
            Check(grown < 8L * 1048576, "resident memory grew by " + grown + " bytes over 200000 polls");
        }
    }

    static void TakeResultAfterCancel()
    {
        using (var client = NewClient())
        {
            client.AllocateCluster(Session(1004, "holder"), 5000);  // holds the only server for 2 s
            using (var op = client.StartAllocateCluster(Session(1004, "waiter"), 10000))
            {
                Thread.Sleep(100);
                ClusterResult r;
                Check(op.TakeResult(out r) == GsmsStatus.Pending && r == null, "pending while queued");
                op.Cancel();
                var sw = Stopwatch.StartNew();
                GsmsStatus st;
                while ((st = op.TakeResult(out r)) == GsmsStatus.Pending)
                {
                    if (sw.ElapsedMilliseconds > 2000) throw new TimeoutException("cancel took too long");
                    Thread.Sleep(5);
                }
                Check(st == GsmsStatus.Cancelled, "cancelled: " + st);
                var e = Throws(() => op.TryTakeResult(out r));
                Check(e.Status == GsmsStatus.Cancelled, "TryTakeResult throws Cancelled");
            }
        }
    }

    sealed class ListProgress : IProgress<ClusterResult>
    {
        public readonly List<ClusterResult> Seen = new List<ClusterResult>();
        public int ThreadId = -1;
        public Action OnReport;
        public void Report(ClusterResult value)
        {
            Seen.Add(value);
            ThreadId = Thread.CurrentThread.ManagedThreadId;
            if (OnReport != null) OnReport();
        }
    }

    static void AllocateAsyncProgressOnDispatchThread()
    {
        using (var client = NewClient())
        {
            client.AllocateCluster(Session(1005, "holder"), 5000);
            var progress = new ListProgress();
            var task = client.AllocateClusterAsync(Session(1005, "waiter"), 10000, progress);
            Check(!task.IsCompleted, "not completed inside the start call");
            DispatchUntil(client, () => task.IsCompleted);
            Check(task.Status == TaskStatus.RanToCompletion, "task " + task.Status);
            Check(task.Result.IsFulfilled, "fulfilled");
            Check(progress.Seen.Count >= 1 && progress.Seen[0].IsQueued, "at least one Queued progress");
            Check(progress.ThreadId == Thread.CurrentThread.ManagedThreadId, "progress on the dispatching thread");
        }
    }

    static void CancellationTokenCancelsTheTask()
    {
        using (var client = NewClient())
        using (var cts = new CancellationTokenSource())
        {
            client.AllocateCluster(Session(1006, "holder"), 5000);
            var progress = new ListProgress { OnReport = () => cts.Cancel() };
            var task = client.AllocateClusterAsync(Session(1006, "waiter"), 10000, progress, cts.Token);
            DispatchUntil(client, () => task.IsCompleted, 3000);
            Check(task.IsCanceled, "task cancelled: " + task.Status);
            Check(progress.Seen.Count >= 1, "cancelled after a progress report");
        }
        using (var client = NewClient())
        {
            var task = client.CreateClusterAsync(Session(1006, "x"), new CancellationToken(true));
            Check(task.IsCanceled, "an already cancelled token cancels at once");
        }
    }

    static void WorkerModeCompletesWithoutDispatch()
    {
        using (var client = NewClient(CallbackMode.OnWorker))
        {
            var task = client.CreateClusterAsync(Session(1007, "worker"));
            Check(task.Wait(5000), "completed on a library thread");
            Check(task.Result.IsFulfilled, "fulfilled");
        }
    }

    static void DisposeCompletesPendingCallsWithShutdown()
    {
        var client = NewClient();
        client.AllocateCluster(Session(1008, "holder"), 5000);
        var task = client.AllocateClusterAsync(Session(1008, "waiter"), 10000);
        Thread.Sleep(50);
        client.Dispose();
        Check(task.IsCompleted, "completed before Dispose returned");
        var e = task.Exception != null ? task.Exception.InnerException as GsmsException : null;
        Check(e != null && e.Status == GsmsStatus.Shutdown, "faulted with Shutdown");
        var e2 = Throws(() => { try { client.Dispatch(); } catch (ObjectDisposedException) { throw new GsmsException(GsmsStatus.Shutdown, "disposed"); } });
        Check(e2.Status == GsmsStatus.Shutdown, "disposed client");
    }

    static void LogAndTokenProvider()
    {
        var lines = new List<string>();
        int tokenCalls = 0;
        var options = new GsmsClientOptions
        {
            BaseUrl = baseUrl,
            CallbackMode = CallbackMode.OnDispatch,
            LogLevel = LogLevel.Debug,
            Log = (level, message) => { lock (lines) lines.Add(level + " " + message); },
            TokenProvider = force => { Interlocked.Increment(ref tokenCalls); return Token; },
        };
        using (var client = new GsmsClient(options))
        {
            var r = client.CreateCluster(Session(1009, "logged"));
            Check(r.IsFulfilled, "fulfilled with a provided token");
        }
        Check(tokenCalls >= 1, "token provider called");
        lock (lines)
        {
            Check(lines.Count >= 1, "log lines");
            foreach (var l in lines) Check(!l.Contains("dev-token"), "no token in logs: " + l);
        }
    }

    // A request still running on a library thread when the client is disposed logs when it
    // finishes, after gsms_client_free returned: the Log delegate must not be called then.
    // Needs GSMS_SLOW_BASE_URL (an emulator with --latency-ms 1500); SKIPPED without.
    static void LogNotCalledAfterDispose()
    {
        string slow = Environment.GetEnvironmentVariable("GSMS_SLOW_BASE_URL");
        if (string.IsNullOrEmpty(slow)) throw new SkipException("GSMS_SLOW_BASE_URL not set (an emulator with --latency-ms 1500)");
        int after = 0;
        bool disposed = false;
        var options = new GsmsClientOptions
        {
            BaseUrl = slow,
            AuthToken = Token,
            LogLevel = LogLevel.Trace,
            Log = (level, message) => { if (Volatile.Read(ref disposed)) Interlocked.Increment(ref after); },
        };
        Task<ClusterResult> task;
        using (var client = new GsmsClient(options))
        {
            task = client.CreateClusterAsync(Session(1010, "slow"));
            Thread.Sleep(200);
        }
        Volatile.Write(ref disposed, true);
        Check(task.IsFaulted && ((GsmsException)task.Exception.InnerException).Status == GsmsStatus.Shutdown, "completed with Shutdown");
        Thread.Sleep(2000);
        Check(Volatile.Read(ref after) == 0, "log calls after Dispose: " + after);
    }

    // --- the rest of the family (titles 1101..) ---

    static InlineClusterRequest Inline(uint title, string ticket, string location)
    {
        return new InlineClusterRequest(title)
        {
            ServiceConfigId = Scid, SandboxId = "XDKS.1", TicketId = ticket, GsiSetId = "gsi-1",
            GameVariantId = "variant-1", Location = location, MaxAllowedPlayers = 8,
        };
    }

    /// POST to the emulator's admin API (no auth).
    static void Admin(string path, string json)
    {
        using (var web = new System.Net.WebClient())
        {
            web.Headers[System.Net.HttpRequestHeader.ContentType] = "application/json";
            web.UploadString(baseUrl + path, "POST", json);
        }
    }

    static void QosServersThenMeasurementPicksABestRegion()
    {
        using (var client = NewClient())
        using (QosServersResult servers = client.GetQosServers())
        {
            Check(servers.Servers.Count >= 1, "at least one QoS server");
            foreach (var s in servers.Servers)
                Check(s.TargetLocation.Length > 0 && s.Fqdn.Length > 0, "server " + s);
            Check(servers.Info.HttpStatus == 200 && servers.Info.CorrelationId.Length > 0, "call info: " + servers.Info);
            Check(client.GetQosServers(false).Servers.Count == servers.Servers.Count, "/qosservers lists the same");
            QosResult qos = client.MeasureQos(new QosProbe { ProbesPerRegion = 3, TimeoutMs = 500 }.AddServers(servers));
            Check(qos.Regions.Count == servers.Servers.Count, "every region measured: " + qos.Regions.Count);
            Check(qos.BestRegion == qos.Regions[0].Name, "best first: " + qos.BestRegion);
            Check(qos.Regions[0].HasLatency && qos.Regions[0].Received >= 1 && qos.Regions[0].Sent == 3, "replies: " + qos.Regions[0]);
            Check(qos.Regions[0].Address.Length > 0, "measured address");
            Check(qos.Info.Attempts >= 3, "attempts are probes sent: " + qos.Info.Attempts);
        }
    }

    static void QosRegionWithoutBeaconHasNoLatencyAndAMessage()
    {
        using (var client = NewClient())
        {
            var probe = new QosProbe { ProbesPerRegion = 2, TimeoutMs = 50 }.AddTarget("Nowhere", "127.0.0.1", 9);
            QosResult qos = client.MeasureQos(probe);
            Check(qos.Regions.Count == 1 && !qos.Regions[0].HasLatency, "no latency");
            Check(qos.Regions[0].LatencyUs == uint.MaxValue && qos.Regions[0].Received == 0, "no replies");
            Check(qos.Regions[0].Message.Length > 0, "says why");
            Check(qos.BestRegion == "", "no best region");
            var e = Throws(() => client.MeasureQos(new QosProbe()));
            Check(e.Status == GsmsStatus.InvalidArgument, "empty probe: " + e.Status);
            e = Throws(() => client.MeasureQos(new QosProbe { ProbesPerRegion = 0 }.AddTarget("R", "127.0.0.1")));
            Check(e.Status == GsmsStatus.InvalidArgument, "0 probes per region: " + e.Status);
        }
    }

    static void MeasureQosAsyncCancelledByToken()
    {
        using (var client = NewClient())
        using (var cts = new CancellationTokenSource())
        {
            // 100 probes of 1 s, one at a time, to a port nobody answers: cancelled long before.
            var probe = new QosProbe { ProbesPerRegion = 100, Parallelism = 1, TimeoutMs = 1000 }.AddTarget("Silent", "127.0.0.1", 9);
            var task = client.MeasureQosAsync(probe, cts.Token);
            Thread.Sleep(100);
            Check(!task.IsCompleted, "still measuring");
            cts.Cancel();
            DispatchUntil(client, () => task.IsCompleted, 2000);
            Check(task.IsCanceled, "cancelled: " + task.Status);
        }
    }

    static void VariantsAsyncOnDispatchListsVariantsAndGsiSets()
    {
        using (var client = NewClient())
        {
            var task = client.GetVariantsAsync(new VariantsRequest(1103) { Locale = "en-us", MaxVariants = 0 });
            Check(!task.IsCompleted, "not completed inside the start call");
            DispatchUntil(client, () => task.IsCompleted);
            VariantsResult v = task.Result;
            Check(v.Variants.Count >= 1 && v.GsiSets.Count >= 1, "variants and GSI sets: " + v.Variants.Count + "/" + v.GsiSets.Count);
            Check(v.Variants[0].Id.Length > 0 && v.Variants[0].Name.Length > 0, "variant id and name");
            GsiSet set = v.GsiSetFor(v.Variants[0]);
            Check(set != null && set.Id.Length > 0 && set.MaxAllowedPlayers >= set.MinRequiredPlayers, "a GSI set for it");
            Check(v.Schemas.Count == 0 || v.Schemas[0].Id.Length > 0, "schemas have ids");
            var e = Throws(() => client.GetVariants(new VariantsRequest(1103) { Locale = "" }));
            Check(e.Status == GsmsStatus.InvalidArgument, "empty locale: " + e.Status);
        }
    }

    static void InlineClusterAllocatedThenTicketActive()
    {
        using (var client = NewClient())
        {
            string ticket = "cs-ticket-" + Environment.TickCount;
            ClusterResult server = client.AllocateInlineCluster(Inline(1104, ticket, "EmulatedWest"), 10000);
            Check(server.IsFulfilled && server.HostName == "127.0.0.1", "fulfilled: " + server);
            PortMapping game;
            Check(server.TryGetPort("GameData", out game) && game.ExternalPort != 0, "GameData port");
            TicketResult t = client.GetTicketStatus(1104, ticket);
            Check(t.IsActive && t.TicketId == ticket && t.TitleId == 1104, "ticket " + t);
            Check(t.HostName == server.HostName && t.TryGetPort("GameData", out game), "ticket names the server");
            var e = Throws(() => client.GetTicketStatus(1104, ""));
            Check(e.Status == GsmsStatus.InvalidArgument, "empty ticket id: " + e.Status);
            e = Throws(() => client.GetTicketStatus(1104, "no-such-ticket"));
            Check(e.Status == GsmsStatus.HttpStatus && e.HttpStatus == 404 && e.Info != null, "unknown ticket: " + e.Message);
            e = Throws(() => client.CreateInlineCluster(new InlineClusterRequest(1104) { TicketId = "t" }));
            Check(e.Status == GsmsStatus.InvalidArgument, "missing fields: " + e.Status);
        }
    }

    static void InlineClusterAsyncReportsQueuedThenActive()
    {
        using (var client = NewClient())
        {
            client.AllocateCluster(Session(1105, "holder"), 5000);  // holds the title's only server for 2 s
            var progress = new ListProgress();
            var task = client.AllocateInlineClusterAsync(Inline(1105, "cs-queued-" + Environment.TickCount, "EmulatedWest"), 10000, progress);
            DispatchUntil(client, () => task.IsCompleted);
            Check(task.Status == TaskStatus.RanToCompletion && task.Result.IsFulfilled, "fulfilled: " + task.Status);
            Check(progress.Seen.Count >= 1 && progress.Seen[0].IsQueued, "Queued progress first");
            Check(progress.ThreadId == Thread.CurrentThread.ManagedThreadId, "progress on the dispatching thread");
        }
    }

    static void TicketErrorFailsTheAllocationWithAllocationFailed()
    {
        using (var client = NewClient())
        {
            client.AllocateCluster(Session(1106, "holder"), 5000);
            string ticket = "cs-error-" + Environment.TickCount;
            var task = client.AllocateInlineClusterAsync(Inline(1106, ticket, "EmulatedWest"), 10000);
            var sw = Stopwatch.StartNew();
            while (true)  // the ticket exists once the POST was answered (Queued)
            {
                try
                {
                    Admin("/_emulator/tickets/" + ticket, "{\"status\":\"Error\",\"description\":\"image crashed\"}");
                    break;
                }
                catch (System.Net.WebException)
                {
                    if (sw.ElapsedMilliseconds > 3000) throw;
                    client.Dispatch();
                    Thread.Sleep(10);
                }
            }
            DispatchUntil(client, () => task.IsCompleted);
            var e = task.Exception != null ? task.Exception.InnerException as GsmsException : null;
            Check(e != null && e.Status == GsmsStatus.AllocationFailed, "AllocationFailed: " + task.Status + " " + task.Exception);
            Check(e.Message.Contains("image crashed"), "the description in the message: " + e.Message);
            Check(client.GetTicketStatus(1106, ticket).Status == HostStatus.Error, "ticket status Error");
        }
    }

    static void SessionHostAllocatedThenAllocationStatus()
    {
        using (var client = NewClient())
        {
            string session = Guid.NewGuid().ToString();
            var request = new SessionHostRequest(1107) { SessionId = session, CloudGameId = "gsi-1", SessionCookie = "cookie" }
                .AddLocation("EmulatedWest");
            SessionHostResult host = client.AllocateSessionHost(request, 10000);
            Check(host.IsFulfilled && host.HostName.Length > 0 && host.SessionHostId.Length > 0, "fulfilled: " + host);
            PortMapping game;
            Check(host.TryGetPort("GameData", out game) && game.ExternalPort != 0, "GameData port");
            var task = client.GetAllocationStatusAsync(1107, session);
            DispatchUntil(client, () => task.IsCompleted);
            SessionHostResult status = task.Result;
            Check(status.IsFulfilled && status.SessionId == session && status.HostName == host.HostName, "status: " + status);
            var e = Throws(() => client.AllocateSessionHost(new SessionHostRequest(1107) { SessionId = session, CloudGameId = "gsi-1" }));
            Check(e.Status == GsmsStatus.InvalidArgument, "no location: " + e.Status);
        }
    }

    // IsCompleted of a non-cluster operation must ask its own kind: take_result answers
    // INVALID_ARGUMENT for it, which read as "completed" at once. Polled every frame, it copies nothing.
    static void IsCompletedOfEveryKindWaitsAndKeepsMemoryFlat()
    {
        string slow = Environment.GetEnvironmentVariable("GSMS_SLOW_BASE_URL");
        if (string.IsNullOrEmpty(slow)) throw new SkipException("GSMS_SLOW_BASE_URL not set (an emulator with --latency-ms 1500)");
        using (var client = new GsmsClient(new GsmsClientOptions { BaseUrl = slow, AuthToken = Token }))
        using (var servers = client.StartGetQosServers())
        using (var variants = client.StartGetVariants(new VariantsRequest(1108)))
        using (var ticket = client.StartGetTicketStatus(1108, "nobody"))
        using (var host = client.StartGetAllocationStatus(1108, "nobody"))
        {
            Check(!servers.IsCompleted && !variants.IsCompleted && !ticket.IsCompleted && !host.IsCompleted, "pending while the slow server answers");
            QosServersResult s;
            Check(servers.TakeResult(out s) == GsmsStatus.Pending && s == null, "TakeResult pending");
            var sw = Stopwatch.StartNew();
            while (!(servers.IsCompleted && variants.IsCompleted && ticket.IsCompleted && host.IsCompleted))
            {
                if (sw.ElapsedMilliseconds > 10000) throw new TimeoutException("still pending");
                Thread.Sleep(10);
            }
            Check(servers.TryTakeResult(out s) && s.Servers.Count >= 1, "QoS servers taken");
            VariantsResult v;
            Check(variants.TryTakeResult(out v) && v.Variants.Count >= 1, "variants taken");
            TicketResult t;
            var e = Throws(() => ticket.TryTakeResult(out t));
            Check(e.Status == GsmsStatus.HttpStatus && e.HttpStatus == 404, "unknown ticket: " + e.Message);
            for (int i = 0; i < 20000; i++) Check(variants.IsCompleted, "completed");  // warm up
            long before = ResidentBytes();
            for (int i = 0; i < 200000; i++)
                if (!variants.IsCompleted || !ticket.IsCompleted) throw new Exception("IsCompleted went back to false");
            long grown = ResidentBytes() - before;
            Check(grown < 8L * 1048576, "resident memory grew by " + grown + " bytes over 200000 polls");
        }
    }

    static int Main()
    {
        baseUrl = Environment.GetEnvironmentVariable("GSMS_BASE_URL");
        if (string.IsNullOrEmpty(baseUrl))
        {
            Console.Error.WriteLine("set GSMS_BASE_URL to a running gsms-emulator");
            return 2;
        }
        var tests = new KeyValuePair<string, Action>[]
        {
            new KeyValuePair<string, Action>("version_and_abi", VersionAndAbi),
            new KeyValuePair<string, Action>("bad_argument_throws_invalid_argument", BadArgumentThrowsInvalidArgument),
            new KeyValuePair<string, Action>("http_error_carries_status_and_correlation_id", HttpErrorCarriesStatusAndCorrelationId),
            new KeyValuePair<string, Action>("take_result_without_callbacks", TakeResultWithoutCallbacks),
            new KeyValuePair<string, Action>("take_result_after_cancel", TakeResultAfterCancel),
            new KeyValuePair<string, Action>("is_completed_polled_every_frame_keeps_memory_flat", IsCompletedPolledEveryFrameKeepsMemoryFlat),
            new KeyValuePair<string, Action>("allocate_async_progress_on_dispatch_thread", AllocateAsyncProgressOnDispatchThread),
            new KeyValuePair<string, Action>("cancellation_token_cancels_the_task", CancellationTokenCancelsTheTask),
            new KeyValuePair<string, Action>("worker_mode_completes_without_dispatch", WorkerModeCompletesWithoutDispatch),
            new KeyValuePair<string, Action>("dispose_completes_pending_calls_with_shutdown", DisposeCompletesPendingCallsWithShutdown),
            new KeyValuePair<string, Action>("log_and_token_provider", LogAndTokenProvider),
            new KeyValuePair<string, Action>("log_not_called_after_dispose", LogNotCalledAfterDispose),
            new KeyValuePair<string, Action>("qos_servers_then_measurement_picks_a_best_region", QosServersThenMeasurementPicksABestRegion),
            new KeyValuePair<string, Action>("qos_region_without_beacon_has_no_latency_and_a_message", QosRegionWithoutBeaconHasNoLatencyAndAMessage),
            new KeyValuePair<string, Action>("measure_qos_async_cancelled_by_token", MeasureQosAsyncCancelledByToken),
            new KeyValuePair<string, Action>("variants_async_on_dispatch_lists_variants_and_gsi_sets", VariantsAsyncOnDispatchListsVariantsAndGsiSets),
            new KeyValuePair<string, Action>("inline_cluster_allocated_then_ticket_active", InlineClusterAllocatedThenTicketActive),
            new KeyValuePair<string, Action>("inline_cluster_async_reports_queued_then_active", InlineClusterAsyncReportsQueuedThenActive),
            new KeyValuePair<string, Action>("ticket_error_fails_the_allocation_with_allocation_failed", TicketErrorFailsTheAllocationWithAllocationFailed),
            new KeyValuePair<string, Action>("session_host_allocated_then_allocation_status", SessionHostAllocatedThenAllocationStatus),
            new KeyValuePair<string, Action>("is_completed_of_every_kind_waits_and_keeps_memory_flat", IsCompletedOfEveryKindWaitsAndKeepsMemoryFlat),
        };
        int failed = 0, skipped = 0;
        foreach (var t in tests)
        {
            try
            {
                t.Value();
                Console.WriteLine("ok - " + t.Key);
            }
            catch (SkipException e)
            {
                skipped++;
                Console.WriteLine("SKIPPED - " + t.Key + ": " + e.Message);
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine("not ok - " + t.Key + ": " + e);
            }
        }
        Console.WriteLine("csharp tests: {0} passed, {1} failed, {2} skipped", tests.Length - failed - skipped, failed, skipped);
        return failed == 0 ? 0 : 1;
    }
}
