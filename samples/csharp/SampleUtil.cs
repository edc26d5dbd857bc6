// SampleUtil.cs: what both C# samples share besides the C# layer: the environment, Queued progress
// printed to the console, and the UDP hello to the allocated server's GameData port.
using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gsms;

/// <summary>Prints each Queued answer. Report runs inside Dispatch(), on the main thread.</summary>
sealed class ConsoleProgress : IProgress<ClusterResult>
{
    public void Report(ClusterResult queued)
    {
        Console.WriteLine("Queued: no free server yet, polling again in {0} ms ({1} requests so far)",
            queued.PollIntervalMs, queued.Attempts);
    }
}

static class SampleUtil
{
    public static string EnvOr(string name, string fallback)
    {
        string v = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(v) ? fallback : v;
    }

    /// <summary>Sends "hello" to host:port over UDP, prints the echo (2 s timeout). Throws SocketException.</summary>
    public static void UdpHello(string host, uint port)
    {
        using (var udp = new UdpClient())
        {
            udp.Client.ReceiveTimeout = 2000;
            udp.Connect(host, (int)port);
            byte[] hello = Encoding.UTF8.GetBytes("hello");
            udp.Send(hello, hello.Length);
            var from = new IPEndPoint(IPAddress.Any, 0);
            byte[] echo = udp.Receive(ref from);
            Console.WriteLine("UDP echo from {0}:{1}: {2}", host, port, Encoding.UTF8.GetString(echo));
        }
    }
}
