using System.Threading.Channels;
using CharacterGen.Protos.V1;

namespace CharacterGen.Server.Characters;

/// <summary>
/// Live fan-out of character events to Watch streams. Not stored: a watcher gets the character's snapshot first
/// (from the database) and then what happens while it watches. Each watcher has its own unbounded queue, so a slow
/// client never stalls the pipeline (progress events are small and a step has at most a few thousand).
/// </summary>
public sealed class CharacterEvents
{
    private readonly object _gate = new();
    private readonly Dictionary<string, List<Channel<CharacterEvent>>> _watchers = new(StringComparer.Ordinal);

    public void Publish(CharacterEvent e)
    {
        e.Time ??= Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
        lock (_gate)
        {
            if (!_watchers.TryGetValue(e.CharacterId, out var list)) return;
            foreach (var channel in list) channel.Writer.TryWrite(e);
        }
    }

    /// <summary>Starts collecting a character's events; dispose the subscription to stop.</summary>
    public Subscription Subscribe(string characterId)
    {
        var channel = Channel.CreateUnbounded<CharacterEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            if (!_watchers.TryGetValue(characterId, out var list)) _watchers[characterId] = list = [];
            list.Add(channel);
        }
        return new Subscription(this, characterId, channel);
    }

    /// <summary>Ends every watcher of a deleted character.</summary>
    public void Complete(string characterId)
    {
        lock (_gate)
        {
            if (!_watchers.Remove(characterId, out var list)) return;
            foreach (var channel in list) channel.Writer.TryComplete();
        }
    }

    private void Remove(string characterId, Channel<CharacterEvent> channel)
    {
        lock (_gate)
        {
            if (_watchers.TryGetValue(characterId, out var list) && list.Remove(channel) && list.Count == 0) _watchers.Remove(characterId);
        }
    }

    public sealed class Subscription(CharacterEvents owner, string characterId, Channel<CharacterEvent> channel) : IDisposable
    {
        public ChannelReader<CharacterEvent> Reader => channel.Reader;

        public void Dispose() => owner.Remove(characterId, channel);
    }
}
