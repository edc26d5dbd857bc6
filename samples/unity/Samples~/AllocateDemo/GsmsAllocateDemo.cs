// GsmsAllocateDemo: drop it on a GameObject, press Play, click "Allocate". It owns a GsmsClient,
// calls Dispatch() every frame in Update() (so progress and completions run on the main thread),
// shows each Queued answer on screen, and frees the client when it is disabled, when the
// application quits, and when the editor leaves play mode.
//
// "Callback-free" switches to the polling path (StartAllocateCluster + TryTakeResult), which never
// calls back into managed code: the most conservative choice for IL2CPP platforms.
using System;
using System.Threading;
using System.Threading.Tasks;
using Gsms;
using UnityEngine;
#if UNITY_EDITOR
using UnityEditor;
#endif

public sealed class GsmsAllocateDemo : MonoBehaviour
{
    [Tooltip("GSMS base URL; the emulator prints its own (http://127.0.0.1:PORT).")]
    public string baseUrl = "http://127.0.0.1:8080";
    [Tooltip("The whole Authorization value: XBL3.0 x=<userhash>;<token>.")]
    public string authToken = "XBL3.0 x=dev;dev-token";
    public long titleId = 123;
    public string scid = "00000000-0000-0000-0000-000000000000";
    public string sessionTemplate = "quick";
    public string sessionName = "unity-sample";
    [Tooltip("Give up after this many milliseconds (0 = never).")]
    public int deadlineMs = 60000;
    [Tooltip("Poll GsmsOperation.TryTakeResult instead of receiving callbacks.")]
    public bool callbackFree;

    GsmsClient client;
    Task<ClusterResult> allocation;
    GsmsOperation operation;
    CancellationTokenSource cancel;
    string status = "Idle";
    int queuedAnswers;

    /// <summary>Receives Queued answers inside Dispatch(), i.e. on the main thread during Update().</summary>
    sealed class QueuedProgress : IProgress<ClusterResult>
    {
        readonly GsmsAllocateDemo owner;
        public QueuedProgress(GsmsAllocateDemo owner) { this.owner = owner; }
        public void Report(ClusterResult queued)
        {
            owner.queuedAnswers++;
            owner.status = "Queued: waiting for a server (" + owner.queuedAnswers + " answers, next poll in "
                + queued.PollIntervalMs + " ms)";
        }
    }

    void OnEnable()
    {
#if UNITY_EDITOR
        EditorApplication.playModeStateChanged += OnPlayModeStateChanged;
#endif
        try
        {
            client = new GsmsClient(new GsmsClientOptions
            {
                BaseUrl = baseUrl,
                AuthToken = authToken,
                CallbackMode = CallbackMode.OnDispatch,
                Log = (level, message) => Debug.Log("[gsms " + level + "] " + message),  // library threads: Debug.Log is thread-safe
                LogLevel = LogLevel.Warn,
            });
            status = "Ready (libgsms " + GsmsClient.Version + ")";
        }
        catch (GsmsException e)
        {
            status = "Configuration error: " + e.Message;
        }
        catch (DllNotFoundException e)
        {
            status = "libgsms is missing for this platform: " + e.Message;
        }
    }

    public void Allocate()
    {
        if (client == null || allocation != null || operation != null) return;
        queuedAnswers = 0;
        try
        {
            var request = ClusterRequest.ForSession((uint)titleId, scid, sessionTemplate, sessionName);
            if (callbackFree)
            {
                operation = client.StartAllocateCluster(request, (uint)Math.Max(0, deadlineMs));
            }
            else
            {
                cancel = new CancellationTokenSource();
                allocation = client.AllocateClusterAsync(request, (uint)Math.Max(0, deadlineMs),
                    new QueuedProgress(this), cancel.Token);
            }
            status = "Requesting a server...";
        }
        catch (GsmsException e)
        {
            status = "Could not start: " + e.Message;  // e.g. InvalidArgument for a bad session name
        }
    }

    public void Cancel()
    {
        if (cancel != null) cancel.Cancel();
        if (operation != null) operation.Cancel();
    }

    void Update()
    {
        if (client == null) return;
        client.Dispatch();  // runs this frame's progress and completion callbacks, here

        if (allocation != null && allocation.IsCompleted)
        {
            if (allocation.IsCanceled) status = "Cancelled";
            else if (allocation.IsFaulted) status = "Failed: " + allocation.Exception.InnerException.Message;
            else Show(allocation.Result);
            allocation = null;
            cancel.Dispose();
            cancel = null;
        }

        if (operation != null)
        {
            try
            {
                ClusterResult result;
                if (operation.TryTakeResult(out result))
                {
                    Show(result);
                    operation.Dispose();
                    operation = null;
                }
                else
                {
                    status = "Waiting for a server (polling)...";
                }
            }
            catch (GsmsException e)
            {
                status = (e.Status == GsmsStatus.Cancelled ? "Cancelled: " : "Failed: ") + e.Message;
                operation.Dispose();
                operation = null;
            }
        }
    }

    void Show(ClusterResult result)
    {
        PortMapping game;
        if (result.IsFulfilled && result.TryGetPort("GameData", out game))
            status = "Fulfilled: connect to " + result.HostName + ":" + game.ExternalPort + " (" + result.Region + ")";
        else
            status = "No server: " + result.State;
    }

    void OnGUI()
    {
        GUILayout.BeginArea(new Rect(10, 10, 600, 200));
        GUILayout.Label(status);
        if (allocation == null && operation == null)
        {
            if (GUILayout.Button("Allocate")) Allocate();
        }
        else if (GUILayout.Button("Cancel"))
        {
            Cancel();
        }
        GUILayout.EndArea();
    }

    void OnDisable() { Shutdown(); }

    void OnApplicationQuit() { Shutdown(); }

#if UNITY_EDITOR
    void OnPlayModeStateChanged(PlayModeStateChange change)
    {
        if (change == PlayModeStateChange.ExitingPlayMode) Shutdown();
    }
#endif

    /// <summary>Idempotent. Unfinished calls complete (Shutdown) inside Dispose; nothing runs afterwards.</summary>
    void Shutdown()
    {
#if UNITY_EDITOR
        EditorApplication.playModeStateChanged -= OnPlayModeStateChanged;
#endif
        if (cancel != null) cancel.Cancel();
        if (operation != null)
        {
            operation.Cancel();
            operation.Dispose();
            operation = null;
        }
        if (client != null)
        {
            client.Dispose();
            client = null;
        }
        allocation = null;
        if (cancel != null)
        {
            cancel.Dispose();
            cancel = null;
        }
    }
}
