using BenchmarkDotNet.Running;
using OrleansVault.Benchmarks;

// Microbenchmarks of the hot pure code: run with
//   dotnet run -c Release --project tools/Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(HotPathBenchmarks).Assembly).Run(args);
