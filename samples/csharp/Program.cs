// Asks GSMS for a game server from C#: GsmsClient.AllocateClusterAsync with progress, driven by a
// dispatch loop on the main thread (as a game's frame loop would), Ctrl-C cancels through the
// CancellationToken, then "hello" goes to the server's GameData port over UDP.
//
//   mono allocate.exe [session-name]
// Environment: GSMS_BASE_URL, GSMS_TOKEN, GSMS_TITLE_ID (see ../c/allocate.c).
using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Gsms;

static class Program
{
    static int Main(string[] args)
    {
        string session = args.Length > 0 ? args[0] : "csharp-sample";
        Console.WriteLine("libgsms {0}", GsmsClient.Version);
        if ((GsmsClient.AbiVersion >> 16) != GsmsClient.AbiMajor)
        {
            Console.Error.WriteLine("libgsms ABI mismatch");
            return 1;
        }

        var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (sender, e) =>
        {
            e.Cancel = true;  // keep running: the loop below sees the cancellation
            Console.WriteLine("Ctrl-C: cancelling");
            cts.Cancel();
        };

        try
        {
            var options = new GsmsClientOptions
            {
                BaseUrl = SampleUtil.EnvOr("GSMS_BASE_URL", "https://gameserverms.xboxlive.com"),
                AuthToken = SampleUtil.EnvOr("GSMS_TOKEN", "XBL3.0 x=dev;dev-token"),
                CallbackMode = CallbackMode.OnDispatch,
            };
            using (var client = new GsmsClient(options))
            {
                var request = ClusterRequest.ForSession(uint.Parse(SampleUtil.EnvOr("GSMS_TITLE_ID", "123")),
                    "00000000-0000-0000-0000-000000000000", "quick", session);
                Task<ClusterResult> task = client.AllocateClusterAsync(request, 60000, new ConsoleProgress(), cts.Token);

                while (!task.IsCompleted)  // a game's frame loop
                {
                    client.Dispatch();
                    Thread.Sleep(16);
                }

                if (task.IsCanceled)
                {
                    Console.WriteLine("Cancelled");
                    return 130;
                }
                if (task.IsFaulted)
                {
                    var e = task.Exception.InnerException;
                    Console.WriteLine("Failed: {0}", e.Message);
                    return 1;
                }
                ClusterResult server = task.Result;
                PortMapping game;
                if (!server.IsFulfilled || !server.TryGetPort("GameData", out game))
                {
                    Console.WriteLine("No server: {0}", server.State);
                    return 1;
                }
                Console.WriteLine("Fulfilled: {0}:{1} (region {2}, {3} requests)",
                    server.HostName, game.ExternalPort, server.Region, server.Attempts);

                SampleUtil.UdpHello(server.HostName, game.ExternalPort);
                return 0;
            }
        }
        catch (GsmsException e)
        {
            Console.Error.WriteLine("gsms: {0}", e.Message);
            return 1;
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine("UDP: {0}", e.Message);
            return 1;
        }
    }
}
