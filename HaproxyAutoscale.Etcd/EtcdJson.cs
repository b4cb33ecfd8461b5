using System.Text.Json.Serialization;

namespace HaproxyAutoscale.Etcd;

// etcd's gRPC gateway speaks proto3 JSON: 64-bit integers as strings, bytes as base64, zero values left out.

internal sealed class LeaseRequest
{
    [JsonPropertyName("ID")]
    public long Id { get; set; }

    [JsonPropertyName("TTL")]
    public long Ttl { get; set; }
}

internal sealed class LeaseResponse
{
    [JsonPropertyName("ID")]
    public long Id { get; set; }

    [JsonPropertyName("TTL")]
    public long Ttl { get; set; }
}

internal sealed class KeepAliveResponse
{
    [JsonPropertyName("result")]
    public LeaseResponse? Result { get; set; }
}

internal sealed class PutRequest
{
    [JsonPropertyName("key")]
    public byte[] Key { get; set; } = [];

    [JsonPropertyName("value")]
    public byte[] Value { get; set; } = [];

    [JsonPropertyName("lease")]
    public long Lease { get; set; }
}

internal sealed class RangeRequest
{
    [JsonPropertyName("key")]
    public byte[] Key { get; set; } = [];

    [JsonPropertyName("range_end")]
    public byte[] RangeEnd { get; set; } = [];

    [JsonPropertyName("limit")]
    public long Limit { get; set; }

    [JsonPropertyName("sort_order")]
    public string SortOrder { get; set; } = "ASCEND";

    [JsonPropertyName("sort_target")]
    public string SortTarget { get; set; } = "CREATE";
}

internal sealed class RangeResponse
{
    [JsonPropertyName("kvs")]
    public List<KeyValue>? Kvs { get; set; }
}

internal sealed class KeyValue
{
    [JsonPropertyName("key")]
    public byte[] Key { get; set; } = [];

    [JsonPropertyName("value")]
    public byte[]? Value { get; set; }

    [JsonPropertyName("create_revision")]
    public long CreateRevision { get; set; }
}

internal sealed class EmptyResponse
{
}

internal sealed class ErrorResponse
{
    [JsonPropertyName("error")]
    public string? Error { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("code")]
    public int Code { get; set; }
}

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(LeaseRequest))]
[JsonSerializable(typeof(LeaseResponse))]
[JsonSerializable(typeof(KeepAliveResponse))]
[JsonSerializable(typeof(PutRequest))]
[JsonSerializable(typeof(RangeRequest))]
[JsonSerializable(typeof(RangeResponse))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class EtcdJsonContext : JsonSerializerContext
{
}
