namespace CharacterGen.GraphRuntime.Validation;

/// <summary>
/// Finds every node that lies on a dependency cycle (Tarjan's strongly connected components,
/// iterative so that a 10,000-node chain cannot overflow the stack).
/// </summary>
internal static class CycleFinder
{
    /// <summary>Each cycle as its set of node ids (components of size > 1, or a node linking to itself).</summary>
    public static List<List<string>> Find(IReadOnlyList<string> nodes, Func<string, IReadOnlyList<string>> edges)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var cycles = new List<List<string>>();
        var next = 0;

        foreach (var root in nodes)
        {
            if (index.ContainsKey(root)) continue;
            var work = new Stack<(string Node, int Edge)>();
            work.Push((root, 0));
            index[root] = low[root] = next++;
            stack.Push(root);
            onStack.Add(root);

            while (work.Count > 0)
            {
                var (v, e) = work.Pop();
                var outs = edges(v);
                if (e < outs.Count)
                {
                    work.Push((v, e + 1));
                    var w = outs[e];
                    if (!index.ContainsKey(w))
                    {
                        index[w] = low[w] = next++;
                        stack.Push(w);
                        onStack.Add(w);
                        work.Push((w, 0));
                    }
                    else if (onStack.Contains(w))
                    {
                        low[v] = Math.Min(low[v], index[w]);
                    }
                    continue;
                }

                if (work.Count > 0)
                {
                    var parent = work.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[v]);
                }
                if (low[v] != index[v]) continue;

                var component = new List<string>();
                string x;
                do
                {
                    x = stack.Pop();
                    onStack.Remove(x);
                    component.Add(x);
                } while (x != v);
                if (component.Count > 1 || edges(v).Contains(v)) cycles.Add(component);
            }
        }
        return cycles;
    }
}
