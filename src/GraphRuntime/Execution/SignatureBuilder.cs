using System.Buffers;
using System.Buffers.Binary;
using System.Collections;
using System.Text;
using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.GraphRuntime.Execution;

/// <summary>
/// Computes input signatures as ComfyUI's classic cache does (class, IS_CHANGED, literals, upstream
/// signatures; the node id only for NOT_IDEMPOTENT nodes or nodes with a hidden UNIQUE_ID), hashed
/// Merkle-style (each node hashes its sources' hashes) so that a long chain costs O(n) and the same
/// sub-graph under other ids hits.
/// </summary>
internal sealed class SignatureBuilder
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly SipHash128 _hash = SipHash128.WithRandomKey(); // keys live only as long as the cache

    /// <summary>Signatures for every node of the graph, by node index.</summary>
    public CacheKey[] Compute(CompiledGraph graph)
    {
        var keys = new CacheKey[graph.Nodes.Count];
        foreach (var node in graph.Nodes) // topological: sources are done first
            keys[node.Index] = Compute(node, keys);
        return keys;
    }

    private CacheKey Compute(GraphNode node, CacheKey[] keys)
    {
        _buffer.ResetWrittenCount();
        var def = node.Definition;
        WriteString(def.ClassType);
        WriteString(Fingerprint(node));
        WriteString(node.KeyedById ? node.Id : null);

        foreach (var i in node.SignatureOrder)
        {
            var input = node.Inputs[i];
            WriteString(input.Name);
            if (input.Kind == BoundKind.Link)
            {
                var k = keys[input.SourceIndex];
                WriteByte((byte)'L');
                WriteUInt64(k.Low);
                WriteUInt64(k.High);
                WriteUInt64((ulong)input.Slot);
            }
            else WriteLiteral(input.Literal);
        }

        var (low, high) = _hash.Hash(_buffer.WrittenSpan);
        return new CacheKey(low, high);
    }

    /// <summary>IS_CHANGED: a failing hook means "always changed", as ComfyUI treats NaN.</summary>
    private static string? Fingerprint(GraphNode node)
    {
        if (node.Definition.Fingerprint is not { } hook) return null;
        try { return hook(node.Literals) ?? "\0none"; }
        catch (Exception) { return "\0failed:" + Guid.NewGuid(); }
    }

    private void WriteLiteral(object? value)
    {
        switch (value)
        {
            case null: WriteByte((byte)'n'); break;
            case bool b: WriteByte(b ? (byte)'t' : (byte)'f'); break;
            case long l: WriteByte((byte)'i'); WriteUInt64((ulong)l); break;
            case double d: WriteByte((byte)'d'); WriteUInt64(BitConverter.DoubleToUInt64Bits(d)); break;
            case string s: WriteByte((byte)'s'); WriteString(s); break;
            case IDictionary dict:
                WriteByte((byte)'{');
                WriteUInt64((ulong)dict.Count);
                foreach (var key in dict.Keys.Cast<object>().Select(k => k.ToString()!).Order(StringComparer.Ordinal))
                {
                    WriteString(key);
                    WriteLiteral(dict[key]);
                }
                break;
            case IEnumerable list:
                WriteByte((byte)'[');
                foreach (var item in list) WriteLiteral(item);
                WriteByte((byte)']');
                break;
            default: WriteByte((byte)'?'); WriteString(value.ToString()); break;
        }
    }

    private void WriteString(string? s)
    {
        if (s is null)
        {
            WriteUInt64(ulong.MaxValue);
            return;
        }
        var count = Encoding.UTF8.GetByteCount(s);
        WriteUInt64((ulong)count);
        Encoding.UTF8.GetBytes(s, _buffer.GetSpan(count));
        _buffer.Advance(count);
    }

    private void WriteByte(byte b)
    {
        _buffer.GetSpan(1)[0] = b;
        _buffer.Advance(1);
    }

    private void WriteUInt64(ulong v)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), v);
        _buffer.Advance(8);
    }
}
