using BenchmarkDotNet.Running;
using OrleansVault.Benchmarks;

// Microbenchmarks of the hot pure code: run with
//   dotnet run -c Release --project tools/Benchmarks -- --filter '*'
// Cluster-mode storage throughput on a PostgreSQL database (scripts/bench-cluster.mjs runs it beside pgbench):
//   dotnet run -c Release --project tools/Benchmarks -- storage --connection "Host=…;Database=…"
if (args is ["storage", .. var storageArgs])
{
    return await StorageBenchmark.RunAsync(storageArgs);
}

BenchmarkSwitcher.FromAssembly(typeof(HotPathBenchmarks).Assembly).Run(args);
return 0;
