namespace HaproxyAutoscale.Logs;

/// <summary>Receives the messages a <see cref="SyslogFramer"/> cuts; a struct so the call is direct.</summary>
internal interface IMessageSink
{
    void OnMessage(ReadOnlySpan<byte> message);
}
