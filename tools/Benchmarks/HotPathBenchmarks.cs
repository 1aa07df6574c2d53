using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;

namespace OrleansVault.Benchmarks;

/// <summary>
/// What every event or request pays on its way through the gateway and the grain: rendering a socket frame
/// (once per event per gateway), an atomic operation, hashing an API secret (every Basic request).
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private readonly ObjectEvent _setItem = new(42, ObjectEventKind.SetItem, "score",
        new ItemView("{\"player\":\"ada\",\"points\":1234,\"tags\":[\"a\",\"b\"]}", 1, 2, 3, null), null, null, null, 0, null);

    private readonly ObjectEvent _message = new(43, ObjectEventKind.Message, null, null, "{\"text\":\"hello there\"}", null, null, 0, "c1");

    private readonly byte[] _pepper = RandomNumberGenerator.GetBytes(32);
    private readonly string _list = "[" + string.Join(',', Enumerable.Range(0, 100)) + "]";

    [Benchmark]
    public byte[] SetItemFrame() => VaultriceJson.EventFrame(_setItem);

    [Benchmark]
    public byte[] MessageFrame() => VaultriceJson.EventFrame(_message);

    [Benchmark]
    public string Increment() => AtomicOperations.Apply(AtomicOperation.Increment, "41", "{\"value\":1}");

    [Benchmark]
    public string SpliceHundred() => AtomicOperations.Apply(AtomicOperation.Splice, _list, "{\"startIndex\":-10,\"deleteCount\":5,\"items\":[1,2,3]}");

    [Benchmark]
    public byte[] HashApiSecret() => SecretHasher.Hash(_pepper, "a-high-entropy-api-secret-of-43-characters");
}
