namespace HaproxyAutoscale.Cli.LogFiles;

/// <summary>A problem with one input the user named: one sentence that starts with the name.</summary>
internal sealed class LogInputException(string message, Exception? inner = null) : IOException(message, inner);
