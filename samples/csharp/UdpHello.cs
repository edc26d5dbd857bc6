// UdpHello.cs: what both C# samples do once a server is allocated: "hello" to its GameData port.
using System;
using System.Net;
using System.Net.Sockets;
using System.Text;

static class UdpHello
{
    /// <summary>Sends "hello" to host:port over UDP, prints the echo (2 s timeout). Throws SocketException.</summary>
    public static void Send(string host, uint port)
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
