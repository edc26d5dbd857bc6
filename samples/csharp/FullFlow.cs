// The whole flow of a game joining a match, from C# with the Task-based calls driven by a frame
// loop on the main thread (Dispatch() once per frame; progress and completions run there):
//
//   1. list the QoS servers (one per region) and measure latency to each: pick the best region;
//   2. read the title's game variants and server image (GSI) sets: pick one of each;
//   3. allocate an inline cluster (no MPSD) for a ticket in the best region, following the ticket
//      until it is Active, then read the ticket's status;
//   4. say hello over UDP to the server's GameData port.
//
//   mono full_flow.exe [ticket-id]
// Environment: GSMS_BASE_URL, GSMS_TOKEN, GSMS_TITLE_ID (see ../c/full_flow.c). Against the
// emulator: gsms-emulator --udp-echo --region West:delay=5 --region East:delay=25
using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Gsms;

static class FullFlow
{
    /// <summary>A game's frame loop until the task is done: its result, or its GsmsException.</summary>
    static T RunFrames<T>(GsmsClient client, Task<T> task)
    {
        while (!task.IsCompleted)
        {
            client.Dispatch();
            Thread.Sleep(16);
        }
        if (task.IsFaulted) throw task.Exception.InnerException;
        return task.Result;
    }

    static int Main(string[] args)
    {
        uint title = uint.Parse(SampleUtil.EnvOr("GSMS_TITLE_ID", "123"));
        string ticket = args.Length > 0 ? args[0]
            : "ticket-" + Process.GetCurrentProcess().Id + "-" + DateTimeOffset.UtcNow.ToUnixTimeSeconds();
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
                // 1. QoS: the regions' beacons, then latency to each.
                QosResult qos;
                using (QosServersResult servers = RunFrames(client, client.GetQosServersAsync()))
                {
                    var probe = new QosProbe { ProbesPerRegion = 5, Parallelism = 4, TimeoutMs = 250 }.AddServers(servers);
                    qos = RunFrames(client, client.MeasureQosAsync(probe));
                }
                foreach (QosRegion region in qos.Regions)
                {
                    if (region.HasLatency)
                        Console.WriteLine("QoS {0,-16} {1,7:0.00} ms ({2}/{3} replies)", region.Name, region.LatencyMs, region.Received, region.Sent);
                    else
                        Console.WriteLine("QoS {0,-16} no answer ({1})", region.Name, region.Message);
                }
                if (qos.BestRegion == "")
                {
                    Console.Error.WriteLine("no region answered");
                    return 1;
                }
                Console.WriteLine("Best region: {0}", qos.BestRegion);

                // 2. Variants: the first game mode, and a server image set of the same schema.
                VariantsResult variants = RunFrames(client, client.GetVariantsAsync(new VariantsRequest(title)));
                if (variants.Variants.Count == 0 || variants.GsiSets.Count == 0)
                {
                    Console.Error.WriteLine("the title has no game variants or no GSI sets");
                    return 1;
                }
                GameVariant variant = variants.Variants[0];
                GsiSet gsi = variants.GsiSetFor(variant);
                Console.WriteLine("Variant: {0} ({1}); GSI set: {2} ({3})", variant.Name, variant.Id, gsi.Name, gsi.Id);

                // 3. An inline cluster for the ticket, in the best region, followed until Active.
                var request = new InlineClusterRequest(title)
                {
                    ServiceConfigId = "00000000-0000-0000-0000-000000000000",
                    SandboxId = "XDKS.1",
                    TicketId = ticket,
                    GsiSetId = gsi.Id,
                    GameVariantId = variant.Id,
                    Location = qos.BestRegion,
                    MaxAllowedPlayers = gsi.MaxAllowedPlayers > 0 && gsi.MaxAllowedPlayers < 1000 ? (uint)gsi.MaxAllowedPlayers : 8,
                };
                ClusterResult server = RunFrames(client, client.AllocateInlineClusterAsync(request, 60000, new ConsoleProgress()));
                if (!server.IsFulfilled)
                {
                    Console.Error.WriteLine("no server: {0}", server.State);
                    return 1;
                }
                TicketResult status = RunFrames(client, client.GetTicketStatusAsync(title, ticket));
                if (!status.IsActive)
                {
                    Console.Error.WriteLine("ticket {0} is {1}, not Active", ticket, status.Status);
                    return 1;
                }
                Console.WriteLine("Ticket {0} Active after {1} request(s): {2} in {3}", status.TicketId, server.Attempts,
                    status.HostName, status.Region);

                // 4. Hello to the game server.
                PortMapping game;
                if (!server.TryGetPort("GameData", out game))
                {
                    Console.Error.WriteLine("the answer has no GameData port");
                    return 1;
                }
                Console.WriteLine("GameData: {0}:{1} (server port {2})", server.HostName, game.ExternalPort, game.InternalPort);
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
