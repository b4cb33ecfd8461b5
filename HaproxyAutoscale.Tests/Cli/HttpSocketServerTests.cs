using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Cli.Http;
using HttpAnswer = HaproxyAutoscale.Cli.Http.HttpAnswer;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>
/// The metrics and admin endpoints' server at its deadline (the metrics endpoint's is 30 s, here 1 s): clients that
/// stop reading a long body hold every slot, and the deadline closes them and frees the slots for the next request.
/// </summary>
public sealed class HttpSocketServerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Serve_EverySlotHeldByAClientThatStopsReading_ClosedAtTheDeadlineAndTheNextRequestServed()
    {
        var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = 16 * 1024 }; // accepted sockets inherit it
        listening.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listening.Listen(HttpSocketServer.MaxConnections);
        var endPoint = (IPEndPoint)listening.LocalEndPoint!;
        await using var server = new HttpSocketServer(listening, "the test endpoint", Answer, (status, message) => new HttpAnswer(status, "text/plain", Encoding.ASCII.GetBytes(message)), Deadline, Deadline);

        var stuck = new List<Socket>();
        try
        {
            for (int i = 0; i < HttpSocketServer.MaxConnections; i++)
            {
                Socket client = await ConnectAsync(endPoint);
                stuck.Add(client);
                await client.SendAsync("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), SocketFlags.None);
            }

            var waited = System.Diagnostics.Stopwatch.StartNew();
            string next = await RequestAsync(endPoint, "GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
            waited.Elapsed.Should().BeGreaterThan(Deadline * 0.8, "every slot was held until the deadline closed its connection");
            next.Should().StartWith("HTTP/1.1 200").And.EndWith("\r\n\r\nok");

            foreach (Socket client in stuck)
            {
                (await DrainAsync(client)).Should().NotEndWith("0\r\n\r\n", "a body cut at the deadline never ends as a whole one does");
            }
        }
        finally
        {
            stuck.ForEach(s => s.Dispose());
        }
    }

    // /endless writes until its deadline; anything else is a two-byte answer.
    private static Task<HttpAnswer> Answer(HttpRequestHead request, CancellationToken cancellationToken) =>
        Task.FromResult(request.Path == "/endless"
            ? new HttpAnswer(200, "text/plain", []) { WriteBody = WriteEndlessAsync }
            : new HttpAnswer(200, "text/plain", "ok"u8.ToArray()));

    private static async Task WriteEndlessAsync(Stream body, CancellationToken cancellationToken)
    {
        byte[] chunk = new byte[64 * 1024];
        for (int i = 0; i < 16 * 1024; i++) // 1 GiB at most: far more than the socket buffers hold
        {
            await body.WriteAsync(chunk, cancellationToken);
        }
    }

    private static async Task<Socket> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
        await socket.ConnectAsync(endPoint);
        return socket;
    }

    private static async Task<string> RequestAsync(IPEndPoint endPoint, string request)
    {
        using Socket socket = await ConnectAsync(endPoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
        return await DrainAsync(socket);
    }

    // Everything the server sent until it closed (or reset) the connection, its last 64 bytes kept.
    private static async Task<string> DrainAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        byte[] buffer = new byte[64 * 1024];
        var tail = new StringBuilder();
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                tail.Append(Encoding.ASCII.GetString(buffer, 0, read));
                if (tail.Length > 4096)
                {
                    tail.Remove(0, tail.Length - 64);
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // closed with bytes the client had not read yet
        }

        return tail.ToString();
    }
}
