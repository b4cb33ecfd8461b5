namespace HaproxyAutoscale.Control;

/// <summary>What went wrong with a Runtime API command.</summary>
public enum HaproxyErrorKind
{
    /// <summary>HAProxy answered <c>No such backend.</c> (or <c>Can't find backend.</c>, or <c>No such proxy.</c> to <c>show stat</c>).</summary>
    UnknownBackend,

    /// <summary>HAProxy answered <c>No such server.</c></summary>
    UnknownServer,

    /// <summary>The socket's level (<c>user</c>, <c>operator</c>) does not allow the command.</summary>
    PermissionDenied,

    /// <summary>HAProxy does not know the command.</summary>
    UnknownCommand,

    /// <summary>HAProxy rejected an argument (a weight out of range, an unknown state…), or a name was refused before sending.</summary>
    InvalidArgument,

    /// <summary>The socket is missing, refused the connection, or closed it early.</summary>
    ConnectionFailed,

    /// <summary>No complete answer within the timeout.</summary>
    Timeout,

    /// <summary>The answer could not be understood.</summary>
    UnexpectedAnswer,

    /// <summary>Not sent: this autoscaler replica is not the leader of its active/standby election (see <c>ha</c>).</summary>
    NotLeader,
}

/// <summary>A Runtime API command failed. The message names the endpoint, the command and HAProxy's words.</summary>
public sealed class HaproxyControlException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HaproxyControlException(HaproxyErrorKind kind, string endpoint, string command, string answer, Exception? inner = null)
        : base($"{endpoint}: '{command}' failed: {answer}", inner)
    {
        Kind = kind;
        Endpoint = endpoint;
        Command = command;
        Answer = answer;
    }

    /// <summary>The kind of failure.</summary>
    public HaproxyErrorKind Kind { get; }

    /// <summary>The endpoint address the command was sent to.</summary>
    public string Endpoint { get; }

    /// <summary>The command (without the severity-output prefix).</summary>
    public string Command { get; }

    /// <summary>HAProxy's answer, or a description of the transport failure.</summary>
    public string Answer { get; }
}
