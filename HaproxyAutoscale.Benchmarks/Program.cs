using BenchmarkDotNet.Running;
using HaproxyAutoscale.Benchmarks;

// `generate-log FILE LINES` writes a sample log (README, compare-with-halog.sh); anything else runs benchmarks.
if (args.Length == 3 && args[0] == "generate-log")
{
    using var output = new StreamWriter(args[1], append: false, new System.Text.UTF8Encoding(false), bufferSize: 1 << 20);
    LogGenerator.Write(output, int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(LogGenerator).Assembly).Run(args);
