using System.Diagnostics;
using System.Text.Json;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;
using OrleansVault.LoadTest.Reporting;
using OrleansVault.LoadTest.Targets;

namespace OrleansVault.LoadTest.Scenarios;

/// <summary>One scenario against one target: in this process, or spread over worker processes (each holds up to ~19k sockets).</summary>
public static class LoadRun
{
    private const string Ready = "READY";
    private const string Go = "GO";
    private const string ResultPrefix = "RESULT ";

    public static ILoadTarget CreateTarget(LoadOptions options, ClientNetwork network) => options.Target switch
    {
        "vaultrice" => new VaultriceTarget(options, network),
        "native" => new NativeTarget(options, network),
        "plainws" => new PlainWebSocketTarget(options, network),
        "pusher" => new PusherTarget(options, network),
        "signalr" => new SignalRTarget(options, network),
        _ => throw new UsageException($"unknown target {options.Target}"),
    };

    public static Task<ScenarioResult> RunAsync(LoadOptions options, CancellationToken cancellationToken) =>
        options.Workers > 1 ? CoordinateAsync(options, cancellationToken) : RunHereAsync(options, cancellationToken);

    /// <summary>Worker mode: set up, say READY, wait for GO, measure and drain, print the counts.</summary>
    public static async Task<int> WorkAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        var plan = ScenarioPlan.For(options, options.RunId);
        var metrics = new LoadMetrics();
        using var network = new ClientNetwork(options);
        await using var target = CreateTarget(options, network);
        var runner = new ScenarioRunner(options, plan, target, metrics);
        var setup = Stopwatch.StartNew();
        await runner.SetupAsync(cancellationToken);
        var setupTime = setup.Elapsed;
        Console.WriteLine(Ready);
        while (await Console.In.ReadLineAsync(cancellationToken) is { } line && line != Go)
        {
        }

        await runner.WarmUpAsync(cancellationToken);
        var window = Stopwatch.StartNew();
        await runner.MeasureAsync(cancellationToken);
        var windowTime = window.Elapsed;
        await runner.DrainAsync(expected: null, cancellationToken);
        await runner.TeardownAsync();
        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(new WorkerReport(metrics.Snapshot(), setupTime.TotalSeconds, windowTime.TotalSeconds)));
        return 0;
    }

    private static async Task<ScenarioResult> RunHereAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        var plan = ScenarioPlan.For(options, options.RunId);
        var metrics = new LoadMetrics();
        using var network = new ClientNetwork(options);
        await using var target = CreateTarget(options, network);
        var runner = new ScenarioRunner(options, plan, target, metrics);
        var phase = "setup";
        TimeSpan setupTime = default, windowTime = default;
        ProcessStats? idle = ProcessStats.TryRead(options.ServerPids), connected = null, end = null;

        async Task Work()
        {
            var watch = Stopwatch.StartNew();
            await runner.SetupAsync(cancellationToken);
            setupTime = watch.Elapsed;
            await SettleAsync(options);
            connected = ProcessStats.TryRead(options.ServerPids);
            phase = "warm-up";
            await runner.WarmUpAsync(cancellationToken);
            phase = "measure";
            watch.Restart();
            await runner.MeasureAsync(cancellationToken);
            windowTime = watch.Elapsed;
            end = ProcessStats.TryRead(options.ServerPids);
            phase = "drain";
            await runner.DrainAsync(plan.Publishes ? plan.ExpectedDeliveries(metrics.Acked, options) : null, cancellationToken);
            phase = "teardown";
            await runner.TeardownAsync();
        }

        await ProgressView.RunAsync($"{target.Name} {options.Scenario}", metrics, () => phase, options.Live, Work());
        return ScenarioResult.From(options.Scenario, target.Name, Describe(options), metrics, setupTime, windowTime,
            plan.Publishes ? plan.ExpectedDeliveries(metrics.Acked, options) : 0, idle, connected, end);
    }

    private static async Task<ScenarioResult> CoordinateAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        var plan = ScenarioPlan.For(options, options.RunId);
        var idle = ProcessStats.TryRead(options.ServerPids);
        var workers = Enumerable.Range(0, options.Workers).Select(i => StartWorker(options.WorkerArguments(i))).ToList();
        try
        {
            var setup = Stopwatch.StartNew();
            foreach (var worker in workers)
            {
                await ExpectAsync(worker, Ready, TimeSpan.FromMinutes(5), cancellationToken);
            }

            var setupTime = setup.Elapsed;
            await SettleAsync(options);
            var connected = ProcessStats.TryRead(options.ServerPids);
            foreach (var worker in workers)
            {
                await worker.StandardInput.WriteLineAsync(Go);
                await worker.StandardInput.FlushAsync(cancellationToken);
            }

            var metrics = new LoadMetrics();
            var window = 0d;
            ProcessStats? end = null;
            foreach (var worker in workers)
            {
                var line = await ExpectAsync(worker, ResultPrefix, options.Duration + options.Drain + TimeSpan.FromMinutes(2), cancellationToken);
                end ??= ProcessStats.TryRead(options.ServerPids);
                var report = JsonSerializer.Deserialize<WorkerReport>(line[ResultPrefix.Length..])!;
                metrics.Merge(report.Counts);
                window = Math.Max(window, report.WindowSeconds);
            }

            return ScenarioResult.From(options.Scenario, options.Target switch { "vaultrice" => "orleansvault", "pusher" => "orleansvault-pusher", "native" => "orleansvault-native", var other => other }, Describe(options), metrics,
                setupTime, TimeSpan.FromSeconds(window), plan.Publishes ? plan.ExpectedDeliveries(metrics.Acked, options) : 0, idle, connected, end);
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (!worker.HasExited)
                {
                    worker.Kill(entireProcessTree: true);
                }

                worker.Dispose();
            }
        }
    }

    private static Process StartWorker(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        if (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal))
        {
            info.ArgumentList.Add(typeof(LoadRun).Assembly.Location);
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start a worker process");
    }

    private static async Task<string> ExpectAsync(Process worker, string prefix, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (await worker.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new InvalidOperationException($"a worker exited (code {(worker.HasExited ? worker.ExitCode : -1)}) before '{prefix.Trim()}'");
    }

    /// <summary>Gives the server a moment after the connection storm before its memory is read.</summary>
    private static Task SettleAsync(LoadOptions options) => options.ServerPids.Count == 0 ? Task.CompletedTask : Task.Delay(TimeSpan.FromSeconds(2));

    private static string Describe(LoadOptions o) => o.Scenario switch
    {
        "hold" => $"{o.Connections} idle connections over {o.Objects} objects",
        "broadcast" => $"1 object, {o.Subscribers} subscribers, {(o.Rate == 0 ? "max" : o.Rate)} writes/s, {o.PayloadBytes} B",
        "objects" => $"{o.Objects} objects x {o.PerObject} subscribers, {(o.Rate == 0 ? "max" : o.Rate)} writes/s",
        "http" => $"{o.Connections} request loops (set + get)",
        "churn" => $"{o.Connections} connect/close loops",
        _ => $"{o.Subscribers} broadcast + {o.Objects}x{o.PerObject} subscribers, {o.Rate} writes/s, {o.Connections / 10} request and churn loops",
    };

    private sealed record WorkerReport(WorkerCounts Counts, double SetupSeconds, double WindowSeconds);
}
